import { DeadLetterRecord, DeadLetterRedriven } from '@conclave/contracts';
import { createDataSource, DEAD_LETTERS_CHECKPOINT, migrate, projectBatch, ReadModelQueries, replay, type DataSource } from '@conclave/read-models';
import { createLogger } from '@conclave/service-kit';
import { createTestEnv, eventually, type TestEnv } from '@conclave/testing';
import { DeadLetterProjector } from './dead-letters';

const logger = createLogger('dead-letters-test', process.env.TEST_LOG_LEVEL ?? 'silent');

function record(overrides: Partial<DeadLetterRecord> = {}): DeadLetterRecord {
  const payload = JSON.stringify({ type: 'GenerateCandidate', runId: 'run-1', commandId: 'c-1', note: 'x'.repeat(5000) });
  return DeadLetterRecord.parse({
    kind: 'dead',
    consumer: 'llm-workers',
    stream: 'COMMANDS',
    subject: 'commands.generate',
    streamSequence: 7,
    deliveries: 6,
    reason: 'max_deliver',
    error: 'gave up after 5 deliveries; last error: provider exploded',
    deadAt: '2026-12-04T10:00:00.000Z',
    runId: 'run-1',
    by: 'worker-a',
    headers: { 'Nats-Msg-Id': ['c-1'] },
    payload: Buffer.from(payload).toString('base64'),
    truncated: false,
    ...overrides,
  });
}

