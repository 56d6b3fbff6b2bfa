export interface BatchOptions<T> {
  /** largest batch */
  max: number;
  /** how long a started batch waits for more items before it is handed over */
  lingerMs: number;
  /**
   * Hand the batch over right after this item (e.g. "nothing more is pending in the stream"),
   * so a quiet log is projected without waiting `lingerMs`.
   */
  flushAfter?: (item: T) => boolean;
}

const TIMEOUT = Symbol('timeout');

/**
 * Group an async sequence into batches: a batch starts with the next item and closes when it
 * holds `max` items, when `flushAfter` says so, or `lingerMs` after it started — whichever comes
 * first. Under load batches fill up (one transaction per batch); when idle each item is handed
 * over at once. Items keep their order and none is dropped: a batch is yielded before the
 * sequence's end is reported. A pending read that outlives a timeout carries over to the next batch.
 */
export async function* batches<T>(source: AsyncIterable<T>, options: BatchOptions<T>): AsyncGenerator<T[], void, undefined> {
  const max = Math.max(1, options.max);
  const it = source[Symbol.asyncIterator]();
  let pending: Promise<IteratorResult<T>> | null = null;
  const next = () => (pending ??= it.next());

  for (;;) {
    const first = await next();
    pending = null;
    if (first.done) return;
    const batch = [first.value];
    let ended = false;
    const deadline = Date.now() + options.lingerMs;
    while (batch.length < max && !options.flushAfter?.(batch[batch.length - 1]!)) {
      const left = deadline - Date.now();
      if (left <= 0) break;
      let timer: NodeJS.Timeout | undefined;
      const result = await Promise.race([next(), new Promise<typeof TIMEOUT>((resolve) => (timer = setTimeout(() => resolve(TIMEOUT), left)))]);
      clearTimeout(timer);
      if (result === TIMEOUT) break;
      pending = null;
      if (result.done) {
        ended = true;
        break;
      }
      batch.push(result.value);
    }
    yield batch;
    if (ended) return;
  }
}
