import { DeliverPolicy, type ConsumerMessages, type JsMsg } from '@nats-io/jetstream';
import { messageSequenceOf, type Recorded } from '@conclave/contracts';
import { describeUndecodable, EventLog } from '@conclave/event-log';
import {
  advanceCheckpoint,
  commitFolded,
  foldAhead,
  MAIN_CHECKPOINT,
  parkStream,
  PoisonEventError,
  PROJECTION_READER_SETTINGS,
  PROJECTION_TRANSACTION_SETTINGS,
  projectBatch,
  recordAlert,
  ReadModelQueries,
  type DataSource,
  type EntityManager,
  type FoldedBatch,
  type QueryRunner,
} from '@conclave/read-models';
import { recordBatchSpan } from '@conclave/service-kit';
import { batches } from './batches';

/** The subset of a pino logger the projector writes to. */
export interface ProjectorLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface ProjectorOptions {
  log: EventLog;
  /** the read models; the projector holds two of its connections (a batch's transaction, and the reader folding the next batch ahead) */
  dataSource: DataSource;
  logger: ProjectorLogger;
  /** most events folded in one transaction (default 2000) */
  batchSize?: number;
  /** how long a batch waits for more events while the stream still has some pending (default 10 ms) */
  lingerMs?: number;
  /** after a commit with nothing more pending, how long to wait for the next one (batches.ts trickleMs; default 3) */
  trickleMs?: number;
  /** the least time between two batches' starts under a steady stream (batches.ts minIntervalMs; default 40) */
  minIntervalMs?: number;
  /** which checkpoint row this projection owns (default 'main') */
  checkpointName?: string;
  /** restart delays after a transient failure: initial, doubling up to max, ±20 % jitter */
  backoff?: { initialMs: number; maxMs: number };
  /**
   * Runs inside each batch's transaction after the fold, before the commit. Throwing rolls the
   * batch back like any transient failure (tests use it to simulate a crash mid-batch).
   */
  beforeCommit?: (events: readonly Recorded[], manager: EntityManager) => Promise<void> | void;
  /**
   * Told of each batch once it is committed (the alert detectors, ADR 016). Called synchronously
   * and not awaited: it must not throw, and its work must not hold the projection up.
   */
  afterCommit?: (events: readonly Recorded[]) => void;
}

export type ProjectorState = 'idle' | 'starting' | 'running' | 'retrying' | 'halted' | 'stopped';

export interface HaltInfo {
  reason: string;
  /** stream sequence of the event that could not be applied */
  sequence: number;
  type: string | null;
  at: string;
}

export interface ProjectorStatus {
  state: ProjectorState;
  /** position of the last event committed by this process (read from Postgres at each (re)start) */
  checkpoint: number;
  /** the position of the log's last event; null when NATS did not answer */
  lastLogSequence: number | null;
  /** log messages (commits, ADR 014) not yet applied */
  lag: number | null;
  halted: HaltInfo | null;
  /** the last transient failure, cleared by the next committed batch */
  lastError: string | null;
}

const DEFAULT_BACKOFF = { initialMs: 250, maxMs: 30_000 };
/**
 * Events per transaction. Each batch pays a fixed cost (a dozen loads by key, one statement per
 * table, a commit); 2000 amortises it four times better than 500 while a batch still commits in
 * well under a second on two cores. An idle log is still projected event by event (flushAfter).
 */
export const DEFAULT_BATCH = 2000;
/** a trickle of commits (one run at a time) shares a transaction when they come within this many ms */
export const DEFAULT_TRICKLE_MS = 3;
/**
 * Under a steady stream, a batch starts at most this often: each transaction costs Postgres about
 * 1.4 ms of CPU and Node about 1 ms whatever its size, and one run at a time appends a commit every
 * few milliseconds. 40 ms cut CPU per run by a fifth at one run in flight (README, issue 12); a
 * quiet log's first event still goes at once.
 */
export const DEFAULT_MIN_INTERVAL_MS = 40;

