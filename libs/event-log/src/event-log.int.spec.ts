import { randomUUID } from 'node:crypto';
import { headers } from '@nats-io/transport-node';
import { CATALOG_HEADER, catalogFingerprint, EventLog, ConcurrencyError, runConsumer, ack, type RunningConsumer } from '@conclave/event-log';
import { createTestEnv, eventually, type TestEnv } from '@conclave/testing';
import type { NewEvent } from '@conclave/contracts';

const meta = { occurredAt: new Date().toISOString(), correlationId: 'c1', causationId: null, actor: { kind: 'system' as const, id: 'test' } };
const phaseStarted = (phaseId: string): NewEvent => ({ type: 'PhaseStarted', data: { phaseId, attempt: 1 } });

describe('EventLog against JetStream', () => {
  let env: TestEnv;
  beforeAll(async () => {
    env = await createTestEnv('eventlog', { database: false, ackWaitMs: 1_000 });
  });
  afterAll(() => env.dispose());

  it('creates the topology idempotently', async () => {
    await env.log.ensureTopology({ ackWaitMs: 1_000 });
    const names = (await env.log.jsm.streams.names().next()).filter((n) => n.startsWith(env.prefix.toUpperCase()));
    expect(names.sort()).toEqual([env.log.names.streams.commands, env.log.names.streams.events, env.log.names.streams.results].sort());
  });

  it('lets exactly one of 50 concurrent appends with the same expected sequence win', async () => {
    const runId = randomUUID();
    const outcomes = await Promise.allSettled(
      Array.from({ length: 50 }, (_, i) => env.log.append('run', runId, [phaseStarted(`p${i}`)], 0, meta)),
    );
    const won = outcomes.filter((o) => o.status === 'fulfilled');
    const lost = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(49);
    for (const l of lost) expect(l.reason).toBeInstanceOf(ConcurrencyError);
    const events = await env.log.read('run', runId);
    expect(events).toHaveLength(1);
  });

  describe('decoding: events validated at append are not validated again', () => {
    const publish = async (runId: string, envelope: object, fingerprint: string | null) => {
      const h = headers();
      if (fingerprint !== null) h.set(CATALOG_HEADER, fingerprint);
      await env.log.js.publish(env.log.names.subjects.aggregateEvents('run', runId), new TextEncoder().encode(JSON.stringify(envelope)), { msgID: randomUUID(), headers: h });
    };
    const envelope = (runId: string, data: object) => ({
      id: randomUUID(), type: 'PhaseStarted', schemaVersion: 1, streamId: `run:${runId}`, occurredAt: meta.occurredAt, correlationId: 'c1', causationId: null, actor: meta.actor, data,
    });

    it('marks appended events with the fingerprint of the catalog that validated them', async () => {
      const runId = randomUUID();
      await env.log.append('run', runId, [phaseStarted('a')], 0, meta);
      const consumer = await env.log.js.consumers.get(env.log.names.streams.events, { filter_subjects: env.log.names.subjects.aggregateEvents('run', runId) });
      const m = await consumer.next({ expires: 5000 });
      expect(m?.headers?.get(CATALOG_HEADER)).toBe(catalogFingerprint());
      expect(EventLog.decode(m!)).toMatchObject({ type: 'PhaseStarted', data: { phaseId: 'a', attempt: 1 } });
    });

    it('validates in full an event without the fingerprint, or with another one (a foreign writer, another build)', async () => {
      for (const fingerprint of [null, 'another-catalog']) {
        const runId = randomUUID();
        await publish(runId, envelope(runId, { phaseId: 'a', attempt: 'one' }), fingerprint);
        await expect(env.log.read('run', runId)).rejects.toThrow(/attempt/);
      }
    });

    it("trusts an event carrying this catalog's fingerprint (the header is the writer's promise)", async () => {
      const runId = randomUUID();
      await publish(runId, envelope(runId, { phaseId: 'a', attempt: 'one' }), catalogFingerprint());
      expect(await env.log.read('run', runId)).toMatchObject([{ type: 'PhaseStarted', data: { attempt: 'one' } }]);
      // unless its type or schema version is not the catalog's current one
      const other = randomUUID();
      await publish(other, { ...envelope(other, {}), type: 'NoSuchEvent' }, catalogFingerprint());
      await expect(env.log.read('run', other)).rejects.toThrow();
    });
  });

  it('chains expected sequences within one append and reads the aggregate back in order', async () => {
    const runId = randomUUID();
    const first = await env.log.append('run', runId, [phaseStarted('a'), phaseStarted('b')], 0, meta);
    const second = await env.log.append('run', runId, [phaseStarted('c')], first[1]!.sequence, meta);
    await expect(env.log.append('run', runId, [phaseStarted('d')], first[1]!.sequence, meta)).rejects.toBeInstanceOf(ConcurrencyError);
    const events = await env.log.read('run', runId);
    expect(events.map((e) => (e.data as { phaseId: string }).phaseId)).toEqual(['a', 'b', 'c']);
    expect(events.map((e) => e.sequence)).toEqual([first[0]!.sequence, first[1]!.sequence, second[0]!.sequence]);
    const after = await env.log.read('run', runId, first[1]!.sequence);
    expect(after.map((e) => e.sequence)).toEqual([second[0]!.sequence]);
    expect(await env.log.read('run', randomUUID())).toEqual([]);
  });

  it('deduplicates a repeated message id', async () => {
    const runId = randomUUID();
    const id = randomUUID();
    const a = await env.log.append('run', runId, [{ ...phaseStarted('x'), id }], 'any', meta);
    const b = await env.log.append('run', runId, [{ ...phaseStarted('x'), id }], 'any', meta);
    expect(b[0]!.sequence).toBe(a[0]!.sequence);
    expect(await env.log.read('run', runId)).toHaveLength(1);
  });

  it('refuses to append an event that does not fit the catalog', async () => {
    const bad = { type: 'PhaseStarted', data: { phaseId: 'x', attempt: 0 } } as unknown as NewEvent;
    await expect(env.log.append('run', randomUUID(), [bad], 0, meta)).rejects.toThrow();
  });

  it('redelivers an unacked message after ack_wait to the other consumer process', async () => {
    const { streams, consumers, subjects } = env.log.names;
    const second = await EventLog.connect({ servers: env.natsUrl, prefix: env.prefix, name: 'second' });
    const seenBy: Record<string, string[]> = { first: [], second: [] };
    let firstConsumer: RunningConsumer | undefined;
    let secondConsumer: RunningConsumer | undefined;
    let release: (() => void) | undefined;
    try {
      // the first process takes the message and "dies" (never settles it)
      firstConsumer = await runConsumer(env.log, { stream: streams.commands, durable: consumers.generateWorkers, workingIntervalMs: 60_000 }, async (m) => {
        seenBy.first.push(m.string());
        return new Promise((resolve) => (release = () => resolve(ack()))); // settles only after the test

      });
      await env.log.publish(subjects.generate, { hello: 'world' }, randomUUID());
      await eventually(async () => seenBy.first.length === 1, 'first consumer to receive');
      secondConsumer = await runConsumer(second, { stream: streams.commands, durable: consumers.generateWorkers }, async (m) => {
        seenBy.second.push(m.string());
        return ack();
      });
      await eventually(async () => seenBy.second.length === 1, 'redelivery to the second consumer', 10_000);
      expect(JSON.parse(seenBy.second[0]!)).toEqual({ hello: 'world' });
    } finally {
      await secondConsumer?.stop();
      await second.close();
      release?.();
      await firstConsumer?.stop();
    }
  });
});
