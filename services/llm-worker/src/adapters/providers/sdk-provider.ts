import type { TranscriptMessage } from '@conclave/contracts';
import {
  chatStructured,
  contextWindowOf,
  costOf,
  isProviderError as isSdkError,
  OutputInvalid,
  priceOf,
  type ChatClientPool,
  type ChatUsage,
  type SchemaCheck,
} from '@conclave/worker-kit';
import type { AgentSettings } from '../../domain/agent/agent-settings';
import { openToolExecutor } from '../../domain/agent/agent-settings';
import { runAgentLoop } from '../../domain/agent/agent-loop';
import { codeChangeOf, workLog } from '../../domain/agent/code-change';
import { TranscriptBuilder } from '../../domain/agent/transcript';
import { ProviderError, type GenerateContext, type GenerateRequest, type Generation, type ProviderAdapter } from '../../domain/provider';

/** The HTTP header that carries the candidate id on every provider call. */
export const CANDIDATE_HEADER = 'x-conclave-candidate';

export interface SdkProviderDeps {
  pool: ChatClientPool;
  /** answers providers whose configured kind is `simulated` */
  simulated: ProviderAdapter;
  check: SchemaCheck;
  agent: AgentSettings;
  /** the model's max output tokens when the candidate sets none */
  defaultMaxTokens?: number;
}

/**
 * A provider served by an official SDK (Anthropic, OpenAI, Gemini — the kind comes with the
 * credentials). Plain phases: one structured-output call (+ one repair). Agent phases: the tool loop,
 * then the phase's output (code-change built from the audit and `git diff`; any other schema asked
 * for with one structured call over the work log). Cost = usage × the model's price (the
 * credentials' prices override the defaults). Failures are ProviderErrors carrying what the call
 * cost and its transcript.
 */
export class SdkProvider implements ProviderAdapter {
  constructor(
    readonly name: string,
    private readonly deps: SdkProviderDeps,
  ) {}

  async generate(request: GenerateRequest, ctx: GenerateContext): Promise<Generation> {
    let resolved;
    try {
      resolved = await this.deps.pool.resolve(this.name, request.model);
    } catch (err) {
      if (isSdkError(err)) throw new ProviderError(err.code, err.message, err.retryable);
      throw err;
    }
    // a provider of kind `simulated` under another name: the offline provider answers
    if (resolved.kind === 'simulated') return this.deps.simulated.generate(request, ctx);
    const { client, credentials } = resolved;
    // every HTTP request names the candidate it serves, so a provider's (or a test server's) log
    // attributes calls to candidates: a redelivered or re-dispatched candidate shows as repeated calls
    const call = { ...ctx, headers: { [CANDIDATE_HEADER]: request.candidateId } };
    const price = priceOf(request.model, credentials.prices ?? {});
    const transcript = new TranscriptBuilder(this.deps.agent.transcriptCap);
    const maxTokens = request.options.maxTokens ?? this.deps.defaultMaxTokens;
    const temperature = request.options.temperature;
    const schemaName = request.output.artifact ?? 'output';
    const schema = request.output.schema as Record<string, unknown> | boolean;
    let usage: ChatUsage = { input: 0, output: 0, cached: 0 };
    const done = (output: unknown, text: string, extra: Partial<Generation> = {}): Generation => ({
      output,
      text,
      tokens: tokensOf(usage),
      costUsd: costOf(usage, price),
      transcript: transcript.build(),
      ...extra,
    });
    try {
      if (!request.agent) {
        transcript.add('system', request.prompt.system ?? '');
        transcript.add('user', request.prompt.user);
        const result = await chatStructured(
          client,
          { model: request.model, system: request.prompt.system, messages: [{ role: 'user', content: request.prompt.user }], schemaName, schema, maxTokens, temperature, stream: true },
          this.deps.check,
          call,
        ).catch((err: unknown) => {
          if (err instanceof OutputInvalid) {
            usage = err.usage;
            recordTurns(transcript, err.turns);
          }
          throw err;
        });
        usage = result.usage;
        recordTurns(transcript, result.turns);
        return done(result.output, result.text);
      }
      const tools = await openToolExecutor(this.deps.agent, request, request.agent.tools, (r) => ctx.onToolCall?.(r));
      ctx.onAgentStarted?.({ tools, transcript: () => transcript.build() });
      const loop = await runAgentLoop(
        client,
        { model: request.model, system: request.prompt.system, user: request.prompt.user, maxIterations: request.agent.maxIterations, maxTokens, temperature, contextWindow: contextWindowOf(request.model) },
        tools,
        transcript,
        call,
      );
      usage = loop.usage;
      if (request.output.artifact === 'code-change') {
        const output = await codeChangeOf(loop.finalText, tools, { runId: request.runId, phaseId: request.phaseId, candidateId: request.candidateId, provider: request.provider, model: request.model });
        return done(output, JSON.stringify(output), { toolCalls: tools.records });
      }
      const final = await chatStructured(
        client,
        {
          model: request.model,
          system: request.prompt.system,
          messages: [{ role: 'user', content: `${request.prompt.user}\n\n${workLog(tools, loop.finalText)}\n\nNow give the result as JSON in the required schema.` }],
          schemaName,
          schema,
          maxTokens,
          temperature,
          stream: true,
        },
        this.deps.check,
        call,
      ).catch((err: unknown) => {
        if (err instanceof OutputInvalid) usage = addUsage(usage, err.usage);
        throw err;
      });
      usage = addUsage(usage, final.usage);
      recordTurns(transcript, final.turns.map((t) => ({ ...t, request: t.request.slice(-1) })));
      return done(final.output, final.text, { toolCalls: tools.records });
    } catch (err) {
      if (ctx.signal.aborted) throw ctx.signal.reason;
      if (isSdkError(err)) {
        throw new ProviderError(err.code, err.message, err.retryable, {
          ...(err.extra.retryAfterMs !== undefined ? { retryAfterMs: err.extra.retryAfterMs } : {}),
          ...(err.extra.raw !== undefined ? { raw: err.extra.raw } : {}),
          tokens: tokensOf(usage),
          costUsd: costOf(usage, price),
          transcript: transcript.build(),
        });
      }
      throw err;
    }
  }
}

function tokensOf(u: ChatUsage): Generation['tokens'] {
  return { input: u.input, output: u.output, ...(u.cached > 0 ? { cached: u.cached } : {}) };
}

function addUsage(a: ChatUsage, b: ChatUsage): ChatUsage {
  return { input: a.input + b.input, output: a.output + b.output, cached: a.cached + b.cached };
}

/** The structured call's turns: a repair request (the last user message of a later turn) and each answer. */
function recordTurns(transcript: TranscriptBuilder, turns: { request: { role: string; content?: string }[]; text: string; thinking?: string }[]): void {
  turns.forEach((turn, i) => {
    if (i > 0) {
      const repair = turn.request[turn.request.length - 1];
      if (repair?.role === 'user' && typeof repair.content === 'string') transcript.add('user', repair.content);
    } else if (turn.request.length === 1 && turn.request[0].role === 'user' && typeof turn.request[0].content === 'string' && !alreadyHasUser(transcript)) {
      transcript.add('user', turn.request[0].content);
    }
    if (turn.thinking) transcript.add('thinking', turn.thinking);
    transcript.add('assistant', turn.text);
  });
}

function alreadyHasUser(transcript: TranscriptBuilder): boolean {
  return transcript.build().some((m: TranscriptMessage) => m.role === 'user');
}
