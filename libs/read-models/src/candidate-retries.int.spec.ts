import { createTestEnv, type TestEnv } from '@conclave/testing';
import { Template, type MissingCandidate, type NewEvent, type PhaseView, type Recorded } from '@conclave/contracts';
import { createDataSource, migrate, projectBatch, ReadModelQueries, type DataSource } from '@conclave/read-models';
import { cid, Recorder } from './__tests__/fixtures';

/** Issue 11 §6: a candidate retried on its own after a transient failure, and one dropped after its tries. */
const TPL = 'tpl-retries';
const template = Template.parse({
  name: 'three-way',
  phases: [
    {
      id: 'draft',
      kind: 'llm',
      prompt: { user: 'Write about cats' },
      candidates: [
        { provider: 'simulated', model: 'sim-a' },
        { provider: 'openai', model: 'gpt-4.1' },
        { provider: 'anthropic', model: 'claude' },
      ],
      judge: { provider: 'simulated', model: 'sim-judge', criteria: ['quality'] },
      output: { artifact: 'text' },
    },
  ],
});
const MODELS = [
  ['simulated', 'sim-a'],
  ['openai', 'gpt-4.1'],
  ['anthropic', 'claude'],
] as const;
const out = { artifact: 'text' as const, schema: { type: 'object' as const } };

const RATE_LIMITED = { code: 'rate_limited', message: '429 Too Many Requests', retryable: true, retryAfterMs: 20_000 };
const OVERLOADED = { code: 'provider_unavailable', message: '529 overloaded', retryable: true };

function events(runId: string) {
  const c = (slot: number) => cid(runId, 'draft', 1, slot);
  const requested = (slot: number): NewEvent => ({
    type: 'CandidateRequested',
    data: { phaseId: 'draft', attempt: 1, round: 0, candidateId: c(slot), slot, provider: MODELS[slot]![0], model: MODELS[slot]![1], prompt: { user: 'Write about cats' }, output: out, attemptToken: `${c(slot)}@1`, timeoutSeconds: 60 },
  });
  const generated = (slot: number, costUsd: number): NewEvent => ({
    type: 'CandidateGenerated',
    data: { phaseId: 'draft', attempt: 1, candidateId: c(slot), output: { text: `text ${slot}` }, tokens: { input: 100, output: 100 }, costUsd, durationMs: 900, workerId: 'w1' },
  });
  const failed = (slot: number, token: number, error: typeof RATE_LIMITED | typeof OVERLOADED, extra: object = {}): NewEvent => ({
    type: 'CandidateFailed',
    data: { phaseId: 'draft', attempt: 1, candidateId: c(slot), attemptToken: `${c(slot)}@${token}`, error, durationMs: 40, workerId: 'w1', ...extra },
  });
  const redispatched = (slot: number, token: number): NewEvent => ({
    type: 'CandidateRedispatched',
    data: { phaseId: 'draft', attempt: 1, candidateId: c(slot), attemptToken: `${c(slot)}@${token}`, reason: 'retry' },
  });
  const missing: MissingCandidate[] = [{ candidateId: c(2), provider: 'anthropic', model: 'claude', error: OVERLOADED }];
  const judgeId = `${runId}.draft.1.judge`;
  return {
    start: [
      { type: 'RunStarted', data: { runId, templateId: TPL, templateVersion: 1, template, name: 'retries', inputs: {}, autoMode: true, budgetUsd: null, origin: null } },
      { type: 'PhaseStarted', data: { phaseId: 'draft', attempt: 1 } },
      requested(0),
      requested(1),
      requested(2),
      generated(0, 0.25),
    ] satisfies NewEvent[],
    // c1 is rate limited (the failed call was still billed), c2 overloaded: both get another try
    firstFailures: [
      failed(1, 1, RATE_LIMITED, { tokens: { input: 10, output: 0 }, costUsd: 0.0625, retry: { number: 1, of: 2, notBefore: '2026-01-01T00:01:00.000Z' } }),
      failed(2, 1, OVERLOADED, { retry: { number: 1, of: 1, notBefore: '2026-01-01T00:00:30.000Z' } }),
    ],
    // c2's retry fails again and it has no tries left; c1's retry succeeds
    retries: [redispatched(2, 2), redispatched(1, 2), failed(2, 2, OVERLOADED), generated(1, 0.5)],
    verdict: [
      {
        type: 'JudgeRequested',
        data: {
          phaseId: 'draft', attempt: 1, round: 0, judgeId, purpose: 'select', provider: 'simulated', model: 'sim-judge', criteria: ['quality'], task: 'Write about cats',
          candidates: [0, 1].map((s) => ({ candidateId: c(s), output: { text: `text ${s}` } })), attemptToken: `${judgeId}@1`, missing,
        },
      },
      {
        type: 'VerdictRecorded',
        data: {
          phaseId: 'draft', attempt: 1, round: 0, judgeId, purpose: 'select', winnerId: c(1),
          scores: { [c(0)]: { overall: 0.5, criteria: { quality: 0.5 } }, [c(1)]: { overall: 0.75, criteria: { quality: 0.75 } } },
          rationale: 'gpt is clearer', order: [c(1), c(0)], missing,
          provider: 'simulated', model: 'sim-judge', tokens: { input: 10, output: 10 }, costUsd: 0.125,
        },
      },
    ] satisfies NewEvent[],
    missing,
  };
}

