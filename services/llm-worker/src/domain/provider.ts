import type { CandidateOptions, Checkout, Prompt, ResolvedOutput, Tokens, ToolCallRecord, TranscriptMessage } from '@conclave/contracts';
import type { ToolExecutor } from './tools/tools';

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
  runId: string;
  phaseId: string;
  candidateId: string;
  /** agent phases of a run with a workspace: the candidate's worktree starts at this commit */
  checkout?: Checkout;
  /** agent phases: tools in the run's workspace and the iteration cap */
  agent?: { tools: string[]; maxIterations: number };
}

export interface GenerateContext {
  /** aborted on cancel, timeout or shutdown: an adapter stops its call and rejects */
  signal: AbortSignal;
  /** streamed text as it arrives (the worker coalesces and relays it live) */
  onDelta(text: string): void;
  /** an agent's audited tool call, as soon as it is done (relayed live) */
  onToolCall?(record: ToolCallRecord): void;
  /**
   * an agent hands over its tools and conversation as soon as it has them, so that the worker can
   * keep its partial work when the call is cancelled or times out
   */
  onAgentStarted?(session: AgentSession): void;
}

/** What a cancelled or timed-out agent leaves: its worktree (through the tools) and its conversation so far. */
export interface AgentSession {
  tools: ToolExecutor;
  transcript: () => TranscriptMessage[];
}

export interface Generation {
  /** the parsed structured output (validated by the caller, not by the adapter) */
  output: unknown;
  /** the raw text the model produced */
  text: string;
  tokens: Tokens;
  /** USD; absent = free (simulated) or unknown price */
  costUsd?: number;
  toolCalls?: ToolCallRecord[];
  transcript?: TranscriptMessage[];
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

/** What a failed provider call may carry besides its code (retry-after, the raw invalid output, what it cost). */
export interface ProviderErrorExtra {
  retryAfterMs?: number;
  raw?: string;
  tokens?: Tokens;
  costUsd?: number;
  transcript?: TranscriptMessage[];
}

/** A failure reported by a provider: becomes a failed result with this code. */
export class ProviderError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly retryable: boolean,
    readonly extra: ProviderErrorExtra = {},
  ) {
    super(message);
    this.name = 'ProviderError';
  }
}

/**
 * A ProviderError of this module or of the shared SDK layer (`@conclave/worker-kit`'s class of the
 * same name and shape): recognised by shape, not by class identity.
 */
export function isProviderError(err: unknown): err is ProviderError {
  return err instanceof Error && err.name === 'ProviderError' && typeof (err as ProviderError).code === 'string' && typeof (err as ProviderError).retryable === 'boolean';
}

/** Adapters keyed by provider name. A name registered twice is a wiring bug. */
export class ProviderRegistry<A extends { readonly name: string } = ProviderAdapter> {
  private readonly adapters = new Map<string, A>();

  /**
   * `fallback` answers names that were not registered (providers whose credentials are looked up
   * per call, e.g. the SDK providers); it may return undefined.
   */
  constructor(
    adapters: Iterable<A> = [],
    private readonly fallback?: (name: string) => A | undefined,
  ) {
    for (const adapter of adapters) this.register(adapter);
  }

  register(adapter: A): this {
    if (this.adapters.has(adapter.name)) throw new Error(`provider "${adapter.name}" is registered twice`);
    this.adapters.set(adapter.name, adapter);
    return this;
  }

  get(name: string): A | undefined {
    return this.adapters.get(name) ?? this.fallback?.(name);
  }

  names(): string[] {
    return [...this.adapters.keys()].sort();
  }
}

/** Token estimate used where a provider reports none (the simulated provider): ~4 chars a token. */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}
