import { randomUUID } from 'node:crypto';
import { headers } from '@nats-io/transport-node';
import { CATALOG_HEADER, catalogFingerprint, CONSUMER_LIMITS, EventLog, ConcurrencyError, runConsumer, ack, nak, term, type RunningConsumer } from '@conclave/event-log';
import { createTestEnv, eventually, type TestEnv } from '@conclave/testing';
import { DeadLetterRecord, type NewEvent } from '@conclave/contracts';

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
    expect(names.sort()).toEqual([env.log.names.streams.commands, env.log.names.streams.deadLetters, env.log.names.streams.events, env.log.names.streams.outbox, env.log.names.streams.results].sort());
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
      expect(EventLog.decodeAll(m!)).toMatchObject([{ type: 'PhaseStarted', data: { phaseId: 'a', attempt: 1 } }]);
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

  it('ends a page inside a commit without carrying a poison message read past its end (the next page reads on from there)', async () => {
    const runId = randomUUID();
    const start = await env.log.lastSequence();
    const big = await env.log.append('run', runId, ['a', 'b', 'c', 'd', 'e'].map(phaseStarted), 'any', meta);
    await env.log.publish(env.log.names.subjects.aggregateEvents('run', runId), { type: 'NotAnEvent' }, randomUUID());
    const tail = await env.log.append('run', runId, [phaseStarted('f')], 'any', meta);
    // page by page, 2 positions at a time: every event once, in order, and the poison in its place
    const seen: (number | string)[] = [];
    for (let after = start, pages = 0; pages < 10; pages += 1) {
      const poison: { sequence: number }[] = [];
      const page = await env.log.readAll(after, 2, undefined, { poison: poison as never[] });
      const items = [...page.map((e) => e.sequence), ...poison.map((p) => p.sequence)].sort((a, b) => a - b);
      if (items.length === 0) break;
      expect(items.length).toBeLessThanOrEqual(2);
      seen.push(...page.map((e) => e.sequence), ...poison.map(() => 'poison'));
      after = items[items.length - 1]!;
    }
    expect(seen).toEqual([...big.map((e) => e.sequence), 'poison', tail[0]!.sequence]);
  });

  it('decodes only the messages a page keeps: commits past its end are left to the next page', async () => {
    const runId = randomUUID();
    const start = await env.log.lastSequence();
    for (let i = 0; i < 12; i++) await env.log.append('run', runId, ['a', 'b', 'c', 'd', 'e'].map((p) => phaseStarted(`${p}${i}`)), 'any', meta);
    const decoded = jest.spyOn(EventLog, 'decodeAll');
    try {
      const pages: number[] = [];
      for (let after = start; ; ) {
        const page = await env.log.readAll(after, 10);
        if (page.length === 0) break;
        pages.push(page.length);
        after = page[page.length - 1]!.sequence;
      }
      expect(pages).toEqual([10, 10, 10, 10, 10, 10]);
      // each commit once, by the page that keeps it (pages of 10 positions end on a commit's end here);
      // a page that decoded every message it fetched made 40 decodes of these 12 commits
      expect(decoded).toHaveBeenCalledTimes(12);
    } finally {
      decoded.mockRestore();
    }
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

  describe('bounded redelivery and dead letters', () => {
    /** the dead-letter records of one consumer, oldest first */
    async function deadLetters(durable: string): Promise<(DeadLetterRecord & { id: number })[]> {
      const { streams, subjects } = env.log.names;
      const info = await env.log.jsm.streams.info(streams.deadLetters);
      const out: (DeadLetterRecord & { id: number })[] = [];
      for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
        const m = await env.log.jsm.streams.getMessage(streams.deadLetters, { seq }).catch(() => null);
        if (m && m.subject === subjects.deadLetter(durable)) out.push({ ...DeadLetterRecord.parse(m.json()), id: seq });
      }
      return out;
    }

    it('gives every durable consumer a max_deliver and a backoff schedule', async () => {
      const { streams, consumers } = env.log.names;
      const all: [string, string][] = [
        [streams.commands, consumers.timers],
        [streams.commands, consumers.generateWorkers],
        [streams.commands, consumers.judgeWorkers],
        [streams.commands, consumers.toolRunners],
        [streams.commands, consumers.workspaceTasks],
        [streams.results, consumers.orchestratorResults],
        [streams.deadLetters, consumers.deadLetters],
      ];
      for (const [stream, durable] of all) {
        const { config } = await env.log.jsm.consumers.info(stream, durable);
        expect({ durable, bounded: (config.max_deliver ?? -1) > 0, backoff: (config.backoff ?? []).length }).toEqual({ durable, bounded: true, backoff: 4 });
        expect(config.max_deliver).toBeGreaterThan((config.backoff ?? []).length);
      }
      expect((await env.log.jsm.consumers.info(streams.commands, consumers.generateWorkers)).config.max_deliver).toBe(CONSUMER_LIMITS.maxDeliver.work);
    });

    it('copies a poison message to DEAD_LETTERS with its origin and reason, and acks it', async () => {
      const { streams, consumers, subjects } = env.log.names;
      const seen: number[] = [];
      const consumer = await runConsumer(env.log, { stream: streams.commands, durable: consumers.judgeWorkers, instanceId: 'judge-test' }, async (m) => {
        seen.push(m.info.deliveryCount);
        return term('payload is not JSON', 'undecodable');
      });
      try {
        const h = headers();
        h.set('X-Origin', 'test');
        await env.log.js.publish(subjects.judge, new TextEncoder().encode('{not json'), { msgID: randomUUID(), headers: h });
        await eventually(async () => (await deadLetters(consumers.judgeWorkers)).length === 1, 'the dead-letter record');
        const [record] = await deadLetters(consumers.judgeWorkers);
        expect(record).toMatchObject({ kind: 'dead', consumer: consumers.judgeWorkers, stream: streams.commands, subject: subjects.judge, reason: 'undecodable', error: 'payload is not JSON', by: 'judge-test', deliveries: 1, truncated: false, runId: null });
        expect(Buffer.from(record!.payload, 'base64').toString()).toBe('{not json');
        expect(record!.headers['X-Origin']).toEqual(['test']);
        // acked: the work queue is empty and the handler saw it once
        await eventually(async () => (await env.log.jsm.consumers.info(streams.commands, consumers.judgeWorkers)).num_ack_pending === 0, 'acked');
        expect((await env.log.jsm.streams.info(streams.commands)).state.messages).toBe(0);
        expect(seen).toEqual([1]);
      } finally {
        await consumer.stop();
      }
    });

    it('dead-letters a message whose handler keeps failing after max_deliver − 1 tries, with the last error and its run', async () => {
      const { streams, subjects } = env.log.names;
      // a consumer of its own with a small bound, on the results subjects of one run
      const durable = `bounded-${randomUUID().slice(0, 8)}`;
      await env.log.jsm.consumers.add(streams.events, { durable_name: durable, ack_policy: 'explicit' as never, max_deliver: 3, filter_subject: subjects.aggregateEvents('run', 'run-7'), ack_wait: 1_000_000_000 });
      const tries: number[] = [];
      const consumer = await runConsumer(env.log, { stream: streams.events, durable }, async (m) => {
        tries.push(m.info.deliveryCount);
        if (tries.length < 10) return nak(50);
        return ack();
      });
      try {
        await env.log.publish(subjects.aggregateEvents('run', 'run-7'), { commandId: 'c1' }, randomUUID());
        await eventually(async () => (await deadLetters(durable)).length === 1, 'the dead-letter record', 10_000);
        const [record] = await deadLetters(durable);
        expect(record).toMatchObject({ reason: 'max_deliver', deliveries: 2, runId: 'run-7', stream: streams.events, subject: subjects.aggregateEvents('run', 'run-7') });
        expect(tries).toEqual([1, 2]); // the handler never sees a third delivery
        expect((await env.log.jsm.consumers.info(streams.events, durable)).num_ack_pending).toBe(0);
      } finally {
        await consumer.stop();
        await env.log.jsm.consumers.delete(streams.events, durable);
      }
    });

    it('dead-letters a message whose process dies on every delivery, on its last delivery, without handling it', async () => {
      const { streams, subjects } = env.log.names;
      const durable = `crashy-${randomUUID().slice(0, 8)}`;
      await env.log.jsm.consumers.add(streams.events, { durable_name: durable, ack_policy: 'explicit' as never, max_deliver: 3, filter_subject: subjects.aggregateEvents('run', 'run-9'), backoff: [200_000_000, 200_000_000], ack_wait: 200_000_000 });
      const handled: number[] = [];
      const hangs: (() => void)[] = [];
      // "dies": takes the message and never settles it, so the server redelivers after the lease
      const consumer = await runConsumer(env.log, { stream: streams.events, durable, workingIntervalMs: 60_000, concurrency: 5 }, async (m) => {
        handled.push(m.info.deliveryCount);
        return new Promise((resolve) => hangs.push(() => resolve(ack())));
      });
      try {
        await env.log.publish(subjects.aggregateEvents('run', 'run-9'), { note: 'kills its handler' }, randomUUID());
        await eventually(async () => (await deadLetters(durable)).length === 1, 'the dead-letter record', 10_000);
        const [record] = await deadLetters(durable);
        expect(record).toMatchObject({ reason: 'max_deliver', deliveries: 3, runId: 'run-9' });
        expect(record!.error).toMatch(/delivered 3 times without being acknowledged/);
        expect(handled).toEqual([1, 2]);
      } finally {
        for (const release of hangs) release();
        await consumer.stop();
        await env.log.jsm.consumers.delete(streams.events, durable);
      }
    });
  });
});
