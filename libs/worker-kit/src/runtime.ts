import { hostname } from 'node:os';
import type { JsMsg } from '@nats-io/jetstream';
import type { Subscription } from '@nats-io/transport-node';
import type { z } from 'zod';
import { CancelWork, DirectResultReply, LiveMessage, type Failure, type ToolCallRecord } from '@conclave/contracts';
import { ack, contractsHeaders, decodeContract, nak, retryDelayMs, runConsumer, term, type Disposition, type EventLog, type RunningConsumer } from '@conclave/event-log';
import { endWorkSpan, recordToolCallSpan, startWorkSpan, workTrace } from '@conclave/service-kit';
import { DeltaCoalescer } from './live';

/** The fields every work command shares (GenerateCandidate, JudgeCandidates). */
export interface WorkCommandBase {
  commandId: string;
  runId: string;
  phaseId: string;
  attempt: number;
  attemptToken: string;
  provider: string;
  model: string;
}

export type FailedOutcome = { status: 'failed'; error: Failure };
export const failedOutcome = (code: string, message: string, retryable: boolean): FailedOutcome => ({
  status: 'failed',
  error: { code, message, retryable },
});

export type WorkerRole = 'llm-worker' | 'judge';

/** Why the runtime aborted a call. `shutdown` hands the command back without a result. */
export type AbortKind = 'cancelled' | 'timeout' | 'shutdown' | 'lease_lost';
export class WorkAborted extends Error {
  constructor(
    readonly kind: AbortKind,
    message: string,
  ) {
    super(message);
    this.name = 'WorkAborted';
  }
}

export interface ExecuteContext {
  /** aborted on cancel, timeout or shutdown (reason: a WorkAborted) */
  signal: AbortSignal;
  /** streamed text; coalesced and relayed on the run's live subject (best effort) */
  onDelta(text: string): void;
  /** an agent's audited tool call: relayed at once as a live `tool_call` message (best effort) */
  onToolCall(record: ToolCallRecord): void;
  /** 1 on the first delivery of the command */
  deliveryCount: number;
  /**
   * A write the result refers to (a large transcript, content-addressed), started now and run
   * beside the result's delivery instead of before it: the command is acked only after it settled.
   * It should handle its own failure (a rejection is logged, and the command still acked).
   */
  alongside(write: Promise<unknown>): void;
}

export interface ResultMeta {
  workerId: string;
  durationMs: number;
}

/** Where live token deltas of a command go; null = the command streams nothing. */
export interface LiveTarget {
  runId: string;
  phaseId: string;
  candidateId: string;
}

/**
 * What a concrete worker supplies: how to parse its command, do the work, and build the result.
 * `execute` returns business failures as a failed outcome (they are results, published and acked);
 * it throws only for transient trouble (retried with backoff) or when its signal is aborted.
 */
export interface WorkerSpec<C extends WorkCommandBase, O extends { status: string }, R> {
  role: WorkerRole;
  /** the shared durable pull consumer on the COMMANDS stream */
  durable: string;
  /**
   * The orchestrator re-dispatches this kind of work under a new token when its worker stalls
   * (candidates): a lost lease then answers a failed `lease_lost` result, so the run re-dispatches
   * at once. Otherwise a lost lease hands the command back (nak) for another worker.
   */
  redispatchedOnStall?: boolean;
  /** parsed in full unless the message carries this build's contracts fingerprint (CONTRACTS_HEADER) */
  command: z.ZodType<C>;
  /** a member of WorkResult: every result is parsed with it and then marked with the contracts fingerprint */
  result: z.ZodType<R>;
  timeoutMs(command: C): number | null;
  liveTarget?(command: C): LiveTarget | null;
  execute(command: C, ctx: ExecuteContext): Promise<O>;
  toResult(command: C, outcome: O | FailedOutcome, meta: ResultMeta): R;
  /**
   * After a cancel or a timeout aborted `execute`: what of the work is worth keeping (an agent's
   * partial changes, tool calls, conversation), merged into the failed outcome. Best effort: a
   * salvage that throws is logged and the failed result goes out without it.
   */
  salvage?(command: C, kind: 'cancelled' | 'timeout', alongside: ExecuteContext['alongside']): Promise<Record<string, unknown> | null>;
}

