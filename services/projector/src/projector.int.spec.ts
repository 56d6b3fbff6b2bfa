import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { messageSequenceOf, positionOf, type NewEvent } from '@conclave/contracts';
import { createDataSource, migrate, ReadModelQueries, REPLAYED_ENTITIES, type DataSource } from '@conclave/read-models';
import { createLogger } from '@conclave/service-kit';
import { createTestEnv, eventually, type TestEnv } from '@conclave/testing';
import { Projector, type ProjectorOptions } from './projector';
import { RUN_COST, RUN_TOKENS, runEvents, template } from './__tests__/run-events';

const logger = createLogger('projector-test', process.env.TEST_LOG_LEVEL ?? 'silent');
const meta = () => ({ occurredAt: new Date().toISOString(), correlationId: randomUUID(), causationId: null, actor: { kind: 'system' as const, id: 'test' } });
const EVENTS_PER_RUN = runEvents('x').length;

/** One env (stream prefix + database) with what was appended to it, to check the read models against. */
class World {
  readonly runs = new Map<string, number>(); // run id → sequence of its last event
  readonly runSequences: number[] = [];
  ds!: DataSource;
  /** the projector's own pool, identifiable in pg_stat_activity */
  projectorDs!: DataSource;
  queries!: ReadModelQueries;
  private readonly projectors: Projector[] = [];

  constructor(readonly env: TestEnv) {}

  async init() {
    await migrate(this.env.databaseUrl);
    this.ds = await createDataSource(this.env.databaseUrl, { poolSize: 4 }).initialize();
    this.projectorDs = await createDataSource(this.env.databaseUrl, { poolSize: 3, applicationName: 'projector-under-test' }).initialize();
    this.queries = new ReadModelQueries(this.ds);
  }

  async dispose() {
    for (const p of this.projectors) await p.stop();
    await this.projectorDs?.destroy();
    await this.ds?.destroy();
    await this.env.dispose();
  }

  projector(options: Partial<ProjectorOptions> = {}): Projector {
    const p = new Projector({ log: this.env.log, dataSource: this.projectorDs, logger, backoff: { initialMs: 20, maxMs: 200 }, ...options });
    this.projectors.push(p);
    return p;
  }

  /** Append `n` completed runs concurrently (their events interleave in the log). */
  async appendRuns(n: number): Promise<string[]> {
    const ids = Array.from({ length: n }, () => randomUUID());
    await Promise.all(
      ids.map(async (id) => {
        const events = runEvents(id);
        // two appends per run, the second with the expected sequence of the first
        const first = await this.env.log.append('run', id, events.slice(0, 6), 0, meta());
        const second = await this.env.log.append('run', id, events.slice(6), first[first.length - 1]!.sequence, meta());
        for (const e of [...first, ...second]) this.runSequences.push(e.sequence);
        this.runs.set(id, second[second.length - 1]!.sequence);
      }),
    );
    return ids;
  }

  async append(id: string, events: NewEvent[]): Promise<number[]> {
    const recorded = await this.env.log.append('run', id, events, 'any', meta());
    return recorded.map((e) => e.sequence);
  }

  async caughtUp(timeoutMs = 15_000): Promise<number> {
    const last = await this.env.log.lastSequence();
    await eventually(async () => (await this.queries.appliedSequence()) === last, `the projection to reach ${last}`, timeoutMs, 20);
    return last;
  }

