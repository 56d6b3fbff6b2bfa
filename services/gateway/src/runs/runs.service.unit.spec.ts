import { ConclaveError, CreateRunBody } from '@conclave/contracts';
import { RunsService } from './runs.service';

/**
 * POST /runs refuses, before anything is read or sent, a budget policy that switches to a model
 * with no price (ADR 024): a 422 naming the first such rule's field. Every dependency is a stub
 * that fails the test if touched.
 */
const untouched = new Proxy({}, { get: (_t, name) => { throw new Error(`touched ${String(name)}`); } });
const service = () => new RunsService(untouched as never, untouched as never, untouched as never, untouched as never, untouched as never, untouched as never);

describe('RunsService.start: a budget policy switching to an unpriced model', () => {
  it('is refused as a validation error naming the first unpriced switch rule and its model', async () => {
    const body = CreateRunBody.parse({
      templateId: 't1',
      budgetPolicy: [
        { atPct: 25, action: 'shrink' },
        { atPct: 50, action: 'switch', model: { provider: 'simulated', model: 'free' } },
        { atPct: 75, action: 'switch', model: { provider: 'openai', model: 'gpt-unpriced' } },
        { atPct: 90, action: 'switch', model: { provider: 'openai', model: 'also-unpriced' } },
      ],
    });
    const refused = await service().start(body, 'req-1').catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(ConclaveError);
    expect(refused).toMatchObject({
      code: 'validation',
      message: 'budgetPolicy[2].model: openai/gpt-unpriced has no price; a switch rule names a model with a list price (or the simulated provider)',
      details: { field: 'budgetPolicy[2].model' },
    });
  });
});
