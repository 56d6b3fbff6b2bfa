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
