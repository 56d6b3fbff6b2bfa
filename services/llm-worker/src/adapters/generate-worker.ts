import { CandidateResult, GenerateCandidate, type NatsNames } from '@conclave/contracts';
import { TranscriptStore, type EventLog } from '@conclave/event-log';
import { ServiceMetrics } from '@conclave/service-kit';
import { WorkerRuntime, type ExecuteContext, type WorkerEnv, type WorkerLogger, type WorkerSpec } from '@conclave/worker-kit';
import { partialWorkOf } from '../domain/agent/code-change';
import { generateCandidate, type CandidateOutcome, type GenerateDeps } from '../domain/generate';
import type { AgentSession } from '../domain/provider';
import { AjvOutputValidator } from './ajv-validator';
import { createProviderRegistry, credentialSourceOf, type ProviderSettings } from './providers';

/** A candidate's outcome as results carry it: the transcript's reference (inline when small). */
export type StoredOutcome = CandidateResult['outcome'];
const metrics = new ServiceMetrics('llm-worker');
export type GenerateRuntime = WorkerRuntime<GenerateCandidate, StoredOutcome, CandidateResult>;

export interface GenerateWorkerDeps extends GenerateDeps {
  transcripts: Pick<TranscriptStore, 'stage'>;
  logger: WorkerLogger;
}

/**
 * Replaces the conversation in the outcome by its reference: inline when small, else its
 * content-addressed key, with the object-store write running beside the result's delivery (the
 * runtime acks the command only after it settled). A store that cannot be reached costs the
 * transcript (logged; readers then find nothing under the key), never the candidate: redoing a
 * paid call for it would be worse.
 */
function storeTranscript(outcome: CandidateOutcome, command: GenerateCandidate, deps: GenerateWorkerDeps, alongside: ExecuteContext['alongside']): StoredOutcome {
  const { transcript, ...rest } = outcome;
  if (!transcript || transcript.length === 0) return rest;
  const { ref, stored } = deps.transcripts.stage(transcript);
  alongside(
    stored.catch((err: unknown) => {
      deps.logger.warn({ err: (err as Error).message, runId: command.runId, candidateId: command.candidateId, key: ref.key }, 'transcript not stored');
    }),
  );
  return { ...rest, transcript: ref };
}

/** GenerateCandidate → CandidateResult on the shared `llm-workers` consumer. */
export function generateWorkerSpec(deps: GenerateWorkerDeps, names: NatsNames): WorkerSpec<GenerateCandidate, StoredOutcome, CandidateResult> {
  // agents in flight, by command id: a cancel or a timeout keeps what they had done
  const sessions = new Map<string, AgentSession>();
  return {
    role: 'llm-worker',
    durable: names.consumers.generateWorkers,
    // a stalled candidate is re-dispatched under a new token: a lease lost gives it back as a result
    redispatchedOnStall: true,
    command: GenerateCandidate,
    result: CandidateResult,
    timeoutMs: (command) => command.timeoutSeconds * 1000,
    liveTarget: (command) => ({ runId: command.runId, phaseId: command.phaseId, candidateId: command.candidateId }),
    execute: async (command, ctx) => {
      const outcome = await generateCandidate(command, deps, { ...ctx, onAgentStarted: (session) => sessions.set(command.commandId, session) });
      if (!ctx.signal.aborted) sessions.delete(command.commandId); // an aborted one is salvage's to clear
      return storeTranscript(outcome, command, deps, ctx.alongside);
    },
    salvage: async (command, kind, alongside) => {
      const session = sessions.get(command.commandId);
      sessions.delete(command.commandId);
      if (!session) return null;
      const info = { runId: command.runId, phaseId: command.phaseId, candidateId: command.candidateId, provider: command.provider, model: command.model };
      const partial = await partialWorkOf(session.tools, info, kind);
      const stored = storeTranscript({ status: 'failed', error: { code: kind, message: kind, retryable: false }, transcript: session.transcript() }, command, deps, alongside);
      return { partial, toolCalls: [...session.tools.records], ...(stored.status === 'failed' && stored.transcript ? { transcript: stored.transcript } : {}) };
    },
    // latency, tokens and cost by provider and model, once per result built (counters only)
    toResult: (command, outcome, meta) => metrics.call('candidate', {
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
      outcome,
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
  return new WorkerRuntime(generateWorkerSpec({ providers, validator, transcripts: new TranscriptStore(log), logger }, log.names), {
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
