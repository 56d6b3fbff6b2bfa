import { createHash, randomUUID } from 'node:crypto';
import {
  AckPolicy,
  DeliverPolicy,
  JetStreamApiError,
  jetstream,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
  type ConsumerConfig,
  type JetStreamClient,
  type JetStreamManager,
  type StoredMsg,
  type StreamConfig,
} from '@nats-io/jetstream';
import { connect, headers, nanos, type MsgHdrs, type NatsConnection } from '@nats-io/transport-node';
import {
  CURRENT_SCHEMA_VERSION,
  eventCatalogText,
  messageSequenceOf,
  POSITIONS_PER_MESSAGE,
  positionOf,
  natsInboxPrefix,
  natsNames,
  parseEvent,
  parseEventSubject,
  splitStreamId,
  streamIdOf,
  type Actor,
  type Aggregate,
  type ConclaveEvent,
  type EventType,
  type NatsNames,
  type NewEvent,
  type Recorded,
} from '@conclave/contracts';
import { ConcurrencyError, LogUnavailableError } from './errors';
import type { OutboxLease } from './outbox-leases';
import './nats-request-patch'; // before the first request: no Error per settled request (issue 12)
import './nats-flush-patch'; // one socket write per event-loop turn, not per callback (issue 12)
import { streamReplicas } from './nats-server-config';
import { objectStoreStream, TranscriptStore } from './transcripts';

export interface EventLogOptions {
  /** a URL, or every node of a cluster */
  servers: string | string[];
  /** isolates streams and subjects (tests use a unique one); '' = the names of DESIGN.md */
  prefix?: string;
  /** connection name shown by the server (service and instance) */
  name?: string;
  /** NATS user and password (least-privilege NATS: a user per service); omitted: anonymous */
  user?: string;
  pass?: string;
}

export interface AppendMeta {
  /** time of the decision (the decider's clock), ISO-8601 */
  occurredAt: string;
  correlationId: string;
  causationId: string | null;
  actor: Actor;
}

/** A message of an aggregate's subject that does not decode as an event (EventLog.read with `poison`). */
export interface UnreadableEvent {
  sequence: number;
  /** `run:<id>` / `template:<id>` from its subject; null when the subject names no aggregate */
  streamId: string | null;
  /** its `type` when it is JSON with one, else `(none)` / `(not JSON)` */
  type: string;
  /** `does not decode: …` */
  reason: string;
}

/**
 * What a message of the events stream that does not decode is, told the same way everywhere (the
 * orchestrator, GET /events, the projector, replay), so a rebuild parks what the live side parked.
 */
export function describeUndecodable(m: LogMessage, err: unknown, prefix: string): UnreadableEvent {
  const target = typeof m.subject === 'string' ? parseEventSubject(m.subject, prefix) : null;
  let type = '(not JSON)';
  try {
    const body = m.json() as { type?: unknown; events?: unknown } | null;
    const raw = body?.type;
    type = typeof raw === 'string' ? raw : Array.isArray(body?.events) ? '(commit)' : '(none)';
  } catch {
    /* not JSON */
  }
  return {
    sequence: positionOf(m.seq),
    streamId: target ? streamIdOf(target.aggregate, target.id) : null,
    type,
    reason: `does not decode: ${err instanceof Error ? err.message : String(err)}`.slice(0, 1000),
  };
}

/**
 * A message of the events stream as both a pulled message (JsMsg) and a direct get (StoredMsg)
 * present it: what decoding needs.
 */
export interface LogMessage {
  seq: number;
  subject: string;
  headers?: MsgHdrs;
  json<T = unknown>(): T;
}

/**
 * The position of the aggregate's last event as the caller knows it (its message's stream sequence
 * is what the server checks): `0` requires that the aggregate has no events yet; 'any' disables
 * the check.
 */
export type ExpectedSequence = number | 'any';

/** Consumer tuning that tests shorten (ack_wait) and production keeps. */
export interface TopologyOptions {
  ackWaitMs?: number;
  /** the events stream's duplicate window; DESIGN.md requires ≥ 2 min */
  duplicateWindowMs?: number;
}

