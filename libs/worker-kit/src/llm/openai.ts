import OpenAI from 'openai';
import { ProviderError } from './errors';
import { jsonOutput, SdkChatClient, type SdkClientOptions } from './sdk-client';
import type { ChatClient, ChatContext, ChatMessage, ChatRequest, ChatResponse, ChatUsage, ToolCall } from './types';

type Params = OpenAI.Chat.Completions.ChatCompletionCreateParamsNonStreaming;

/**
 * OpenAI Chat Completions through `openai` (any OpenAI-compatible server via `baseUrl`). The SDK's
 * retries are off (`maxRetries: 0`). JSON output is `response_format: json_schema` (strict: false).
 */
export class OpenAiChatClient extends SdkChatClient implements ChatClient {
  readonly kind = 'openai' as const;
  private readonly client: OpenAI;

  constructor(options: SdkClientOptions) {
    super(options);
    this.client = new OpenAI({ apiKey: options.apiKey, baseURL: options.baseUrl, maxRetries: 0, timeout: options.timeoutMs ?? 600_000 });
  }

  async chat(request: ChatRequest, ctx: ChatContext): Promise<ChatResponse> {
    const json = jsonOutput(request);
    const messages: OpenAI.Chat.Completions.ChatCompletionMessageParam[] = [];
    if (request.system) messages.push({ role: 'system', content: request.system });
    for (const m of request.messages) messages.push(...toOpenAi(m));
    const params: Params = {
      model: request.model,
      messages,
      ...(request.maxTokens !== undefined ? { max_completion_tokens: request.maxTokens } : {}),
      ...(request.temperature !== undefined ? { temperature: request.temperature } : {}),
      ...(json ? { response_format: { type: 'json_schema', json_schema: { name: json.name, schema: json.schema, strict: false } } } : {}),
      ...(!json && request.tools?.length
        ? {
            tools: request.tools.map((t) => ({ type: 'function' as const, function: { name: t.name, description: t.description, parameters: t.parameters } })),
            ...(request.toolChoice === 'none' ? { tool_choice: 'none' as const } : {}),
          }
        : {}),
    };
    try {
      return request.stream ? await this.streamed(params, ctx) : await this.plain(params, ctx);
    } catch (err) {
      throw this.classify(err, ctx);
    }
  }

  private async plain(params: Params, ctx: ChatContext): Promise<ChatResponse> {
    const completion = await this.client.chat.completions.create(params, { signal: ctx.signal, ...(ctx.headers ? { headers: ctx.headers } : {}) });
    const choice = completion.choices[0];
    if (!choice) throw new ProviderError('provider_error', `${this.provider}: the completion has no choices`, true);
    const message = choice.message;
    if (message.refusal) throw new ProviderError('content_filtered', `${this.provider}: the model refused: ${message.refusal.slice(0, 300)}`, false);
    this.checkFinish(choice.finish_reason);
    const toolCalls: ToolCall[] = [];
    for (const c of message.tool_calls ?? []) if (c.type === 'function') toolCalls.push({ id: c.id, name: c.function.name, input: parseArgs(c.function.arguments) });
    return { text: message.content ?? '', toolCalls, stopReason: choice.finish_reason, usage: usageOf(completion.usage) };
  }

  private async streamed(params: Params, ctx: ChatContext): Promise<ChatResponse> {
    const stream = await this.client.chat.completions.create({ ...params, stream: true, stream_options: { include_usage: true } }, { signal: ctx.signal, ...(ctx.headers ? { headers: ctx.headers } : {}) });
    let text = '';
    let refusal = '';
    let finish: string | null = null;
    let usage: ChatUsage = { input: 0, output: 0, cached: 0 };
    const calls = new Map<number, { id: string; name: string; args: string }>();
    for await (const chunk of stream) {
      if (chunk.usage) usage = usageOf(chunk.usage);
      for (const choice of chunk.choices ?? []) {
        const delta = choice.delta;
        if (delta?.content) {
          text += delta.content;
          ctx.onDelta?.(delta.content);
        }
        if (delta?.refusal) refusal += delta.refusal;
        for (const tc of delta?.tool_calls ?? []) {
          const call = calls.get(tc.index) ?? { id: '', name: '', args: '' };
          if (tc.id) call.id = tc.id;
          if (tc.function?.name) call.name += tc.function.name;
          if (tc.function?.arguments) call.args += tc.function.arguments;
          calls.set(tc.index, call);
        }
        if (choice.finish_reason) finish = choice.finish_reason;
      }
    }
    if (refusal) throw new ProviderError('content_filtered', `${this.provider}: the model refused: ${refusal.slice(0, 300)}`, false);
    this.checkFinish(finish);
    const toolCalls = [...calls.entries()].sort(([a], [b]) => a - b).map(([, c]) => ({ id: c.id, name: c.name, input: parseArgs(c.args) }));
    return { text, toolCalls, stopReason: finish, usage };
  }

  private checkFinish(finish: string | null | undefined): void {
    if (finish === 'content_filter') throw new ProviderError('content_filtered', `${this.provider}: the output was blocked by the content filter`, false);
  }
}

function toOpenAi(m: ChatMessage): OpenAI.Chat.Completions.ChatCompletionMessageParam[] {
  if (m.role === 'user') return [{ role: 'user', content: m.content }];
  if (m.role === 'assistant') {
    return [
      {
        role: 'assistant',
        content: m.content || null,
        ...(m.toolCalls?.length
          ? { tool_calls: m.toolCalls.map((c) => ({ id: c.id, type: 'function' as const, function: { name: c.name, arguments: JSON.stringify(c.input) } })) }
          : {}),
      },
    ];
  }
  return m.results.map((r) => ({ role: 'tool' as const, tool_call_id: r.callId, content: r.content }));
}

function usageOf(u: OpenAI.Completions.CompletionUsage | null | undefined): ChatUsage {
  if (!u) return { input: 0, output: 0, cached: 0 };
  return { input: u.prompt_tokens, output: u.completion_tokens, cached: u.prompt_tokens_details?.cached_tokens ?? 0 };
}

/** Tool arguments are JSON text; unparsable arguments reach the tool as `{ _raw }` (it refuses them). */
export function parseArgs(text: string): Record<string, unknown> {
  if (!text) return {};
  try {
    const v: unknown = JSON.parse(text);
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : { _raw: text };
  } catch {
    return { _raw: text };
  }
}