/**
 * Follows the events stream with an ordered consumer from the Postgres checkpoint and folds it
 * into the read models, one transaction per batch (projectBatch). Framework-free: the Nest module
 * only starts and stops it.
 *
 * - Exactly-once effect: the checkpoint moves in the same transaction as the rows, and events at
 *   or below it are skipped, so a crash, a redelivery or a second replica never applies an event twice.
 * - Transient failure (Postgres or NATS unavailable, a failed commit): the batch rolls back, the
 *   consumer is dropped, and after a backoff the projector restarts from the checkpoint in Postgres.
 * - Poison (an event that does not decode or cannot be folded) is contained (issue 11 §4): its
 *   stream — that run or template — is parked (`parked_streams`, a `projection_parked` alert, the
 *   run view says so) and its later events are skipped, while every other stream goes on being
 *   folded. A poison event whose stream cannot be told halts the projection before it, as before
 *   (`projection_halted`, health degraded). Replay never skips: it halts on the same event.
 */
export class Projector {
  private readonly batchSize: number;
  private readonly lingerMs: number;
  private readonly trickleMs: number;
  private readonly minIntervalMs: number;
  private readonly checkpointName: string;
  private readonly backoff: { initialMs: number; maxMs: number };
  private readonly queries: ReadModelQueries;

  private state: ProjectorState = 'idle';
  private checkpoint = 0;
  private halted: HaltInfo | null = null;
  private lastError: string | null = null;
  private stopping = false;
  private loop: Promise<void> | null = null;
  private messages: ConsumerMessages | null = null;
  private wake: (() => void) | null = null;
  /** streams whose events the live projection skips (loaded from Postgres at each (re)start) */
  private parked = new Set<string>();

  constructor(private readonly options: ProjectorOptions) {
    this.batchSize = Math.max(1, options.batchSize ?? DEFAULT_BATCH);
    this.lingerMs = options.lingerMs ?? 10;
    this.trickleMs = options.trickleMs ?? DEFAULT_TRICKLE_MS;
    this.minIntervalMs = options.minIntervalMs ?? DEFAULT_MIN_INTERVAL_MS;
    this.checkpointName = options.checkpointName ?? MAIN_CHECKPOINT;
    this.backoff = options.backoff ?? DEFAULT_BACKOFF;
    this.queries = new ReadModelQueries(options.dataSource);
  }

  /**
   * Start following the log in the background (idempotent). Progress shows in getStatus(). A
   * halted projector may be started again: it resumes at the event it halted on.
   */
  start(): void {
    if (this.loop) return;
    this.stopping = false;
    this.halted = null;
    this.state = 'starting';
    this.loop = this.run().finally(() => {
      this.loop = null;
      if (this.state !== 'halted') this.state = 'stopped';
    });
  }

  /**
   * Stop consuming and wait for the batch in flight to commit (or roll back). Events received
   * but not yet folded are simply read again from the checkpoint on the next start.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    closeMessages(this.messages);
    await this.loop;
  }

  /** the last sequence this process committed (or read from Postgres when it (re)started) */
  get committed(): number {
    return this.checkpoint;
  }

  /** false while halted or retrying after a failure */
  get healthy(): boolean {
    return this.state === 'starting' || this.state === 'running' || this.state === 'idle';
  }

