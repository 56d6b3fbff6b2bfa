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
