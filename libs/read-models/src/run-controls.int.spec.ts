import { createTestEnv, type TestEnv } from '@conclave/testing';
import { CURRENT_SCHEMA_VERSION, streamIdOf, type NewEvent, type Recorded, type RunView } from '@conclave/contracts';
import { createDataSource, migrate, projectBatch, ReadModelQueries, READ_MODEL_ENTITIES, type DataSource } from '@conclave/read-models';
import { ANSWERS, candidate, ccid, complete, generated, QUESTIONS, retryAndRollback, started, throughGate } from './__tests__/controls';
import { Recorder } from './__tests__/fixtures';

const TPL = 'tpl-controls';

describe('read models: run controls and human-in-the-loop folds', () => {
  let env: TestEnv;
  let ds: DataSource;
  let queries: ReadModelQueries;
  const rec = new Recorder();

  const fold = (events: Recorded[]) => ds.transaction((m) => projectBatch(m, events));
  /** append-and-fold, one event at a time or in a batch */
  const history: Recorded[] = [];
  const apply = (runId: string, events: NewEvent[]) => {
    const recorded = rec.record('run', runId, events);
    history.push(...recorded);
    return fold(recorded);
  };
  const run = async (id: string): Promise<RunView> => (await queries.getRun(id))!;
  const phase = async (id: string, phaseId: string) => (await run(id)).phases.find((p) => p.id === phaseId)!;

  beforeAll(async () => {
    env = await createTestEnv('rmcontrols', { database: true });
    await migrate(env.databaseUrl);
    ds = await createDataSource(env.databaseUrl).initialize();
    queries = new ReadModelQueries(ds);
  });
  afterAll(async () => {
    await ds?.destroy();
    await env?.dispose();
  });

  it('waits on questions, then on a gate, and records the answers and the approval', async () => {
    const id = 'gate-approve';
    const events = throughGate(id, TPL);
    const asked = events.findIndex((e) => e.type === 'QuestionsAsked') + 1;
    await apply(id, events.slice(0, asked));
    expect(await run(id)).toMatchObject({ status: 'waiting', pending: { gates: [], questions: [{ phaseId: 'ask', questions: QUESTIONS }], continue: [] }, currentPhases: ['ask'] });
    expect(await phase(id, 'ask')).toMatchObject({ status: 'waiting', interview: { questions: QUESTIONS, answers: null } });

    const opened = events.findIndex((e) => e.type === 'GateOpened') + 1;
    await apply(id, events.slice(asked, opened));
    expect(await run(id)).toMatchObject({ status: 'waiting', pending: { gates: [{ phaseId: 'review', message: 'Approve the brief?' }], questions: [] } });
    expect(await phase(id, 'ask')).toMatchObject({ status: 'completed', interview: { questions: QUESTIONS, answers: ANSWERS } });
    expect(await phase(id, 'review')).toMatchObject({ status: 'waiting', gate: { message: 'Approve the brief?', decision: null, comment: null } });

    await apply(id, events.slice(opened));
    const view = await run(id);
    expect(view).toMatchObject({ status: 'running', pending: { gates: [], questions: [], continue: [] } });
    expect(view.phases.find((p) => p.id === 'review')).toMatchObject({ status: 'completed', gate: { message: 'Approve the brief?', decision: 'approved', comment: 'looks good' } });
    expect((await queries.listCheckpoints(id)).map((c) => [c.id, c.phaseId, c.completedPhaseIds])).toEqual([
      ['ask@1', 'ask', ['ask']],
      ['review@1', 'review', ['ask', 'review']],
    ]);
  });

  it('records a rejected gate and the failure that follows', async () => {
    const id = 'gate-reject';
    const events = throughGate(id, TPL);
    await apply(id, events.slice(0, events.findIndex((e) => e.type === 'GateApproved')));
    await apply(id, [
      { type: 'GateRejected', data: { phaseId: 'review', attempt: 1, comment: 'too vague' } },
      { type: 'PhaseFailed', data: { phaseId: 'review', attempt: 1, reason: { code: 'gate_rejected', message: 'too vague', retryable: false } } },
      { type: 'RunFailed', data: { reason: { code: 'phase_failed', message: 'review failed', retryable: false }, phaseId: 'review' } },
    ]);
    const view = await run(id);
    expect(view).toMatchObject({ status: 'failed', pending: { gates: [] } });
    expect(view.phases.find((p) => p.id === 'review')).toMatchObject({ status: 'failed', gate: { decision: 'rejected', comment: 'too vague' } });
  });

  it('pauses and resumes: a paused run stays paused while a gate opens, and resumes into waiting', async () => {
    const id = 'pause';
    const events = throughGate(id, TPL);
    await apply(id, events.slice(0, events.findIndex((e) => e.type === 'GateOpened')));
    await apply(id, [{ type: 'RunPaused', data: { reason: { code: 'budget', message: 'budget exceeded' } } }]);
    expect(await run(id)).toMatchObject({ status: 'paused', pauseReason: { code: 'budget', message: 'budget exceeded' } });
    await apply(id, [{ type: 'GateOpened', data: { phaseId: 'review', attempt: 1, message: 'Approve the brief?' } }]);
    expect(await run(id)).toMatchObject({ status: 'paused', pending: { gates: [{ phaseId: 'review' }] } });
    await apply(id, [{ type: 'RunResumed', data: {} }]);
    expect(await run(id)).toMatchObject({ status: 'waiting', pauseReason: null });
    await apply(id, [{ type: 'GateApproved', data: { phaseId: 'review', attempt: 1, comment: null } }]);
    expect(await run(id)).toMatchObject({ status: 'running' });
  });

  it('waits for a manual continue', async () => {
    const id = 'continue';
    await apply(id, [started(id, TPL), { type: 'ContinueRequired', data: { phaseIds: ['ask'] } }]);
    expect(await run(id)).toMatchObject({ status: 'waiting', pending: { continue: ['ask'] } });
    await apply(id, [{ type: 'RunContinued', data: { phaseIds: ['ask'] } }]);
    expect(await run(id)).toMatchObject({ status: 'running', pending: { continue: [] } });
  });

  it('cancels a run: unfinished phases are cancelled, finished ones stay', async () => {
    const id = 'cancel';
    const events = throughGate(id, TPL);
    await apply(id, [...events.slice(0, events.findIndex((e) => e.type === 'GateOpened') + 1)]);
    const seq = await apply(id, [{ type: 'RunCancelled', data: { reason: 'changed my mind', abortedCommandIds: [] } }]);
    const view = await run(id);
    expect(view).toMatchObject({ status: 'cancelled', completedAt: expect.any(String), pending: { gates: [], questions: [], continue: [] }, sequence: seq });
    expect(view.phases.map((p) => [p.id, p.status])).toEqual([
      ['ask', 'completed'],
      ['review', 'cancelled'],
      ['write', 'cancelled'],
      ['route', 'cancelled'],
      ['publish', 'cancelled'],
      ['redo', 'cancelled'],
    ]);
    expect(view.phases.find((p) => p.id === 'review')!.completedAt).not.toBeNull();
    expect(view.phases.find((p) => p.id === 'write')!.completedAt).toBeNull(); // never started
    expect(view.currentPhases).toEqual([]);
    expect((await queries.listRuns({ limit: 50 })).items.find((r) => r.id === id)).toMatchObject({ status: 'cancelled', phasesDone: 1 });
  });

  it('a retry revives a failed run, shows when and with what it retries, and the next attempt starts with a clean view', async () => {
    const id = 'retry';
    const events = retryAndRollback(id, TPL);
    const retry = events.findIndex((e) => e.type === 'PhaseRetryScheduled');
    await apply(id, events.slice(0, retry));
    expect(await run(id)).toMatchObject({ status: 'failed', error: { code: 'phase_failed' } });

    await apply(id, [events[retry]!]);
    expect(await run(id)).toMatchObject({ status: 'running', error: null, completedAt: null });
    expect(await phase(id, 'write')).toMatchObject({
      status: 'pending',
      attempt: 1,
      error: null,
      retryAt: '2026-01-01T01:00:00.000Z',
      retryOverride: { provider: 'simulated', model: 'sim-w2' },
      candidates: [{ id: ccid(id, 'write', 1), status: 'rejected' }],
    });

    await apply(id, [events[retry + 1]!]); // PhaseStarted attempt 2
    expect(await phase(id, 'write')).toMatchObject({ status: 'running', attempt: 2, candidates: [], verdict: null, artifactId: null, retryAt: null, retryOverride: null });
    // older attempts stay queryable
    expect((await queries.listCandidates(id, 'write')).map((c) => [c.attempt, c.status])).toEqual([[1, 'rejected']]);
  });

  it('evaluates a condition, skips the branch not taken, then rolls back: reset phases are pending again and checkpoints stay', async () => {
    const id = 'rollback';
    const events = retryAndRollback(id, TPL);
    const rollback = events.findIndex((e) => e.type === 'RolledBack');
    await apply(id, events.slice(0, rollback));
    const before = await run(id);
    expect(before).toMatchObject({ status: 'completed' });
    expect(before.phases.map((p) => [p.id, p.status])).toEqual([
      ['ask', 'completed'],
      ['review', 'completed'],
      ['write', 'completed'],
      ['route', 'completed'],
      ['publish', 'completed'],
      ['redo', 'skipped'],
    ]);
    expect(before.phases.find((p) => p.id === 'route')!.condition).toEqual({ result: true });
    expect((await queries.listRuns({ limit: 50 })).items.find((r) => r.id === id)).toMatchObject({ phasesDone: 6 });

    await apply(id, [events[rollback]!]);
    const after = await run(id);
    expect(after).toMatchObject({ status: 'running', completedAt: null });
    const write = after.phases.find((p) => p.id === 'write')!;
    expect(write).toMatchObject({ status: 'pending', attempt: 2, artifactId: null, completedAt: null, candidates: [], verdict: null });
    expect(after.phases.find((p) => p.id === 'route')!.condition).toBeNull();
    expect(after.phases.map((p) => p.status)).toEqual(['completed', 'completed', 'pending', 'pending', 'pending', 'pending']);
    expect((await queries.listRuns({ limit: 50 })).items.find((r) => r.id === id)).toMatchObject({ phasesDone: 2 });
    expect((await queries.listCheckpoints(id)).map((c) => c.id)).toEqual(['ask@1', 'review@1', 'write@2']);
    // artifacts and candidates are history: still there
    expect((await queries.listArtifacts(id)).map((a) => a.phaseId)).toContain('publish');

    await apply(id, [{ type: 'PhaseStarted', data: { phaseId: 'write', attempt: 3 } }]);
    expect(await phase(id, 'write')).toMatchObject({ status: 'running', attempt: 3, candidates: [] });
  });

  it('accepts a rejected output (edited): the candidate becomes generated and the failed run revives', async () => {
    const id = 'accept';
    const events = retryAndRollback(id, TPL);
    await apply(id, events.slice(0, events.findIndex((e) => e.type === 'PhaseRetryScheduled')));
    await apply(id, [{ type: 'OutputAccepted', data: { phaseId: 'write', attempt: 1, candidateId: ccid(id, 'write', 1), edited: true, output: { text: 'edited' } } }]);
    expect(await run(id)).toMatchObject({ status: 'running', error: null });
    expect(await phase(id, 'write')).toMatchObject({ status: 'running', error: null, candidates: [{ status: 'generated', output: { text: 'edited' }, error: null }] });
    await apply(id, complete(id, 'write', 1, { text: 'edited' }));
    expect(await phase(id, 'write')).toMatchObject({ status: 'completed', artifactId: `${id}.write.1.a` });
  });

  it('records tool calls, redispatches, refusals, budgets and origins', async () => {
    const id = 'misc';
    const calls = [
      { tool: 'read_file', input: { path: 'a.ts' }, outputSummary: '12 lines', durationMs: 3, refused: false, at: '2026-01-01T00:00:01.000Z' },
      { tool: 'bash', input: { cmd: 'rm -rf /' }, outputSummary: 'refused: not allowed', durationMs: 0, refused: true, at: '2026-01-01T00:00:02.000Z' },
    ];
    await apply(id, [
      started(id, TPL, { kind: 'rerun', runId: 'original' }, 1),
      { type: 'PhaseStarted', data: { phaseId: 'ask', attempt: 1 } },
      ...candidate(id, 'ask', 1, 'sim-q'),
      { type: 'CandidateFailed', data: { phaseId: 'ask', attempt: 1, candidateId: ccid(id, 'ask', 1), error: { code: 'timeout', message: 'stalled', retryable: true } } },
    ]);
    await apply(id, [{ type: 'CandidateRedispatched', data: { phaseId: 'ask', attempt: 1, candidateId: ccid(id, 'ask', 1), attemptToken: 't1b', reason: 'stalled' } }]);
    expect((await phase(id, 'ask')).candidates).toMatchObject([{ status: 'requested', error: null, durationMs: null }]);
    await apply(id, [
      { type: 'ResultRefused', data: { commandId: 'cmd-1', phaseId: 'ask', attemptToken: 't1', reason: 'stale_token' } },
      generated(id, 'ask', 1, { questions: QUESTIONS }, calls),
      { type: 'BudgetAlert', data: { thresholdPct: 80, spentUsd: 0.8, budgetUsd: 1 } },
      { type: 'BudgetExceeded', data: { phaseId: 'review', budgetUsd: 1, spentUsd: 0.8, reservedUsd: 0, estimateUsd: 0.5 } },
      { type: 'RunPaused', data: { reason: { code: 'budget', message: 'over budget' } } },
      { type: 'BudgetRaised', data: { budgetUsd: 5 } },
    ]);
    expect(await run(id)).toMatchObject({ status: 'paused', budgetUsd: 5, origin: { kind: 'rerun', runId: 'original' }, pauseReason: { code: 'budget' } });
    expect(await queries.listToolCalls(id)).toEqual(
      calls.map((c, index) => ({ ...c, runId: id, phaseId: 'ask', attempt: 1, candidateId: ccid(id, 'ask', 1), index })),
    );
    const alerts = (await queries.listAlerts()).filter((a) => a.kind === 'budget');
    expect(alerts.map((a) => (a.details as { event: string }).event).sort()).toEqual(['BudgetAlert', 'BudgetExceeded']);
    expect(alerts.find((a) => (a.details as { event: string }).event === 'BudgetAlert')!.message).toMatch(/80% of its budget/);
    const types = (await queries.timeline(id)).map((t) => t.type);
    expect(types).toEqual(expect.arrayContaining(['ResultRefused', 'CandidateRedispatched', 'BudgetAlert', 'BudgetExceeded', 'BudgetRaised']));

    const fork = 'forked';
    await apply(fork, [started(fork, TPL), { type: 'RunForked', data: { sourceRunId: id, sourceSequence: 3, fromPhaseId: 'write', reused: [] } }]);
    expect((await queries.listRuns({ limit: 50, q: fork })).items[0]).toMatchObject({ id: fork, origin: { kind: 'fork', runId: id } });
  });

  it('is idempotent: folding every event again changes nothing', async () => {
    const snapshot = async () => Promise.all(['gate-approve', 'retry', 'rollback', 'misc'].map((id) => queries.getRun(id)));
    const before = await snapshot();
    const tools = await queries.listToolCalls('misc');
    // the whole history again, as a redelivery would: skipped below the checkpoint
    expect(history.length).toBeGreaterThan(100);
    expect(await fold(history)).toBe(rec.last);
    expect(await snapshot()).toEqual(before);
    expect(await queries.listToolCalls('misc')).toEqual(tools);
  });

  it('folds a run stored in JetStream with v1 events, upcast on read (ConditionEvaluated v1 said `skipped`)', async () => {
    const id = 'stored-v1';
    const subject = env.log.names.subjects.aggregateEvents('run', id);
    // written as an older release wrote them: the condition's data in its v1 shape, stamped v1
    for (const [i, event] of retryAndRollback(id, TPL).entries()) {
      const v1 = event.type === 'ConditionEvaluated';
      const { skippedPhaseIds, ...rest } = event.data as { skippedPhaseIds?: string[] };
      await env.log.publish(subject, {
        id: `${id}-${i}`, type: event.type, schemaVersion: v1 ? 1 : CURRENT_SCHEMA_VERSION[event.type], streamId: streamIdOf('run', id),
        occurredAt: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(), correlationId: 'c', causationId: null, actor: { kind: 'system', id: 'old-release' },
        data: v1 ? { ...rest, skipped: skippedPhaseIds } : event.data,
      }, `${id}-${i}`);
    }
    const stored = await env.log.read('run', id);
    // the other tests folded synthetic sequences: start from empty tables for the real ones
    await ds.query(`TRUNCATE ${READ_MODEL_ENTITIES.map((e) => ds.getMetadata(e).tableName).join(', ')}`);
    const condition = stored.find((e) => e.type === 'ConditionEvaluated')!;
    expect([condition.schemaVersion, condition.data]).toEqual([2, { phaseId: 'route', attempt: 1, result: true, skippedPhaseIds: ['redo'] }]);
    await ds.transaction((m) => projectBatch(m, stored.slice(0, -1), 'stored-v1')); // up to RunCompleted (the fixture then rolls back)
    expect(await run(id)).toMatchObject({ status: 'completed' });
    expect(await phase(id, 'route')).toMatchObject({ status: 'completed', condition: { result: true } });
    expect(await phase(id, 'redo')).toMatchObject({ status: 'skipped' });
  });
});