/** the server's answer to a publish whose expected last subject sequence is not the subject's */
export const WRONG_LAST_SEQUENCE = 10071;

/**
 * Deliveries each durable consumer allows (its `max_deliver`). The last delivery is not handled:
 * runConsumer dead-letters it, so a message that keeps failing — or keeps killing the process
 * that handles it — is tried `max_deliver - 1` times. Timers count their deferrals too (a due time
 * further than an hour away is re-checked hourly), hence their larger bound.
 */
export const CONSUMER_LIMITS = {
  maxDeliver: { timers: 500, work: 6, results: 10, deadLetters: 50 },
} as const;

/**
 * Header of an event appended by this class: the fingerprint of the event catalog it was validated
 * against (parseEvent) just before it was published. A reader built on the same catalog decodes
 * such an event with JSON.parse alone — validating it again could only give the same answer —
 * which halves the cost of reading the log (replay, projector). An event without the header, with
 * another catalog's fingerprint or an older schemaVersion (upcasters) is validated in full, so a
 * message published by anything else is still refused as poison. The header is the writer's
 * promise, not a proof: whoever may publish on the events subjects can write any event anyway.
 */
export const CATALOG_HEADER = 'Conclave-Catalog';
/**
 * Header of a commit (ADR 014): the number of events the message carries. A commit's body is
 * `{ "events": [envelope, …] }`, the events of one decision in order; a message without the header
 * and with an envelope for body is a single event as written before commits (read as a commit of one).
 */
export const COMMIT_HEADER = 'Conclave-Commit';
let fingerprint: string | null = null;
/** sha-256 of the event catalog this process validates with (computed once, ~50 ms). */
export function catalogFingerprint(): string {
  return (fingerprint ??= createHash('sha256').update(eventCatalogText()).digest('base64url'));
}
/** most messages one fetch of a bounded read asks for */
const READ_BUFFER = 5000;
/**
 * How long one fetch waits for its messages (they exist: the consumer's info counted them). A fetch
 * that ends early with part of them is simply followed by the next one; one that brings nothing is
 * the 2.9 stall below, retried on a fresh consumer — so this is what each stall costs (it was 2 s).
 */
const FETCH_EXPIRES_MS = 1_000; // nats.js's least
/** fresh consumers tried after a fetch that brought nothing (a budget of ~6 s, as before) */
const FETCH_RETRIES = 6;
const encoder = new TextEncoder();

/**
 * The JetStream event log: streams, appends with optimistic concurrency, aggregate reads and
 * durable work consumers. Framework-free so every service and test can use it the same way.
 */
export class EventLog {
  /** events per message on the last bounded read (commits hold several): how many messages the next one asks for */
  private eventsPerMessage = 1;

  private constructor(
    readonly nc: NatsConnection,
    readonly js: JetStreamClient,
    readonly jsm: JetStreamManager,
    readonly names: NatsNames,
  ) {}

  static async connect(options: EventLogOptions): Promise<EventLog> {
    catalogFingerprint(); // once per process, here rather than in the first append or read
    // noAsyncTraces: nats.js otherwise builds an Error (a stack trace) for every request and publish
    // to attach the caller's stack to a later failure — about a fifth of the orchestrator's CPU. Our
    // errors name their operation themselves, so the trace adds little (ADR 014).
    const nc = await connect({ servers: options.servers, name: options.name, maxReconnectAttempts: -1, noAsyncTraces: true, ...natsCredentials(options) });
    const jsm = await jetstreamManager(nc);
    return new EventLog(nc, jetstream(nc), jsm, natsNames(options.prefix ?? ''));
  }

  /* ------------------------------------------------------------------ topology */