  /** Every appended run is in the read models exactly once: no missing and no duplicate effects. */
  async expectConsistent() {
    const n = this.runs.size;
    const count = async (table: string) => Number((await this.ds.query(`SELECT count(*) AS n FROM ${table}`))[0].n);
    expect({
      runs: await count('runs'),
      run_phases: await count('run_phases'),
      candidates: await count('candidates'),
      verdicts: await count('verdicts'),
      artifacts: await count('artifacts'),
      timeline_events: await count('timeline_events'),
    }).toEqual({ runs: n, run_phases: 2 * n, candidates: 3 * n, verdicts: n, artifacts: n, timeline_events: EVENTS_PER_RUN * n });
    const timeline: { sequence: string }[] = await this.ds.query('SELECT sequence FROM timeline_events ORDER BY sequence');
    expect(timeline.map((r) => Number(r.sequence))).toEqual([...this.runSequences].sort((a, b) => a - b));
    // an event applied twice would show in the sums (costs are binary fractions: exact)
    const [totals] = await this.ds.query(
      `SELECT count(*) FILTER (WHERE status = 'completed' AND phases_done = 2) AS completed, sum(cost_usd) AS cost,
              sum(tokens_input) AS tin, sum(tokens_output) AS tout FROM runs`,
    );
    expect({ completed: Number(totals.completed), cost: Number(totals.cost), tin: Number(totals.tin), tout: Number(totals.tout) }).toEqual({
      completed: n,
      cost: n * RUN_COST,
      tin: n * RUN_TOKENS.input,
      tout: n * RUN_TOKENS.output,
    });
    const sequences: { id: string; sequence: string }[] = await this.ds.query('SELECT id, sequence FROM runs');
    expect(new Map(sequences.map((r) => [r.id, Number(r.sequence)]))).toEqual(this.runs);
  }
}

