import type { TranscriptMessage } from '@conclave/contracts';

/** At most this many messages are kept (the first ones and the last ones). */
const MAX_MESSAGES = 400;
/**
 * Total characters a transcript may carry. Beyond INLINE_TRANSCRIPT_MAX_BYTES of JSON it is stored
 * in the transcripts object store (not in the result message), so this only bounds what one
 * conversation may cost to keep and to show.
 */
const MAX_TOTAL_CHARS = 2_000_000;

/** Collects a candidate's conversation, each message cut to `cap` characters. */
export class TranscriptBuilder {
  private readonly messages: TranscriptMessage[] = [];

  constructor(
    private readonly cap: number,
    private readonly totalCap: number = MAX_TOTAL_CHARS,
  ) {}

  add(role: TranscriptMessage['role'], content: string, tool?: string): void {
    if (role !== 'user' && role !== 'system' && content.length === 0) return;
    const truncated = content.length > this.cap;
    this.messages.push({
      role,
      content: truncated ? `${content.slice(0, this.cap)}… (${content.length - this.cap} more characters)` : content,
      ...(tool ? { tool } : {}),
      ...(truncated ? { truncated: true } : {}),
    });
  }

  /**
   * The transcript within both bounds: when it is too long, messages are dropped from the middle
   * (the prompts at the start and the final answer at the end stay) and one marker says how many.
   */
  build(): TranscriptMessage[] {
    const size = (m: TranscriptMessage) => m.content.length + 32;
    const total = this.messages.reduce((n, m) => n + size(m), 0);
    if (this.messages.length <= MAX_MESSAGES && total <= this.totalCap) return [...this.messages];
    const head: TranscriptMessage[] = [];
    const tail: TranscriptMessage[] = [];
    let budget = this.totalCap - 100;
    let i = 0;
    let j = this.messages.length - 1;
    // alternate: one from the start, one from the end, while both bounds allow
    while (i <= j && head.length + tail.length < MAX_MESSAGES - 1) {
      const takeHead = head.length <= tail.length;
      const m = takeHead ? this.messages[i] : this.messages[j];
      if (size(m) > budget) break;
      budget -= size(m);
      if (takeHead) {
        head.push(m);
        i += 1;
      } else {
        tail.unshift(m);
        j -= 1;
      }
    }
    const dropped = this.messages.length - head.length - tail.length;
    return dropped > 0 ? [...head, { role: 'system', content: `(${dropped} messages omitted)`, truncated: true }, ...tail] : [...head, ...tail];
  }
}