  /** Create (or update to) the streams and durable consumers of DESIGN.md. Idempotent. */
  async ensureTopology(options: TopologyOptions = {}): Promise<void> {
    const { streams, subjects, consumers } = this.names;
    const dupWindow = nanos(options.duplicateWindowMs ?? 120_000);
    const fileStream = (name: string, subject: string, retention: RetentionPolicy, config: Partial<StreamConfig>) =>
      this.ensureStream({ name, subjects: [subject], storage: StorageType.File, retention, ...config });
    /** kept for good, read by position (direct gets) */
    const log = { max_age: 0, duplicate_window: dupWindow, allow_direct: true };
    await fileStream(streams.events, subjects.allEvents, RetentionPolicy.Limits, log);
    await fileStream(streams.commands, subjects.allCommands, RetentionPolicy.Workqueue, { duplicate_window: dupWindow });
    await fileStream(streams.results, subjects.allResults, RetentionPolicy.Workqueue, { duplicate_window: dupWindow });
    // one message per orchestrator process: its outbox watermark, renewed while it lives (ADR 025)
    await fileStream(streams.outbox, subjects.allOutbox, RetentionPolicy.Limits, { max_msgs_per_subject: 1, max_age: 0, allow_direct: true });
    await fileStream(streams.deadLetters, subjects.allDeadLetters, RetentionPolicy.Limits, log);
    // Bounded redelivery (issue 11 §2): every consumer has a max_deliver and a backoff schedule.
    // The first entry of `backoff` is the lease (the server takes it as the ack wait); later
    // redeliveries of a message nobody acked wait longer. runConsumer dead-letters a message on
    // its last delivery instead of handling it (DEAD_LETTERS stream) and acks it there.
    const ackWaitMs = options.ackWaitMs ?? 30_000;
    const schedule = (...factors: number[]) => factors.map((f) => nanos(ackWaitMs * f));
    const base = { ack_policy: AckPolicy.Explicit, ack_wait: nanos(ackWaitMs), deliver_policy: DeliverPolicy.All };
    const bounded = (maxDeliver: number) => ({ ...base, max_deliver: maxDeliver, backoff: schedule(1, 2, 4, 8) });
    const { maxDeliver } = CONSUMER_LIMITS;
    // the repair path is the outbox's leases now (ADR 025): the old dispatcher durable hands over
    await this.retireDispatcher();
    // timers hold only due times (commands.timer, ADR 014). Before commits they read every run event
    // and held the ones with a due time: that consumer is removed once it holds nothing; until then
    // the orchestrator drains it (app/timers.ts startLegacyTimers: each held due time moves over)
    await this.retireLegacyTimers();
    await this.ensureConsumer(streams.commands, { ...bounded(maxDeliver.timers), durable_name: consumers.timers, filter_subject: subjects.timer, max_ack_pending: 20_000 });
    await this.ensureConsumer(streams.commands, { ...bounded(maxDeliver.work), durable_name: consumers.generateWorkers, filter_subject: subjects.generate, max_ack_pending: 10_000 });
    await this.ensureConsumer(streams.commands, { ...bounded(maxDeliver.work), durable_name: consumers.judgeWorkers, filter_subject: subjects.judge, max_ack_pending: 10_000 });
    await this.ensureConsumer(streams.commands, { ...bounded(maxDeliver.work), durable_name: consumers.toolRunners, filter_subject: subjects.tool, max_ack_pending: 10_000 });
    await this.ensureConsumer(streams.commands, { ...bounded(maxDeliver.work), durable_name: consumers.workspaceTasks, filter_subject: subjects.workspace, max_ack_pending: 10_000 });
    await this.ensureConsumer(streams.results, { ...bounded(maxDeliver.results), durable_name: consumers.orchestratorResults, filter_subject: subjects.allResults, max_ack_pending: 1000 });
    await this.ensureConsumer(streams.deadLetters, { ...bounded(maxDeliver.deadLetters), durable_name: consumers.deadLetters, filter_subject: subjects.allDeadLetters, max_ack_pending: 1000 });
    await TranscriptStore.open(this);
  }

  async ensureStream(streamConfig: Partial<StreamConfig> & { name: string }): Promise<void> {
    const config = { num_replicas: streamReplicas(), ...streamConfig }; // CONCLAVE_STREAM_REPLICAS (ADR 011)
    try {
      await this.jsm.streams.info(config.name);
      await this.jsm.streams.update(config.name, config);
    } catch (err) {
      if (!isNotFound(err)) throw err;
      await this.jsm.streams.add(config);
    }
  }

