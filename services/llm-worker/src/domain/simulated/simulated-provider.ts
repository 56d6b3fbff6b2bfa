import { estimateTokens, type GenerateContext, type GenerateRequest, type Generation, type ProviderAdapter } from '../provider';
import type { AgentSettings } from '../agent/agent-settings';
import { TranscriptBuilder } from '../agent/transcript';
import { runSimulatedAgent } from './simulated-agent';
import { abortableSleep as sleep, simulateOutput, type SimulatedCheck } from './simulated-output';

export { simulateOutput } from './simulated-output';

export const SIMULATED_PROVIDER = 'simulated';

/** characters kept per transcript message when no agent settings say otherwise */
const DEFAULT_TRANSCRIPT_CAP = 20_000;

export interface SimulatedProviderDeps {
  /** a schema check (the worker's ajv validator) that makes anyOf / oneOf choices exact */
  check?: SimulatedCheck;
  /** where agent phases run their scripted tool calls; without it an agent phase is answered like an llm phase */
  agent?: AgentSettings;
  /** told of every call before it starts (a test hook counting calls per candidate) */
  onCall?(request: GenerateRequest): void;
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
    this.deps.onCall?.(request);
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

function splitText(text: string, parts: number): string[] {
  const size = Math.ceil(text.length / parts);
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out.length > 0 ? out : [''];
}