describe('projector: dead letters (DEAD_LETTERS → dead_letters, and AlertRaised in the log)', () => {
  let env: TestEnv;
  let ds: DataSource;
  let projectorDs: DataSource;
  let queries: ReadModelQueries;
  let projector: DeadLetterProjector;

  const publish = async (consumer: string, message: unknown, msgId: string) => (await env.log.publish(env.log.names.subjects.deadLetter(consumer), message, msgId)).seq;
  /** the dead_letter alerts, once the log's AlertRaised events are folded (the events projection's part, ADR 016) */
  const alerts = async () => {
    await ds.transaction(async (m) => projectBatch(m, await env.log.readAll(0, 10_000)));
    return (await queries.listAlerts(100)).filter((a) => a.kind === 'dead_letter');
  };
  /** the alert is appended after the row's commit, just before the ack: wait for it */
  const alertsReaching = (n: number) => eventually(async () => ((await alerts()).length >= n ? alerts() : null), `${n} dead_letter alerts`);

  beforeAll(async () => {
    env = await createTestEnv('deadletters');
    await migrate(env.databaseUrl);
    ds = await createDataSource(env.databaseUrl, { poolSize: 3 }).initialize();
    projectorDs = await createDataSource(env.databaseUrl, { poolSize: 2 }).initialize();
    queries = new ReadModelQueries(ds);
    projector = new DeadLetterProjector({ log: env.log, dataSource: projectorDs, logger, missingRecordDelayMs: 50 });
    projector.start();
  });

  afterAll(async () => {
    await projector?.stop();
    await projectorDs?.destroy();
    await ds?.destroy();
    await env?.dispose();
  });

  it('folds a record into a row with an alert, and a redrive mark sets redrivenAt/redrivenBy', async () => {
    const seq = await publish('llm-workers', record(), 'dl-1');
    const view = await eventually(() => queries.getDeadLetter(String(seq)), 'the dead letter row');
    expect(view).toMatchObject({
      id: String(seq),
      consumer: 'llm-workers',
      stream: 'COMMANDS',
      subject: 'commands.generate',
      streamSequence: 7,
      deliveries: 6,
      reason: 'max_deliver',
      error: 'gave up after 5 deliveries; last error: provider exploded',
      deadAt: '2026-12-04T10:00:00.000Z',
      runId: 'run-1',
      by: 'worker-a',
      truncated: false,
      redrivenAt: null,
      redrivenBy: null,
    });
    // the preview is the first 4 KiB of the payload as text; headers are not in the view
    expect(Buffer.byteLength(view.payloadPreview)).toBe(4096);
    expect(view.payloadPreview.startsWith('{"type":"GenerateCandidate","runId":"run-1"')).toBe(true);
    expect(view).not.toHaveProperty('headers');
    // the whole payload and headers are kept in the row (what a redrive needs)
    const [row] = await ds.query('SELECT payload, headers FROM dead_letters WHERE id = $1', [seq]);
    expect(row.payload).toBe(record().payload);
    expect(row.headers).toEqual({ 'Nats-Msg-Id': ['c-1'] });

    const [alert] = await alertsReaching(1);
    expect(alert!.message).toContain('llm-workers');
    expect(alert!.message).toContain('commands.generate');
    expect(alert!.message).toContain('max_deliver');
    expect(alert!.details).toEqual({
      id: String(seq),
      runId: 'run-1',
      consumer: 'llm-workers',
      subject: 'commands.generate',
      reason: 'max_deliver',
      error: 'gave up after 5 deliveries; last error: provider exploded',
    });

    const mark = DeadLetterRedriven.parse({ kind: 'redriven', deadLetterId: String(seq), at: '2026-12-04T11:00:00.000Z', actor: { kind: 'user', id: 'ops' } });
    const markSeq = await publish('llm-workers', mark, 'mark-1');
    const redriven = await eventually(async () => {
      const v = await queries.getDeadLetter(String(seq));
      return v?.redrivenAt ? v : null;
    }, 'the redrive mark');
    expect(redriven).toMatchObject({ redrivenAt: '2026-12-04T11:00:00.000Z', redrivenBy: 'ops' });
    expect(await queries.appliedSequence(DEAD_LETTERS_CHECKPOINT)).toBeGreaterThanOrEqual(markSeq);
    // a mark is not a new dead letter: still one alert
    expect(await alerts()).toHaveLength(1);
  });

  it('is idempotent: a redelivered record (refolded from the start) adds no row and no alert', async () => {
    const before = { rows: await countRows(), alerts: (await alerts()).length };
    // a fresh consumer on the stream refolds everything already folded (a crash before the ack)
    await projector.stop();
    await env.log.jsm.consumers.delete(env.log.names.streams.deadLetters, env.log.names.consumers.deadLetters);
    await env.log.ensureTopology();
    projector.start();
    const seq = await publish('dispatcher', record({ consumer: 'dispatcher', stream: 'EVENTS', subject: 'events.run.r2', runId: 'r2', reason: 'undecodable', error: 'not JSON' }), 'dl-2');
    await eventually(() => queries.getDeadLetter(String(seq)), 'the second dead letter');
    await eventually(async () => (await queries.appliedSequence(DEAD_LETTERS_CHECKPOINT)) >= seq, 'the checkpoint');
    expect(await countRows()).toBe(before.rows + 1);
    expect(await alertsReaching(before.alerts + 1)).toHaveLength(before.alerts + 1);
    // the first one's redrive survived the refold
    const first = (await queries.listDeadLetters({ state: 'redriven', limit: 50 })).items;
    expect(first.map((d) => d.redrivenBy)).toEqual(['ops']);
  });

  it('lists newest first with state, consumer and run filters and a cursor', async () => {
    const open = await queries.listDeadLetters({ state: 'open', limit: 50 });
    expect(open.items.map((d) => d.consumer)).toEqual(['dispatcher']);
    const all = await queries.listDeadLetters({ state: 'all', limit: 50 });
    expect(all.items.map((d) => d.consumer)).toEqual(['dispatcher', 'llm-workers']);
    expect((await queries.listDeadLetters({ state: 'all', limit: 50, consumer: 'llm-workers' })).items).toHaveLength(1);
    expect((await queries.listDeadLetters({ state: 'all', limit: 50, runId: 'r2' })).items.map((d) => d.runId)).toEqual(['r2']);
    const page1 = await queries.listDeadLetters({ state: 'all', limit: 1 });
    expect(page1.items).toHaveLength(1);
    expect(page1.nextCursor).not.toBeNull();
    const page2 = await queries.listDeadLetters({ state: 'all', limit: 1, cursor: page1.nextCursor! });
    expect(page2.items.map((d) => d.consumer)).toEqual(['llm-workers']);
    expect(page2.nextCursor).toBeNull();
    await expect(queries.listDeadLetters({ state: 'all', limit: 1, cursor: 'garbage' })).rejects.toMatchObject({ code: 'bad_request' });
  });

  it('retries a mark whose record is not folded yet, and parks what is not a dead-letter message', async () => {
    // a mark published before its record (the record's sequence is the next one) is retried, not lost
    const next = (await env.log.jsm.streams.info(env.log.names.streams.deadLetters)).state.last_seq + 2;
    await publish('judges', { kind: 'redriven', deadLetterId: String(next), at: '2026-12-04T12:00:00.000Z', actor: { kind: 'user', id: 'early' } }, 'mark-early');
    expect(await publish('judges', record({ consumer: 'judges', subject: 'commands.judge', runId: 'r3' }), 'dl-3')).toBe(next);
    await eventually(async () => (await queries.getDeadLetter(String(next)))?.redrivenBy === 'early', 'the early mark applied to its record');

    const garbage = await env.log.js.publish(env.log.names.subjects.deadLetter('judges'), new TextEncoder().encode('{nope'));
    // the garbage is copied to dead.dead-letters as an undecodable record of this consumer, then folded
    const parked = await eventually(
      async () => (await queries.listDeadLetters({ state: 'all', limit: 50, consumer: 'dead-letters' })).items.find((d) => d.reason === 'undecodable'),
      'the parked garbage',
    );
    expect(parked).toMatchObject({ subject: env.log.names.subjects.deadLetter('judges'), streamSequence: garbage.seq, payloadPreview: '{nope' });
    await eventually(async () => (await alerts()).some((a) => (a.details as { consumer?: string }).consumer === 'dead-letters'), 'the alert of the parked garbage');
  });

  // the pull loop notices the missing consumer after two missed idle heartbeats (~30 s), then pulls from the new one
  it('follows again by itself when its consumer is deleted and recreated under it (the refold of ADR 004)', async () => {
    const before = (await alerts()).length;
    await env.log.jsm.consumers.delete(env.log.names.streams.deadLetters, env.log.names.consumers.deadLetters);
    await env.log.ensureTopology();
    const seq = await publish('timers', record({ consumer: 'timers', stream: 'EVENTS', subject: 'events.run.r9', runId: 'r9' }), 'dl-after-recreate');
    await eventually(() => queries.getDeadLetter(String(seq)), 'the record published after the consumer was recreated', 75_000, 250);
    // everything before it was refolded (deliver policy all) without a second alert
    expect(await alertsReaching(before + 1)).toHaveLength(before + 1);
  }, 90_000);

  it('survives a replay of the events stream (dead letters are not folded from EVENTS)', async () => {
    const before = await queries.listDeadLetters({ state: 'all', limit: 500 });
    const checkpoint = await queries.appliedSequence(DEAD_LETTERS_CHECKPOINT);
    const deadAlerts = (await alerts()).length;
    expect(before.items.length).toBeGreaterThanOrEqual(4);
    const report = await replay({ dataSource: ds, databaseUrl: env.databaseUrl, source: { lastSequence: () => env.log.lastSequence(), read: (after, limit) => env.log.readAll(after, limit) } });
    expect(report.tables).not.toContain('dead_letters');
    expect(await queries.listDeadLetters({ state: 'all', limit: 500 })).toEqual(before);
    expect(await queries.appliedSequence(DEAD_LETTERS_CHECKPOINT)).toBe(checkpoint);
    expect(await alerts()).toHaveLength(deadAlerts);
  });

  async function countRows(): Promise<number> {
    return Number((await ds.query('SELECT count(*) AS n FROM dead_letters'))[0].n);
  }
});
