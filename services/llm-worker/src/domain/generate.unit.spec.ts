import { artifactJsonSchema, GenerateCandidate, type JsonSchema } from '@conclave/contracts';
import { AjvOutputValidator } from '../adapters/ajv-validator';
import { generateCandidate } from './generate';
import { ProviderError, ProviderRegistry, type ProviderAdapter } from './provider';
import { SimulatedProvider } from './simulated/simulated-provider';

const command = (overrides: Record<string, unknown> = {}): GenerateCandidate =>
  GenerateCandidate.parse({
    type: 'GenerateCandidate',
    commandId: 'cmd-1',
    runId: 'run1',
    phaseId: 'p1',
    attempt: 1,
    candidateId: 'run1.p1.1.c0',
    slot: 0,
    provider: 'simulated',
    model: 'sim',
    prompt: { user: 'Write a plan for a bike repair marketplace' },
    output: { artifact: 'plan', schema: artifactJsonSchema('plan') },
    attemptToken: 'tok',
    timeoutSeconds: 30,
    ...overrides,
  });

const validator = new AjvOutputValidator();
const ctx = { signal: new AbortController().signal, onDelta: () => undefined };
const providers = (...adapters: ProviderAdapter[]) => new ProviderRegistry<ProviderAdapter>(adapters);
const fixed = (output: unknown): ProviderAdapter => ({ name: 'fixed', generate: async () => ({ output, text: JSON.stringify(output), tokens: { input: 1, output: 1 } }) });

describe('generateCandidate', () => {
  it('generates a schema-valid output with the simulated provider at cost 0', async () => {
    const outcome = await generateCandidate(command(), { providers: providers(new SimulatedProvider({ check: validator.check })), validator }, ctx);
    expect(outcome).toMatchObject({ status: 'generated', costUsd: 0 });
    if (outcome.status === 'generated') expect(validator.validate(artifactJsonSchema('plan'), outcome.output)).toEqual({ valid: true });
    // its conversation: the prompt and its answer
    expect(outcome.transcript?.map((m) => m.role)).toEqual(['user', 'assistant']);
    expect(outcome.transcript?.[1]?.content).toBe(JSON.stringify(outcome.status === 'generated' ? outcome.output : null, null, 2));
  });

  it('answers an unknown provider with provider_not_configured (not retryable)', async () => {
    const outcome = await generateCandidate(command({ provider: 'anthropic' }), { providers: providers(new SimulatedProvider()), validator }, ctx);
    expect(outcome).toEqual({ status: 'failed', error: { code: 'provider_not_configured', message: expect.stringContaining('"anthropic"'), retryable: false } });
  });

  it('refuses an output that does not match the schema with output_invalid and the ajv errors', async () => {
    const outcome = await generateCandidate(command({ provider: 'fixed' }), { providers: providers(fixed({ title: '', steps: [], extra: 1 })), validator }, ctx);
    expect(outcome.status).toBe('failed');
    if (outcome.status !== 'failed') return;
    expect(outcome.error.code).toBe('output_invalid');
    expect(outcome.error.retryable).toBe(false);
    expect(outcome.error.message).toContain('/title: must NOT have fewer than 1 characters');
    expect(outcome.error.message).toContain('/steps: must NOT have fewer than 1 items');
    expect(outcome.error.message).toContain('must NOT have additional properties (extra)');
  });

  it('maps a ProviderError to a failed outcome and lets other errors through (transient: retried by the worker)', async () => {
    const refusing: ProviderAdapter = { name: 'x', generate: async () => Promise.reject(new ProviderError('quota_exceeded', 'no credit', false)) };
    expect(await generateCandidate(command({ provider: 'x' }), { providers: providers(refusing), validator }, ctx)).toEqual({
      status: 'failed',
      error: { code: 'quota_exceeded', message: 'no credit', retryable: false },
    });
    const flaky: ProviderAdapter = { name: 'x', generate: async () => Promise.reject(new Error('ECONNRESET')) };
    await expect(generateCandidate(command({ provider: 'x' }), { providers: providers(flaky), validator }, ctx)).rejects.toThrow('ECONNRESET');
  });
});

describe('AjvOutputValidator', () => {
  it('validates draft-07 and 2020-12 schemas and reports a schema that does not compile', () => {
    const v = new AjvOutputValidator();
    const draft7 = { $schema: 'http://json-schema.org/draft-07/schema#', type: 'array', items: [{ type: 'string' }], additionalItems: false } as unknown as JsonSchema;
    expect(v.validate(draft7, ['a'])).toEqual({ valid: true });
    expect(v.validate(draft7, ['a', 'b']).valid).toBe(false);
    expect(v.validate({ type: 'array', prefixItems: [{ type: 'string' }], items: false } as unknown as JsonSchema, ['a', 1]).valid).toBe(false);
    const broken = v.validate({ type: 'object', properties: { a: { $ref: '#/$defs/missing' } } }, {});
    expect(broken).toMatchObject({ valid: false, schemaError: true });
  });

  it('caches compiled schemas by content (key order does not matter)', () => {
    const v = new AjvOutputValidator(2);
    const a: JsonSchema = { type: 'object', required: ['x'], properties: { x: { type: 'string' } } };
    const b: JsonSchema = { properties: { x: { type: 'string' } }, required: ['x'], type: 'object' };
    expect(v.validate(a, { x: 'y' })).toEqual({ valid: true });
    expect(v.validate(b, {}).valid).toBe(false);
    const cache = (v as unknown as { cache: Map<string, unknown> }).cache;
    expect(cache.size).toBe(1);
    v.validate({ type: 'string' }, 's');
    v.validate({ type: 'number' }, 1);
    expect(cache.size).toBe(2);
  });
});
