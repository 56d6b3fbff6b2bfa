import { setTimeout as sleep } from 'node:timers/promises';
import type { StoredMsg } from '@nats-io/jetstream';
import { messageSequenceOf, parseEventSubject, type Recorded } from '@conclave/contracts';
import { ack, EventLog, isNotFound, OutboxLeases, publishDeadLetter, type OutboxLease as Lease, type DeadMessage } from '@conclave/event-log';
import type { Logger, ServiceMetrics } from '@conclave/service-kit';
import type { RunRepository } from '../adapters/run-repository';
import type { Outbox, OutboxRepairs } from './outbox';
import type { RunEventHandler } from './redrive';

/** tries per commit in a sweep before it is dead-lettered (backoff 0.25 s, doubling) */
export const REPAIR_ATTEMPTS = 6;

export interface OutboxLeaseOptions {
  /** this process's lease key (INSTANCE_ID plus something unique: replicas must not share one) */
  key: string;
  /** a lease not renewed for this long is taken for dead and swept */
  leaseMs: number;
  /** how often the lease is renewed and the others' are checked (default: five times per lease) */
  beatMs?: number;
  now?: () => number;
  /** sweeps and repaired messages are counted here (conclave_outbox_*) */
  metrics?: ServiceMetrics;
  /** tries per commit before it is dead-lettered (default REPAIR_ATTEMPTS) */
  repairAttempts?: number;
}

/**
 * The outbox's repair path (ADR 025), in place of the dispatcher consumer that was delivered every
 * run commit. Each orchestrator process renews a lease on the OUTBOX stream every beat, carrying its
 * outbox's watermark: every commit it appended below that stream sequence has had its commands and
 * due times published. A process that dies stops renewing; a live one notices the lease unchanged
 * for `leaseMs` (by its own clock: no clocks are compared), takes it over with a compare-and-set, and
 * publishes what the run commits from the watermark to the log's end still call for (what is still
 * outstanding in each run's state, under the commands' ids: harmless twice). A sweep moves the
 * taken lease's watermark as it goes, so a sweeper that dies too leaves the rest to the next one.
 * The same repair runs for this process's own publications that failed, and for an append whose
 * outcome is unknown. A commit whose repair keeps failing is dead-lettered under `dispatcher`
 * (redrive runs the repair again); one that does not decode fails its run, as in a live read.
 */
export class OutboxLease implements OutboxRepairs {
  private readonly leases: OutboxLeases;
  private readonly now: () => number;
  private readonly beatMs: number;
  private key: string;
  private generation = 0;
  /** stream sequence of this process's lease message (0: none yet) */
  private leaseSeq = 0;
  private beats = 0;
  private timer: NodeJS.Timeout | null = null;
  private ticking: Promise<void> | null = null;
  private stopped = false;
  /** sweeps under way, by the key of the lease taken over (they run beside the beats) */
  private readonly sweeping = new Map<string, Promise<void>>();
  /** the others' leases as last seen: their message's sequence, and since when (this clock) it has not changed */
  private readonly seen = new Map<string, { seq: number; since: number }>();

  constructor(
    private readonly log: EventLog,
    private readonly runs: RunRepository,
    private readonly outbox: Outbox,
    private readonly logger: Logger,
    private readonly options: OutboxLeaseOptions,
    handlers?: Map<string, RunEventHandler>,
  ) {
    this.leases = new OutboxLeases(log);
    this.now = options.now ?? Date.now;
    this.beatMs = options.beatMs ?? Math.max(100, Math.round(options.leaseMs / 5));
    this.key = options.key;
    outbox.attach(this);
    // redrive of a commit the repair dead-lettered: repair it again
    handlers?.set(log.names.consumers.dispatcher, async (events, runId, seq) => {
      await this.repairEvents(events, runId, seq);
      return ack();
    });
  }

  /** The first lease (boot fails without it), then a beat every `beatMs`. */
  async start(): Promise<this> {
    const { outbox } = this.log.names.streams;
    await this.log.jsm.streams.info(outbox).catch((err: unknown) => {
      if (!isNotFound(err)) throw err;
      throw new Error(`the ${outbox} stream does not exist: run set-up (scripts/setup.mjs, the compose \`setup\` service) after upgrading (ADR 025)`);
    });
    this.outbox.advance(await this.log.lastMessageSequence()); // this process's commits will all land after it
    await this.renew();
    this.timer = setInterval(() => void this.tick(), this.beatMs);
    this.timer.unref();
    return this;
  }

