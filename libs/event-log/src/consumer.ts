import type { JsMsg } from '@nats-io/jetstream';
import type { EventLog } from './event-log';

/**
 * What a handler decided about one message (STYLE.md §5): ack only after the effect is committed;
 * a transient failure naks with a delay; poison is terminated (and reported as a dead letter).
 */
export type Disposition = { kind: 'ack' } | { kind: 'nak'; delayMs: number } | { kind: 'term'; reason: string };
export const ack = (): Disposition => ({ kind: 'ack' });
export const nak = (delayMs: number): Disposition => ({ kind: 'nak', delayMs });
export const term = (reason: string): Disposition => ({ kind: 'term', reason });

export interface ConsumeOptions {
  stream: string;
  durable: string;
  /** messages handled at once in this process (bounded in-flight) */
  concurrency?: number;
  /** in-progress ack interval while a handler runs (the lease heartbeat) */
  workingIntervalMs?: number;
  /** called when a message is terminated as poison */
  onDeadLetter?: (m: JsMsg, reason: string) => void | Promise<void>;
  /** called when a handler throws (it is nak'ed with backoff) */
  onError?: (m: JsMsg, err: unknown) => void;
}

/** Backoff for a thrown handler: 0.5 s, 1 s, 2 s … capped at 30 s, with ±20 % jitter. */
export function retryDelayMs(deliveryCount: number): number {
  const base = Math.min(30_000, 500 * 2 ** Math.max(0, deliveryCount - 1));
  return Math.round(base * (0.8 + Math.random() * 0.4));
}

export interface RunningConsumer {
  /** stop pulling, wait for in-flight handlers to settle (they ack/nak as usual) */
  stop(): Promise<void>;
  readonly inFlight: number;
  /** resolves when the consume loop ends */
  readonly done: Promise<void>;
}

/**
 * A durable pull consumer loop with explicit ack / nak(delay) / term and in-progress acks.
 * At-least-once: handlers must stay idempotent — a message is redelivered after ack_wait when
 * its process dies before acking.
 */
export async function runConsumer(log: EventLog, options: ConsumeOptions, handler: (m: JsMsg) => Promise<Disposition>): Promise<RunningConsumer> {
  const concurrency = Math.max(1, options.concurrency ?? 1);
  const consumer = await log.js.consumers.get(options.stream, options.durable);
  const messages = await consumer.consume({ max_messages: Math.max(concurrency, 1) });
  const inFlight = new Set<Promise<void>>();
  let stopping = false;
  let wake: (() => void) | null = null;

  const settle = async (m: JsMsg) => {
    const heartbeat = setInterval(() => m.working(), options.workingIntervalMs ?? 5_000);
    let disposition: Disposition;
    try {
      disposition = await handler(m);
    } catch (err) {
      options.onError?.(m, err);
      disposition = nak(retryDelayMs(m.info.deliveryCount));
    } finally {
      clearInterval(heartbeat);
    }
    switch (disposition.kind) {
      case 'ack':
        await m.ackAck().catch(() => m.ack());
        break;
      case 'nak':
        m.nak(disposition.delayMs);
        break;
      case 'term':
        // nats-server 2.9 ignores a terminate that carries a reason (the message comes back);
        // the reason goes to the dead-letter record instead
        m.term();
        await options.onDeadLetter?.(m, disposition.reason);
        break;
      default: {
        const never: never = disposition;
        throw new Error(`unknown disposition ${JSON.stringify(never)}`);
      }
    }
  };

  const done = (async () => {
    for await (const m of messages) {
      if (stopping) {
        m.nak(0); // hand back what was pulled after stop: another process takes it now
        continue;
      }
      const p = settle(m).finally(() => {
        inFlight.delete(p);
        wake?.();
      });
      inFlight.add(p);
      while (inFlight.size >= concurrency) {
        await new Promise<void>((resolve) => (wake = resolve));
        wake = null;
      }
    }
    await Promise.allSettled([...inFlight]);
  })();

  return {
    get inFlight() {
      return inFlight.size;
    },
    done,
    async stop() {
      stopping = true;
      await Promise.allSettled([...inFlight]);
      await messages.close().catch(() => undefined);
      await done.catch(() => undefined);
    },
  };
}
