import { JudgeCandidates, VerdictResult, type NatsNames } from '@conclave/contracts';
import type { EventLog } from '@conclave/event-log';
import { ServiceMetrics } from '@conclave/service-kit';
import { WorkerRuntime, type WorkerLogger, type WorkerSpec } from '@conclave/worker-kit';
import { judgeCandidates, type VerdictOutcome } from '../domain/judge';
import type { JudgeRegistry } from '../domain/judge-provider';
import type { JudgeEnv } from '../config';
import { createJudgeRegistry, credentialSourceOf, type JudgeProviderSettings } from './judges';

const metrics = new ServiceMetrics('judge');
export type JudgeRuntime = WorkerRuntime<JudgeCandidates, VerdictOutcome, VerdictResult>;

/** JudgeCandidates → VerdictResult on the shared `judges` consumer. */
export function judgeWorkerSpec(judges: JudgeRegistry, names: NatsNames, timeoutMs: number): WorkerSpec<JudgeCandidates, VerdictOutcome, VerdictResult> {
  return {
    role: 'judge',
    durable: names.consumers.judgeWorkers,
    command: JudgeCandidates,
    result: VerdictResult,
    // JudgeCandidates carries no deadline of its own: the process-wide JUDGE_TIMEOUT_SECONDS applies
    timeoutMs: () => timeoutMs,
    execute: (command, ctx) => judgeCandidates(command, { judges }, ctx),
    // latency, tokens and cost by provider and model, once per result built (counters only)
    toResult: (command, outcome, meta) => metrics.call('judge', {
      type: 'VerdictResult',
      commandId: command.commandId,
      runId: command.runId,
      phaseId: command.phaseId,
      attempt: command.attempt,
      attemptToken: command.attemptToken,
      judgeId: command.judgeId,
      workerId: meta.workerId,
      provider: command.provider,
      model: command.model,
      durationMs: meta.durationMs,
      outcome,
    }),
  };
}

export type JudgeSettings = Pick<
  JudgeEnv,
  | 'INSTANCE_ID'
  | 'WORKER_CONCURRENCY'
  | 'WORKER_HEARTBEAT_MS'
  | 'WORKER_SHUTDOWN_GRACE_MS'
  | 'WORKER_WORKING_INTERVAL_MS'
  | 'JUDGE_TIMEOUT_SECONDS'
> &
  JudgeProviderSettings;

/** The whole judge worker minus Nest: used by the module and by the integration tests alike. */
export function createJudgeRuntime(env: JudgeSettings, log: EventLog, logger: WorkerLogger): JudgeRuntime {
  const judges = createJudgeRegistry(env, credentialSourceOf(env, { nc: log.nc, subject: log.names.subjects.credentials, logger }));
  return new WorkerRuntime(judgeWorkerSpec(judges, log.names, env.JUDGE_TIMEOUT_SECONDS * 1000), {
    log,
    logger,
    workerId: env.INSTANCE_ID,
    concurrency: env.WORKER_CONCURRENCY,
    heartbeatMs: env.WORKER_HEARTBEAT_MS,
    shutdownGraceMs: env.WORKER_SHUTDOWN_GRACE_MS,
    workingIntervalMs: env.WORKER_WORKING_INTERVAL_MS,
  });
}