  async getStatus(): Promise<ProjectorStatus> {
    const lastLogSequence = await this.options.log.lastSequence().catch(() => null);
    return {
      state: this.state,
      checkpoint: this.checkpoint,
      lastLogSequence,
      lag: lastLogSequence === null ? null : Math.max(0, messageSequenceOf(lastLogSequence) - messageSequenceOf(this.checkpoint)),
      halted: this.halted,
      lastError: this.lastError,
    };
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.stopping) {
      try {
        await this.follow(() => (failures = 0));
        if (this.stopping) return;
        throw new Error('the event stream ended');
      } catch (err) {
        if (err instanceof PoisonEventError) {
          if (err.streamId && (await this.park(err, err.streamId).then(() => true, (parkErr: unknown) => {
            this.options.logger.error({ err: parkErr }, 'could not park the poisoned stream');
            return false;
          }))) {
            continue; // follow on from the checkpoint, past the parked event
          }
          return this.halt(err);
        }
        if (this.stopping) return;
        failures += 1;
        const delayMs = this.delay(failures);
        this.state = 'retrying';
        this.lastError = err instanceof Error ? err.message : String(err);
        this.options.logger.warn({ err, failures, delayMs, checkpoint: this.checkpoint }, 'projection failed; restarting from the checkpoint after a backoff');
        await this.sleep(delayMs);
      }
    }
  }

  /** One consumer's life: from the committed checkpoint until stop, a failure or poison. */
  private async follow(onCommit: () => void): Promise<void> {
    const { log } = this.options;
    const checkpoint = await this.queries.appliedSequence(this.checkpointName);
    this.checkpoint = checkpoint;
    this.parked = new Set(await this.queries.parkedStreams());
    const last = await log.lastSequence();
    if (checkpoint > last) {
      this.options.logger.warn({ checkpoint, lastLogSequence: last }, 'read models are ahead of the log: wrong database, or the stream was recreated');
    }
    // nats-server 2.9: filter_subjects must be one string (sent as filter_subject)
    const consumer = await log.js.consumers.get(log.names.streams.events, {
      filter_subjects: log.names.subjects.allEvents,
      // the checkpoint is a position (ADR 014): its message is read again, its events up to it skipped
      ...(checkpoint > 0 ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: messageSequenceOf(checkpoint) } : { deliver_policy: DeliverPolicy.All }),
    });
    const messages = await consumer.consume({ max_messages: this.batchSize });
    this.messages = messages;
    try {
      if (this.stopping) return;
      this.state = 'running';
      this.options.logger.info({ checkpoint, lastLogSequence: last, lag: Math.max(0, messageSequenceOf(last) - messageSequenceOf(checkpoint)) }, 'projector following the log');
      // group commit: the next batch gathers while this one's transaction runs (notBefore)
      let applying: Promise<void> | undefined;
      const decoded = batches(decodedMessages(log.names.prefix, checkpoint, messages), {
        max: this.batchSize,
        lingerMs: this.lingerMs,
        trickleMs: this.trickleMs,
        flushAfter: (m) => m.pending === 0,
        notBefore: () => applying,
        minIntervalMs: this.minIntervalMs,
      });
      // pipelined (issue 12): batch N+1 is gathered while batch N folds, then folded in memory
      // while N's statements run in Postgres (foldAhead), and written once N has committed; it is
      // handed over when N has been folded, and nothing of it is committed before N (on a failure
      // both are read again from the checkpoint)
      const ahead = () => {
        const read = decoded.next();
        read.catch(() => undefined); // awaited below; a failed commit first must not leave it unhandled
        return read;
      };
      const reader = await this.reader();
      let next = ahead();
      /** the transaction of the batch before, while it runs */
      let committing: Promise<void> | null = null;
      /** that batch's fold, when it was folded ahead (the next one builds on it) */
      let before: FoldedBatch | null = null;
      /** where the checkpoint is once the batches handed over so far have committed */
      let expected = checkpoint;
      try {
        for (;;) {
          // a failed transaction ends the wait for more messages (a quiet log would hide it)
          const result = await (committing ? Promise.race([next, committing.then(() => next)]) : next);
          if (result.done || this.stopping) return;
          let folded!: () => void;
          applying = new Promise<void>((resolve) => (folded = resolve));
          next = ahead();
          try {
            const { events, poison } = joinDecoded(result.value);
            const kept = this.unparked(events);
            // a batch folded in its own transaction: its rows are known once it has committed
            if (committing && !before) {
              await committing;
              committing = null;
            }
            const batch: FoldedBatch | null = kept.length > 0 && !poison ? await foldAhead(reader.manager, kept, expected, before) : null;
            if (batch) this.options.logger.debug({ events: kept.length, last: batch.last, whileCommitting: committing !== null }, 'batch folded ahead');
            if (committing) {
              await committing;
              committing = null;
            }
            if (events.length === 0) {
              if (poison) throw poison;
              continue;
            }
            if (poison) {
              await this.commitUpTo(events, null);
              onCommit();
              throw poison;
            }
            expected = events.reduce((max, e) => Math.max(max, e.sequence), expected);
            before = batch;
            committing = this.commitUpTo(events, batch).then(onCommit);
            committing.catch(() => undefined); // awaited by the next turn, or below
          } finally {
            folded();
          }
        }
      } finally {
        // the batch in flight commits (or rolls back) before the consumer goes
        await committing?.catch(() => undefined);
        await reader.release().catch(() => undefined);
      }
    } finally {
      this.messages = null;
      closeMessages(messages);
      await consumer.delete().catch(() => undefined);
    }
  }

  /**
   * A connection of its own for folding ahead (FoldedBatch): its reads are planned for their
   * parameters like the projection transaction's (PROJECTION_TRANSACTION_SETTINGS).
   */
  private async reader(): Promise<QueryRunner> {
    const runner = this.options.dataSource.createQueryRunner();
    try {
      await runner.connect();
      await runner.query(PROJECTION_READER_SETTINGS);
      return runner;
    } catch (err) {
      await runner.release().catch(() => undefined);
      throw err;
    }
  }

  private unparked(events: Recorded[]): Recorded[] {
    return this.parked.size > 0 ? events.filter((e) => !this.parked.has(e.streamId)) : events;
  }

  /**
   * Commit a batch; when one of its events is poison the whole transaction rolls back, so the
   * events before it are committed on their own and the projection halts exactly at the poison.
   */
  private async commitUpTo(events: Recorded[], folded: FoldedBatch | null): Promise<void> {
    try {
      await this.commit(events, folded);
    } catch (err) {
      if (!(err instanceof PoisonEventError)) throw err;
      err.streamId ??= events.find((e) => e.sequence === err.sequence)?.streamId ?? null;
      const before = events.filter((e) => e.sequence < err.sequence);
      if (before.length > 0) await this.commit(before, null);
      throw err;
    }
  }

  /** Commit a batch: what was folded ahead if it still holds (commitFolded), else folded here (projectBatch). */
  private async commit(events: Recorded[], folded: FoldedBatch | null): Promise<void> {
    const started = Date.now();
    const kept = this.unparked(events);
    const last = events.reduce((max, e) => Math.max(max, e.sequence), 0);
    let wasAhead = false;
    const applied = await this.options.dataSource.transaction(async (manager) => {
      // the read models are derived from the log and their checkpoint moves in this transaction: a
      // commit that a Postgres crash loses takes its checkpoint with it and is folded again from
      // the log, so it need not wait for the WAL flush (ADR 014; replay does the same, ADR 004);
      // and the fold's prepared statements are planned for their parameters
      const options = { committed: this.checkpoint, settings: PROJECTION_TRANSACTION_SETTINGS };
      const ahead = folded && (await commitFolded(manager, folded, this.checkpointName, options));
      wasAhead = typeof ahead === 'number';
      const sequence = ahead ?? (await projectBatch(manager, kept, this.checkpointName, options));
      await this.options.beforeCommit?.(events, manager);
      if (last <= sequence) return sequence;
      await advanceCheckpoint(manager, this.checkpointName, last); // the batch ended with events of parked streams
      return last;
    });
    this.checkpoint = applied;
    this.lastError = null;
    if (kept.length > 0) this.options.afterCommit?.(kept);
    if (this.state === 'retrying') this.state = 'running';
    this.options.logger.debug({ events: events.length, checkpoint: applied, ms: Date.now() - started, foldedAhead: wasAhead }, 'batch projected');
    recordBatchSpan('projector', kept, started, applied);
  }

  /**
   * Park the poisoned stream: record it, move the checkpoint past its poison event (one
   * transaction), then alert. Its later events are skipped; the other streams go on.
   */
  private async park(err: PoisonEventError, streamId: string): Promise<void> {
    await this.options.dataSource.transaction((manager) => parkStream(manager, this.checkpointName, { streamId, sequence: err.sequence, eventType: err.eventType, reason: err.reason }));
    this.parked.add(streamId);
    this.checkpoint = Math.max(this.checkpoint, err.sequence);
    this.options.logger.error({ streamId, sequence: err.sequence, type: err.eventType, reason: err.reason }, 'poison event: its stream is parked, the others go on');
    await recordAlert(this.options.dataSource, {
      kind: 'projection_parked',
      message: `${streamId} is parked: event ${err.sequence} (${err.eventType}) cannot be projected: ${err.reason}`,
      details: { projection: this.checkpointName, streamId, sequence: err.sequence, type: err.eventType, reason: err.reason },
    }).catch((alertErr: unknown) => this.options.logger.error({ err: alertErr }, 'could not record the projection_parked alert'));
  }

  private async halt(err: PoisonEventError): Promise<void> {
    this.halted = { reason: err.reason, sequence: err.sequence, type: err.eventType, at: new Date().toISOString() };
    this.state = 'halted';
    this.options.logger.error(
      { sequence: err.sequence, type: err.eventType, reason: err.reason, checkpoint: this.checkpoint, projection: this.checkpointName },
      'projection halted on an event it cannot apply; fix and restart (it will not be skipped)',
    );
    try {
      await recordAlert(this.options.dataSource, {
        kind: 'projection_halted',
        message: err.message,
        details: { projection: this.checkpointName, sequence: err.sequence, type: err.eventType, reason: err.reason, checkpoint: this.checkpoint },
      });
    } catch (alertErr) {
      this.options.logger.error({ err: alertErr }, 'could not record the projection_halted alert');
    }
  }

  private delay(failures: number): number {
    const base = Math.min(this.backoff.maxMs, this.backoff.initialMs * 2 ** (failures - 1));
    return Math.round(base * (0.8 + Math.random() * 0.4));
  }

  /** A backoff that stop() cuts short. */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wake = null;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake = done;
    });
  }
}

