import type { Failure, GenerateCandidate, Tokens, ToolCallRecord, TranscriptMessage } from '@conclave/contracts';
import type { OutputValidator } from './output-validator';
import { isProviderError, type GenerateContext, type ProviderAdapter, type ProviderRegistry } from './provider';

export type GeneratedOutcome = {
  status: 'generated';
  output: unknown;
  tokens: Tokens;
  costUsd: number;
  toolCalls?: ToolCallRecord[];
  transcript?: TranscriptMessage[];
};
export type FailedCandidateOutcome = {
  status: 'failed';
  error: Failure;
  raw?: string;
  tokens?: Tokens;
  costUsd?: number;
  transcript?: TranscriptMessage[];
};
export type CandidateOutcome = GeneratedOutcome | FailedCandidateOutcome;

export interface GenerateDeps {
  providers: ProviderRegistry<ProviderAdapter>;
  validator: OutputValidator;
}

/** Shown in a failed result: at most this many validation errors. */
const MAX_REPORTED_ERRORS = 10;
/** The raw output carried by an output_invalid result. */
const RAW_CAP = 8_000;

/**
 * Generate one candidate: call the named provider, then validate the output against the phase's
 * schema. Provider-reported failures, unknown providers and invalid outputs become failed outcomes
 * (the orchestrator decides about retries; an `output_invalid` carries the raw output for
 * OutputRejected); aborts and transient errors propagate to the worker. The SDK adapters have
 * already made their one repair attempt; this check is the last word for every provider.
 */
export async function generateCandidate(command: GenerateCandidate, deps: GenerateDeps, ctx: GenerateContext): Promise<CandidateOutcome> {
  const adapter = deps.providers.get(command.provider);
  if (!adapter) {
    const known = deps.providers.names().join(', ') || 'none';
    return failed('provider_not_configured', `provider "${command.provider}" is not configured on this worker (configured: ${known})`, false);
  }
  let generation;
  try {
    generation = await adapter.generate(
      {
        provider: command.provider,
        model: command.model,
        options: command.options ?? {},
        prompt: command.prompt,
        output: command.output,
        slot: command.slot,
        runId: command.runId,
        phaseId: command.phaseId,
        candidateId: command.candidateId,
        ...(command.checkout ? { checkout: command.checkout } : {}),
        ...(command.agent ? { agent: command.agent } : {}),
      },
      ctx,
    );
  } catch (err) {
    if (isProviderError(err) && !ctx.signal.aborted) {
      const { retryAfterMs, raw, tokens, costUsd, transcript } = err.extra ?? {};
      return {
        status: 'failed',
        error: { code: err.code, message: err.message, retryable: err.retryable, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) },
        ...(raw !== undefined ? { raw: raw.slice(0, RAW_CAP) } : {}),
        ...(tokens ? { tokens } : {}),
        ...(costUsd !== undefined ? { costUsd } : {}),
        ...(transcript ? { transcript } : {}),
      };
    }
    throw err;
  }
  const check = deps.validator.validate(command.output.schema, generation.output);
  if (!check.valid) {
    const shown = check.errors.slice(0, MAX_REPORTED_ERRORS);
    const more = check.errors.length > shown.length ? ` (+${check.errors.length - shown.length} more)` : '';
    const what = check.schemaError ? 'the output schema does not compile' : 'the output does not match the schema';
    return {
      ...failed('output_invalid', `${what}: ${shown.join('; ')}${more}`, false),
      raw: generation.text.slice(0, RAW_CAP),
      tokens: generation.tokens,
      ...(generation.costUsd !== undefined ? { costUsd: generation.costUsd } : {}),
      ...(generation.transcript ? { transcript: generation.transcript } : {}),
    };
  }
  return {
    status: 'generated',
    output: generation.output,
    tokens: generation.tokens,
    costUsd: generation.costUsd ?? 0,
    ...(generation.toolCalls ? { toolCalls: generation.toolCalls } : {}),
    ...(generation.transcript ? { transcript: generation.transcript } : {}),
  };
}

function failed(code: string, message: string, retryable: boolean): FailedCandidateOutcome {
  return { status: 'failed', error: { code, message, retryable } };
}