/** Minimal structured logger (pino's Logger fits). */
export interface WorkerLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface WorkerRuntimeOptions {
  log: EventLog;
  /** INSTANCE_ID: carried by results and heartbeats */
  workerId: string;
  logger: WorkerLogger;
  concurrency?: number;
  /** in-progress ack period while a call runs (must be below the consumer's ack_wait) */
  workingIntervalMs?: number;
  heartbeatMs?: number;
  /**
   * The lease (issue 11 §5): a process that could not heartbeat for this long (it was stopped,
   * or its event loop was blocked) gives its in-flight work up by itself — aborts the calls and
   * publishes no outcome of them — because the orchestrator re-dispatches silent work after its
   * stall window, which it keeps above this lease. Default 8 s (stall window 10 s).
   */
  leaseMs?: number;
  shutdownGraceMs?: number;
  /** minimum period between two token deltas of one candidate */
  liveIntervalMs?: number;
  /** deliveries of a command whose execute keeps throwing before a failed result is published */
  maxErrorDeliveries?: number;
  /** how long a run-wide cancel is remembered for commands pulled after it */
  cancelMemoryMs?: number;
  host?: string;
  now?: () => number;
  /** llm-workers: the sandbox their tool processes run in, carried by every heartbeat */
  sandbox?: 'bwrap' | 'unavailable' | 'disabled';
  /**
   * Results go to the orchestrator in one hop (core NATS request on `directResult`), falling back
   * to the RESULTS stream when nobody answers `ok` within `directResultTimeoutMs`. Default true;
   * false: every result goes to the RESULTS stream.
   */
  directResults?: boolean;
  /** how long a direct result waits for the orchestrator's answer before the RESULTS stream is used (default 3 s) */
  directResultTimeoutMs?: number;
}

type RuntimeState = 'new' | 'running' | 'draining' | 'stopped';
interface InFlight<C> {
  command: C;
  controller: AbortController;
  /** the command's sequence in the COMMANDS stream (heartbeats carry it: a re-dispatch removes it) */
  seq: number;
  /** when this process took it (a command taken after a freeze did not live through it) */
  startedAt: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * One work-queue worker process: pulls commands from a shared durable consumer (more processes =
 * more throughput), runs them with bounded concurrency, and delivers exactly one result per
 * processed command: in one hop to the orchestrator (core NATS request on `directResult`, answered
 * once the decision is appended), else to `results.<runId>` with Nats-Msg-Id `<commandId>:result`
 * (the RESULTS stream, whose durable consumer is the repair path).
 *
 * Guarantees and caveats:
 * - At-least-once: a command is acked only after its result is applied (the orchestrator answered
 *   `ok`) or stored in the RESULTS stream, and after the writes it refers to (a large transcript)
 *   settled. A result can reach the orchestrator twice (an answer lost, then the stream; or a
 *   redelivered command): the decider ignores duplicates and refuses stale attempt tokens, and the
 *   RESULTS stream keeps one copy per msgID within its duplicate window.
 * - Validated once: results are parsed with the spec's schema and sent with the contracts
 *   fingerprint header; a command carrying this build's fingerprint is taken with JSON.parse alone.
 * - Poison (not JSON / not the command schema) is terminated and logged as a dead-letter record.
 * - A cancel (core NATS, `control.cancel`) aborts matching in-flight calls at once and publishes a
 *   failed `cancelled` result; a timeout publishes a failed `timeout` result (retryable). The
 *   runtime races the call against its signal, so this holds even if a provider ignores the signal
 *   (such a call then runs on unobserved until it settles, outside the concurrency bound).
 * - A call that throws (transient trouble) is nak'ed with backoff; after `maxErrorDeliveries`
 *   deliveries a failed `worker_error` result (retryable) lets the orchestrator's policy decide.
 * - A run-wide cancel is also remembered for `cancelMemoryMs` (a cancelled run never resumes), so a
 *   command of that run pulled later is answered `cancelled` without calling the provider.
 * - Shutdown stops pulling, lets in-flight calls finish for the grace period, then aborts the rest
 *   without a result and naks them so another process takes them.
 * - Token deltas and heartbeats are core NATS: best effort, lost when nobody listens.
 */
export class WorkerRuntime<C extends WorkCommandBase, O extends { status: string }, R> {
  private state: RuntimeState = 'new';
  private consumer: RunningConsumer | null = null;
  private cancelSub: Subscription | null = null;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private shutdownPromise: Promise<void> | null = null;
  private readonly inFlight = new Set<InFlight<C>>();
  private readonly cancelledRuns = new Map<string, number>();
  private doneCount = 0;
  private failedCount = 0;
  /** when the heartbeat timer last ran: the lease is held while the gap since stays under leaseMs */
  private lastTickAt = 0;
  private leaseLostCount = 0;
  private readonly delivered = { direct: 0, stream: 0 };
  private readonly now: () => number;
  private readonly host: string;

