import type { JsonSchema } from '@conclave/contracts';
import { estimateTokens, type GenerateContext, type GenerateRequest, type Generation, type ProviderAdapter } from '../provider';
import type { AgentSettings } from '../agent/agent-settings';
import { TranscriptBuilder } from '../agent/transcript';
import { sampleFromSchema } from './sample';
import { runSimulatedAgent } from './simulated-agent';
import { createRng, seedOf } from './seed';
import { keywords } from './words';

export const SIMULATED_PROVIDER = 'simulated';

/** characters kept per transcript message when no agent settings say otherwise */
const DEFAULT_TRANSCRIPT_CAP = 20_000;

/** Bumped when the generator changes what a given seed produces. */
const GENERATOR_VERSION = 'sim-v1';

export interface SimulatedProviderDeps {
  /** a schema check (the worker's ajv validator) that makes anyOf / oneOf choices exact */
  check?: (schema: JsonSchema | boolean, value: unknown) => boolean;
  /** where agent phases run their scripted tool calls; without it an agent phase is answered like an llm phase */
  agent?: AgentSettings;
}

/**
 * The offline provider (demos, benchmarks, tests). Guarantees:
 * - deterministic: the output depends only on (provider, model, system, user, slot) — never on the
 *   run or candidate id — so the same prompt gives the same output in every run, while other
 *   models or slots give other outputs;
 * - schema-valid for the built-in artifacts and the JSON Schema features listed in `sample.ts`;
 * - takes `options.latencyMs` (default 0), streaming its JSON text in a few deltas over that time,
 *   and rejects with the signal's reason as soon as the signal is aborted;
 * - tokens are estimated at ~4 characters a token; it costs nothing;
 * - its conversation (system, user, its answer) is returned as the candidate's transcript;
 * - agent phases (with `deps.agent`) run the scripted agent of `simulated-agent.ts` instead.
 */
export class SimulatedProvider implements ProviderAdapter {
  readonly name = SIMULATED_PROVIDER;

  constructor(private readonly deps: SimulatedProviderDeps = {}) {}

  async generate(request: GenerateRequest, ctx: GenerateContext): Promise<Generation> {
    ctx.signal.throwIfAborted();
    if (request.agent && this.deps.agent) return runSimulatedAgent({ ...request, agent: request.agent }, this.deps.agent, ctx, this.deps.check);
    const output = simulateOutput(request, this.deps.check);
    const text = JSON.stringify(output, null, 2);
    const latencyMs = request.options.latencyMs ?? 0;
    const chunks = splitText(text, Math.min(6, Math.max(2, Math.ceil(text.length / 160))));
    for (const chunk of chunks) {
      if (latencyMs > 0) await sleep(latencyMs / chunks.length, ctx.signal);
      else ctx.signal.throwIfAborted();
      ctx.onDelta(chunk);
    }
    const transcript = new TranscriptBuilder(this.deps.agent?.transcriptCap ?? DEFAULT_TRANSCRIPT_CAP);
    if (request.prompt.system) transcript.add('system', request.prompt.system);
    transcript.add('user', request.prompt.user);
    transcript.add('assistant', text);
    return {
      output,
      text,
      tokens: { input: estimateTokens(`${request.prompt.system ?? ''}${request.prompt.user}`), output: estimateTokens(text) },
      transcript: transcript.build(),
    };
  }
}

/** The deterministic output of a simulated request (no latency, no streaming). */
export function simulateOutput(request: GenerateRequest, check?: SimulatedProviderDeps['check']): unknown {
  const seed = seedOf(GENERATOR_VERSION, request.provider, request.model, request.prompt.system, request.prompt.user, request.slot);
  return sampleFromSchema(request.output.schema, {
    rng: createRng(seed),
    words: keywords(request.prompt.user, request.prompt.system),
    check,
  });
}

function splitText(text: string, parts: number): string[] {
  const size = Math.ceil(text.length / parts);
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out.length > 0 ? out : [''];
}

/** Resolves after `ms`; rejects with the signal's reason the moment it is aborted. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
