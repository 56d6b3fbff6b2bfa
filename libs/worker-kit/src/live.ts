/**
 * Coalesces a stream of text deltas into at most one emission per `intervalMs`. The first delta
 * after a quiet period goes out at the end of the event-loop turn it came in, with whatever else
 * came in that turn (a provider's burst: several stream events read from one network chunk, or a
 * simulated answer, is one message, not one per delta); later ones are buffered until the interval
 * has passed.
 * `close()` emits what is still buffered at once (even within the interval, so the remainder goes
 * out before the result), and the concatenation of everything emitted equals the concatenation of
 * everything pushed. Emissions are fire-and-forget (core NATS): best effort,
 * never a substitute for the result.
 */
export class DeltaCoalescer {
  private buffer = '';
  private lastEmit = Number.NEGATIVE_INFINITY;
  private timer: NodeJS.Timeout | null = null;
  private immediate: NodeJS.Immediate | null = null;
  private closed = false;

  constructor(
    private readonly emit: (delta: string) => void,
    private readonly intervalMs = 150,
    private readonly now: () => number = Date.now,
  ) {}

  push(delta: string): void {
    if (this.closed || delta.length === 0) return;
    this.buffer += delta;
    if (this.timer || this.immediate) return; // an emission is already on its way
    const wait = this.lastEmit + this.intervalMs - this.now();
    if (wait <= 0) this.immediate = setImmediate(() => this.flush());
    else this.timer = setTimeout(() => this.flush(), wait);
  }

  /** Emit the remainder and ignore later deltas. */
  close(): void {
    this.flush();
    this.closed = true;
  }

  /** Emit what is buffered now (e.g. before a tool call, so the live order matches the conversation). */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.timer = null;
    this.immediate = null;
    if (this.buffer.length === 0) return;
    const delta = this.buffer;
    this.buffer = '';
    this.lastEmit = this.now();
    this.emit(delta);
  }
}
