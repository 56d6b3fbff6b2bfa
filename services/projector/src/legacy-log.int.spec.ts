import { randomUUID } from 'node:crypto';
import { headers } from '@nats-io/transport-node';
import { CURRENT_SCHEMA_VERSION, positionOf, streamIdOf, type NewEvent } from '@conclave/contracts';
import { CATALOG_HEADER, catalogFingerprint, EventLog } from '@conclave/event-log';
import { createDataSource, migrate, ReadModelQueries, replay, type DataSource } from '@conclave/read-models';
import { createLogger } from '@conclave/service-kit';
import { createTestEnv, eventually, type TestEnv } from '@conclave/testing';
import { Projector } from './projector';
import { RUN_COST, runEvents } from './__tests__/run-events';

const logger = createLogger('legacy-log-test', process.env.TEST_LOG_LEVEL ?? 'silent');
const encoder = new TextEncoder();

/**
 * A log written before commits (ADR 014): one event per JetStream message, the envelope as the
 * body. Such a log must still be read, projected and replayed, each event at position
 * streamSequence × 1000, and a log that mixes both formats must fold the same way.
 */
describe('a log written one event per message (before commits)', () => {
  let env: TestEnv;
  let ds: DataSource;
  let queries: ReadModelQueries;

  beforeAll(async () => {
    env = await createTestEnv('legacylog', { database: true });
    await migrate(env.databaseUrl);
    ds = await createDataSource(env.databaseUrl, { poolSize: 3 }).initialize();
    queries = new ReadModelQueries(ds);
  });
  afterAll(async () => {
    await ds?.destroy();
    await env?.dispose();
  });

  /** what the EventLog of before commits published: one message per event, chained */
  async function appendOneByOne(runId: string, events: NewEvent[]): Promise<number[]> {
    const seqs: number[] = [];
    for (const event of events) {
      const envelope = {
        id: randomUUID(), type: event.type, schemaVersion: CURRENT_SCHEMA_VERSION[event.type], streamId: streamIdOf('run', runId),
        occurredAt: new Date().toISOString(), correlationId: runId, causationId: null, actor: { kind: 'system', id: 'old-build' }, data: event.data,
      };
      const h = headers();
      h.set(CATALOG_HEADER, catalogFingerprint());
      const ack = await env.log.js.publish(env.log.names.subjects.aggregateEvents('run', runId), encoder.encode(JSON.stringify(envelope)), { msgID: envelope.id, headers: h });
      seqs.push(ack.seq);
    }
    return seqs;
  }

  it('reads, projects and replays it equal, beside runs written as commits', async () => {
    const old = [randomUUID(), randomUUID(), randomUUID()];
    const oldSeqs = new Map<string, number[]>();
    for (const id of old) oldSeqs.set(id, await appendOneByOne(id, runEvents(id)));
    // after the upgrade: a run of the new build (one commit per decision)
    const fresh = randomUUID();
    const events = runEvents(fresh);
    const first = await env.log.append('run', fresh, events.slice(0, 5), 0, { occurredAt: new Date().toISOString(), correlationId: fresh, causationId: null, actor: { kind: 'system', id: 'new-build' } });
    await env.log.append('run', fresh, events.slice(5), first[first.length - 1]!.sequence, { occurredAt: new Date().toISOString(), correlationId: fresh, causationId: null, actor: { kind: 'system', id: 'new-build' } });

    // each old event is read back at its message's position, in order
    const read = await env.log.read('run', old[0]!);
    expect(read.map((e) => e.sequence)).toEqual(oldSeqs.get(old[0]!)!.map((seq) => positionOf(seq)));
    expect(read.map((e) => e.type)).toEqual(runEvents(old[0]!).map((e) => e.type));
    // a new run's commit holds several events at consecutive positions of one message
    const commits = (await env.log.read('run', fresh)).map((e) => e.sequence);
    expect(commits).toHaveLength(events.length);
    expect(new Set(commits.map((p) => Math.floor(p / 1000))).size).toBe(2);

    // the live projection folds both formats
    const projector = new Projector({ log: env.log, dataSource: ds, logger, backoff: { initialMs: 20, maxMs: 200 } });
    projector.start();
    try {
      const last = await env.log.lastSequence();
      expect(last).toBe(commits[commits.length - 1]);
      await eventually(async () => (await queries.appliedSequence()) === last, 'the projection to catch up', 15_000, 20);
    } finally {
      await projector.stop();
    }
    const totals = (await ds.query(`SELECT count(*)::int AS n, sum(cost_usd)::float AS cost FROM runs WHERE status = 'completed'`))[0];
    expect(totals).toEqual({ n: 4, cost: 4 * RUN_COST });
    const timeline = Number((await ds.query('SELECT count(*) AS n FROM timeline_events'))[0].n);
    expect(timeline).toBe(4 * events.length);

    // replay rebuilds the same read models from the mixed log: --verify compares equal
    const report = await replay({
      dataSource: ds,
      databaseUrl: env.databaseUrl,
      source: { lastSequence: () => env.log.lastSequence(), read: (after, limit, poison) => env.log.readAll(after, limit, undefined, { poison }) },
      verify: true,
      batchSize: 7,
    });
    expect(report.mode).toBe('verify');
    expect(report.differences).toEqual([]);
    expect(report.differenceCount).toBe(0);
    expect(report.processed).toBe(4 * events.length);
  });

  it('decodes a single-event message and a commit alike', () => {
    const body = (value: unknown) => ({ seq: 7, subject: 'x', json: <T>() => value as T });
    const envelope = { id: 'e1', type: 'RunCompleted', schemaVersion: CURRENT_SCHEMA_VERSION.RunCompleted, streamId: 'run:r', occurredAt: new Date().toISOString(), correlationId: 'c', causationId: null, actor: { kind: 'system', id: 's' }, data: {} };
    expect(EventLog.decodeAll(body(envelope)).map((e) => e.sequence)).toEqual([7000]);
    expect(EventLog.decodeAll(body({ events: [envelope, { ...envelope, id: 'e2' }] })).map((e) => [e.id, e.sequence])).toEqual([['e1', 7000], ['e2', 7001]]);
    expect(() => EventLog.decodeAll(body({ events: [] }))).toThrow(/commit of 0 events/);
  });
});
