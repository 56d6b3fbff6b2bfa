export interface BatchOptions<T> {
  /** largest batch */
  max: number;
  /** how long a started batch waits for more items before it is handed over */
  lingerMs: number;
  /**
   * Hand the batch over after this item (e.g. "nothing more was pending in the stream when it was
   * delivered") unless more items are already waiting, so a quiet log is projected without
   * waiting `lingerMs`. Items that arrived meanwhile still join the batch: a consumer's buffered
   * messages all said "nothing pending" when they were delivered, one by one, while the previous
   * batch committed; handing them over one per batch would fall behind a busy log.
   */
  flushAfter?: (item: T) => boolean;
  /**
   * After such an item, wait up to this long (within `lingerMs` of the batch's start) for more
   * before handing the batch over: a trickle of commits — one run at a time, each decision a few
   * milliseconds after the last — then shares a transaction instead of one each (issue 12).
   * 0: only what is already waiting.
   */
  trickleMs?: number;
}

const TIMEOUT = Symbol('timeout');

/**
 * Group an async sequence into batches: a batch starts with the next item and closes when it
 * holds `max` items, when `flushAfter` says so and nothing more is waiting, or `lingerMs` after it
 * started — whichever comes first. Under load batches fill up (one transaction per batch); when idle each item is handed
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
    while (batch.length < max) {
      // after a flush item, only what is already waiting (it settles before the next macrotask)
      const flush = options.flushAfter?.(batch[batch.length - 1]!) ?? false;
      const remaining = deadline - Date.now();
      const left = flush ? Math.min(options.trickleMs ?? 0, remaining) : remaining;
      if (left <= 0 && !flush) break;
      let timer: NodeJS.Timeout | NodeJS.Immediate | undefined;
      const immediate = left <= 0;
      const timeout = new Promise<typeof TIMEOUT>((resolve) => (timer = immediate ? setImmediate(() => resolve(TIMEOUT)) : setTimeout(() => resolve(TIMEOUT), left)));
      const result = await Promise.race([next(), timeout]);
      if (immediate) clearImmediate(timer as NodeJS.Immediate);
      else clearTimeout(timer as NodeJS.Timeout);
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
