import { createHash } from 'node:crypto';
import { Objm, type ObjectStore } from '@nats-io/obj';
import { StorageType } from '@nats-io/jetstream';
import { INLINE_TRANSCRIPT_MAX_BYTES, TranscriptMessage, TranscriptRef } from '@conclave/contracts';
import { z } from 'zod';
import type { EventLog } from './event-log';
import { streamReplicas } from './nats-server-config';

const Stored = z.array(TranscriptMessage);
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The JetStream stream behind an object store bucket (nats.js names it so). */
export function objectStoreStream(bucket: string): string {
  return `OBJ_${bucket}`;
}

/** Thrown by `get` when the stored bytes no longer hash to their key. */
export class TranscriptCorruptError extends Error {
  constructor(readonly key: string) {
    super(`transcript ${key} does not match its hash`);
    this.name = 'TranscriptCorruptError';
  }
}

/**
 * Candidates' conversations: small ones inline in their reference (`stage`), large ones kept out
 * of the log in a JetStream object store. Content-addressed: the key is the SHA-256 of the
 * transcript's JSON, so a worker that stores the same transcript twice (a redelivered command)
 * writes it once, and a reader can check what it got. Like the log, the bucket has file storage
 * and no age limit.
 */
export class TranscriptStore {
  private bucket: Promise<ObjectStore> | undefined;

  constructor(private readonly log: EventLog) {}

  /** A store whose bucket is opened (and created when missing) now rather than on first use. */
  static async open(log: EventLog): Promise<TranscriptStore> {
    const store = new TranscriptStore(log);
    await store.opened();
    return store;
  }

  private opened(): Promise<ObjectStore> {
    this.bucket ??= new Objm(this.log.js).create(this.log.names.buckets.transcripts, { storage: StorageType.File, replicas: streamReplicas() }).catch((err: unknown) => {
      this.bucket = undefined; // try again on the next call
      throw err;
    });
    return this.bucket;
  }

  /** Stores the messages (if not already there) and returns their reference (never inline). */
  async put(messages: readonly TranscriptMessage[]): Promise<TranscriptRef> {
    const { ref, bytes } = refOf(messages);
    await this.write(ref.key, bytes);
    return ref;
  }

  /**
   * The reference of `messages` at once, computed locally, so a result can carry it before the
   * transcript is durable. A small transcript (≤ `inlineMaxBytes` of JSON) travels inline in the
   * reference and `stored` resolves at once; a larger one is written to the object store in the
   * background — `stored` settles when it is durable (a few tries) or rejects when it could not be
   * written. The caller must not report its work done before `stored` settled (issue 12 §4: the
   * write runs beside the result's publication, not before it).
   */
  stage(messages: readonly TranscriptMessage[], inlineMaxBytes = INLINE_TRANSCRIPT_MAX_BYTES): { ref: TranscriptRef; stored: Promise<void> } {
    const { ref, bytes } = refOf(messages);
    if (bytes.byteLength <= inlineMaxBytes) return { ref: { ...ref, inline: [...messages] }, stored: Promise.resolve() };
    return { ref, stored: this.writeWithRetries(ref.key, bytes) };
  }

  /** The messages a reference points to: its inline copy, else what the store keeps under its key (null: nothing there). */
  async read(ref: TranscriptRef): Promise<TranscriptMessage[] | null> {
    if (ref.inline) return ref.inline;
    return this.get(ref.key);
  }

  private async write(key: string, bytes: Uint8Array): Promise<void> {
    const store = await this.opened();
    if ((await store.info(key)) === null) await store.putBlob({ name: key }, bytes);
  }

  private async writeWithRetries(key: string, bytes: Uint8Array, tries = 3): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.write(key, bytes);
      } catch (err) {
        if (attempt >= tries) throw err;
        await new Promise((resolve) => setTimeout(resolve, 200 * 2 ** (attempt - 1)));
      }
    }
  }

  /** The messages stored under `key`, or null when nothing is stored there (an inline reference: use `read`). */
  async get(key: string): Promise<TranscriptMessage[] | null> {
    const bytes = await (await this.opened()).getBlob(key);
    if (bytes === null) return null;
    if (`sha256-${createHash('sha256').update(bytes).digest('hex')}` !== key) throw new TranscriptCorruptError(key);
    return Stored.parse(JSON.parse(decoder.decode(bytes)));
  }
}

/** The content-addressed reference of a transcript and the bytes it hashes (its JSON). */
function refOf(messages: readonly TranscriptMessage[]): { ref: TranscriptRef; bytes: Uint8Array } {
  const bytes = encoder.encode(JSON.stringify(messages));
  const key = `sha256-${createHash('sha256').update(bytes).digest('hex')}`;
  return { ref: { key, bytes: bytes.byteLength, messages: messages.length }, bytes };
}