/**
 * Stop a consumer's iterator without awaiting it: close() resolves only once the iterator has
 * been read to its end, which never happens after the loop reading it has thrown.
 */
function closeMessages(messages: ConsumerMessages | null): void {
  messages?.close().catch(() => undefined);
}

/** A message of the log as the projection takes it: its events, or why it does not decode. */
export interface DecodedMessage {
  /** messages the server still had for the consumer when it delivered this one */
  pending: number;
  events: Recorded[];
  poison: PoisonEventError | null;
}

/**
 * Decode each message as it is delivered, so that parsing it overlaps the previous batch's
 * transaction instead of following it (the batch is handed over when that transaction ends).
 */
async function* decodedMessages(prefix: string, after: number, source: AsyncIterable<JsMsg>): AsyncGenerator<DecodedMessage, void, undefined> {
  for await (const m of source) yield decodeMessage(m, prefix, after);
}

/** One message (a commit, ADR 014): its events after `after` (the checkpoint), or its poison. */
export function decodeMessage(m: JsMsg, prefix = '', after = 0): DecodedMessage {
  const pending = m.info.pending;
  try {
    return { pending, events: EventLog.decodeAll(m).filter((event) => event.sequence > after), poison: null };
  } catch (err) {
    const what = describeUndecodable(m, err, prefix);
    if (what.sequence <= after) return { pending, events: [], poison: null };
    const poison = new PoisonEventError(what.sequence, what.type, what.reason, { cause: err });
    poison.streamId = what.streamId;
    return { pending, events: [], poison };
  }
}

/**
 * Join decoded messages in order up to the first that does not decode: the events before it are
 * folded, then the projection halts at it (nothing after it may be applied out of order).
 */
export function joinDecoded(messages: readonly DecodedMessage[]): { events: Recorded[]; poison: PoisonEventError | null } {
  const events: Recorded[] = [];
  for (const m of messages) {
    if (m.poison) return { events, poison: m.poison };
    for (const event of m.events) events.push(event);
  }
  return { events, poison: null };
}

/** Decode messages (commits, ADR 014) and join them (decodeMessage, joinDecoded). Events at or before `after` are skipped. */
export function decodeBatch(messages: readonly JsMsg[], prefix = '', after = 0): { events: Recorded[]; poison: PoisonEventError | null } {
  return joinDecoded(messages.map((m) => decodeMessage(m, prefix, after)));
}
