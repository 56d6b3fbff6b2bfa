import type { Msg, MsgHdrs, Subscription } from '@nats-io/transport-node';
import { studyOfWork, WorkResult, type DirectResultReply } from '@conclave/contracts';
import { ack, decodeContract, nak, runConsumer, term, retryDelayMs, EventLog, type RunningConsumer } from '@conclave/event-log';
import type { Logger } from '@conclave/service-kit';
import type { RunRepository } from '../adapters/run-repository';
import type { StudyService } from '../study/study-service';

/** What applying one result came to: its decision appended (possibly nothing), poison, or a failure to retry. */
export type ResultApplied = { kind: 'applied'; appended: number; commandId: string } | { kind: 'poison'; reason: string } | { kind: 'failed'; err: unknown; commandId: string };

export interface ResultDeps {
  runs: RunRepository;
  logger: Logger;
  now: () => Date;
  /** a study's judge results (their runId is `study-<id>`, ADR 023) */
  studies?: StudyService;
}

/**
 * One worker result → the decider → the log, the same for both ways a result arrives (the RESULTS
 * stream's durable consumer and the workers' direct requests). A result carrying this build's
 * contracts fingerprint (the worker parsed it with the same WorkResult) is taken with JSON.parse
 * alone; any other is validated in full, and poison is reported, never applied. At-least-once: a
 * result may arrive twice (by both ways) or late; the decider ignores duplicates and refuses stale
 * attempt tokens, so applying stays idempotent. `applied` means the events it caused are appended.
 */
export async function applyResult(deps: ResultDeps, data: Uint8Array, headers: MsgHdrs | undefined): Promise<ResultApplied> {
  const decoded = decodeContract(WorkResult, data, headers);
  if ('notJson' in decoded) return { kind: 'poison', reason: 'result is not JSON' };
  if ('issues' in decoded) return { kind: 'poison', reason: `result does not match the contract: ${decoded.issues}`.slice(0, 1000) };
  const result = decoded.value;
  const studyId = studyOfWork(result.runId);
  if (studyId !== null) {
    if (result.type !== 'VerdictResult' || !deps.studies) return { kind: 'poison', reason: `a ${result.type} for study ${studyId} that this orchestrator cannot apply` };
    try {
      const outcome = await deps.studies.handle(studyId, { type: 'VerdictResult', result }, { occurredAt: deps.now().toISOString(), correlationId: studyId, causationId: result.commandId, actor: { kind: 'worker', id: result.workerId } });
      return { kind: 'applied', appended: outcome.appended.length, commandId: result.commandId };
    } catch (err) {
      return { kind: 'failed', err, commandId: result.commandId };
    }
  }
  try {
    const outcome = await deps.runs.handle(result.runId, { type: result.type, result } as never, {
      occurredAt: deps.now().toISOString(),
      correlationId: result.runId,
      causationId: result.commandId,
      actor: { kind: 'worker', id: result.workerId },
    });
    if (outcome.appended.length === 0) deps.logger.debug({ commandId: result.commandId }, 'result decided nothing (duplicate or stale)');
    return { kind: 'applied', appended: outcome.appended.length, commandId: result.commandId };
  } catch (err) {
    return { kind: 'failed', err, commandId: result.commandId };
  }
}

/**
 * Worker results from the RESULTS stream → decider: the path of results a worker could not hand
 * over directly, and the repair path. The result is acked only after the events it caused are
 * appended; poison is dead-lettered; a failure is retried with backoff.
 */
export async function startResultsConsumer(log: EventLog, runs: RunRepository, logger: Logger, concurrency: number, now: () => Date, studies?: StudyService): Promise<RunningConsumer> {
  const { streams, consumers } = log.names;
  const deps: ResultDeps = { runs, logger, now, studies };
  return runConsumer(
    log,
    {
      stream: streams.results,
      durable: consumers.orchestratorResults,
      concurrency,
      onDeadLetter: (m, reason) => logger.error({ deadLetter: true, subject: m.subject, seq: m.seq, reason }, 'result terminated as poison'),
      onError: (m, err) => logger.warn({ err, subject: m.subject, seq: m.seq, deliveryCount: m.info.deliveryCount }, 'result handling failed; will retry'),
    },
    async (m) => {
      const applied = await applyResult(deps, m.data, m.headers);
      switch (applied.kind) {
        case 'applied':
          return ack();
        case 'poison':
          return term(applied.reason, 'undecodable');
        case 'failed':
          logger.warn({ err: applied.err, commandId: applied.commandId }, 'could not apply result; retrying');
          return nak(retryDelayMs(m.info.deliveryCount));
        default: {
          const never: never = applied;
          throw new Error(`unknown outcome ${JSON.stringify(never)}`);
        }
      }
    },
  );
}