describe('read models: per-candidate retries and the candidates a verdict went without', () => {
  let env: TestEnv;
  let ds: DataSource;
  let queries: ReadModelQueries;
  const rec = new Recorder();

  const fold = (events: Recorded[]) => ds.transaction((m) => projectBatch(m, events));
  const apply = (runId: string, events: NewEvent[]) => fold(rec.record('run', runId, events));
  const draft = async (runId: string) => (await queries.getRun(runId))!.phases[0]!;

  beforeAll(async () => {
    env = await createTestEnv('rmretries', { database: true });
    await migrate(env.databaseUrl);
    ds = await createDataSource(env.databaseUrl).initialize();
    queries = new ReadModelQueries(ds);
  });
  afterAll(async () => {
    await ds?.destroy();
    await env?.dispose();
  });

  it('shows a candidate waiting for its retry as outstanding with its error and when it goes again, charges the failed try, and clears the note on re-dispatch', async () => {
    const id = 'retried';
    const e = events(id);
    await apply(id, e.start);
    await apply(id, e.firstFailures);

    let phase = await draft(id);
    expect(phase.status).toBe('running');
    expect(phase.candidates.map((c) => [c.model, c.status])).toEqual([
      ['sim-a', 'generated'],
      ['gpt-4.1', 'requested'],
      ['claude', 'requested'],
    ]);
    expect(phase.candidates[1]).toMatchObject({
      error: { code: 'rate_limited', message: '429 Too Many Requests' },
      retry: { number: 1, of: 2, notBefore: '2026-01-01T00:01:00.000Z' },
      costUsd: 0.0625,
      tokens: { input: 10, output: 0 },
      durationMs: 40,
    });
    expect(phase.candidates[2]).toMatchObject({ error: { code: 'provider_unavailable', message: '529 overloaded' }, retry: { number: 1, of: 1, notBefore: '2026-01-01T00:00:30.000Z' } });
    expect(phase.candidates[0]!.retry).toBeNull();
    // the failed try was billed: on its phase and run as well
    expect(phase.costUsd).toBe(0.3125);
    expect((await queries.getRun(id))!.costUsd).toBe(0.3125);
    expect(await queries.getCandidate(id, cid(id, 'draft', 1, 1))).toMatchObject({ status: 'requested', retry: { number: 1, of: 2 } });

    await apply(id, e.retries.slice(0, 2)); // both re-dispatched
    phase = await draft(id);
    expect(phase.candidates.slice(1).map((c) => ({ status: c.status, error: c.error, retry: c.retry }))).toEqual([
      { status: 'requested', error: null, retry: null },
      { status: 'requested', error: null, retry: null },
    ]);
    expect(phase.candidates[1]!.costUsd).toBe(0.0625);

    await apply(id, e.retries.slice(2));
    phase = await draft(id);
    // dropped after its last try: failed, with why
    expect(phase.candidates[2]).toMatchObject({ status: 'failed', error: { code: 'provider_unavailable', message: '529 overloaded' }, retry: null });
    // the retry that succeeded: its cost adds to what the failed try cost
    expect(phase.candidates[1]).toMatchObject({ status: 'generated', error: null, retry: null, costUsd: 0.5625, tokens: { input: 110, output: 100 }, output: { text: 'text 1' } });
    expect(phase.costUsd).toBe(0.8125);
  });

  it('records the candidates the verdict went without, and why', async () => {
    const id = 'retried';
    const e = events(id);
    await apply(id, e.verdict);
    const phase = await draft(id);
    expect(phase.verdict).toEqual({
      winnerId: cid(id, 'draft', 1, 1),
      scores: { [cid(id, 'draft', 1, 0)]: { overall: 0.5, criteria: { quality: 0.5 } }, [cid(id, 'draft', 1, 1)]: { overall: 0.75, criteria: { quality: 0.75 } } },
      rationale: 'gpt is clearer',
      missing: [{ candidateId: cid(id, 'draft', 1, 2), provider: 'anthropic', model: 'claude', error: { code: 'provider_unavailable', message: '529 overloaded', retryable: true } }],
      judge: { provider: 'simulated', model: 'sim-judge', tokens: { input: 10, output: 10 }, costUsd: 0.125 },
    });
    expect(phase.costUsd).toBe(0.9375);
  });

  it('folds the same history in one batch to the same view', async () => {
    const id = 'retried-batch';
    const e = events(id);
    await apply(id, [...e.start, ...e.firstFailures, ...e.retries, ...e.verdict]);
    // the same phase but for the run id in its candidate ids and when it and its candidates started
    const comparable = (p: PhaseView, runId: string) =>
      JSON.parse(
        JSON.stringify({
          ...p,
          startedAt: null,
          candidates: p.candidates.map((c) => ({ ...c, requestedAt: null })),
          attempts: p.attempts?.map((a) => ({ ...a, startedAt: null, completedAt: null })),
        }).replaceAll(`${runId}.`, 'RUN.'),
      );
    expect(comparable(await draft(id), id)).toEqual(comparable(await draft('retried'), 'retried'));
    expect((await draft(id)).verdict!.missing.map((m) => m.candidateId)).toEqual([cid(id, 'draft', 1, 2)]);
  });
});