  constructor(
    private readonly spec: WorkerSpec<C, O, R>,
    private readonly options: WorkerRuntimeOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.host = options.host ?? hostname();
  }

  get status(): 'idle' | 'busy' | 'draining' {
    if (this.state === 'draining' || this.state === 'stopped') return 'draining';
    return this.inFlight.size > 0 ? 'busy' : 'idle';
  }
  get running(): boolean {
    return this.state === 'running';
  }
  get inFlightCount(): number {
    return this.inFlight.size;
  }
  get counters(): { done: number; failed: number; leaseLost: number } {
    return { done: this.doneCount, failed: this.failedCount, leaseLost: this.leaseLostCount };
  }
  /** results applied by the orchestrator in one hop, and results published to the RESULTS stream */
  get deliveries(): { direct: number; stream: number } {
    return { ...this.delivered };
  }

  async start(): Promise<void> {
    if (this.state !== 'new') throw new Error(`worker runtime cannot start from state ${this.state}`);
    const { log, logger } = this.options;
    const { streams, subjects } = log.names;
    // Subscribe to cancels before pulling, so no command runs without cancel coverage.
    this.cancelSub = log.nc.subscribe(subjects.cancel, {
      callback: (err, msg) => {
        if (err) logger.warn({ err }, 'cancel subscription error');
        else this.onCancel(msg.data);
      },
    });
    await log.nc.flush();
    this.consumer = await runConsumer(
      log,
      {
        stream: streams.commands,
        durable: this.spec.durable,
        concurrency: this.options.concurrency ?? 8,
        workingIntervalMs: this.options.workingIntervalMs ?? 5_000,
        instanceId: this.options.workerId,
        // the result is out before the ack, and the orchestrator takes a result once (by its attempt
        // token): a confirmed ack would only cost a reply per command, since a failed one fell back to
        // this same unconfirmed ack anyway (issue 12)
        ackWithoutReply: true,
        onDeadLetter: (m, reason) => this.deadLetter(m, reason),
        onError: (m, err) => logger.error({ err, subject: m.subject, streamSequence: m.seq, deliveryCount: m.info.deliveryCount }, 'work handler failed: nak with backoff'),
      },
      (m) => this.handle(m),
    );
    this.state = 'running';
    this.lastTickAt = this.now();
    this.heartbeat();
    this.heartbeatTimer = setInterval(() => this.tick(), this.options.heartbeatMs ?? 2_000);
    logger.info({ role: this.spec.role, durable: this.spec.durable, concurrency: this.options.concurrency ?? 8 }, 'worker pulling commands');
  }

  /** Idempotent. Resolves when every in-flight command has been settled (acked or handed back). */
  shutdown(): Promise<void> {
    this.shutdownPromise ??= this.drain();
    return this.shutdownPromise;
  }

  private async drain(): Promise<void> {
    const { logger, log } = this.options;
    if (this.state === 'new') {
      this.state = 'stopped';
      return;
    }
    this.state = 'draining';
    this.heartbeat();
    const stopping = this.consumer ? this.consumer.stop() : Promise.resolve();
    const graceMs = this.options.shutdownGraceMs ?? 10_000;
    let graceTimer: NodeJS.Timeout | undefined;
    const graceOver = new Promise<'grace'>((resolve) => (graceTimer = setTimeout(() => resolve('grace'), graceMs)));
    const first = await Promise.race([stopping.then(() => 'stopped' as const), graceOver]);
    clearTimeout(graceTimer);
    if (first === 'grace') {
      const handedBack = [...this.inFlight].map((e) => e.command.commandId);
      for (const entry of this.inFlight) entry.controller.abort(new WorkAborted('shutdown', 'worker shutting down'));
      logger.warn({ handedBack, graceMs }, 'shutdown grace period over: aborted in-flight calls, handing them back');
      await stopping;
    }
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = null;
    this.cancelSub?.unsubscribe();
    this.heartbeat(); // the final `draining` heartbeat
    await log.nc.flush().catch(() => undefined);
    this.state = 'stopped';
    logger.info({ ...this.counters }, 'worker stopped');
  }