  /**
   * Stops beating. `clean`: the lease is removed when nothing this process appended is left
   * unpublished (else renewed once more, for a live process to sweep); otherwise (a crash, in tests)
   * it is left as it stands.
   */
  async stop(clean = true): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.ticking;
    await Promise.all(this.sweeping.values()); // they stop at their next commit; a live process takes the rest over
    if (!clean) return;
    // publications still under way at shutdown get a moment to land
    for (let waits = 0; !this.outbox.idle() && waits < 40; waits += 1) await sleep(25);
    // a failure here leaves the lease to a sweep, which finds nothing left to publish
    const last = this.outbox.idle() ? this.leases.remove(this.key) : this.renew();
    await last.catch((err: unknown) => this.logger.warn({ err }, 'outbox: the lease could not be removed or renewed at shutdown; a live process will sweep it'));
  }

  /** The lease's key and watermark (tests; the key also in the boot log). */
  current(): { key: string; watermark: number } {
    return { key: this.key, watermark: this.outbox.watermark() };
  }

  /* ------------------------------------------------------------------ OutboxRepairs */

  /**
   * A publication of this process that failed: publish what the commit still calls for, as a sweep
   * would (a commit that keeps failing is dead-lettered), retrying while the log cannot be read.
   */
  unsent(runId: string, appended: readonly Recorded[]): Promise<boolean> {
    const subject = this.log.names.subjects.aggregateEvents('run', runId);
    const commits = appended.map((e) => messageSequenceOf(e.sequence));
    const [from, until] = [Math.min(...commits), Math.max(...commits)];
    return this.retry(`publish again what the commits ${from}–${until} of run ${runId} call for`, () => this.log.scan(subject, from, until, async (m) => void (await this.repairMessage(m))));
  }

  /** An append of unknown outcome: look for its commit in the run's log from `from` on, until that is done. */
  uncertain(runId: string, from: number): Promise<boolean> {
    const subject = this.log.names.subjects.aggregateEvents('run', runId);
    return this.retry(`look for the commit of run ${runId} whose append failed`, async () => this.log.scan(subject, from, await this.log.lastMessageSequence(), async (m) => void (await this.repairMessage(m))));
  }

  /* ------------------------------------------------------------------ beats and sweeps */

  private tick(): Promise<void> {
    if (this.ticking || this.stopped) return this.ticking ?? Promise.resolve();
    this.ticking = (async () => {
      try {
        await this.renew();
        await this.sweepDead();
      } catch (err) {
        // this process could not reach NATS either: nobody's silence meanwhile counts against them
        this.seen.clear();
        this.logger.warn({ err }, 'outbox: a lease beat failed; the next one tries again');
      } finally {
        this.ticking = null;
      }
    })();
    return this.ticking;
  }

  private async renew(): Promise<void> {
    if (this.outbox.idle()) {
      // nothing under way: the log's end can be the watermark (a sweep of this lease reads less)
      const mark = this.outbox.mark();
      this.outbox.advance(await this.log.lastMessageSequence(), mark);
    }
    const lease: Lease = { key: this.key, watermark: this.outbox.watermark(), beat: ++this.beats };
    let seq = await this.leases.write(lease, this.leaseSeq);
    if (seq === null) {
      // another process took this lease for dead and swept it: carry on under a new key
      this.key = `${this.options.key}-${++this.generation}`;
      this.logger.warn({ key: this.key }, 'outbox: the lease of this process was taken over (it had not been renewed in time); renewing under a new key');
      seq = await this.leases.write({ ...lease, key: this.key }, 0);
      if (seq === null) throw new Error(`outbox lease ${this.key} is taken`);
    }
    this.leaseSeq = seq;
  }

  /** Takes over and sweeps every other lease that has not changed for `leaseMs`. */
  private async sweepDead(): Promise<void> {
    const now = this.now();
    const all = await this.leases.list();
    const present = new Set(all.map((l) => l.lease.key));
    for (const key of this.seen.keys()) if (!present.has(key)) this.seen.delete(key);
    for (const { lease, seq } of all) {
      if (lease.key === this.key || this.stopped) continue;
      const seen = this.seen.get(lease.key);
      if (!seen || seen.seq !== seq) this.seen.set(lease.key, { seq, since: now });
      else if (now - seen.since >= this.options.leaseMs && !this.sweeping.has(lease.key)) {
        const sweep = this.sweep(lease, seq)
          .catch((err: unknown) => this.logger.warn({ err, lease: lease.key }, 'outbox: a sweep stopped; the lease is swept again once it has not moved for the lease time'))
          .finally(() => this.sweeping.delete(lease.key));
        this.sweeping.set(lease.key, sweep);
      }
    }
  }

  private async sweep(dead: Lease, seq: number): Promise<void> {
    const taken: Lease = { ...dead, sweptBy: this.key };
    let at = await this.leases.write(taken, seq);
    if (at === null) return; // another process was first, or the owner renewed after all
    const until = await this.log.lastMessageSequence();
    this.logger.warn({ lease: dead.key, from: dead.watermark, until }, 'outbox: a process stopped renewing its lease; publishing what its commits still call for');
    let repaired = 0;
    let renewedAt = this.now();
    await this.log.scan(this.log.names.subjects.aggregateEvents('run', '*'), dead.watermark, until, async (m) => {
      if (this.stopped) throw new Error('this process is stopping');
      repaired += await this.repairMessage(m);
      if (this.now() - renewedAt < this.beatMs) return;
      // keep the lease taken while the sweep runs, and move its watermark: a sweeper that dies leaves only the rest
      const moved: number | null = await this.leases.write({ ...taken, watermark: m.seq + 1 }, at!);
      if (moved === null) throw new Error(`outbox lease ${dead.key} was taken over during its sweep`);
      at = moved;
      renewedAt = this.now();
    });
    await this.leases.remove(dead.key);
    this.seen.delete(dead.key);
    this.options.metrics?.outboxSwept();
    this.logger.info({ lease: dead.key, published: repaired }, 'outbox: swept the lease of a process that stopped');
  }

  /** One message of a run's log: publish what it still calls for (the number published). */
  private async repairMessage(m: StoredMsg): Promise<number> {
    const target = parseEventSubject(m.subject, this.log.names.prefix);
    if (!target || target.aggregate !== 'run') return 0;
    let events: Recorded[];
    try {
      events = EventLog.decodeAll({ seq: m.seq, subject: m.subject, headers: m.header, json: <T>() => m.json<T>() });
    } catch (err) {
      // the run cannot be trusted past it: the Reconcile's read meets it and fails the run
      await this.runs.handle(target.id, { type: 'Reconcile' }, { occurredAt: new Date(this.now()).toISOString(), correlationId: target.id, causationId: null, actor: { kind: 'system', id: 'outbox' } });
      await publishDeadLetter(this.log, this.log.names.consumers.dispatcher, this.options.key, deadMessage(this.log, m, 1), 'undecodable', `undecodable event: ${(err as Error).message}`);
      return 0;
    }
    const tries = this.options.repairAttempts ?? REPAIR_ATTEMPTS;
    const outcome = await this.withRetries(`publish what the commit ${m.seq} of run ${target.id} calls for`, () => this.repairEvents(events, target.id, m.seq), tries);
    if (outcome.ok) return outcome.value;
    if (outcome.attempts < tries) throw outcome.err; // this process is stopping: a live one takes the rest over
    this.logger.error({ err: outcome.err, runId: target.id, seq: m.seq, deadLetter: true }, 'outbox: what a commit calls for could not be published; dead-lettered');
    const error = `gave up after ${outcome.attempts} attempts; last error: ${(outcome.err as Error)?.message ?? String(outcome.err)}`;
    await publishDeadLetter(this.log, this.log.names.consumers.dispatcher, this.options.key, deadMessage(this.log, m, outcome.attempts), 'max_deliver', error);
    return 0;
  }

  /** Serialised with the run's decisions: publish what `events` call for and is still outstanding. */
  private async repairEvents(events: readonly Recorded[], runId: string, seq: number): Promise<number> {
    const run = await this.runs.snapshot(runId, seq);
    const sent = await this.outbox.repair(runId, events, run);
    this.options.metrics?.outboxRepaired(sent);
    if (sent > 0) this.logger.info({ runId, seq, sent }, 'outbox: published what a commit called for (repair path)');
    return sent;
  }

  /**
   * Retries `work` until it succeeds (true) or this process stops (false: the outbox then keeps the
   * watermark below the commit, and a live process sweeps it).
   */
  private async retry(what: string, work: () => Promise<unknown>): Promise<boolean> {
    return (await this.withRetries(what, work)).ok;
  }

  /** `work` tried up to `max` times (while this process runs), 0.25 s apart and doubling, at most 5 s. */
  private async withRetries<T>(what: string, work: () => Promise<T>, max = Number.POSITIVE_INFINITY): Promise<{ ok: true; value: T } | { ok: false; err: unknown; attempts: number }> {
    let err: unknown = new Error('this process is stopping');
    let attempts = 0;
    while (attempts < max && !(attempts > 0 && this.stopped)) {
      try {
        return { ok: true, value: await work() };
      } catch (e) {
        err = e;
        attempts += 1;
        if (attempts >= max) break;
        this.logger.warn({ err, attempt: attempts }, `outbox: ${what} failed; trying again`);
        await sleep(Math.min(5_000, 250 * 2 ** (attempts - 1)));
      }
    }
    return { ok: false, err, attempts };
  }
}

const deadMessage = (log: EventLog, m: StoredMsg, attempts: number): DeadMessage => ({ stream: log.names.streams.events, subject: m.subject, seq: m.seq, deliveries: attempts, data: m.data, headers: m.header });
