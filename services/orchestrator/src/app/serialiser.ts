/**
 * Work run one at a time per key, in the order it was queued: each piece starts once the work
 * queued before it for the same key has settled, whatever came of that (a failure is its caller's
 * to see, not the next piece's). In this process only; across replicas the expected sequence of
 * an append decides. A key with nothing queued holds no entry.
 */
export class KeyedSerialiser {
  private readonly tails = new Map<string, Promise<void>>();

  run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const next = previous.then(() => work());
    const tail = next.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return next;
  }
}