  /* ------------------------------------------------------------------ one command */

  private async handle(m: JsMsg): Promise<Disposition> {
    const parsed = this.parse(m);
    if ('poison' in parsed) return term(parsed.poison, 'undecodable'); // copied to DEAD_LETTERS, then acked
    const command = parsed.command;
    const started = this.now();
    startWorkSpan(this.spec.role, m.headers, command, m.info.deliveryCount);

    if (this.isRunCancelled(command.runId)) {
      await this.publishResult(command, failedOutcome('cancelled', 'the run was cancelled before the command started', false), started);
      return ack();
    }

    const controller = new AbortController();
    const entry: InFlight<C> = { command, controller, seq: m.seq, startedAt: this.now() };
    // writes the result refers to, run beside its delivery (their failures are handled, then logged)
    const writes: Promise<unknown>[] = [];
    const alongside = (write: Promise<unknown>) => {
      write.catch(() => undefined); // settled later (or never, when the command is handed back)
      writes.push(write);
    };
    this.inFlight.add(entry);
    const timeoutMs = this.spec.timeoutMs(command);
    const timer =
      timeoutMs !== null && timeoutMs > 0
        ? setTimeout(() => controller.abort(new WorkAborted('timeout', `no result within ${timeoutMs} ms`)), timeoutMs)
        : null;
    const target = this.spec.liveTarget?.(command) ?? null;
    const coalescer = target ? new DeltaCoalescer((delta) => this.publishTokens(target, delta), this.options.liveIntervalMs ?? 150, this.now) : null;

    let outcome: O | FailedOutcome;
    try {
      const work = this.spec.execute(command, {
        signal: controller.signal,
        onDelta: (text) => coalescer?.push(text),
        onToolCall: (record) => {
          recordToolCallSpan(this.spec.role, command, record);
          if (!target) return;
          coalescer?.flush();
          this.publishToolCall(target, record);
        },
        deliveryCount: m.info.deliveryCount,
        alongside,
      });
      outcome = await raceAbort(work, controller.signal);
    } catch (err) {
      const reason: unknown = controller.signal.aborted ? controller.signal.reason : null;
      if (reason instanceof WorkAborted) {
        if (reason.kind === 'shutdown') return nak(0); // no result: another worker takes it now
        if (reason.kind === 'lease_lost') return this.giveUp(command, started);
        outcome = failedOutcome(reason.kind, reason.message, reason.kind === 'timeout');
        const kept = await this.spec.salvage?.(command, reason.kind, alongside).catch((err: unknown) => {
          this.options.logger.warn({ err, commandId: command.commandId }, 'could not keep the partial work of an aborted command');
          return null;
        });
        if (kept) outcome = { ...outcome, ...kept } as FailedOutcome;
      } else {
        const deliveryCount = m.info.deliveryCount;
        const max = this.options.maxErrorDeliveries ?? 5;
        if (deliveryCount < max) {
          this.options.logger.warn({ err, commandId: command.commandId, deliveryCount }, 'work failed: nak with backoff');
          return nak(retryDelayMs(deliveryCount));
        }
        this.options.logger.error({ err, commandId: command.commandId, deliveryCount }, 'work keeps failing: publishing a failed result');
        outcome = failedOutcome('worker_error', `${errorMessage(err)} (after ${deliveryCount} deliveries)`, true);
      }
    } finally {
      if (timer) clearTimeout(timer);
      this.inFlight.delete(entry);
      coalescer?.close();
    }
    // a result finished while this process was frozen past its lease is not ours to report
    if (this.leaseLapsed(entry) || isLeaseLost(controller.signal)) return this.giveUp(command, started);
    // A failure to publish throws: runConsumer naks with backoff and the command runs again later.
    await this.publishResult(command, outcome, started, writes);
    return ack();
  }

  /* ------------------------------------------------------------------ the lease */

  /** whether the process went without a heartbeat for longer than the lease while it held `entry` */
  private leaseLapsed(entry: InFlight<C>): boolean {
    return this.now() - Math.max(this.lastTickAt, entry.startedAt) > (this.options.leaseMs ?? 8_000);
  }

