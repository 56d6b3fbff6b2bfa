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
  /**
   * Group commit: a batch is not handed over before this settles (the consumer's previous batch
   * is still being applied); items keep joining it meanwhile, up to `max`. Asked once a batch has
   * its first item. Handing a batch over earlier would only make it wait, and the items that come
   * in the meantime would make a batch of their own.
   */
  notBefore?: () => Promise<unknown> | undefined;
  /**
   * Nor before this long after the previous batch was handed over (0: no minimum): under a steady
   * stream, at most one batch per interval, each carrying what came in it; a quiet log's first item
   * still goes at once.
   */
  minIntervalMs?: number;
}

const TIMEOUT = Symbol('timeout');

/**
 * Group an async sequence into batches: a batch starts with the next item and closes when it
 * holds `max` items, when `flushAfter` says so and nothing more is waiting, or `lingerMs` after it
 * started — whichever comes first, but not before its gate opens (`notBefore` settled and
 * `minIntervalMs` since the previous batch), everything that comes meanwhile joining it. Under
 * load batches fill up (one transaction per batch); when idle each item is handed over at once. Items keep their order and none is dropped: a batch is yielded before the
 * sequence's end is reported. A pending read that outlives a timeout carries over to the next batch.
 */
export async function* batches<T>(source: AsyncIterable<T>, options: BatchOptions<T>): AsyncGenerator<T[], void, undefined> {
  const max = Math.max(1, options.max);
  const it = source[Symbol.asyncIterator]();
  let pending: Promise<IteratorResult<T>> | null = null;
  const next = () => (pending ??= it.next());

  let handedOver = 0;
  for (;;) {
    const first = await next();
    pending = null;
    if (first.done) return;
    const batch = [first.value];
    let ended = false;
    /** an item joins the batch, or the sequence's end is noted; false: stop gathering */
    const take = (result: IteratorResult<T>): boolean => {
      pending = null;
      if (result.done) ended = true;
      else batch.push(result.value);
      return !ended;
    };
    const deadline = Date.now() + options.lingerMs;
    const gate = gateOf(options.notBefore?.(), handedOver + (options.minIntervalMs ?? 0) - Date.now());
    if (gate) {
      // until the gate opens, everything that comes joins this batch
      try {
        while (batch.length < max) {
          const result = await Promise.race([next(), gate.opened]);
          if (result === OPEN || !take(result)) break;
        }
      } finally {
        gate.close();
      }
    }
    while (batch.length < max && !ended) {
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
      if (result === TIMEOUT || !take(result)) break;
    }
    handedOver = Date.now();
    yield batch;
    if (ended) return;
  }
}

const OPEN = Symbol('open');

/** The gate a batch waits at: `after` settled and `waitMs` passed (null: nothing to wait for). */
function gateOf(after: Promise<unknown> | undefined, waitMs: number): { opened: Promise<typeof OPEN>; close(): void } | null {
  if (!after && waitMs <= 0) return null;
  let timer: NodeJS.Timeout | undefined;
  const elapsed = waitMs > 0 ? new Promise<void>((resolve) => (timer = setTimeout(resolve, waitMs))) : undefined;
  // a rejection of `after` is its owner's to report: here it only opens the gate
  const settled = after?.then(
    () => undefined,
    () => undefined,
  );
  return { opened: Promise.all([settled, elapsed]).then(() => OPEN), close: () => clearTimeout(timer) };
}