  async ensureConsumer(stream: string, config: Partial<ConsumerConfig> & { durable_name: string }): Promise<void> {
    try {
      await this.jsm.consumers.info(stream, config.durable_name);
      await this.jsm.consumers.update(stream, config.durable_name, config);
    } catch (err) {
      if (!isNotFound(err)) throw err;
      await this.jsm.consumers.add(stream, config);
    }
  }

  /**
   * The `timers` durable on EVENTS of the builds before ADR 014: deleted when it holds no message
   * (nothing delivered and unacked, nothing not yet delivered), else left for the orchestrator to drain.
   * Returns whether it still exists.
   */
  async retireLegacyTimers(): Promise<boolean> {
    const { streams, consumers } = this.names;
    let info;
    try {
      info = await this.jsm.consumers.info(streams.events, consumers.timers);
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
    if (info.num_ack_pending > 0 || info.num_pending > 0) return true;
    await this.deleteConsumer(streams.events, consumers.timers);
    return false;
  }

  /**
   * The `dispatcher` durable on EVENTS of the builds before ADR 025 (the outbox's repair path then):
   * what it had not yet acknowledged becomes a lease nobody renews (`outbox.dispatcher`, from its ack
   * floor on), which a live orchestrator sweeps like a crashed process's, and the durable is deleted.
   */
  async retireDispatcher(): Promise<void> {
    const { streams, consumers, subjects } = this.names;
    let info;
    try {
      info = await this.jsm.consumers.info(streams.events, consumers.dispatcher);
    } catch (err) {
      if (isNotFound(err)) return;
      throw err;
    }
    // everything below its ack floor was handled (and it never read before its start)
    const watermark = Math.max(info.ack_floor.stream_seq + 1, info.config.opt_start_seq ?? 1);
    const lease: OutboxLease = { key: consumers.dispatcher, watermark, beat: 0 };
    await this.publish(subjects.outbox(consumers.dispatcher), lease, `retired:${consumers.dispatcher}:${info.created}`);
    await this.deleteConsumer(streams.events, consumers.dispatcher);
  }

  async deleteConsumer(stream: string, durable: string): Promise<void> {
    await this.jsm.consumers.delete(stream, durable).catch((err: unknown) => {
      if (!isNotFound(err)) throw err;
    });
  }

  /** Remove this prefix's streams and object stores (tests clean up after themselves). */
  async destroyTopology(): Promise<void> {
    const buckets = Object.values(this.names.buckets).map(objectStoreStream);
    for (const name of [...Object.values(this.names.streams), ...buckets]) {
      await this.jsm.streams.delete(name).catch((err) => {
        if (!isNotFound(err)) throw err;
      });
    }
  }

  /* ------------------------------------------------------------------ appends */

  /**
   * Append one decision's events to one aggregate as ONE message (a commit, ADR 014) with
   * optimistic concurrency: the message is published with the expected last subject sequence, so a
   * competing writer makes the append fail with ConcurrencyError, and a retried identical commit
   * (same event ids) is deduplicated by the server within its window. The events are recorded at
   * positions streamSequence × 1000 + index. A decision of more than 1000 events (never seen) is
   * written as consecutive commits, chained. An event's own `meta` stands for `meta` in its envelope:
   * a commit of several inputs decided together (the orchestrator's group commit per run) keeps each
   * event's own time, causation and actor.
   */
  async append(
    aggregate: Aggregate,
    id: string,
    events: (NewEvent & { id?: string; meta?: AppendMeta })[],
    expected: ExpectedSequence,
    meta: AppendMeta,
  ): Promise<Recorded[]> {
    const subject = this.names.subjects.aggregateEvents(aggregate, id);
    const streamId = streamIdOf(aggregate, id);
    const envelopes = events.map((event) => {
      const own = event.meta ?? meta;
      const envelope = {
        id: event.id ?? randomUUID(),
        type: event.type,
        schemaVersion: CURRENT_SCHEMA_VERSION[event.type],
        streamId,
        occurredAt: own.occurredAt,
        correlationId: own.correlationId,
        causationId: own.causationId,
        actor: own.actor,
        data: event.data,
      } as ConclaveEvent;
      return parseEvent(envelope); // never write what we could not read back
    });
    const recorded: Recorded[] = [];
    let expectedSeq = expected === 'any' ? expected : messageSequenceOf(expected);
    for (let from = 0; from < envelopes.length; from += POSITIONS_PER_MESSAGE) {
      const commit = envelopes.slice(from, from + POSITIONS_PER_MESSAGE);
      const h = headers();
      h.set(CATALOG_HEADER, catalogFingerprint());
      h.set(COMMIT_HEADER, String(commit.length));
      try {
        const ack = await this.js.publish(subject, encoder.encode(JSON.stringify({ events: commit })), {
          msgID: commitId(commit),
          headers: h,
          ...(expectedSeq === 'any' ? {} : { expect: { lastSubjectSequence: expectedSeq } }),
        });
        commit.forEach((event, index) => recorded.push({ ...event, sequence: positionOf(ack.seq, index) }));
        if (expectedSeq !== 'any') expectedSeq = ack.seq;
      } catch (err) {
        if (err instanceof JetStreamApiError && err.code === WRONG_LAST_SEQUENCE) {
          throw new ConcurrencyError(subject, expectedSeq as number);
        }
        throw err;
      }
    }
    return recorded;
  }

  /* ------------------------------------------------------------------ reads */

  /**
   * One aggregate's events after a position, in order, read with direct gets (one request per
   * message, no consumer: the hot path must not create consumers, ADR 014). A message that does not
   * decode throws, unless the caller passes `poison`: it is then recorded there (position and
   * reason) and skipped, so the caller can decide what an unreadable event means (the orchestrator
   * fails the run with it).
   */
  async read(aggregate: Aggregate, id: string, afterSequence = 0, options: { poison?: UnreadableEvent[] } = {}): Promise<Recorded[]> {
    const subject = this.names.subjects.aggregateEvents(aggregate, id);
    const out: Recorded[] = [];
    const from = afterSequence > 0 ? messageSequenceOf(afterSequence + 1) : 1;
    await this.scan(subject, from, Number.POSITIVE_INFINITY, async (m) => {
      this.collect({ seq: m.seq, subject: m.subject, headers: m.header, json: <T>() => m.json<T>() }, afterSequence, out, options.poison);
    });
    return out;
  }

  /**
   * Visits the messages of `filter` (wildcards allowed) from stream sequence `from` through `until`,
   * in order and undecoded, one direct get each (no consumer): an aggregate's reads, and the
   * outbox's sweeps (ADR 025: a few seconds of the log, rarely).
   */
  async scan(filter: string, from: number, until: number, visit: (m: StoredMsg) => Promise<void>): Promise<void> {
    for (let seq = Math.max(1, from); seq <= until; ) {
      let stored: StoredMsg | null;
      try {
        stored = await this.jsm.direct.getMessage(this.names.streams.events, { seq, next_by_subj: filter });
      } catch (err) {
        if (isNotFound(err)) return;
        throw err;
      }
      if (stored === null || stored.seq > until) return;
      await visit(stored);
      seq = stored.seq + 1;
    }
  }

  /** The whole log (or a filter of it) after a position, up to `limit` events. */
  async readAll(afterSequence = 0, limit = 1000, filter: string = this.names.subjects.allEvents, options: { poison?: UnreadableEvent[] } = {}): Promise<Recorded[]> {
    return this.readSubject(filter, afterSequence, limit, options.poison);
  }

  /** The stream sequence of the log's last message (0 when nothing was ever written). */
  async lastMessageSequence(): Promise<number> {
    return (await this.jsm.streams.info(this.names.streams.events)).state.last_seq;
  }

  /** The position of the log's last event (0 when empty). */
  async lastSequence(): Promise<number> {
    const info = await this.jsm.streams.info(this.names.streams.events);
    const last = info.state.last_seq;
    if (last === 0 || info.state.messages === 0) return 0;
    const stored = await this.jsm.streams.getMessage(this.names.streams.events, { seq: last }).catch(() => null);
    return positionOf(last, stored ? eventCount({ seq: last, subject: stored.subject, headers: stored.header, json: <T>() => stored.json<T>() }) - 1 : 0);
  }

  /** decode `m` into `out` (its events after `after`), or record it as poison when a list is given */
  private collect(m: LogMessage, after: number, out: Recorded[], poison?: UnreadableEvent[]): void {
    // a read that starts after a commit's last event meets that commit first: nothing of it to decode
    const declared = declaredCount(m);
    if (declared !== null && positionOf(m.seq, declared - 1) <= after) return;
    if (!poison) {
      for (const e of EventLog.decodeAll(m)) if (e.sequence > after) out.push(e);
      return;
    }
    try {
      for (const e of EventLog.decodeAll(m)) if (e.sequence > after) out.push(e);
    } catch (err) {
      const what = describeUndecodable(m, err, this.names.prefix);
      if (what.sequence > after) poison.push(what);
    }
  }

  /**
   * Bounded reads pull what they want: the consumer's info says how many messages match after the
   * start, and each fetch asks for up to READ_BUFFER of them and ends when they are in. A message
   * holds several events (a commit), so a fetch asks for the events still wanted divided by the
   * events per message of the last read, and a message that comes after the page is full is not
   * decoded (the next page reads it again): a page of 15,000 events used to fetch and decode up to
   * 5,000 commits of 4–5 events.
   * On nats-server 2.9 a new ordered consumer now and then delivers nothing to its first pull
   * (seen with consume() and, more rarely, fetch()): a fetch that brings nothing within
   * FETCH_EXPIRES_MS is retried on a fresh consumer from the last message read, a few times.
   * `afterSequence` and `limit` are a position and a number of events (poison included); a page may
   * end inside a commit.
   */
  private async readSubject(subject: string, afterSequence: number, limit = Number.POSITIVE_INFINITY, poison?: UnreadableEvent[]): Promise<Recorded[]> {
    const out: Recorded[] = [];
    const poisonBefore = poison?.length ?? 0;
    const found = () => out.length + (poison?.length ?? 0) - poisonBefore;
    /** the next message to read: the one holding position afterSequence + 1 (a commit may hold events on both sides) */
    let next = afterSequence > 0 ? messageSequenceOf(afterSequence + 1) : 1;
    for (let stalls = 0; ; ) {
      const consumer = await this.js.consumers.get(this.names.streams.events, {
        filter_subjects: subject,
        ...(next > 1 ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: next } : { deliver_policy: DeliverPolicy.All }),
      });
      let pending = (await consumer.info()).num_pending;
      const from = next;
      while (pending > 0 && found() < limit) {
        const before = next;
        const wanted = Math.max(1, Math.ceil((limit - found()) / this.eventsPerMessage));
        const messages = await consumer.fetch({ max_messages: Math.min(READ_BUFFER, pending, wanted), expires: FETCH_EXPIRES_MS });
        let read = 0;
        const foundBefore = found();
        for await (const m of messages) {
          if (found() >= limit) continue; // past the page: left for the next read
          next = m.seq + 1;
          pending -= 1;
          read += 1;
          this.collect(m, afterSequence, out, poison);
        }
        if (read > 0) this.eventsPerMessage = Math.max(1, (found() - foundBefore) / read);
        if (next === before) {
          // nothing came: a stall, or the count at the start was more than there was (seen at the
          // log's end during a replay, where it cost a retry per read): ask again before retrying
          if ((await consumer.info()).num_pending === 0) pending = 0;
          break;
        }
      }
      if (found() > limit) endPageAt(limit, out, poison, poisonBefore); // a page may end inside a commit
      if (pending <= 0 || found() >= limit) return out;
      if (next === from && ++stalls > FETCH_RETRIES) {
        throw new LogUnavailableError(`the log did not deliver the ${pending} messages it reported from sequence ${from} on ${subject}`);
      }
    }
  }