describe('Projector against JetStream and Postgres', () => {
  let world: World;
  beforeAll(async () => {
    world = new World(await createTestEnv('projector'));
    await world.init();
  });
  afterAll(() => world?.dispose());

  it('folds the log from the start, then follows it live', async () => {
    await world.env.log.append('template', 'tpl', [{ type: 'TemplateCreated', data: { templateId: 'tpl', version: 1, template } }], 0, meta());
    const [first] = await world.appendRuns(3);
    const projector = world.projector();
    projector.start();
    const last = await world.caughtUp();

    const run = await world.queries.getRun(first!);
    expect(run).toMatchObject({
      id: first,
      name: `run ${first}`,
      templateName: 'projector-test',
      status: 'completed',
      currentPhases: [],
      costUsd: RUN_COST,
      tokens: RUN_TOKENS,
      sequence: world.runs.get(first!),
      error: null,
    });
    expect(run!.phases.map((p) => [p.id, p.status, p.attempt, p.candidates.length])).toEqual([
      ['draft', 'completed', 1, 2],
      ['polish', 'completed', 1, 1],
    ]);
    expect(run!.phases[0]!.verdict).toMatchObject({ winnerId: `${first}.draft.1.c1`, rationale: 'b' });
    expect(await world.queries.listTemplates()).toMatchObject([{ id: 'tpl', name: 'projector-test', version: 1 }]);
    expect(await projector.getStatus()).toEqual({ state: 'running', checkpoint: last, lastLogSequence: last, lag: 0, halted: null, lastError: null });

    await world.appendRuns(4); // while it runs
    await world.caughtUp();
    await world.expectConsistent();
    await projector.stop();
    expect((await projector.getStatus()).state).toBe('stopped');
  });

  it("commits each batch without waiting for the WAL flush, planning the fold's prepared statements for their parameters", async () => {
    const settings: { synchronous_commit: string; plan_cache_mode: string }[] = [];
    const projector = world.projector({
      beforeCommit: async (_events, manager) => {
        const [row] = await manager.query('SELECT current_setting($1) AS synchronous_commit, current_setting($2) AS plan_cache_mode', ['synchronous_commit', 'plan_cache_mode']);
        settings.push(row);
      },
    });
    await world.appendRuns(1);
    projector.start();
    await world.caughtUp();
    await projector.stop();
    expect(settings.length).toBeGreaterThan(0);
    for (const s of settings) expect(s).toEqual({ synchronous_commit: 'off', plan_cache_mode: 'force_custom_plan' });
    // outside the batch transaction the connection's own settings are back
    const [outside] = await world.ds.query("SELECT current_setting('plan_cache_mode') AS plan_cache_mode");
    expect(outside.plan_cache_mode).toBe('auto');
  });

  it('stops mid-stream and resumes from the checkpoint without duplicates or gaps', async () => {
    const before = await world.queries.appliedSequence();
    await world.appendRuns(30);
    const total = await world.env.log.lastSequence();
    const slow = world.projector({ batchSize: 7, beforeCommit: () => new Promise((r) => setTimeout(r, 5)) });
    slow.start();
    await eventually(async () => (await world.queries.appliedSequence()) >= before + 50, 'some progress', 15_000, 5);
    await slow.stop();
    const stoppedAt = await world.queries.appliedSequence();
    expect(stoppedAt).toBeLessThan(total); // really mid-stream
    expect(slow.committed).toBe(stoppedAt); // the batch in flight committed (or never started)
    await new Promise((r) => setTimeout(r, 100));
    expect(await world.queries.appliedSequence()).toBe(stoppedAt); // and nothing moves after stop()

    await world.appendRuns(5);
    const resumed = world.projector();
    resumed.start();
    await world.caughtUp();
    await world.expectConsistent();
    await resumed.stop();
  });

  it('folds each batch while the one before commits (pipelining), to the same read models', async () => {
    await world.appendRuns(30);
    const folded: { whileCommitting: boolean }[] = [];
    const committed: { foldedAhead: boolean }[] = [];
    const watching = {
      ...logger,
      debug: (obj: object, msg?: string) => {
        if (msg === 'batch folded ahead') folded.push(obj as { whileCommitting: boolean });
        if (msg === 'batch projected') committed.push(obj as { foldedAhead: boolean });
      },
    };
    // each transaction takes a while: the next batch is folded meanwhile
    const projector = world.projector({ batchSize: 10, logger: watching, beforeCommit: () => new Promise((r) => setTimeout(r, 20)) });
    projector.start();
    await world.caughtUp();
    await projector.stop();
    await world.expectConsistent();
    expect(committed.length).toBeGreaterThanOrEqual(6);
    expect(committed.every((b) => b.foldedAhead)).toBe(true);
    // all but the first had a transaction before them to overlap
    expect(folded.filter((b) => b.whileCommitting).length).toBeGreaterThanOrEqual(committed.length - 1);
  });

  it('folds again from the stored checkpoint when commits it made are gone (an asynchronous commit lost in a Postgres crash)', async () => {
    await world.appendRuns(3);
    const projector = world.projector();
    projector.start();
    await world.caughtUp();
    // the database loses what this projector committed: rows and checkpoint back to nothing
    const tables = REPLAYED_ENTITIES.map((e) => world.ds.getMetadata(e).tableName);
    await world.ds.query(`TRUNCATE ${tables.map((t) => `"${t}"`).join(', ')}`);
    await world.ds.query('UPDATE projection_checkpoints SET sequence = 0');
    // the next commit finds the stored checkpoint behind its own: it starts again from there
    await world.appendRuns(2);
    await world.caughtUp();
    await world.expectConsistent();
    expect(projector.healthy).toBe(true);
    await projector.stop();
  });

  it('recovers from a batch transaction that fails, without skipping it', async () => {
    await world.appendRuns(50); // a run is a few commits: more than one batch of 20 messages
    const failed: { first: number; checkpointAtFailure: number }[] = [];
    const committedFirsts: number[] = [];
    let batchNo = 0;
    const projector = world.projector({
      batchSize: 20,
      beforeCommit: async (events) => {
        batchNo += 1;
        if (batchNo === 2) {
          failed.push({ first: events[0]!.sequence, checkpointAtFailure: await world.queries.appliedSequence() });
          throw new Error('simulated crash before commit');
        }
        committedFirsts.push(events[0]!.sequence);
      },
    });
    projector.start();
    await eventually(async () => failed.length > 0, 'the simulated failure');
    await world.caughtUp();
    expect(failed).toHaveLength(1);
    // the failed batch left the checkpoint where it was, and was folded again afterwards
    expect(messageSequenceOf(failed[0]!.checkpointAtFailure)).toBe(messageSequenceOf(failed[0]!.first) - 1);
    expect(committedFirsts).toContain(failed[0]!.first);
    expect((await projector.getStatus()).lastError).toBeNull();
    await world.expectConsistent();
    await projector.stop();
  });

  it('recovers when Postgres drops its connections mid-stream', async () => {
    const projector = world.projector({ batchSize: 5 });
    projector.start();
    for (let i = 0; i < 3; i++) {
      await world.appendRuns(4);
      await world.ds.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'projector-under-test' AND datname = current_database()`);
    }
    await world.caughtUp();
    await world.expectConsistent();
    expect(projector.healthy).toBe(true);
    await projector.stop();
  });

  it('lets two replicas fold the same log concurrently', async () => {
    const a = world.projector({ batchSize: 3 });
    const b = world.projector({ batchSize: 4 });
    a.start();
    b.start();
    await world.appendRuns(10);
    await world.caughtUp();
    await world.expectConsistent();
    await Promise.all([a.stop(), b.stop()]);
  });
});

describe('Projector on poison events', () => {
  let world: World;
  beforeEach(async () => {
    world = new World(await createTestEnv('projpoison'));
    await world.init();
  });
  afterEach(() => world?.dispose());

  async function alerts() {
    return world.queries.listAlerts();
  }

  it('parks the run of a message that does not decode, alerts, and goes on folding the other runs; a restart keeps it parked', async () => {
    await world.appendRuns(2);
    const poisonRun = randomUUID();
    const [started] = await world.append(poisonRun, runEvents(poisonRun).slice(0, 1));
    // a NUL byte in it, as in the chaos suite's poison: Postgres text refuses NUL, the park must not
    const poison = await world.env.log.publish(world.env.log.names.subjects.aggregateEvents('run', poisonRun), { type: 'Phase\u0000Exploded', schemaVersion: 1, data: {} }, randomUUID());
    const [after] = await world.appendRuns(1);
    const [late] = await world.append(poisonRun, [{ type: 'PhaseStarted', data: { phaseId: 'draft', attempt: 1 } }]);

    const projector = world.projector({ batchSize: 100 });
    projector.start();
    await eventually(async () => (await world.queries.appliedSequence()) >= late!, 'the projector to go past the poison');
    expect(started).toBeLessThan(positionOf(poison.seq));
    expect((await projector.getStatus()).state).not.toBe('halted');
    expect(projector.healthy).toBe(true);
    // the other runs are folded, before and after the poison
    expect(await world.queries.runExists(after!)).toBe(true);
    expect(Number((await world.ds.query('SELECT count(*) AS n FROM runs'))[0].n)).toBe(4);
    // the poisoned run is marked, and stops at the event before the poison (its later PhaseStarted is skipped)
    const view = await world.queries.getRun(poisonRun);
    expect(view?.parked).toMatchObject({ sequence: positionOf(poison.seq), type: 'Phase\uFFFDExploded', reason: expect.stringContaining('does not decode') });
    expect(view?.sequence).toBe(started);
    expect(await alerts()).toEqual([
      expect.objectContaining({ kind: 'projection_parked', details: expect.objectContaining({ streamId: `run:${poisonRun}`, sequence: positionOf(poison.seq), type: 'Phase\uFFFDExploded' }) }),
    ]);
    await projector.stop();

    const [more] = await world.appendRuns(1);
    const again = world.projector();
    again.start();
    await eventually(async () => world.queries.runExists(more!), 'the restarted projector to fold new runs');
    expect((await world.queries.getRun(poisonRun))?.sequence).toBe(started);
    expect(await alerts()).toHaveLength(1);
    await again.stop();
  });

  it('parks a stream at an event that decodes but contradicts the read models; the others in its batch are applied', async () => {
    await world.appendRuns(2);
    const orphanRun = randomUUID();
    const [orphan] = await world.append(orphanRun, [{ type: 'PhaseStarted', data: { phaseId: 'draft', attempt: 1 } }]);
    const [after] = await world.appendRuns(1);

    const projector = world.projector({ batchSize: 500 }); // one batch holds the good events and the orphan
    projector.start();
    await eventually(async () => world.queries.runExists(after!), 'the run after the orphan');
    expect(Number((await world.ds.query('SELECT count(*) AS n FROM runs'))[0].n)).toBe(3);
    expect(await world.ds.query('SELECT stream_id, sequence::int AS sequence FROM parked_streams')).toEqual([{ stream_id: `run:${orphanRun}`, sequence: orphan }]);
    expect(await alerts()).toEqual([expect.objectContaining({ kind: 'projection_parked' })]);
    await projector.stop();
  });

  it('halts at a poison event whose stream cannot be told, and halts there again after a restart', async () => {
    await world.appendRuns(1);
    const poison = await world.env.log.publish(`${world.env.log.names.prefix}.events.nonsense`, { type: 'PhaseExploded' }, randomUUID());
    const [after] = await world.appendRuns(1);
    const projector = world.projector({ batchSize: 100 });
    projector.start();
    await eventually(async () => (await projector.getStatus()).state === 'halted', 'the projector to halt');
    expect((await projector.getStatus()).halted).toMatchObject({ sequence: positionOf(poison.seq) });
    expect(messageSequenceOf(await world.queries.appliedSequence())).toBe(poison.seq - 1);
    expect(await world.queries.runExists(after!)).toBe(false);
    expect(await alerts()).toEqual([expect.objectContaining({ kind: 'projection_halted' })]);
    await projector.stop();
    const again = world.projector();
    again.start();
    await eventually(async () => (await again.getStatus()).state === 'halted', 'the restarted projector to halt');
    expect(messageSequenceOf(await world.queries.appliedSequence())).toBe(poison.seq - 1);
  });
});

/**
 * The projector process killed with SIGKILL, again and again, wherever it is in a batch: each
 * batch's rows and its checkpoint commit together or not at all, so every restart resumes at the
 * checkpoint and the read models end with no duplicate and no missing row. Needs the built
 * service (`node scripts/build.mjs`).
 */
describe('Projector process killed with SIGKILL mid-batch, repeatedly', () => {
  const MAIN = path.resolve(__dirname, '../dist/main.js');
  let world: World;
  let child: ChildProcess | undefined;
  beforeAll(async () => {
    world = new World(await createTestEnv('projkill'));
    await world.init();
  });
  afterAll(async () => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await world?.dispose();
  });

  const spawnProjector = () => {
    let stderr = '';
    const proc = spawn(process.execPath, [MAIN], {
      stdio: ['ignore', 'ignore', 'pipe'],
      // small batches: a kill lands inside one far more often than between two
      env: { PATH: process.env.PATH, ...world.env.serviceEnv, INSTANCE_ID: 'projector-kill', LOG_LEVEL: 'warn', HEALTH_PORT: '0', PROJECTOR_BATCH: '25' },
    });
    proc.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    return { proc, stderr: () => stderr };
  };

  it('ends with every run exactly once', async () => {
    expect(existsSync(MAIN)).toBe(true);
    await world.appendRuns(40);
    let applied = 0;
    for (let round = 0; round < 5; round++) {
      const projector = spawnProjector();
      child = projector.proc;
      // kill it as soon as it has moved the checkpoint: it is then in the middle of folding
      const moved = await eventually(async () => {
        const now = await world.queries.appliedSequence();
        return now > applied ? now : null;
      }, `the projector to make progress in round ${round} (stderr: ${projector.stderr()})`, 20_000, 5);
      expect(child.kill('SIGKILL')).toBe(true);
      await new Promise((resolve) => (child!.exitCode !== null || child!.signalCode !== null ? resolve(null) : child!.once('exit', resolve)));
      applied = moved;
      await world.appendRuns(5); // the log grows while it is down
    }
    const last = spawnProjector();
    child = last.proc;
    await world.caughtUp(30_000);
    await world.expectConsistent();
    child.kill('SIGTERM');
    const code = await new Promise((resolve) => (child!.exitCode !== null ? resolve(child!.exitCode) : child!.once('exit', resolve)));
    expect(code).toBe(0);
  });
});