export interface DirectResultsOptions {
  /** results applied at once by this process (others wait in a queue) */
  concurrency: number;
  /** results waiting beyond this are answered `busy` at once: their workers use the RESULTS stream */
  maxQueued?: number;
}

export interface DirectResults {
  /** stop taking results; resolves when those taken are applied and answered */
  stop(): Promise<void>;
  readonly inFlight: number;
}

const encoder = new TextEncoder();

/**
 * Worker results in one hop (issue 12 §4): a core NATS responder on `directResult`, in the queue
 * group shared by the orchestrator's replicas, that applies a result exactly as the RESULTS
 * consumer does (applyResult) and answers `ok` only after the decision is appended (or decided
 * nothing: a duplicate or a stale result). Anything else is answered `ok: false` — poison too —
 * and the worker then publishes the result to the RESULTS stream, whose durable consumer retries
 * it or dead-letters it. Nothing here is durable: a crash before the answer leaves the worker
 * waiting until its timeout, after which it uses the stream.
 */
export function startDirectResults(log: EventLog, runs: RunRepository, logger: Logger, now: () => Date, options: DirectResultsOptions, studies?: StudyService): DirectResults {
  const deps: ResultDeps = { runs, logger, now, studies };
  const concurrency = Math.max(1, options.concurrency);
  const maxQueued = options.maxQueued ?? 1_000;
  const queue: Msg[] = [];
  const running = new Set<Promise<void>>();
  let idle: (() => void) | null = null;

  const answer = (m: Msg, reply: DirectResultReply) => {
    try {
      m.respond(encoder.encode(JSON.stringify(reply)));
    } catch (err) {
      logger.warn({ err }, 'direct result: the answer was not sent (the worker falls back to the RESULTS stream)');
    }
  };
  const apply = async (m: Msg) => {
    const applied = await applyResult(deps, m.data, m.headers).catch((err: unknown): ResultApplied => ({ kind: 'failed', err, commandId: '(unknown)' }));
    switch (applied.kind) {
      case 'applied':
        return answer(m, { ok: true, appended: applied.appended });
      case 'poison':
        logger.warn({ reason: applied.reason }, 'direct result refused as poison: its worker hands it to the RESULTS stream (dead-lettered there)');
        return answer(m, { ok: false, error: applied.reason });
      case 'failed':
        logger.warn({ err: applied.err, commandId: applied.commandId }, 'could not apply a direct result: its worker hands it to the RESULTS stream');
        return answer(m, { ok: false, error: applied.err instanceof Error ? applied.err.message : String(applied.err) });
      default: {
        const never: never = applied;
        throw new Error(`unknown outcome ${JSON.stringify(never)}`);
      }
    }
  };
  const pump = () => {
    while (running.size < concurrency && queue.length > 0) {
      const m = queue.shift()!;
      const task = apply(m).finally(() => {
        running.delete(task);
        pump();
      });
      running.add(task);
    }
    if (running.size === 0 && queue.length === 0) idle?.();
  };

  const sub: Subscription = log.nc.subscribe(log.names.subjects.directResult, {
    queue: log.names.queues.orchestrator,
    callback: (err, m) => {
      if (err) {
        logger.warn({ err }, 'direct results subscription error');
        return;
      }
      if (!m.reply) return; // not a request: nobody would learn the outcome, the stream path is the worker's
      if (queue.length >= maxQueued) {
        answer(m, { ok: false, error: 'busy' });
        return;
      }
      queue.push(m);
      pump();
    },
  });

  return {
    get inFlight() {
      return running.size + queue.length;
    },
    async stop() {
      await sub.drain().catch(() => undefined); // fails only on a closing connection: nothing more arrives anyway
      if (running.size > 0 || queue.length > 0) await new Promise<void>((resolve) => (idle = resolve));
    },
  };
}
