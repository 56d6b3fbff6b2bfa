/** A lost optimistic-concurrency race: a value the caller handles (reload, re-decide, retry). */
export class ConcurrencyError extends Error {
  constructor(
    readonly subject: string,
    readonly expectedSequence: number,
  ) {
    super(`concurrent append on ${subject}: expected last sequence ${expectedSequence}`);
    this.name = 'ConcurrencyError';
  }
}

/**
 * A read of the log that did not get the events the server reported (fetches kept bringing
 * nothing): the server or the connection is not answering right now. Callers treat it as the log
 * being unavailable (a gateway answers 503), never as an empty log.
 */
export class LogUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LogUnavailableError';
  }
}

/**
 * nats.js errors (matched by name: the classes live in @nats-io/nats-core and @nats-io/jetstream,
 * and may come from another copy of them) of a server that is disconnected, reconnecting or did
 * not answer in time — requests made while the client reconnects are buffered and time out — plus
 * LogUnavailableError.
 */
const NATS_UNREACHABLE = new Set(['TimeoutError', 'NoResponders', 'ClosedConnectionError', 'DrainingConnectionError', 'ConnectionError', 'JetStreamNotEnabled', 'LogUnavailableError']);
/** JetStream API / status replies that mean "not now": 503 (no responders, system unavailable), 408 (request timeout). */
const JETSTREAM_NOT_NOW = new Set(['JetStreamApiError', 'JetStreamStatusError']);

/**
 * Why `err` (or one of its causes) says NATS cannot be reached right now — a transient condition
 * to answer with `unavailable` (retry later), not an internal error — or null.
 */
export function natsUnavailable(err: unknown): string | null {
  for (let e: unknown = err, depth = 0; e && typeof e === 'object' && depth < 4; depth += 1) {
    const { code, message, name, status } = e as { code?: unknown; message?: unknown; name?: unknown; status?: unknown };
    if (typeof name === 'string' && NATS_UNREACHABLE.has(name)) return `${name}: ${String(message)}`;
    if (typeof name === 'string' && JETSTREAM_NOT_NOW.has(name) && (status === 503 || status === 408 || code === 503 || code === 408)) return `${name}: ${String(message)}`;
    e = (e as { cause?: unknown }).cause;
  }
  return null;
}
