import { hostname } from 'node:os';
import type { JsMsg } from '@nats-io/jetstream';
import type { MsgHdrs } from '@nats-io/transport-node';
import { DEAD_LETTER_MAX_PAYLOAD, DeadLetterRecord, parseEventSubject, type DeadLetterReason } from '@conclave/contracts';
import type { EventLog } from './event-log';

/**
 * What a handler decided about one message (STYLE.md §5): ack only after the effect is committed;
 * a transient failure naks with a delay; poison is terminated: copied to the dead-letter stream
 * with its reason, then acked.
 */
export type Disposition =
  | { kind: 'ack' }
  | { kind: 'ackAfter'; settled: Promise<unknown> }
  | { kind: 'nak'; delayMs: number }
  | { kind: 'term'; reason: string; category: Exclude<DeadLetterReason, 'max_deliver'> };
export const ack = (): Disposition => ({ kind: 'ack' });
/**
 * Ack once `settled` resolves (nak with backoff if it rejects), without holding a handler slot
 * meanwhile: for an effect that completes later in this process (the outbox's held phase deadlines).
 * Until then the message stays unacked, so a crash brings it back to another process.
 */
export const ackAfter = (settled: Promise<unknown>): Disposition => ({ kind: 'ackAfter', settled });
export const nak = (delayMs: number): Disposition => ({ kind: 'nak', delayMs });
/** poison: `undecodable` (not JSON / not the contract) or `rejected` (decoded, refused for good) */
export const term = (reason: string, category: Exclude<DeadLetterReason, 'max_deliver'> = 'rejected'): Disposition => ({ kind: 'term', reason, category });

export interface ConsumeOptions {
  stream: string;
  durable: string;
  /** messages handled at once in this process (bounded in-flight) */
  concurrency?: number;
  /** in-progress ack interval while a handler runs (the lease heartbeat) */
  workingIntervalMs?: number;
  /** called after a message was dead-lettered (poison, or its deliveries used up) */
  onDeadLetter?: (m: JsMsg, reason: string) => void | Promise<void>;
  /** who dead-letters (the record's `by`): INSTANCE_ID, else host:pid */
  instanceId?: string;
  /** called when a handler throws (it is nak'ed with backoff) */
  onError?: (m: JsMsg, err: unknown) => void;
  /**
   * Ack without waiting for the server's confirmation (no reply round trip), for consumers whose
   * handling is idempotent and cheap to repeat: a lost ack only means one more delivery (ADR 014).
   */
  ackWithoutReply?: boolean;
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
  const configured = (await consumer.info(true)).config.max_deliver ?? -1;
  const maxDeliver = configured > 0 ? configured : Infinity;
  const by = options.instanceId ?? process.env.INSTANCE_ID ?? `${hostname()}:${process.pid}`;
  /** the last local failure per stream sequence, so the dead-letter record can say what went wrong */
  const lastErrors = new Map<number, string>();

  /** copy to DEAD_LETTERS, then ack; when the copy fails the message stays (nak) and comes back */
  const deadLetter = async (m: JsMsg, reason: DeadLetterReason, error: string) => {
    try {
      await publishDeadLetter(log, options.durable, by, deadMessageOf(m), reason, error);
    } catch (err) {
      options.onError?.(m, err);
      m.nak(retryDelayMs(m.info.deliveryCount));
      return;
    }
    lastErrors.delete(m.seq);
    await m.ackAck().catch(() => m.ack());
    await options.onDeadLetter?.(m, `${reason}: ${error}`);
  };
  const acknowledge = async (m: JsMsg) => {
    lastErrors.delete(m.seq);
    if (options.ackWithoutReply) m.ack();
    else await m.ackAck().catch(() => m.ack());
  };
  /** an ackAfter: the lease is kept alive until the effect settles; the handler's slot is free already */
  const later = (m: JsMsg, settled: Promise<unknown>) => {
    const heartbeat = setInterval(() => m.working(), options.workingIntervalMs ?? 5_000);
    settled
      .then(
        () => acknowledge(m),
        (err: unknown) => {
          options.onError?.(m, err);
          rememberError(lastErrors, m.seq, errorText(err));
          m.nak(retryDelayMs(m.info.deliveryCount));
        },
      )
      .catch((err: unknown) => options.onError?.(m, err))
      .finally(() => clearInterval(heartbeat));
  };
  const messages = await consumer.consume({ max_messages: Math.max(concurrency, 1) });
  const inFlight = new Set<Promise<void>>();
  let stopping = false;
  let wake: (() => void) | null = null;

