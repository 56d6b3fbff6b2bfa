import { CandidateResult, GenerateCandidate, type NatsNames } from '@conclave/contracts';
import { TranscriptStore, type EventLog } from '@conclave/event-log';
import { WorkerRuntime, type WorkerEnv, type WorkerLogger, type WorkerSpec } from '@conclave/worker-kit';
import { partialWorkOf } from '../domain/agent/code-change';
import { generateCandidate, type CandidateOutcome, type GenerateDeps } from '../domain/generate';
import type { AgentSession } from '../domain/provider';
import { AjvOutputValidator } from './ajv-validator';
import { createProviderRegistry, credentialSourceOf, type ProviderSettings } from './providers';

/** A candidate's outcome as results carry it: the transcript stored, only its reference kept. */
export type StoredOutcome = CandidateResult['outcome'];
export type GenerateRuntime = WorkerRuntime<GenerateCandidate, StoredOutcome, CandidateResult>;

export interface GenerateWorkerDeps extends GenerateDeps {
  transcripts: Pick<TranscriptStore, 'put'>;
  logger: WorkerLogger;
}

/**
 * Moves the conversation out of the outcome into the transcripts store. A store that cannot be
 * reached costs the transcript (logged), never the candidate: redoing a paid call for it would
 * be worse.
 */
async function storeTranscript(outcome: CandidateOutcome, command: GenerateCandidate, deps: GenerateWorkerDeps): Promise<StoredOutcome> {
  const { transcript, ...rest } = outcome;
  if (!transcript || transcript.length === 0) return rest;
  try {
    return { ...rest, transcript: await deps.transcripts.put(transcript) };
  } catch (err) {
    deps.logger.warn({ err: (err as Error).message, runId: command.runId, candidateId: command.candidateId }, 'transcript not stored');
    return rest;
  }
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
      return storeTranscript(outcome, command, deps);
    },
    salvage: async (command, kind) => {
      const session = sessions.get(command.commandId);
      sessions.delete(command.commandId);
      if (!session) return null;
      const info = { runId: command.runId, phaseId: command.phaseId, candidateId: command.candidateId, provider: command.provider, model: command.model };
      const partial = await partialWorkOf(session.tools, info, kind);
      const stored = await storeTranscript({ status: 'failed', error: { code: kind, message: kind, retryable: false }, transcript: session.transcript() }, command, deps);
      return { partial, toolCalls: [...session.tools.records], ...(stored.status === 'failed' && stored.transcript ? { transcript: stored.transcript } : {}) };
    },
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
