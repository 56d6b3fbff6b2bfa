import type { JsMsg } from '@nats-io/jetstream';
import { positionOf } from '@conclave/contracts';
import { PoisonEventError } from '@conclave/read-models';
import { batches } from './batches';
import { ProjectorEnv } from './config';
import { decodeBatch } from './projector';

/** An async source fed by the test: push items, end it, and see what the batcher yields. */
function channel<T>() {
  const queue: T[] = [];
  let waiting: ((r: IteratorResult<T>) => void) | null = null;
  let ended = false;
  return {
    push(item: T) {
      if (waiting) {
        const w = waiting;
        waiting = null;
        w({ value: item, done: false });
      } else queue.push(item);
    },
    end() {
      ended = true;
      waiting?.({ value: undefined, done: true });
    },
    [Symbol.asyncIterator]() {
      return {
        next: (): Promise<IteratorResult<T>> => {
          if (queue.length > 0) return Promise.resolve({ value: queue.shift()!, done: false });
          if (ended) return Promise.resolve({ value: undefined, done: true });
          return new Promise((resolve) => (waiting = resolve));
        },
      };
    },
  };
}

async function collect<T>(gen: AsyncGenerator<T[]>): Promise<T[][]> {
  const out: T[][] = [];
  for await (const b of gen) out.push(b);
  return out;
}

