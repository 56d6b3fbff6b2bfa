/**
 * A provider-neutral chat call: what the SDK adapters (Anthropic, OpenAI, Gemini) translate to and
 * from. The llm-worker (structured output, agent loop) and the judge both speak only this.
 */
export type ChatMessage =
  | { role: 'user'; content: string }
  | { role: 'assistant'; content: string; toolCalls?: ToolCall[] }
  | { role: 'tool'; results: ToolResult[] };

export interface ToolCall {
  id: string;
  name: string;
  input: Record<string, unknown>;
}
export interface ToolResult {
  callId: string;
  name: string;
  content: string;
  isError?: boolean;
}

export interface ToolSpec {
  name: string;
  description: string;
  /** JSON Schema of the arguments (an object schema) */
  parameters: Record<string, unknown>;
}

export interface ChatRequest {
  model: string;
  system?: string;
  messages: ChatMessage[];
  tools?: ToolSpec[];
  /** 'none': the tools stay declared (the history may hold tool calls) but the model may not call one */
  toolChoice?: 'auto' | 'none';
  /** ask for JSON in this schema with the provider's native mode (not with tools in the same call) */
  json?: { name: string; schema: Record<string, unknown> | boolean };
  maxTokens?: number;
  temperature?: number;
  /** stream, calling onDelta with text as it arrives */
  stream?: boolean;
}

export interface ChatUsage {
  input: number;
  output: number;
  /** input tokens read from the prompt cache (included in `input`) */
  cached: number;
}

export interface ChatResponse {
  /** the assistant's text (for a JSON request: the JSON text) */
  text: string;
  toolCalls: ToolCall[];
  /** thinking / reasoning text where the provider returns it */
  thinking?: string;
  stopReason: string | null;
  usage: ChatUsage;
}

export interface ChatContext {
  signal: AbortSignal;
  onDelta?(text: string): void;
  /** extra HTTP headers of this call (Anthropic and OpenAI), e.g. the candidate it serves (x-conclave-candidate) */
  headers?: Record<string, string>;
}

/** One configured provider's SDK client. Rejects with a ProviderError (see errors.ts) or the signal's reason. */
export interface ChatClient {
  readonly provider: string;
  readonly kind: ProviderKind;
  chat(request: ChatRequest, ctx: ChatContext): Promise<ChatResponse>;
}

export type ProviderKind = 'anthropic' | 'openai' | 'gemini';

export const emptyUsage = (): ChatUsage => ({ input: 0, output: 0, cached: 0 });
export function addUsage(a: ChatUsage, b: ChatUsage): ChatUsage {
  return { input: a.input + b.input, output: a.output + b.output, cached: a.cached + b.cached };
}
