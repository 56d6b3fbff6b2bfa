import { randomUUID } from 'node:crypto';
import { createDataSource, migrate, ReadModelQueries, replay, type DataSource, type ReplaySource } from '@conclave/read-models';
import { createLogger } from '@conclave/service-kit';
import { createTestEnv, eventually, type TestEnv } from '@conclave/testing';
import { Projector } from './projector';
import { RUN_COST, runEvents } from './__tests__/run-events';

const logger = createLogger('projector-replay-test', process.env.TEST_LOG_LEVEL ?? 'silent');
const meta = () => ({ occurredAt: new Date().toISOString(), correlationId: randomUUID(), causationId: null, actor: { kind: 'system' as const, id: 'test' } });

/**
 * A replay swapping tables under a running projector while runs keep arriving: the projector
 * waits during the swap, then continues into the new tables from the rebuild's checkpoint, with
 * no duplicate and no missing row (checked by a verify and by totals).
 */
describe('replay while the live projector runs', () => {
  let env: TestEnv;
  let ds: DataSource;
  let projectorDs: DataSource;
  let projector: Projector;
  let queries: ReadModelQueries;

  beforeAll(async () => {
    env = await createTestEnv('projreplay');
    await migrate(env.databaseUrl);
    ds = await createDataSource(env.databaseUrl, { poolSize: 4 }).initialize();
    projectorDs = await createDataSource(env.databaseUrl, { poolSize: 2 }).initialize();
    queries = new ReadModelQueries(ds);
    projector = new Projector({ log: env.log, dataSource: projectorDs, logger, batchSize: 20, backoff: { initialMs: 20, maxMs: 200 } });
    projector.start();
  });
  afterAll(async () => {
    await projector?.stop();
    await projectorDs?.destroy();
    await ds?.destroy();
    await env?.dispose();
  });

  const appendRun = (id: string) => env.log.append('run', id, runEvents(id), 0, meta());
  const source = (): ReplaySource => ({ lastSequence: () => env.log.lastSequence(), read: (after, limit, poison) => env.log.readAll(after, limit, undefined, { poison }) });
  const caughtUp = async () => {
    const last = await env.log.lastSequence();
    await eventually(async () => (await queries.appliedSequence()) === last, `the projection to reach ${last}`, 15_000, 20);
  };

  it('swaps while runs are appended and folded, then verifies equal', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) ids.push(randomUUID());
    await Promise.all(ids.slice(0, 10).map(appendRun));
    await caughtUp();

    // keep appending while the replay rebuilds and swaps
    let appending = true;
    let appended = 10;
    const writer = (async () => {
      for (const id of ids.slice(10)) {
        if (!appending) break;
        await appendRun(id);
        appended += 1;
        await new Promise((r) => setTimeout(r, 15));
      }
    })();
    const report = await replay({ dataSource: ds, databaseUrl: env.databaseUrl, source: source(), batchSize: 25 });
    appending = false;
    await writer;
    expect(report.mode).toBe('swap');
    await caughtUp();
    expect(projector.healthy).toBe(true);

    const runs = Number((await ds.query('SELECT count(*) AS n FROM runs'))[0].n);
    const timeline = Number((await ds.query('SELECT count(*) AS n FROM timeline_events'))[0].n);
    expect(timeline).toBe((await env.log.readAll(0, Number.MAX_SAFE_INTEGER)).length); // every event of the log
    const [totals] = await ds.query(`SELECT sum(cost_usd) AS cost, count(*) FILTER (WHERE status = 'completed') AS done FROM runs`);
    expect({ cost: Number(totals.cost), done: Number(totals.done) }).toEqual({ cost: runs * RUN_COST, done: runs });
    expect(appended).toBeGreaterThan(10); // some runs really arrived during the replay
    expect(runs).toBe(appended);

    const verify = await replay({ dataSource: ds, databaseUrl: env.databaseUrl, source: source(), verify: true });
    expect(verify).toMatchObject({ differenceCount: 0, sequence: await env.log.lastSequence() });
  });

  it('parks poisoned streams as the live projector did: verify finds no difference, a swap keeps them parked (issue 11 §4)', async () => {
    const [junkRun, orphanRun, after] = [randomUUID(), randomUUID(), randomUUID()];
    await env.log.append('run', junkRun, runEvents(junkRun).slice(0, 3), 0, meta());
    await env.log.publish(env.log.names.subjects.aggregateEvents('run', junkRun), { type: 'Phase\u0000Exploded' }, randomUUID()); // does not decode
    await env.log.append('run', junkRun, runEvents(junkRun).slice(3, 5), 'any', meta()); // skipped: the stream is parked
    await env.log.append('run', orphanRun, [{ type: 'PhaseStarted', data: { phaseId: 'draft', attempt: 1 } }], 0, meta()); // cannot be folded
    await appendRun(after);
    await caughtUp();
    const parked = async () => (await ds.query('SELECT stream_id, sequence::int AS sequence, event_type FROM parked_streams ORDER BY sequence')) as { stream_id: string }[];
    expect((await parked()).map((r) => r.stream_id)).toEqual([`run:${junkRun}`, `run:${orphanRun}`]);

    const verify = await replay({ dataSource: ds, databaseUrl: env.databaseUrl, source: source(), verify: true });
    expect(verify).toMatchObject({ differenceCount: 0, sequence: await env.log.lastSequence() });
    expect(verify.parked.map((p) => [p.streamId, p.type])).toEqual([[`run:${junkRun}`, 'Phase\u0000Exploded'], [`run:${orphanRun}`, 'PhaseStarted']]); // said, not skipped silently
    const live = await parked();
    const swapped = await replay({ dataSource: ds, databaseUrl: env.databaseUrl, source: source() });
    expect(swapped.mode).toBe('swap');
    expect(await parked()).toEqual(live);
    expect(await queries.runExists(after)).toBe(true);
  });

  it('parks a run whose write the database refuses, live and in a pipelined replay alike (pages folded ahead, then folded again)', async () => {
    const [huge, before, after] = [randomUUID(), randomUUID(), randomUUID()];
    await appendRun(before);
    // beyond int4: the fold takes it, Postgres refuses the candidates' write
    const events = runEvents(huge).map((e) => (e.type === 'CandidateGenerated' ? ({ ...e, data: { ...e.data, tokens: { input: 3_000_000_000, output: 1 } } } as typeof e) : e));
    await env.log.append('run', huge, events, 0, meta());
    await appendRun(after);
    await caughtUp();
    const parkedRows = await ds.query('SELECT stream_id, event_type FROM parked_streams WHERE stream_id = $1', [`run:${huge}`]);
    expect(parkedRows).toEqual([{ stream_id: `run:${huge}`, event_type: 'CandidateGenerated' }]);
    expect(await queries.runExists(after)).toBe(true);
    // small pages: the refused one is folded ahead, refused, folded again (parking the run); those after it
    // too. Pages end inside commits, and one holds the poison message of the test before (it must not
    // carry it past the page's end: the events in between would be skipped)
    const verify = await replay({ dataSource: ds, databaseUrl: env.databaseUrl, source: source(), verify: true, batchSize: 7 });
    expect(verify).toMatchObject({ differenceCount: 0, sequence: await env.log.lastSequence() });
    expect(verify.parked).toEqual(expect.arrayContaining([expect.objectContaining({ streamId: `run:${huge}`, type: 'CandidateGenerated' })]));
  });
});