  const settle = async (m: JsMsg) => {
    const deliveries = m.info.deliveryCount;
    if (deliveries >= maxDeliver) {
      // the last delivery is not handled: every earlier one failed or killed its process
      const last = lastErrors.get(m.seq);
      return deadLetter(m, 'max_deliver', `delivered ${deliveries} times without being acknowledged${last ? `; last error: ${last}` : ' (handlers failed or their processes died)'}`);
    }
    const heartbeat = setInterval(() => m.working(), options.workingIntervalMs ?? 5_000);
    let disposition: Disposition;
    try {
      disposition = await handler(m);
    } catch (err) {
      options.onError?.(m, err);
      rememberError(lastErrors, m.seq, errorText(err));
      disposition = nak(retryDelayMs(deliveries));
    } finally {
      clearInterval(heartbeat);
    }
    switch (disposition.kind) {
      case 'ack':
        await acknowledge(m);
        break;
      case 'ackAfter':
        later(m, disposition.settled);
        break;
      case 'nak':
        if (deliveries + 1 >= maxDeliver) {
          // the next delivery would only be dead-lettered: do it now, with what is known
          const last = lastErrors.get(m.seq);
          await deadLetter(m, 'max_deliver', `gave up after ${deliveries} deliveries${last ? `; last error: ${last}` : ''}`);
        } else {
          m.nak(disposition.delayMs);
        }
        break;
      case 'term':
        await deadLetter(m, disposition.category, disposition.reason);
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
      // a settle that throws (an ack or a hook failing) must not become an unhandled rejection: the
      // message is simply redelivered after its lease
      const p = settle(m)
        .catch((err: unknown) => options.onError?.(m, err))
        .finally(() => {
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

const MAX_REMEMBERED_ERRORS = 1000;
function rememberError(errors: Map<number, string>, seq: number, text: string): void {
  if (errors.size >= MAX_REMEMBERED_ERRORS) errors.delete(errors.keys().next().value!);
  errors.set(seq, text);
}

function errorText(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).slice(0, 1000);
}

/**
 * Publish the dead-letter record of `m` on `dead.<durable>`. Its Nats-Msg-Id names the origin, so
 * a record written twice (a crash between the copy and the ack) is stored once.
 */
export async function publishDeadLetter(log: EventLog, durable: string, by: string, m: DeadMessage, reason: DeadLetterReason, error: string): Promise<void> {
  const bytes = m.data;
  const truncated = bytes.length > DEAD_LETTER_MAX_PAYLOAD;
  const headers: Record<string, string[]> = {};
  for (const [key, values] of m.headers ?? []) headers[key] = values;
  const record = DeadLetterRecord.parse({
    kind: 'dead',
    consumer: durable,
    stream: m.stream,
    subject: m.subject,
    streamSequence: m.seq,
    deliveries: m.deliveries,
    reason,
    error: error.slice(0, 2000),
    deadAt: new Date().toISOString(),
    runId: runIdOf(log, m),
    by,
    headers,
    payload: Buffer.from(truncated ? bytes.subarray(0, DEAD_LETTER_MAX_PAYLOAD) : bytes).toString('base64'),
    truncated,
  });
  await log.publish(log.names.subjects.deadLetter(durable), record, `dead:${m.stream}:${m.seq}:${durable}`);
}

/** What a dead-letter record keeps of the message it is about: a pulled one, or one read from the log (a sweep's, ADR 025). */
export interface DeadMessage {
  stream: string;
  subject: string;
  seq: number;
  /** deliveries (or attempts) before it was given up */
  deliveries: number;
  data: Uint8Array;
  headers?: MsgHdrs;
}

const deadMessageOf = (m: JsMsg): DeadMessage => ({ stream: m.info.stream, subject: m.subject, seq: m.seq, deliveries: m.info.deliveryCount, data: m.data, headers: m.headers });

/** The run a message belongs to, when its subject or its JSON says so. */
function runIdOf(log: EventLog, m: DeadMessage): string | null {
  const event = parseEventSubject(m.subject, log.names.prefix);
  if (event) return event.aggregate === 'run' ? event.id : null;
  const resultsPrefix = log.names.subjects.result('');
  if (m.subject.startsWith(resultsPrefix) && m.subject.length > resultsPrefix.length) return m.subject.slice(resultsPrefix.length);
  try {
    const body: unknown = JSON.parse(Buffer.from(m.data).toString('utf8'));
    const runId = body && typeof body === 'object' ? (body as { runId?: unknown }).runId : undefined;
    return typeof runId === 'string' && runId.length > 0 && runId.length <= 200 ? runId : null;
  } catch {
    return null;
  }
}