describe('batches', () => {
  it('fills batches up to max when items are already there', async () => {
    const ch = channel<number>();
    for (let i = 1; i <= 7; i++) ch.push(i);
    ch.end();
    expect(await collect(batches(ch, { max: 3, lingerMs: 50 }))).toEqual([[1, 2, 3], [4, 5, 6], [7]]);
  });

  it('hands a batch over after lingerMs and carries the pending read into the next one', async () => {
    const ch = channel<number>();
    const gen = batches(ch, { max: 100, lingerMs: 20 });
    ch.push(1);
    ch.push(2);
    const started = Date.now();
    expect((await gen.next()).value).toEqual([1, 2]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(15);
    setTimeout(() => ch.push(3), 30);
    expect((await gen.next()).value).toEqual([3]);
    ch.end();
    expect((await gen.next()).done).toBe(true);
  });

  it('flushes at once after an item that says so when nothing more is waiting', async () => {
    const ch = channel<{ n: number; last: boolean }>();
    const gen = batches(ch, { max: 100, lingerMs: 10_000, flushAfter: (m) => m.last });
    ch.push({ n: 1, last: false });
    ch.push({ n: 2, last: true });
    const started = Date.now();
    expect((await gen.next()).value!.map((m) => m.n)).toEqual([1, 2]);
    ch.push({ n: 3, last: true });
    expect((await gen.next()).value!.map((m) => m.n)).toEqual([3]);
    expect(Date.now() - started).toBeLessThan(1000);
    ch.end();
    expect((await gen.next()).done).toBe(true);
  });

  it('keeps items that are already waiting after a flush item in the same batch (stale "nothing pending")', async () => {
    // a consumer buffers messages that each said "nothing pending" when delivered, one by one
    const ch = channel<{ n: number; last: boolean }>();
    const gen = batches(ch, { max: 3, lingerMs: 10_000, flushAfter: (m) => m.last });
    for (const n of [1, 2, 3, 4]) ch.push({ n, last: true });
    expect((await gen.next()).value!.map((m) => m.n)).toEqual([1, 2, 3]);
    expect((await gen.next()).value!.map((m) => m.n)).toEqual([4]);
    ch.end();
    expect((await gen.next()).done).toBe(true);
  });

  it('with trickleMs, gathers a trickle of flush items arriving a few ms apart into one batch, bounded by lingerMs', async () => {
    // one run at a time: each commit says "nothing pending", the next comes ~1 ms later
    const ch = channel<{ n: number; last: boolean }>();
    const gen = batches(ch, { max: 100, lingerMs: 60, trickleMs: 15, flushAfter: (m) => m.last });
    ch.push({ n: 1, last: true });
    setTimeout(() => ch.push({ n: 2, last: true }), 2);
    setTimeout(() => ch.push({ n: 3, last: true }), 4);
    expect((await gen.next()).value!.map((m) => m.n)).toEqual([1, 2, 3]);
    // a steady trickle closes the batch at lingerMs after its first item
    const started = Date.now();
    const feed = setInterval(() => ch.push({ n: 0, last: true }), 5);
    const batch = (await gen.next()).value!;
    clearInterval(feed);
    expect(batch.length).toBeGreaterThan(1);
    expect(Date.now() - started).toBeLessThan(200);
    ch.end();
  });

  it('group commit: while the previous batch is applied, what comes joins the next batch, handed over when it is done', async () => {
    const ch = channel<{ n: number; last: boolean }>();
    let applied!: () => void;
    let applying: Promise<void> | undefined;
    const gen = batches(ch, { max: 100, lingerMs: 5, flushAfter: (m) => m.last, notBefore: () => applying });
    ch.push({ n: 1, last: true });
    expect((await gen.next()).value!.map((m) => m.n)).toEqual([1]); // nothing being applied: at once
    applying = new Promise<void>((resolve) => (applied = resolve));
    const second = gen.next();
    ch.push({ n: 2, last: true });
    setTimeout(() => ch.push({ n: 3, last: true }), 20); // well past lingerMs and the trickle
    setTimeout(() => ch.push({ n: 4, last: true }), 40);
    setTimeout(() => applied(), 60);
    let handedOver = false;
    void second.then(() => (handedOver = true));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(handedOver).toBe(false);
    expect((await second).value!.map((m) => m.n)).toEqual([2, 3, 4]);
    // a failed application opens the gate as well (the consumer reports its own failure)
    applying = Promise.reject(new Error('commit failed'));
    applying.catch(() => undefined);
    ch.push({ n: 5, last: true });
    expect((await gen.next()).value!.map((m) => m.n)).toEqual([5]);
    ch.end();
    expect((await gen.next()).done).toBe(true);
  });

  it('with minIntervalMs, a steady stream gets at most one batch per interval; a quiet stream\'s first item goes at once', async () => {
    const ch = channel<{ n: number; last: boolean }>();
    const gen = batches(ch, { max: 100, lingerMs: 5, flushAfter: (m) => m.last, minIntervalMs: 80 });
    let started = Date.now();
    ch.push({ n: 1, last: true });
    expect((await gen.next()).value!.map((m) => m.n)).toEqual([1]);
    expect(Date.now() - started).toBeLessThan(50);
    started = Date.now();
    for (let n = 2; n <= 7; n++) setTimeout(() => ch.push({ n, last: true }), (n - 1) * 10); // 10 … 60 ms
    const second = (await gen.next()).value!;
    expect(Date.now() - started).toBeGreaterThanOrEqual(70);
    expect(second.map((m) => m.n)).toEqual([2, 3, 4, 5, 6, 7]);
    // quiet for longer than the interval: the next item is not held
    await new Promise((resolve) => setTimeout(resolve, 100));
    started = Date.now();
    ch.push({ n: 100, last: true });
    expect((await gen.next()).value!.map((m) => m.n)).toEqual([100]);
    expect(Date.now() - started).toBeLessThan(50);
    ch.end();
  });

  it('yields what it holds before reporting the end', async () => {
    const ch = channel<number>();
    const gen = batches(ch, { max: 10, lingerMs: 1_000 });
    ch.push(1);
    setTimeout(() => ch.end(), 5);
    expect(await collect(gen)).toEqual([[1]]);
  });
});

describe('decodeBatch', () => {
  const envelope = (type: string, data: unknown) => ({
    id: `e-${type}`,
    type,
    schemaVersion: 1,
    streamId: 'run:r1',
    occurredAt: '2026-01-01T00:00:00.000Z',
    correlationId: 'c',
    causationId: null,
    actor: { kind: 'system', id: 't' },
    data,
  });
  const msg = (seq: number, body: unknown) =>
    ({
      seq,
      json: () => (typeof body === 'string' ? JSON.parse(body) : body),
      info: { pending: 0 },
    }) as unknown as JsMsg;

  it('decodes in order and stops at the first message that does not decode', () => {
    const { events, poison } = decodeBatch([
      msg(5, envelope('PhaseStarted', { phaseId: 'a', attempt: 1 })),
      msg(6, envelope('PhaseStarted', { phaseId: 'b', attempt: 0 })), // attempt must be positive
      msg(7, envelope('PhaseStarted', { phaseId: 'c', attempt: 1 })),
    ]);
    expect(events.map((e) => e.sequence)).toEqual([positionOf(5)]);
    expect(poison).toBeInstanceOf(PoisonEventError);
    expect(poison).toMatchObject({ sequence: positionOf(6), eventType: 'PhaseStarted' });
  });

  it('names an unknown type and a body that is not JSON', () => {
    expect(decodeBatch([msg(1, envelope('Mystery', {}))]).poison).toMatchObject({ sequence: positionOf(1), eventType: 'Mystery' });
    expect(decodeBatch([msg(2, '{not json')]).poison).toMatchObject({ sequence: positionOf(2), eventType: '(not JSON)' });
  });

  it('returns no poison for a clean batch', () => {
    expect(decodeBatch([msg(1, envelope('RunCompleted', {}))])).toMatchObject({ events: [{ type: 'RunCompleted', sequence: positionOf(1) }], poison: null });
  });
});

describe('ProjectorEnv', () => {
  it('defaults the batch size and coerces it from the environment', () => {
    // 2000 (was 500): the per-batch fixed cost amortised over more events (bench:projector, issue 5)
    expect(ProjectorEnv.parse({}).PROJECTOR_BATCH).toBe(2000);
    expect(ProjectorEnv.parse({ PROJECTOR_BATCH: '50' }).PROJECTOR_BATCH).toBe(50);
    expect(ProjectorEnv.safeParse({ PROJECTOR_BATCH: '0' }).success).toBe(false);
    expect(ProjectorEnv.parse({}).HEALTH_PORT).toBe(0);
  });
});