  /**
   * Decode a message of the events stream into its recorded events: a commit's events at their
   * positions, or a single event written before commits (position streamSequence × 1000). Throws
   * when any event of it does not decode (the whole message is then poison).
   */
  static decodeAll(m: LogMessage): Recorded[] {
    const body = m.json<{ events?: unknown; type?: unknown } | null>();
    const trusted = m.headers?.get(CATALOG_HEADER) === catalogFingerprint();
    if (body !== null && typeof body === 'object' && Array.isArray(body.events) && body.type === undefined) {
      if (body.events.length === 0 || body.events.length > POSITIONS_PER_MESSAGE) throw new Error(`a commit of ${body.events.length} events`);
      return body.events.map((raw: unknown, index) => ({ ...decodeEvent(raw, trusted), sequence: positionOf(m.seq, index) }));
    }
    return [{ ...decodeEvent(body, trusted), sequence: positionOf(m.seq) }];
  }

  /* ------------------------------------------------------------------ work queue */

  /** Publish a command or result, deduplicated by its id within the stream's window. */
  async publish(subject: string, payload: unknown, msgID: string, msgHeaders?: MsgHdrs): Promise<{ seq: number; duplicate: boolean }> {
    const ack = await this.js.publish(subject, encoder.encode(JSON.stringify(payload)), { msgID, ...(msgHeaders ? { headers: msgHeaders } : {}) });
    return { seq: ack.seq, duplicate: ack.duplicate };
  }