  /** Each heartbeat period: after a gap longer than the lease, the calls that lived through it are given up first. */
  private tick(): void {
    {
      const lost = [...this.inFlight].filter((entry) => this.leaseLapsed(entry));
      for (const entry of lost) entry.controller.abort(new WorkAborted('lease_lost', `no heartbeat for ${this.now() - this.lastTickAt} ms (lease ${this.options.leaseMs ?? 8_000} ms)`));
      if (lost.length > 0) this.options.logger.warn({ gapMs: this.now() - this.lastTickAt, commands: lost.map((e) => e.command.commandId) }, 'lease lost: giving in-flight work up');
    }
    this.lastTickAt = this.now();
    this.heartbeat();
  }

  /**
   * The lease was lost: publish nothing of the work. A candidate answers `lease_lost` (the run
   * re-dispatches it under a new token, or refuses this as stale if it already did); other work is
   * handed back to the queue for another worker.
   */
  private async giveUp(command: C, started: number): Promise<Disposition> {
    this.leaseLostCount += 1;
    if (!this.spec.redispatchedOnStall) return nak(0);
    await this.publishResult(command, failedOutcome('lease_lost', 'the worker lost its lease (it could not heartbeat) and gave the work up', true), started);
    return ack();
  }

  /** JSON.parse alone for a command carrying this build's contracts fingerprint, else the spec's schema too. */
  private parse(m: JsMsg): { command: C } | { poison: string } {
    const decoded = decodeContract(this.spec.command, m.data, m.headers);
    if ('notJson' in decoded) return { poison: 'payload is not JSON' };
    if ('issues' in decoded) return { poison: `command does not parse: ${decoded.issues}`.slice(0, 500) };
    return { command: decoded.value };
  }

  /**
   * Delivers the result, and waits for the writes it refers to (`writes`, already running) in the
   * same breath: the command may be acked once this resolves. Throws when the result could be
   * neither applied nor stored (the caller naks; the command runs again later).
   */
  private async publishResult(command: C, outcome: O | FailedOutcome, started: number, writes: Promise<unknown>[] = []): Promise<void> {
    const durationMs = Math.max(0, Math.round(this.now() - started));
    const trace = workTrace(command); // the candidate records its span
    const result = this.spec.result.parse({ ...this.spec.toResult(command, outcome, { workerId: this.options.workerId, durationMs }), ...(trace ? { trace } : {}) });
    const [delivery, settled] = await Promise.all([this.deliver(command, result), Promise.allSettled(writes)]);
    endWorkSpan(command, outcome);
    for (const s of settled) {
      if (s.status === 'rejected') this.options.logger.warn({ err: s.reason as unknown, commandId: command.commandId }, 'a write the result refers to failed');
    }
    if (outcome.status === 'failed') this.failedCount += 1;
    else this.doneCount += 1;
    this.options.logger.debug({ commandId: command.commandId, status: outcome.status, durationMs, ...delivery }, 'result delivered');
  }

  /**
   * One hop first: a core NATS request to the orchestrator, which answers `ok` once the result's
   * decision is appended. No responder, no answer in time or an error answer: the RESULTS stream
   * (durable; its consumer applies the result, or dead-letters poison). A result the orchestrator
   * applied and that also reaches the stream (its answer was lost) is a duplicate the decider ignores.
   */
  private async deliver(command: C, result: R): Promise<{ via: 'direct'; appended: number } | { via: 'stream'; seq: number; duplicate: boolean; directError?: string }> {
    const { log } = this.options;
    const bytes = encoder.encode(JSON.stringify(result));
    let directError: string | undefined;
    if (this.options.directResults ?? true) {
      try {
        const reply = await log.nc.request(log.names.subjects.directResult, bytes, { timeout: this.options.directResultTimeoutMs ?? 3_000, headers: contractsHeaders() });
        const answer = DirectResultReply.safeParse(JSON.parse(decoder.decode(reply.data)));
        if (answer.success && answer.data.ok) {
          this.delivered.direct += 1;
          return { via: 'direct', appended: answer.data.appended };
        }
        directError = answer.success && !answer.data.ok ? answer.data.error : 'an answer that does not parse';
      } catch (err) {
        directError = errorMessage(err); // no responder, a timeout, a closed connection
      }
    }
    const ack = await log.js.publish(log.names.subjects.result(command.runId), bytes, { msgID: `${command.commandId}:result`, headers: contractsHeaders() });
    this.delivered.stream += 1;
    return { via: 'stream', seq: ack.seq, duplicate: ack.duplicate, ...(directError ? { directError } : {}) };
  }

