import type { CandidateOptions, Prompt, ResolvedOutput, Tokens } from '@conclave/contracts';

/** One generation request: what the candidate slot of a phase asks a model for. */
export interface GenerateRequest {
  /** the configured provider name the command names (`simulated`, `anthropic`, …) */
  provider: string;
  model: string;
  options: CandidateOptions;
  prompt: Prompt;
  /** the output must validate against `output.schema` (always resolved, for built-ins too) */
  output: ResolvedOutput;
  /** the candidate slot in the phase (0-based); part of the simulated provider's seed */
  slot: number;
}

export interface GenerateContext {
  /** aborted on cancel, timeout or shutdown: an adapter stops its call and rejects */
  signal: AbortSignal;
  /** streamed text as it arrives (the worker coalesces and relays it live) */
  onDelta(text: string): void;
}

export interface Generation {
  /** the parsed structured output (validated by the caller, not by the adapter) */
  output: unknown;
  /** the raw text the model produced */
  text: string;
  tokens: Tokens;
}

/**
 * A provider adapter. Contract: resolve with the generation; reject with a ProviderError for a
 * failure the provider reported (auth, quota, refusal…), with the signal's reason when aborted,
 * and with anything else for transient trouble (the worker retries those with backoff).
 */
export interface ProviderAdapter {
  readonly name: string;
  generate(request: GenerateRequest, ctx: GenerateContext): Promise<Generation>;
}

/** A failure reported by a provider: becomes a failed result with this code. */
export class ProviderError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
    this.name = 'ProviderError';
  }
}

/** Adapters keyed by provider name. A name registered twice is a wiring bug. */
export class ProviderRegistry<A extends { readonly name: string } = ProviderAdapter> {
  private readonly adapters = new Map<string, A>();

  constructor(adapters: Iterable<A> = []) {
    for (const adapter of adapters) this.register(adapter);
  }

  register(adapter: A): this {
    if (this.adapters.has(adapter.name)) throw new Error(`provider "${adapter.name}" is registered twice`);
    this.adapters.set(adapter.name, adapter);
    return this;
  }

  get(name: string): A | undefined {
    return this.adapters.get(name);
  }

  names(): string[] {
    return [...this.adapters.keys()].sort();
  }
}

/** Token estimate used where a provider reports none (the simulated provider): ~4 chars a token. */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}
