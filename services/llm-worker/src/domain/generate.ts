import type { GenerateCandidate, Tokens } from '@conclave/contracts';
import type { OutputValidator } from './output-validator';
import { ProviderError, type GenerateContext, type ProviderAdapter, type ProviderRegistry } from './provider';

export type GeneratedOutcome = { status: 'generated'; output: unknown; tokens: Tokens; costUsd: number };
export type CandidateOutcome = GeneratedOutcome | { status: 'failed'; error: { code: string; message: string; retryable: boolean } };

export interface GenerateDeps {
  providers: ProviderRegistry<ProviderAdapter>;
  validator: OutputValidator;
}

/** Shown in a failed result: at most this many validation errors. */
const MAX_REPORTED_ERRORS = 10;

/**
 * Generate one candidate: call the named provider, then validate the output against the phase's
 * schema. Provider-reported failures, unknown providers and invalid outputs become failed outcomes
 * (the orchestrator decides about retries); aborts and transient errors propagate to the worker.
 * Cost is 0 until pricing arrives with the real providers.
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
      },
      ctx,
    );
  } catch (err) {
    if (err instanceof ProviderError && !ctx.signal.aborted) return failed(err.code, err.message, err.retryable);
    throw err;
  }
  const check = deps.validator.validate(command.output.schema, generation.output);
  if (!check.valid) {
    const shown = check.errors.slice(0, MAX_REPORTED_ERRORS);
    const more = check.errors.length > shown.length ? ` (+${check.errors.length - shown.length} more)` : '';
    const what = check.schemaError ? 'the output schema does not compile' : 'the output does not match the schema';
    return failed('output_invalid', `${what}: ${shown.join('; ')}${more}`, false);
  }
  return { status: 'generated', output: generation.output, tokens: generation.tokens, costUsd: 0 };
}

function failed(code: string, message: string, retryable: boolean): CandidateOutcome {
  return { status: 'failed', error: { code, message, retryable } };
}
