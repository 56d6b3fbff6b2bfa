import { ConclaveError, STUDY_MAX_ITEMS, type ProviderView, type StudyBody } from '@conclave/contracts';
import type { DataSource } from '@conclave/read-models';
import type { GatewayConfig } from '../config';
import type { OrchestratorClient } from '../orchestrator/orchestrator.client';
import type { ProvidersService } from '../providers/providers.service';
import { StudiesService } from './studies.service';

/**
 * What POST /studies refuses before anything is sent to the orchestrator (ADR 023): an unknown or
 * disabled judge provider, a judge model with no price, a study over STUDY_MAX_ITEMS verdicts, and a
 * study over STUDY_CONFIRM_CANDIDATES candidates without `confirm: true` — each a 422 naming the field.
 * The read models are a fake answering the two planning queries (runs in scope, their verdicts).
 */
const provider = (name: string, extra: Partial<ProviderView> = {}): ProviderView =>
  ({ id: name, name, kind: 'openai', baseUrl: null, models: [], enabled: true, prices: {}, hasApiKey: true, apiKeyLast4: null, ...extra }) as unknown as ProviderView;

/** `runs` runs, each with one judged phase of `perPhase` candidates */
function readModels(runs: number, perPhase = 2) {
  const ids = Array.from({ length: runs }, (_, i) => `run-${i}`);
  const query = jest.fn(async (sql: string) => {
    if (sql.includes('unnest')) return ids.map((id) => ({ id, known: true, archived: false }));
    return ids.map((id) => ({
      run_id: id,
      template_id: 't1',
      phase_id: 'draft',
      attempt: 1,
      round: 0,
      winner_id: `${id}.c0`,
      scores: {},
      order: [],
      provider: 'simulated',
      model: 'sim-judge',
      candidates: Array.from({ length: perPhase }, (_, c) => ({ candidateId: `${id}.c${c}`, provider: 'simulated', model: `m${c}`, chars: 400 })),
    }));
  });
  return { db: { query } as unknown as DataSource, query, ids };
}

function service(options: { runs: number; perPhase?: number; providers?: ProviderView[]; confirmAt?: number }) {
  const models = readModels(options.runs, options.perPhase);
  const send = jest.fn(async () => ({ ok: true as const, id: 'study-1', sequence: 5000 }));
  const studies = new StudiesService(
    models.db,
    { STUDY_CONFIRM_CANDIDATES: options.confirmAt ?? 200 } as GatewayConfig,
    { send } as unknown as OrchestratorClient,
    { list: async () => options.providers ?? [] } as unknown as ProvidersService,
  );
  return { studies, send, query: models.query, ids: models.ids };
}

const body = (ids: string[], extra: Partial<StudyBody> = {}): StudyBody => ({ runs: ids, judge: { provider: 'simulated', model: 'sim-judge-2' }, ...extra });
async function refusal(promise: Promise<unknown>): Promise<{ code: string; details: unknown }> {
  const err = await promise.then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(ConclaveError);
  return { code: (err as ConclaveError).code, details: (err as ConclaveError).details };
}

describe('starting a study', () => {
  it('refuses an unknown or a disabled judge provider before reading or sending anything', async () => {
    const { studies, send, query, ids } = service({ runs: 2, providers: [provider('off', { enabled: false })] });
    expect(await refusal(studies.start(body(ids, { judge: { provider: 'nope', model: 'x' } }), 'req'))).toEqual({ code: 'validation', details: { field: 'judge.provider', known: ['simulated', 'off'] } });
    expect(await refusal(studies.start(body(ids, { judge: { provider: 'off', model: 'x' } }), 'req'))).toEqual({ code: 'validation', details: { field: 'judge.provider' } });
    expect(query).not.toHaveBeenCalled();
    expect(send).not.toHaveBeenCalled();
  });

  it('refuses a judge model with no price', async () => {
    const { studies, send, ids } = service({ runs: 2, providers: [provider('openai')] });
    expect(await refusal(studies.start(body(ids, { judge: { provider: 'openai', model: 'unheard-of-model' } }), 'req'))).toEqual({ code: 'validation', details: { field: 'judge.model', problem: 'missing_price' } });
    expect(send).not.toHaveBeenCalled();
  });

  it(`refuses more than ${STUDY_MAX_ITEMS} verdicts in one study, naming runs`, async () => {
    const { studies, send, ids } = service({ runs: STUDY_MAX_ITEMS + 1 });
    expect(await refusal(studies.start(body(ids, { confirm: true }), 'req'))).toEqual({ code: 'validation', details: { field: 'runs', items: STUDY_MAX_ITEMS + 1, max: STUDY_MAX_ITEMS } });
    expect(send).not.toHaveBeenCalled();
  });

  it('needs confirm: true over the candidate threshold, and sends the chosen items with it', async () => {
    const { studies, send, ids } = service({ runs: 3, perPhase: 2, confirmAt: 5 });
    const refused = await refusal(studies.start(body(ids), 'req'));
    expect(refused).toMatchObject({ code: 'validation', details: { field: 'confirm', estimate: { items: 3, candidates: 6, confirmRequired: true, confirmThreshold: 5 } } });
    expect(send).not.toHaveBeenCalled();

    const accepted = await studies.start(body(ids, { confirm: true }), 'req');
    expect(accepted).toMatchObject({ id: 'study-1', sequence: 5000, estimate: { items: 3, candidates: 6 } });
    expect(send).toHaveBeenCalledTimes(1);
    expect(send.mock.calls[0]).toEqual([
      expect.objectContaining({ type: 'StartStudy', items: ids.map((runId, i) => expect.objectContaining({ itemId: `i${i + 1}`, runId, phaseId: 'draft', estimateUsd: 0 })), estimateUsd: 0, budgetUsd: null }),
      'req',
    ]);
    // at the threshold, no confirm is needed
    const atThreshold = service({ runs: 2, perPhase: 2, confirmAt: 4 });
    await expect(atThreshold.studies.start(body(atThreshold.ids), 'req')).resolves.toMatchObject({ id: 'study-1' });
  });
});
