import { createTestEnv, type TestEnv } from '@conclave/testing';
import type { NewEvent, Recorded, StudyItem } from '@conclave/contracts';
import { createDataSource, migrate, projectBatch, type DataSource } from '@conclave/read-models';
import { Recorder } from '../__tests__/fixtures';

/** The studies read model (ADR 023): a study's counters follow its items through every event. */
const item = (n: number): StudyItem => ({
  itemId: `i${n}`,
  runId: `run${n}`,
  templateId: 'tpl',
  phaseId: 'draft',
  attempt: 1,
  candidates: [
    { candidateId: `run${n}.a`, provider: 'simulated', model: 'sim-a' },
    { candidateId: `run${n}.b`, provider: 'simulated', model: 'sim-b' },
  ],
  old: { winnerId: `run${n}.a`, scores: {}, order: [`run${n}.a`, `run${n}.b`], provider: 'simulated', model: 'sim-judge' },
  estimateUsd: 0.25,
});

function events(studyId: string) {
  const requested = (n: number, attempt = 1): NewEvent => ({ type: 'StudyJudgeRequested', data: { itemId: `i${n}`, attempt, attemptToken: `${studyId}.i${n}.${attempt}` } });
  const failed = (n: number, attempt: number, final: boolean, costUsd: number): NewEvent => ({
    type: 'StudyItemFailed',
    data: { itemId: `i${n}`, attempt, error: { code: 'provider_unavailable', message: 'overloaded', retryable: !final }, final, costUsd },
  });
  return [
    {
      type: 'StudyStarted',
      data: { studyId, name: 'reverse', judge: { provider: 'simulated', model: 'sim-judge', rubric: 'reverse' }, runs: ['run1', 'run2', 'run3'], phases: null, items: [item(1), item(2), item(3)], skipped: { runs: 0, phases: 0, details: [] }, estimateUsd: 0.75, budgetUsd: null },
    },
    requested(1),
    requested(2),
    requested(3),
    {
      type: 'StudyVerdictRecorded',
      data: { itemId: 'i1', attempt: 1, winnerId: 'run1.b', scores: {}, order: ['run1.b', 'run1.a'], rationale: 'b', tokens: { input: 10, output: 5 }, costUsd: 0.25, workerId: 'w1' },
    },
    failed(2, 1, false, 0.125),
    requested(2, 2),
    failed(2, 2, true, 0),
    failed(3, 1, true, 0.0625),
    { type: 'StudyCompleted', data: { judged: 1, failed: 2, costUsd: 0.4375 } },
  ] satisfies NewEvent[];
}

/** [status, judged, failed, cost] after each event of `events` */
const EXPECTED: [string, number, number, number][] = [
  ['running', 0, 0, 0],
  ['running', 0, 0, 0],
  ['running', 0, 0, 0],
  ['running', 0, 0, 0],
  ['running', 1, 0, 0.25],
  ['running', 1, 0, 0.375],
  ['running', 1, 0, 0.375],
  ['running', 1, 1, 0.375],
  ['running', 1, 2, 0.4375],
  ['completed', 1, 2, 0.4375],
];

describe('read models: studies', () => {
  let env: TestEnv;
  let ds: DataSource;

  const fold = (events: Recorded[]) => ds.transaction((m) => projectBatch(m, events));
  const study = async (id: string) => {
    const [row] = (await ds.query(`SELECT status, items_judged, items_failed, cost_usd, sequence FROM studies WHERE id = $1`, [id])) as { status: string; items_judged: number; items_failed: number; cost_usd: number; sequence: string }[];
    return row ? { status: row.status, judged: row.items_judged, failed: row.items_failed, cost: row.cost_usd, sequence: Number(row.sequence) } : null;
  };
  const items = async (id: string) => ds.query(`SELECT item_id, status, attempts, cost_usd, tokens_input, new_winner_id, error FROM study_items WHERE study_id = $1 ORDER BY item_id`, [id]);

  beforeAll(async () => {
    env = await createTestEnv('rmstudies', { database: true });
    await migrate(env.databaseUrl);
    ds = await createDataSource(env.databaseUrl).initialize();
  });
  afterAll(async () => {
    await ds?.destroy();
    await env?.dispose();
  });

  it("keeps the study's counters and last folded sequence with its items after every event, and folds the same history in one batch to the same rows", async () => {
    const rec = new Recorder(1);
    const recorded = rec.record('study', 'stepwise', events('stepwise'));
    for (const [i, e] of recorded.entries()) {
      await fold([e]);
      const [status, judged, failed, cost] = EXPECTED[i]!;
      expect({ at: e.type, ...(await study('stepwise')) }).toEqual({ at: e.type, status, judged, failed, cost, sequence: e.sequence });
    }
    // a redelivered event is below the checkpoint: nothing changes
    await fold(recorded.slice(4, 6));
    expect(await study('stepwise')).toEqual({ status: 'completed', judged: 1, failed: 2, cost: 0.4375, sequence: rec.last });

    const batch = rec.record('study', 'batch', events('batch'));
    await fold(batch);
    expect(await study('batch')).toEqual({ status: 'completed', judged: 1, failed: 2, cost: 0.4375, sequence: rec.last });
    expect(await items('batch')).toEqual(await items('stepwise'));
    expect((await items('batch')).map((r: { item_id: string; status: string; attempts: number }) => [r.item_id, r.status, r.attempts])).toEqual([
      ['i1', 'judged', 1],
      ['i2', 'failed', 2],
      ['i3', 'failed', 1],
    ]);
  });
});
