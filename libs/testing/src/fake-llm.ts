import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local HTTP server speaking the providers' wire formats, so tests drive the real SDKs
 * (Anthropic `/v1/messages`, OpenAI `/v1/chat/completions`, Gemini
 * `/v1beta/models/M:generateContent` and `:streamGenerateContent?alt=sse`). Each request is
 * answered by the next scripted reply (the last one repeats); every request is recorded.
 */
export type FakeReply =
  | { status?: number; headers?: Record<string, string>; json: unknown; delayMs?: number }
  | { status?: number; sse: unknown[]; done?: boolean; delayMs?: number; event?: (frame: unknown) => string | undefined }
  | { hang: true };

export interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: unknown;
}

export class FakeLlmServer {
  readonly requests: RecordedRequest[] = [];
  private replies: FakeReply[] = [];
  private responder: ((request: RecordedRequest) => FakeReply) | undefined;
  private readonly server: Server;
  private readonly open = new Set<ServerResponse>();

  private constructor() {
    this.server = createServer((req, res) => void this.handle(req, res));
  }

  static async start(): Promise<FakeLlmServer> {
    const fake = new FakeLlmServer();
    await new Promise<void>((resolve) => fake.server.listen(0, '127.0.0.1', resolve));
    return fake;
  }

  /** requests still open (a client that aborted has closed its own) */
  get openCount(): number {
    return this.open.size;
  }

  get url(): string {
    const { port } = this.server.address() as AddressInfo;
    return `http://127.0.0.1:${port}`;
  }

  /** Replace the script: replies in order, the last one repeating. */
  reply(...replies: FakeReply[]): this {
    this.replies = replies;
    this.responder = undefined;
    this.requests.length = 0;
    return this;
  }

  /** Answer each request from its content instead (a server shared by concurrent callers). */
  respond(responder: (request: RecordedRequest) => FakeReply): this {
    this.replies = [];
    this.responder = responder;
    this.requests.length = 0;
    return this;
  }

  async close(): Promise<void> {
    for (const res of this.open) res.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      // keep the text
    }
    const request = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body };
    this.requests.push(request);
    const reply = this.responder ? this.responder(request) : this.replies.length > 1 ? this.replies.shift()! : this.replies[0];
    if (!reply) {
      res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: 'no scripted reply' } }));
      return;
    }
    this.open.add(res);
    res.on('close', () => this.open.delete(res));
    if ('hang' in reply) return; // never answers: the client's timeout / abort must end it
    if (reply.delayMs) await new Promise((r) => setTimeout(r, reply.delayMs));
    if (res.destroyed) return;
    if ('json' in reply) {
      res.writeHead(reply.status ?? 200, { 'content-type': 'application/json', ...(reply.headers ?? {}) }).end(JSON.stringify(reply.json));
      return;
    }
    res.writeHead(reply.status ?? 200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    for (const frame of reply.sse) {
      const event = reply.event?.(frame);
      res.write(`${event ? `event: ${event}\n` : ''}data: ${JSON.stringify(frame)}\n\n`);
      await new Promise((r) => setTimeout(r, 2));
    }
    if (reply.done) res.write('data: [DONE]\n\n');
    res.end();
  }
}

/* ------------------------------------------------------------------ wire-format builders */

type AnthropicBlock = { type: 'text'; text: string } | { type: 'tool_use'; id: string; name: string; input: unknown } | { type: 'thinking'; thinking: string; signature: string };

export const anthropic = {
  message(content: AnthropicBlock[], opts: { stop?: string; input?: number; output?: number; cacheRead?: number } = {}): FakeReply {
    return {
      json: {
        id: 'msg_1',
        type: 'message',
        role: 'assistant',
        model: 'claude-opus-4-5',
        content,
        stop_reason: opts.stop ?? (content.some((b) => b.type === 'tool_use') ? 'tool_use' : 'end_turn'),
        stop_sequence: null,
        usage: { input_tokens: opts.input ?? 10, output_tokens: opts.output ?? 5, cache_read_input_tokens: opts.cacheRead ?? 0, cache_creation_input_tokens: 0 },
      },
    };
  },
  stream(texts: string[], opts: { input?: number; output?: number } = {}): FakeReply {
    const frames: unknown[] = [
      {
        type: 'message_start',
        message: { id: 'msg_1', type: 'message', role: 'assistant', model: 'claude-opus-4-5', content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: opts.input ?? 10, output_tokens: 1 } },
      },
      { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
      ...texts.map((t) => ({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: t } })),
      { type: 'content_block_stop', index: 0 },
      { type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: opts.output ?? 5 } },
      { type: 'message_stop' },
    ];
    return { sse: frames, event: (f) => (f as { type: string }).type };
  },
  /** a streamed forced-tool answer (JSON mode): the input arrives as input_json_delta */
  streamTool(name: string, jsonParts: string[], opts: { input?: number; output?: number } = {}): FakeReply {
    const frames: unknown[] = [
      {
        type: 'message_start',
        message: { id: 'msg_1', type: 'message', role: 'assistant', model: 'claude-opus-4-5', content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: opts.input ?? 10, output_tokens: 1 } },
      },
      { type: 'content_block_start', index: 0, content_block: { type: 'tool_use', id: 'toolu_1', name, input: {} } },
      ...jsonParts.map((p) => ({ type: 'content_block_delta', index: 0, delta: { type: 'input_json_delta', partial_json: p } })),
      { type: 'content_block_stop', index: 0 },
      { type: 'message_delta', delta: { stop_reason: 'tool_use', stop_sequence: null }, usage: { output_tokens: opts.output ?? 5 } },
      { type: 'message_stop' },
    ];
    return { sse: frames, event: (f) => (f as { type: string }).type };
  },
  error(status: number, message: string, headers: Record<string, string> = {}): FakeReply {
    const type = status === 429 ? 'rate_limit_error' : status === 529 ? 'overloaded_error' : status === 401 ? 'authentication_error' : status >= 500 ? 'api_error' : 'invalid_request_error';
    return { status, headers, json: { type: 'error', error: { type, message } } };
  },
};

