import { LiveMessage } from '@conclave/contracts';
import type { EventLog } from '@conclave/event-log';
import type { Logger } from '@conclave/service-kit';
import type { RunRepository } from '../adapters/run-repository';

interface WorkerSeen {
  lastSeen: number;
  intervalMs: number;
  leaseMs: number;
  draining: boolean;
  commands: { runId: string; commandId: string; seq?: number }[];
}

/** how long after a worker's lease ran out its work may be re-dispatched (clock and delivery slack) */
const LEASE_MARGIN_MS = 2_000;

/**
 * Watches worker heartbeats (core NATS `live.worker.*`). When a worker that holds work falls
 * silent for the stall window (at least three of its heartbeat periods), each command it held is
 * reported to its run as stalled; the decider re-dispatches still-outstanding candidates under a
 * new attempt token, so the old worker's late result is refused. A worker that said it is
 * draining hands its work back itself and is not reported. Every replica may report the same
 * stall: the decision is idempotent (the token has moved on).
 *
 * One provider call per candidate (issue 11 §5): the window is never shorter than the worker's
 * own lease plus a margin — a worker silent for its lease gives the work up by itself (and a late
 * result of the old token is refused as stale) — and the stalled command is removed from the
 * COMMANDS stream once re-dispatched, so JetStream never redelivers the old token to a worker.
 */
export function startStallDetector(
  log: EventLog,
  runs: RunRepository,
  logger: Logger,
  options: { stallMs: number; checkEveryMs?: number; now?: () => number },
): { stop(): Promise<void> } {
  const now = options.now ?? Date.now;
  const workers = new Map<string, WorkerSeen>();
  const sub = log.nc.subscribe(log.names.subjects.liveWorker('*'), {
    callback: (err, msg) => {
      if (err) return;
      let parsed;
      try {
        parsed = LiveMessage.safeParse(msg.json());
      } catch {
        return;
      }
      if (!parsed.success || parsed.data.kind !== 'heartbeat') return;
      const beat = parsed.data;
      workers.set(beat.workerId, { lastSeen: now(), intervalMs: beat.intervalMs ?? 2_000, leaseMs: beat.leaseMs ?? 0, draining: beat.status === 'draining', commands: beat.commands ?? [] });
    },
  });
  let checking = false;
  const timer = setInterval(async () => {
    if (checking) return;
    checking = true;
    try {
      for (const [workerId, seen] of workers) {
        const window = Math.max(options.stallMs, 3 * seen.intervalMs, seen.leaseMs > 0 ? seen.leaseMs + LEASE_MARGIN_MS : 0);
        if (now() - seen.lastSeen <= window) continue;
        workers.delete(workerId); // reported once; a worker that comes back heartbeats anew
        if (seen.draining || seen.commands.length === 0) continue;
        logger.warn({ workerId, silentMs: now() - seen.lastSeen, commands: seen.commands.length }, 'worker stalled: re-dispatching its work');
        for (const { runId, commandId, seq } of seen.commands) {
          try {
            const outcome = await runs.handle(runId, { type: 'Stalled', attemptToken: commandId }, {
              occurredAt: new Date(now()).toISOString(),
              correlationId: runId,
              causationId: `stall:${workerId}`,
              actor: { kind: 'system', id: 'stall-detector' },
            });
            const redispatched = outcome.appended.some((e) => e.type === 'CandidateRedispatched');
            if (redispatched && seq) {
              // the old token's command must not come back to a worker after its JetStream lease
              await log.jsm.streams.deleteMessage(log.names.streams.commands, seq, false).catch((err: unknown) => logger.debug({ err, seq }, 'stalled command already gone'));
            }
          } catch (err) {
            logger.error({ err, runId, commandId }, 'could not re-dispatch stalled work');
          }
        }
      }
    } finally {
      checking = false;
    }
  }, options.checkEveryMs ?? 1_000);
  return {
    async stop() {
      clearInterval(timer);
      sub.unsubscribe();
    },
  };
}