  async close(): Promise<void> {
    if (!this.nc.isClosed()) await this.nc.drain().catch(() => this.nc.close());
  }
}

/**
 * Cut a page that read past `limit` positions back to its first `limit`, events and poison alike
 * (both lists ascending): the next page starts after the last one kept, so nothing read beyond
 * it may stay in the page, or what lies between would be skipped.
 */
function endPageAt(limit: number, events: Recorded[], poison: UnreadableEvent[] | undefined, poisonBefore: number): void {
  const read = poison ? poison.slice(poisonBefore) : [];
  const positions = [...events.map((e) => e.sequence), ...read.map((p) => p.sequence)].sort((a, b) => a - b);
  const end = positions[limit - 1] ?? Number.POSITIVE_INFINITY;
  events.length = events.filter((e) => e.sequence <= end).length;
  if (poison) poison.length = poisonBefore + read.filter((p) => p.sequence <= end).length;
}

/**
 * `{ user, pass, inboxPrefix }` for a NATS connect() when a user is configured, else nothing
 * (anonymous). The inbox prefix is the user's own (natsInboxPrefix): the only one its
 * permissions let it subscribe to.
 */
export function natsCredentials(options: { user?: string; pass?: string }): { user?: string; pass?: string; inboxPrefix?: string } {
  return options.user ? { user: options.user, pass: options.pass ?? '', inboxPrefix: natsInboxPrefix(options.user) } : {};
}