type OpenAiToolCall = { id: string; name: string; arguments: string };
export const openai = {
  completion(content: string | null, opts: { toolCalls?: OpenAiToolCall[]; finish?: string; prompt?: number; completion?: number; cached?: number; refusal?: string } = {}): FakeReply {
    return {
      json: {
        id: 'chatcmpl-1',
        object: 'chat.completion',
        created: 1,
        model: 'gpt-4.1',
        choices: [
          {
            index: 0,
            message: {
              role: 'assistant',
              content,
              refusal: opts.refusal ?? null,
              ...(opts.toolCalls ? { tool_calls: opts.toolCalls.map((c) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: c.arguments } })) } : {}),
            },
            finish_reason: opts.finish ?? (opts.toolCalls ? 'tool_calls' : 'stop'),
            logprobs: null,
          },
        ],
        usage: {
          prompt_tokens: opts.prompt ?? 10,
          completion_tokens: opts.completion ?? 5,
          total_tokens: (opts.prompt ?? 10) + (opts.completion ?? 5),
          prompt_tokens_details: { cached_tokens: opts.cached ?? 0 },
        },
      },
    };
  },
  stream(texts: string[], opts: { toolCalls?: OpenAiToolCall[]; prompt?: number; completion?: number; cached?: number } = {}): FakeReply {
    const base = { id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1, model: 'gpt-4.1' };
    const frames: unknown[] = [
      { ...base, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] },
      ...texts.map((t) => ({ ...base, choices: [{ index: 0, delta: { content: t }, finish_reason: null }] })),
      ...(opts.toolCalls ?? []).flatMap((c, i) => [
        { ...base, choices: [{ index: 0, delta: { tool_calls: [{ index: i, id: c.id, type: 'function', function: { name: c.name, arguments: '' } }] }, finish_reason: null }] },
        { ...base, choices: [{ index: 0, delta: { tool_calls: [{ index: i, function: { arguments: c.arguments } }] }, finish_reason: null }] },
      ]),
      { ...base, choices: [{ index: 0, delta: {}, finish_reason: opts.toolCalls?.length ? 'tool_calls' : 'stop' }] },
      {
        ...base,
        choices: [],
        usage: {
          prompt_tokens: opts.prompt ?? 10,
          completion_tokens: opts.completion ?? 5,
          total_tokens: (opts.prompt ?? 10) + (opts.completion ?? 5),
          prompt_tokens_details: { cached_tokens: opts.cached ?? 0 },
        },
      },
    ];
    return { sse: frames, done: true };
  },
  error(status: number, message: string, headers: Record<string, string> = {}): FakeReply {
    return { status, headers, json: { error: { message, type: status === 429 ? 'rate_limit_exceeded' : 'error', code: null, param: null } } };
  },
};

type GeminiPart = { text: string; thought?: boolean } | { functionCall: { name: string; args: unknown; id?: string } };
export const gemini = {
  response(parts: GeminiPart[], opts: { finish?: string; prompt?: number; candidates?: number; cached?: number; blockReason?: string } = {}): FakeReply {
    return { json: geminiFrame(parts, opts) };
  },
  stream(texts: string[], opts: { prompt?: number; candidates?: number } = {}): FakeReply {
    return {
      sse: texts.map((t, i) => geminiFrame([{ text: t }], i === texts.length - 1 ? { ...opts, finish: 'STOP' } : { ...opts, finish: undefined, noUsage: true })),
    };
  },
  error(status: number, message: string): FakeReply {
    const statusText = status === 429 ? 'RESOURCE_EXHAUSTED' : status === 503 ? 'UNAVAILABLE' : status === 401 ? 'UNAUTHENTICATED' : status >= 500 ? 'INTERNAL' : 'INVALID_ARGUMENT';
    return { status, json: { error: { code: status, message, status: statusText } } };
  },
};

function geminiFrame(parts: GeminiPart[], opts: { finish?: string; prompt?: number; candidates?: number; cached?: number; blockReason?: string; noUsage?: boolean }): unknown {
  return {
    ...(opts.blockReason ? { promptFeedback: { blockReason: opts.blockReason } } : {}),
    candidates: opts.blockReason ? [] : [{ content: { role: 'model', parts }, finishReason: opts.finish ?? 'STOP', index: 0 }],
    ...(opts.noUsage
      ? {}
      : { usageMetadata: { promptTokenCount: opts.prompt ?? 10, candidatesTokenCount: opts.candidates ?? 5, cachedContentTokenCount: opts.cached ?? 0, totalTokenCount: (opts.prompt ?? 10) + (opts.candidates ?? 5) } }),
    modelVersion: 'gemini-2.5-flash',
  };
}
