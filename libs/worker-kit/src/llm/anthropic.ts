import Anthropic from '@anthropic-ai/sdk';
import { ProviderError } from './errors';
import { jsonOutput, SdkChatClient, type SdkClientOptions } from './sdk-client';
import type { ChatClient, ChatContext, ChatMessage, ChatRequest, ChatResponse, ToolCall } from './types';

/**
 * Anthropic Messages API through `@anthropic-ai/sdk`. The SDK's retries are off (`maxRetries: 0`):
 * the orchestrator owns retries. JSON output is a forced tool whose input_schema is the schema.
 */
export class AnthropicChatClient extends SdkChatClient implements ChatClient {
  readonly kind = 'anthropic' as const;
  private readonly client: Anthropic;

  constructor(options: SdkClientOptions) {
    super(options);
    this.client = new Anthropic({ apiKey: options.apiKey, baseURL: options.baseUrl, maxRetries: 0, timeout: options.timeoutMs ?? 600_000 });
  }

  async chat(request: ChatRequest, ctx: ChatContext): Promise<ChatResponse> {
    const json = jsonOutput(request);
    const tools: Anthropic.Messages.Tool[] = json
      ? [{ name: json.name, description: 'Answer with the result in this schema.', input_schema: json.schema as Anthropic.Messages.Tool.InputSchema }]
      : (request.tools ?? []).map((t) => ({ name: t.name, description: t.description, input_schema: t.parameters as Anthropic.Messages.Tool.InputSchema }));
    const params: Anthropic.Messages.MessageCreateParamsNonStreaming = {
      model: request.model,
      max_tokens: request.maxTokens ?? 8192,
      ...(request.system ? { system: request.system } : {}),
      ...(request.temperature !== undefined ? { temperature: request.temperature } : {}),
      messages: request.messages.map(toAnthropic),
      ...(tools.length > 0 ? { tools } : {}),
      ...(json ? { tool_choice: { type: 'tool', name: json.name } } : request.toolChoice === 'none' && tools.length > 0 ? { tool_choice: { type: 'none' } } : {}),
    };
    let message: Anthropic.Messages.Message;
    try {
      if (request.stream) {
        const stream = this.client.messages.stream(params, { signal: ctx.signal, ...(ctx.headers ? { headers: ctx.headers } : {}) });
        stream.on('text', (delta) => ctx.onDelta?.(delta));
        // the forced JSON tool's input is the answer: stream it; other tools' arguments are not text
        if (json) stream.on('inputJson', (delta) => ctx.onDelta?.(delta));
        message = await stream.finalMessage();
      } else {
        message = await this.client.messages.create(params, { signal: ctx.signal, ...(ctx.headers ? { headers: ctx.headers } : {}) });
      }
    } catch (err) {
      throw this.classify(err, ctx);
    }
    if (message.stop_reason === 'refusal') throw new ProviderError('content_filtered', `${this.provider}: the model refused (stop_reason refusal)`, false);
    let text = '';
    let thinking = '';
    const toolCalls: ToolCall[] = [];
    for (const block of message.content) {
      if (block.type === 'text') text += block.text;
      else if (block.type === 'thinking') thinking += block.thinking;
      else if (block.type === 'tool_use') {
        if (json && block.name === json.name) text = JSON.stringify(block.input);
        else toolCalls.push({ id: block.id, name: block.name, input: (block.input ?? {}) as Record<string, unknown> });
      }
    }
    const u = message.usage;
    const cached = u.cache_read_input_tokens ?? 0;
    return {
      text,
      toolCalls,
      ...(thinking ? { thinking } : {}),
      stopReason: message.stop_reason,
      usage: { input: u.input_tokens + cached + (u.cache_creation_input_tokens ?? 0), output: u.output_tokens, cached },
    };
  }
}

function toAnthropic(m: ChatMessage): Anthropic.Messages.MessageParam {
  if (m.role === 'user') return { role: 'user', content: m.content };
  if (m.role === 'assistant') {
    const blocks: Anthropic.Messages.ContentBlockParam[] = [];
    if (m.content) blocks.push({ type: 'text', text: m.content });
    for (const c of m.toolCalls ?? []) blocks.push({ type: 'tool_use', id: c.id, name: c.name, input: c.input });
    return { role: 'assistant', content: blocks.length > 0 ? blocks : '(no text)' };
  }
  return {
    role: 'user',
    content: m.results.map((r) => ({ type: 'tool_result', tool_use_id: r.callId, content: r.content, ...(r.isError ? { is_error: true } : {}) })),
  };
}
