import { CandidateResult, GenerateCandidate, type NatsNames } from '@conclave/contracts';
import type { EventLog } from '@conclave/event-log';
import { WorkerRuntime, type WorkerEnv, type WorkerLogger, type WorkerSpec } from '@conclave/worker-kit';
import { generateCandidate, type CandidateOutcome, type GenerateDeps } from '../domain/generate';
import { AjvOutputValidator } from './ajv-validator';
import { createProviderRegistry, credentialSourceOf, type ProviderSettings } from './providers';

export type GenerateRuntime = WorkerRuntime<GenerateCandidate, CandidateOutcome, CandidateResult>;

/** GenerateCandidate → CandidateResult on the shared `llm-workers` consumer. */
export function generateWorkerSpec(deps: GenerateDeps, names: NatsNames): WorkerSpec<GenerateCandidate, CandidateOutcome, CandidateResult> {
  return {
    role: 'llm-worker',
    durable: names.consumers.generateWorkers,
    command: GenerateCandidate,
    result: CandidateResult,
    timeoutMs: (command) => command.timeoutSeconds * 1000,
    liveTarget: (command) => ({ runId: command.runId, phaseId: command.phaseId, candidateId: command.candidateId }),
    execute: (command, ctx) => generateCandidate(command, deps, ctx),
    toResult: (command, outcome, meta) => ({
      type: 'CandidateResult',
      commandId: command.commandId,
      runId: command.runId,
      phaseId: command.phaseId,
      attempt: command.attempt,
      attemptToken: command.attemptToken,
      candidateId: command.candidateId,
      workerId: meta.workerId,
      provider: command.provider,
      model: command.model,
      durationMs: meta.durationMs,
      // the transcript goes to the transcripts object store (wired next), never inline
      outcome: { ...outcome, transcript: undefined },
    }),
  };
}

export type LlmWorkerSettings = Pick<
  WorkerEnv,
  | 'INSTANCE_ID'
  | 'WORKER_CONCURRENCY'
  | 'WORKER_HEARTBEAT_MS'
  | 'WORKER_SHUTDOWN_GRACE_MS'
  | 'WORKER_WORKING_INTERVAL_MS'
> &
  Partial<ProviderSettings>;

/** The whole worker minus Nest: used by the module and by the integration tests alike. */
export function createGenerateRuntime(env: LlmWorkerSettings, log: EventLog, logger: WorkerLogger, overrides: { liveIntervalMs?: number } = {}): GenerateRuntime {
  const validator = new AjvOutputValidator();
  const providers = createProviderRegistry(env, validator, credentialSourceOf(env, { nc: log.nc, subject: log.names.subjects.credentials, logger }));
  return new WorkerRuntime(generateWorkerSpec({ providers, validator }, log.names), {
    log,
    logger,
    workerId: env.INSTANCE_ID,
    concurrency: env.WORKER_CONCURRENCY,
    heartbeatMs: env.WORKER_HEARTBEAT_MS,
    shutdownGraceMs: env.WORKER_SHUTDOWN_GRACE_MS,
    workingIntervalMs: env.WORKER_WORKING_INTERVAL_MS,
    ...overrides,
  });
}
