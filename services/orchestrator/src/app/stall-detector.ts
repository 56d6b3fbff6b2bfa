import { LiveMessage } from '@conclave/contracts';
import type { EventLog } from '@conclave/event-log';
import type { Logger } from '@conclave/service-kit';
import type { RunRepository } from '../adapters/run-repository';

interface WorkerSeen {
  lastSeen: number;
  intervalMs: number;
  draining: boolean;
  commands: { runId: string; commandId: string }[];
}

/**
 * Watches worker heartbeats (core NATS `live.worker.*`). When a worker that holds work falls
 * silent for the stall window (at least three of its heartbeat periods), each command it held is
 * reported to its run as stalled; the decider re-dispatches still-outstanding candidates under a
 * new attempt token, so the old worker's late result is refused. A worker that said it is
 * draining hands its work back itself and is not reported. Every replica may report the same
 * stall: the decision is idempotent (the token has moved on).
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
      workers.set(beat.workerId, { lastSeen: now(), intervalMs: beat.intervalMs ?? 2_000, draining: beat.status === 'draining', commands: beat.commands ?? [] });
    },
  });
  let checking = false;
  const timer = setInterval(async () => {
    if (checking) return;
    checking = true;
    try {
      for (const [workerId, seen] of workers) {
        const window = Math.max(options.stallMs, 3 * seen.intervalMs);
        if (now() - seen.lastSeen <= window) continue;
        workers.delete(workerId); // reported once; a worker that comes back heartbeats anew
        if (seen.draining || seen.commands.length === 0) continue;
        logger.warn({ workerId, silentMs: now() - seen.lastSeen, commands: seen.commands.length }, 'worker stalled: re-dispatching its work');
        for (const { runId, commandId } of seen.commands) {
          await runs
            .handle(runId, { type: 'Stalled', attemptToken: commandId }, {
              occurredAt: new Date(now()).toISOString(),
              correlationId: runId,
              causationId: `stall:${workerId}`,
              actor: { kind: 'system', id: 'stall-detector' },
            })
            .catch((err: unknown) => logger.error({ err, runId, commandId }, 'could not re-dispatch stalled work'));
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
