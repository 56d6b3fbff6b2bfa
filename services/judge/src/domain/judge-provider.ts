import type { CandidateScore, Tokens } from '@conclave/contracts';

export interface JudgeRequest {
  /** the configured provider name the command names (`simulated`, `anthropic`, …) */
  provider: string;
  model: string;
  /** seeds the presentation order (position-bias guard) */
  judgeId: string;
  criteria: string[];
  /** in the order of the command; the tie rule refers to this order */
  candidates: { candidateId: string; output: unknown }[];
  /** the phase's task (what the candidates answer); '' when unknown */
  task?: string;
  /** select: the best of several; evaluate: score one, the rationale is feedback for a reviser */
  purpose?: 'select' | 'evaluate';
  /** a study's extra instruction (ADR 023): LLM judges read it after the criteria; the simulated judge honours `reverse` */
  rubric?: string;
}

export interface JudgeContext {
  /** aborted on cancel, timeout or shutdown: an adapter stops its call and rejects */
  signal: AbortSignal;
}

export interface Verdict {
  winnerId: string;
  /** candidateId → per-criterion scores in [0, 1] and their overall */
  scores: Record<string, CandidateScore>;
  rationale: string;
  /** the order the candidates were shown in */
  order: string[];
  tokens: Tokens;
  /** USD; absent = free (simulated) or unknown price */
  costUsd?: number;
}

/**
 * A judge adapter. Contract: resolve with a verdict; reject with a ProviderError for a failure the
 * provider reported, with the signal's reason when aborted, and with anything else for transient
 * trouble (the worker retries those with backoff).
 */
export interface JudgeAdapter {
  readonly name: string;
  judge(request: JudgeRequest, ctx: JudgeContext): Promise<Verdict>;
}

/** A failure reported by a provider: becomes a failed result with this code. */
export class ProviderError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly retryable: boolean,
    readonly extra: { retryAfterMs?: number } = {},
  ) {
    super(message);
    this.name = 'ProviderError';
  }
}

/** A ProviderError of this module or of the shared SDK layer (same name and shape): matched by shape. */
export function isProviderError(err: unknown): err is ProviderError {
  return err instanceof Error && err.name === 'ProviderError' && typeof (err as ProviderError).code === 'string' && typeof (err as ProviderError).retryable === 'boolean';
}

/** Judge adapters keyed by provider name. A name registered twice is a wiring bug. */
export class JudgeRegistry {
  private readonly adapters = new Map<string, JudgeAdapter>();

  /** `fallback` answers names that were not registered (LLM judges resolved per call). */
  constructor(
    adapters: Iterable<JudgeAdapter> = [],
    private readonly fallback?: (name: string) => JudgeAdapter | undefined,
  ) {
    for (const adapter of adapters) this.register(adapter);
  }

  register(adapter: JudgeAdapter): this {
    if (this.adapters.has(adapter.name)) throw new Error(`judge provider "${adapter.name}" is registered twice`);
    this.adapters.set(adapter.name, adapter);
    return this;
  }

  get(name: string): JudgeAdapter | undefined {
    return this.adapters.get(name) ?? this.fallback?.(name);
  }

  names(): string[] {
    return [...this.adapters.keys()].sort();
  }
}
