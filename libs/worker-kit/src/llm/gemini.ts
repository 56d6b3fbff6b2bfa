import { FunctionCallingConfigMode, GoogleGenAI, type Content, type GenerateContentConfig, type GenerateContentResponse } from '@google/genai';
import { ProviderError } from './errors';
import { SdkChatClient, type SdkClientOptions } from './sdk-client';
import type { ChatClient, ChatContext, ChatMessage, ChatRequest, ChatResponse, ChatUsage, ToolCall } from './types';

const BLOCKED = new Set(['SAFETY', 'BLOCKLIST', 'PROHIBITED_CONTENT', 'SPII', 'RECITATION', 'IMAGE_SAFETY']);

/**
 * Gemini through `@google/genai` (`generateContent` / `generateContentStream`). The SDK does not
 * retry (no `retryOptions`). JSON output is `responseMimeType: application/json` +
 * `responseJsonSchema`. Safety blocks (prompt or candidate) become `content_filtered`.
 */
export class GeminiChatClient extends SdkChatClient implements ChatClient {
  readonly kind = 'gemini' as const;
  private readonly client: GoogleGenAI;
  private callSeq = 0;

  constructor(options: SdkClientOptions) {
    super(options);
    this.client = new GoogleGenAI({
      apiKey: options.apiKey,
      httpOptions: { ...(options.baseUrl ? { baseUrl: options.baseUrl } : {}), timeout: options.timeoutMs ?? 600_000, ...(options.fetch ? { fetch: options.fetch } : {}) },
    });
  }

  async chat(request: ChatRequest, ctx: ChatContext): Promise<ChatResponse> {
    const config: GenerateContentConfig = {
      abortSignal: ctx.signal,
      ...(request.system ? { systemInstruction: request.system } : {}),
      ...(request.maxTokens !== undefined ? { maxOutputTokens: request.maxTokens } : {}),
      ...(request.temperature !== undefined ? { temperature: request.temperature } : {}),
      ...(request.json ? { responseMimeType: 'application/json', responseJsonSchema: request.json.schema } : {}),
      ...(!request.json && request.tools?.length
        ? {
            tools: [{ functionDeclarations: request.tools.map((t) => ({ name: t.name, description: t.description, parametersJsonSchema: t.parameters })) }],
            ...(request.toolChoice === 'none' ? { toolConfig: { functionCallingConfig: { mode: FunctionCallingConfigMode.NONE } } } : {}),
          }
        : {}),
    };
    const params = { model: request.model, contents: request.messages.map(toGemini), config };
    const responses: GenerateContentResponse[] = [];
    try {
      if (request.stream) {
        const stream = await this.client.models.generateContentStream(params);
        for await (const chunk of stream) {
          responses.push(chunk);
          const text = textOf(chunk, false);
          if (text) ctx.onDelta?.(text);
        }
      } else {
        responses.push(await this.client.models.generateContent(params));
      }
    } catch (err) {
      throw this.classify(err, ctx);
    }
    let text = '';
    let thinking = '';
    let finish: string | null = null;
    let usage: ChatUsage = { input: 0, output: 0, cached: 0 };
    const toolCalls: ToolCall[] = [];
    for (const r of responses) {
      const blocked = r.promptFeedback?.blockReason;
      if (blocked) throw new ProviderError('content_filtered', `${this.provider}: the prompt was blocked (${blocked})`, false);
      text += textOf(r, false);
      thinking += textOf(r, true);
      const candidate = r.candidates?.[0];
      if (candidate?.finishReason) finish = candidate.finishReason;
      for (const part of candidate?.content?.parts ?? []) {
        if (part.functionCall?.name) {
          this.callSeq += 1;
          toolCalls.push({ id: part.functionCall.id ?? `call_${this.callSeq}`, name: part.functionCall.name, input: part.functionCall.args ?? {} });
        }
      }
      const u = r.usageMetadata;
      if (u) {
        usage = {
          input: u.promptTokenCount ?? 0,
          output: (u.candidatesTokenCount ?? 0) + (u.thoughtsTokenCount ?? 0),
          cached: u.cachedContentTokenCount ?? 0,
        };
      }
    }
    if (finish && BLOCKED.has(finish)) throw new ProviderError('content_filtered', `${this.provider}: the output was blocked (${finish})`, false);
    return { text, toolCalls, ...(thinking ? { thinking } : {}), stopReason: finish, usage };
  }
}

function textOf(r: GenerateContentResponse, thought: boolean): string {
  let out = '';
  for (const part of r.candidates?.[0]?.content?.parts ?? []) if (typeof part.text === 'string' && Boolean(part.thought) === thought) out += part.text;
  return out;
}

function toGemini(m: ChatMessage): Content {
  if (m.role === 'user') return { role: 'user', parts: [{ text: m.content }] };
  if (m.role === 'assistant') {
    return {
      role: 'model',
      parts: [...(m.content ? [{ text: m.content }] : []), ...(m.toolCalls ?? []).map((c) => ({ functionCall: { id: c.id, name: c.name, args: c.input } }))],
    };
  }
  return {
    role: 'user',
    parts: m.results.map((r) => ({ functionResponse: { id: r.callId, name: r.name, response: r.isError ? { error: r.content } : { output: r.content } } })),
  };
}
