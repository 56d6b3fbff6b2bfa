import type { EventLog } from '@conclave/event-log';
import type { WorkerLogger, WorkerRuntimeOptions } from '@conclave/worker-kit';

/** What a runtime beside the generate one (tool phases, git work) is run with: a worker of its own in the fleet. */
export interface SideRuntimeSettings {
  workerId: string;
  concurrency: number;
  heartbeatMs: number;
  shutdownGraceMs: number;
  workingIntervalMs: number;
}

export function sideRuntimeOptions(settings: SideRuntimeSettings, log: EventLog, logger: WorkerLogger): WorkerRuntimeOptions {
  const { workerId, concurrency, heartbeatMs, shutdownGraceMs, workingIntervalMs } = settings;
  return { log, logger, workerId, concurrency, heartbeatMs, shutdownGraceMs, workingIntervalMs };
}
