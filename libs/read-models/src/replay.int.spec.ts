import { ConclaveError, type Recorded } from '@conclave/contracts';
import { createTestEnv, type TestEnv } from '@conclave/testing';
import { createDataSource, migrate, projectBatch, ReadModelQueries, recordAlert, replay, REPLAY_LOCK_KEY, type DataSource, type ReplaySource } from '@conclave/read-models';
import { retryAndRollback, throughGate, ccid, candidate, generated, started } from './__tests__/controls';
import { completedRunEvents, failedRunEvents, loopMaxRoundsEvents, loopRunEvents, Recorder, template } from './__tests__/fixtures';

/** The log as an array: the same contract as the JetStream reader (after, limit). */
function arraySource(events: Recorded[], lastSequence?: () => number): ReplaySource {
  return {
    lastSequence: async () => lastSequence?.() ?? events.length,
    read: async (after, limit) => events.filter((e) => e.sequence > after).slice(0, limit),
  };
}

describe('replay: rebuild into fresh tables, verify, swap', () => {
  let env: TestEnv;
  let ds: DataSource;
  let queries: ReadModelQueries;
  const rec = new Recorder();
  const log: Recorded[] = [];

  const live = async (events: Recorded[], batch: number) => {
    for (let i = 0; i < events.length; i += batch) await ds.transaction((m) => projectBatch(m, events.slice(i, i + batch)));
  };
  const append = (aggregate: 'run' | 'template', id: string, events: Parameters<Recorder['record']>[2]) => {
    const recorded = rec.record(aggregate, id, events);
    log.push(...recorded);
    return recorded;
  };
  const run = (verify: boolean, source = arraySource(log), extra = {}) =>
    replay({ dataSource: ds, databaseUrl: env.databaseUrl, source, verify, batchSize: 37, ...extra });

  beforeAll(async () => {
    env = await createTestEnv('rmreplay', { database: true });
    await migrate(env.databaseUrl);
    ds = await createDataSource(env.databaseUrl).initialize();
    queries = new ReadModelQueries(ds);
    append('template', 'tpl', [{ type: 'TemplateCreated', data: { templateId: 'tpl', version: 1, template } }]);
    append('run', 'done', completedRunEvents('done', 'tpl'));
    append('run', 'failed', failedRunEvents('failed', 'tpl'));
    append('run', 'loop', loopRunEvents('loop', 'tpl'));
    append('run', 'loop-max', loopMaxRoundsEvents('loop-max', 'tpl'));
    append('run', 'rolled', retryAndRollback('rolled', 'tpl'));
    append('run', 'gate', throughGate('gate', 'tpl'));
    append('run', 'agent', [
      started('agent', 'tpl'),
      { type: 'PhaseStarted', data: { phaseId: 'ask', attempt: 1 } },
      ...candidate('agent', 'ask', 1, 'sim-q'),
      generated('agent', 'ask', 1, { questions: [] }, [{ tool: 'bash', input: { cmd: 'ls' }, outputSummary: 'a b', durationMs: 1, refused: false, at: '2026-01-01T00:00:00.000Z' }]),
      { type: 'BudgetAlert', data: { thresholdPct: 50, spentUsd: 5, budgetUsd: 10 } },
      { type: 'RunCancelled', data: { reason: null, abortedCommandIds: [] } },
    ]);
    // the live projection folded the same log in other batch sizes
    await live(log, 7);
    await recordAlert(ds, { kind: 'projection_halted', message: 'operator alert, not from the log' });
  });
  afterAll(async () => {
    await ds?.destroy();
    await env?.dispose();
  });

  it('verifies a rebuild equal to the live read models (zero differences) and changes nothing', async () => {
    const before = await queries.getRun('rolled');
    const phases: string[] = [];
    const report = await run(true, arraySource(log), { onProgress: (p: { phase: string }) => phases.push(p.phase) });
    expect(report).toMatchObject({ mode: 'verify', processed: log.length, sequence: rec.last, differenceCount: 0, differences: [] });
    expect(report.tables).toEqual(expect.arrayContaining(['runs', 'run_phases', 'candidates', 'verdicts', 'artifacts', 'timeline_events', 'checkpoints', 'tool_calls', 'alerts', 'providers']));
    expect(report.tables).not.toContain('projection_checkpoints');
    expect(phases).toEqual(expect.arrayContaining(['preparing', 'folding', 'verifying', 'done']));
    expect(await queries.getRun('rolled')).toEqual(before);
    // the rebuild schema is gone
    expect(await ds.query(`SELECT nspname FROM pg_namespace WHERE nspname LIKE 'rebuild_%'`)).toEqual([]);
  });

  it('reports corrupted, missing and extra live rows', async () => {
    await ds.query(`UPDATE runs SET cost_usd = 99, status = 'running' WHERE id = 'done'`);
    const [victim] = await ds.query(`DELETE FROM timeline_events WHERE run_id = 'gate' AND type = 'GateOpened' RETURNING sequence`);
    await ds.query(`INSERT INTO checkpoints (run_id, id, phase_id, completed_phase_ids, sequence, created_at) VALUES ('gate', 'bogus@9', 'ask', '[]', 1, now())`);
    const report = await run(true);
    expect(report.differenceCount).toBe(3);
    const byTable = Object.fromEntries(report.differences.map((d) => [d.table, d]));
    expect(byTable.runs).toMatchObject({ key: ['done'], kind: 'different', columns: ['cost_usd', 'status'], live: { cost_usd: 99, status: 'running' }, rebuilt: { status: 'completed' } });
    expect(byTable.timeline_events).toMatchObject({ key: [Number(victim[0].sequence)], kind: 'missing_in_live', live: null });
    expect(byTable.checkpoints).toMatchObject({ key: ['gate', 'bogus@9'], kind: 'missing_in_rebuild', rebuilt: null });
  });

  it('swaps the rebuild in: the corruption is gone, operator alerts are kept, and the live projection continues', async () => {
    const lastBefore = rec.last;
    // the rebuild defers its secondary indexes and builds them after the fold: same names, same definitions
    const indexes = () => ds.query(`SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY tablename, indexname`);
    const indexesBefore = await indexes();
    expect(indexesBefore).toEqual(expect.arrayContaining([expect.objectContaining({ indexname: 'timeline_events_run_id_sequence_idx' })]));
    // the log the replay sees first ends 5 events early: the final transaction catches up to the live checkpoint
    let calls = 0;
    const report = await run(false, arraySource(log, () => (calls++ === 0 ? log.length - 5 : log.length)));
    expect(report).toMatchObject({ mode: 'swap', processed: log.length, sequence: lastBefore });
    expect(await indexes()).toEqual(indexesBefore);
    expect(await queries.getRun('done')).toMatchObject({ status: 'completed', costUsd: 1.21875 });
    // a loop stopped at max rounds: the rebuilt winner is still the best round's, with every round's score
    const [write] = (await queries.getRun('loop-max'))!.phases;
    expect(write).toMatchObject({ artifactCandidateId: 'loop-max.write.1.r1.c0', verdict: { winnerId: 'loop-max.write.1.r1.c0' }, loop: { maxRounds: 3, passThreshold: 0.8 } });
    expect(write!.loop!.rounds.map((r) => r.score)).toEqual([0.5, 0.75, 0.625]);
    expect(await queries.appliedSequence()).toBe(lastBefore);
    expect((await queries.listCheckpoints('gate')).map((c) => c.id)).toEqual(['ask@1', 'review@1']);
    expect((await queries.listAlerts()).map((a) => a.kind).sort()).toEqual(['budget', 'projection_halted']);
    expect(await queries.listToolCalls('agent')).toHaveLength(1);
    expect((await run(true)).differenceCount).toBe(0);

    // the live projection goes on folding into the swapped-in tables
    const more = append('run', 'after', [started('after', 'tpl'), { type: 'PhaseStarted', data: { phaseId: 'ask', attempt: 1 } }, ...candidate('after', 'ask', 1, 'sim-q')]);
    await live(more, 100);
    expect((await queries.getRun('after'))!.phases[0]!.candidates.map((c) => c.id)).toEqual([ccid('after', 'ask', 1)]);
    expect((await run(true)).differenceCount).toBe(0);
  });

  it('refuses a second replay while one holds the lock', async () => {
    const holder = ds.createQueryRunner();
    await holder.connect();
    try {
      await holder.query('SELECT pg_advisory_lock($1)', [REPLAY_LOCK_KEY]);
      await expect(run(true)).rejects.toEqual(new ConclaveError('illegal_state', 'a replay is already running on this database'));
    } finally {
      await holder.query('SELECT pg_advisory_unlock($1)', [REPLAY_LOCK_KEY]);
      await holder.release();
    }
  });
});
