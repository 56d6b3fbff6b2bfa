import { JetStreamApiError, type StoredMsg } from '@nats-io/jetstream';
import { isNotFound, WRONG_LAST_SEQUENCE, type EventLog } from './event-log';

const encoder = new TextEncoder();

/**
 * An orchestrator process's outbox lease (ADR 025), the last message of `outbox.<key>`: every run
 * commit that process appended below stream sequence `watermark` has had its commands and due times
 * published. A lease nobody renews is swept by a live orchestrator from its watermark on.
 */
export interface OutboxLease {
  key: string;
  watermark: number;
  /** renewals so far (0: written by set-up for the retired dispatcher durable) */
  beat: number;
  /** set when a live process took the lease over to sweep it */
  sweptBy?: string;
}

/** A lease as the OUTBOX stream holds it: the lease and its message's stream sequence (for a compare-and-set). */
export interface StoredLease {
  lease: OutboxLease;
  seq: number;
}

/**
 * The OUTBOX stream (ADR 025): one subject per orchestrator process, keeping only its last message
 * (`max_msgs_per_subject: 1`). Every write is a compare-and-set on the subject's last sequence, so a
 * process that was taken for dead and swept learns it at its next renewal, and of two live processes
 * only one takes a dead one's lease over.
 */
export class OutboxLeases {
  constructor(private readonly log: EventLog) {}

  /**
   * Writes `lease` on its key if the key's last message is still the one at `expected` (0: the key
   * holds nothing). Returns the new message's stream sequence, or null when another writer was first.
   */
  async write(lease: OutboxLease, expected: number): Promise<number | null> {
    try {
      const ack = await this.log.js.publish(this.log.names.subjects.outbox(lease.key), encoder.encode(JSON.stringify(lease)), { expect: { lastSubjectSequence: expected } });
      return ack.seq;
    } catch (err) {
      if (err instanceof JetStreamApiError && err.code === WRONG_LAST_SEQUENCE) return null;
      throw err;
    }
  }

  /** Every key's lease (a message that is not a lease is skipped). */
  async list(): Promise<StoredLease[]> {
    const { streams, subjects } = this.log.names;
    const info = await this.log.jsm.streams.info(streams.outbox, { subjects_filter: subjects.allOutbox });
    const keys = Object.keys(info.state.subjects ?? {});
    const found = await Promise.all(keys.map((subject) => this.last(subject)));
    return found.filter((x): x is StoredLease => x !== null);
  }

  /** Removes a key's lease (its process closed with nothing outstanding, or its sweep is done). */
  async remove(key: string): Promise<void> {
    await this.log.jsm.streams.purge(this.log.names.streams.outbox, { filter: this.log.names.subjects.outbox(key) });
  }

  private async last(subject: string): Promise<StoredLease | null> {
    let stored: StoredMsg | null;
    try {
      stored = await this.log.jsm.direct.getMessage(this.log.names.streams.outbox, { last_by_subj: subject });
    } catch (err) {
      if (isNotFound(err)) return null; // purged meanwhile
      throw err;
    }
    if (!stored) return null;
    try {
      const lease = stored.json<OutboxLease>();
      return typeof lease?.key === 'string' && Number.isSafeInteger(lease.watermark) ? { lease, seq: stored.seq } : null;
    } catch {
      return null;
    }
  }
}