/** An event of a message: trusted (the writer's catalog is ours) → JSON as is when its version is current. */
function decodeEvent(raw: unknown, trusted: boolean): ConclaveEvent {
  const e = raw as { type?: unknown; schemaVersion?: unknown } | null;
  if (trusted && e !== null && typeof e === 'object' && typeof e.schemaVersion === 'number' && e.schemaVersion === CURRENT_SCHEMA_VERSION[e.type as EventType]) {
    return e as ConclaveEvent;
  }
  return parseEvent(raw);
}

/** How many events a message of the events stream holds (1 for a single event written before commits). */
export function eventCount(m: LogMessage): number {
  const declared = declaredCount(m);
  if (declared !== null) return declared;
  try {
    const body = m.json<{ events?: unknown } | null>();
    return Array.isArray(body?.events) ? Math.max(1, body.events.length) : 1;
  } catch {
    return 1;
  }
}

/** The event count a commit's header declares, or null (a single event written before commits, or no valid header). */
function declaredCount(m: LogMessage): number | null {
  const declared = Number(m.headers?.get(COMMIT_HEADER) ?? '');
  return Number.isInteger(declared) && declared > 0 ? declared : null;
}

/** The Nats-Msg-Id of a commit: its event's id, or a digest of its events' ids (ids come from business keys). */
function commitId(events: { id: string }[]): string {
  if (events.length === 1) return events[0]!.id;
  return `commit:${createHash('sha256').update(events.map((e) => e.id).join('\n')).digest('base64url')}`;
}

export function isNotFound(err: unknown): boolean {
  return err instanceof JetStreamApiError && (err.status === 404 || err.code === 10059 || err.code === 10014);
}

export { splitStreamId };