  /** logged after runConsumer copied the message to DEAD_LETTERS (which keeps the payload) */
  private deadLetter(m: JsMsg, reason: string): void {
    this.options.logger.error(
      { deadLetter: { stream: m.info.stream, durable: this.spec.durable, subject: m.subject, streamSequence: m.seq, deliveryCount: m.info.deliveryCount, reason, workerId: this.options.workerId } },
      'dead letter: command copied to DEAD_LETTERS and acked',
    );
  }

  /* ------------------------------------------------------------------ cancel */

  private onCancel(data: Uint8Array): void {
    let parsed: ReturnType<typeof CancelWork.safeParse>;
    try {
      parsed = CancelWork.safeParse(JSON.parse(decoder.decode(data)));
    } catch {
      this.options.logger.warn({}, 'ignored a cancel that is not JSON');
      return;
    }
    if (!parsed.success) {
      this.options.logger.warn({ issues: parsed.error.issues.map((i) => i.message) }, 'ignored a cancel that does not parse');
      return;
    }
    const { runId, commandIds } = parsed.data;
    if (!commandIds) this.rememberCancelledRun(runId);
    const aborted: string[] = [];
    for (const entry of this.inFlight) {
      if (entry.command.runId !== runId) continue;
      if (commandIds && !commandIds.includes(entry.command.commandId)) continue;
      entry.controller.abort(new WorkAborted('cancelled', 'cancelled by the orchestrator'));
      aborted.push(entry.command.commandId);
    }
    if (aborted.length > 0) this.options.logger.info({ runId, aborted }, 'cancelled in-flight commands');
  }

  private rememberCancelledRun(runId: string): void {
    const now = this.now();
    for (const [id, expires] of this.cancelledRuns) if (expires <= now) this.cancelledRuns.delete(id);
    this.cancelledRuns.set(runId, now + (this.options.cancelMemoryMs ?? 10 * 60_000));
  }

  private isRunCancelled(runId: string): boolean {
    const expires = this.cancelledRuns.get(runId);
    return expires !== undefined && expires > this.now();
  }

  /* ------------------------------------------------------------------ live (core NATS) */

  private heartbeat(): void {
    this.publishLive(this.options.log.names.subjects.liveWorker(this.options.workerId), {
      kind: 'heartbeat',
      workerId: this.options.workerId,
      role: this.spec.role,
      host: this.host,
      status: this.status,
      inFlight: this.inFlight.size,
      done: this.doneCount,
      failed: this.failedCount,
      at: new Date(this.now()).toISOString(),
      // what this process holds: when the heartbeats stop, the orchestrator re-dispatches it
      commands: [...this.inFlight].map((e) => ({ runId: e.command.runId, commandId: e.command.commandId, seq: e.seq })),
      intervalMs: this.options.heartbeatMs ?? 2_000,
      leaseMs: this.options.leaseMs ?? 8_000,
      ...(this.options.sandbox ? { sandbox: this.options.sandbox } : {}),
    });
  }

  private publishTokens(target: LiveTarget, delta: string): void {
    this.publishLive(this.options.log.names.subjects.liveRun(target.runId), {
      kind: 'tokens',
      runId: target.runId,
      phaseId: target.phaseId,
      candidateId: target.candidateId,
      delta,
      at: new Date(this.now()).toISOString(),
    });
  }

  private publishToolCall(target: LiveTarget, record: ToolCallRecord): void {
    this.publishLive(this.options.log.names.subjects.liveRun(target.runId), {
      kind: 'tool_call',
      runId: target.runId,
      phaseId: target.phaseId,
      candidateId: target.candidateId,
      tool: record.tool,
      input: record.input,
      outputSummary: record.outputSummary,
      refused: record.refused,
      durationMs: record.durationMs,
      at: record.at,
    });
  }

  /** Best effort by design (core NATS): a closed connection loses the message, never the work. */
  private publishLive(subject: string, message: LiveMessage): void {
    try {
      this.options.log.nc.publish(subject, encoder.encode(JSON.stringify(LiveMessage.parse(message))));
    } catch (err) {
      this.options.logger.warn({ err, subject }, 'live message not published');
    }
  }
}

function isLeaseLost(signal: AbortSignal): boolean {
  return signal.aborted && signal.reason instanceof WorkAborted && signal.reason.kind === 'lease_lost';
}

/** Settles with the work, or rejects with the signal's reason as soon as it is aborted. */
function raceAbort<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  work.catch(() => undefined); // a late rejection after an abort is not unhandled
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
