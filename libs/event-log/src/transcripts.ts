import { createHash } from 'node:crypto';
import { Objm, type ObjectStore } from '@nats-io/obj';
import { StorageType } from '@nats-io/jetstream';
import { TranscriptMessage, TranscriptRef } from '@conclave/contracts';
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
 * Candidates' conversations, kept out of the log (they are large) in a JetStream object store.
 * Content-addressed: the key is the SHA-256 of the stored JSON, so a worker that stores the same
 * transcript twice (a redelivered command) writes it once, and a reader can check what it got.
 * Like the log, the bucket has file storage and no age limit.
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

  /** Stores the messages (if not already there) and returns their reference. */
  async put(messages: readonly TranscriptMessage[]): Promise<TranscriptRef> {
    const bytes = encoder.encode(JSON.stringify(messages));
    const key = `sha256-${createHash('sha256').update(bytes).digest('hex')}`;
    const store = await this.opened();
    if ((await store.info(key)) === null) await store.putBlob({ name: key }, bytes);
    return { key, bytes: bytes.byteLength, messages: messages.length };
  }

  /** The messages under `key`, or null when nothing is stored there. */
  async get(key: string): Promise<TranscriptMessage[] | null> {
    const bytes = await (await this.opened()).getBlob(key);
    if (bytes === null) return null;
    if (`sha256-${createHash('sha256').update(bytes).digest('hex')}` !== key) throw new TranscriptCorruptError(key);
    return Stored.parse(JSON.parse(decoder.decode(bytes)));
  }
}
