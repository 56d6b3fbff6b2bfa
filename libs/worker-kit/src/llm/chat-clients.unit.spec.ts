import { anthropic, FakeLlmServer, gemini, openai, type FakeReply } from '@conclave/testing';
import { AnthropicChatClient } from './anthropic';
import { GeminiChatClient } from './gemini';
import { OpenAiChatClient } from './openai';
import { chatStructured, OutputInvalid, type SchemaCheck } from './structured';
import { ProviderError } from './errors';
import type { ChatClient } from './types';

/** jest's sandbox cannot reach undici's global dispatcher that @google/genai uses by default */
const jestFetch: typeof fetch = (input, init) => fetch(input, init);

const schema = { type: 'object', properties: { title: { type: 'string', minLength: 1 } }, required: ['title'], additionalProperties: false };
const check: SchemaCheck = (_s, v) =>
  v !== null && typeof v === 'object' && typeof (v as { title?: unknown }).title === 'string' && (v as { title: string }).title.length > 0 && Object.keys(v).length === 1
    ? { valid: true }
    : { valid: false, errors: ['/title: must be a non-empty string'] };

interface Kit {
  kind: string;
  model: string;
  client(url: string): ChatClient;
  path: RegExp;
  text(t: string): FakeReply;
  stream(parts: string[]): FakeReply;
  json(value: unknown): FakeReply;
  toolCall(name: string, args: unknown): FakeReply;
  error(status: number, message: string, headers?: Record<string, string>): FakeReply;
  /** what the request body carries for the JSON mode */
  jsonMode(body: any): unknown;
  toolsOf(body: any): string[];
  toolChoiceNone(body: any): boolean;
}

const kits: Kit[] = [
  {
    kind: 'anthropic',
    model: 'claude-opus-4-5',
    client: (url) => new AnthropicChatClient({ provider: 'anthropic', apiKey: 'sk-ant-test', baseUrl: url }),
    path: /^\/v1\/messages/,
    text: (t) => anthropic.message([{ type: 'text', text: t }], { input: 12, output: 7, cacheRead: 4 }),
    stream: (parts) => anthropic.stream(parts, { input: 12, output: 7 }),
    json: (v) => anthropic.message([{ type: 'tool_use', id: 'toolu_1', name: 'plan', input: v }], { input: 12, output: 7 }),
    toolCall: (name, args) => anthropic.message([{ type: 'text', text: 'looking' }, { type: 'tool_use', id: 'toolu_9', name, input: args }]),
    error: (s, m, h) => anthropic.error(s, m, h),
    jsonMode: (b) => ({ tool_choice: b.tool_choice, schema: b.tools?.[0]?.input_schema }),
    toolsOf: (b) => (b.tools ?? []).map((t: any) => t.name),
    toolChoiceNone: (b) => b.tool_choice?.type === 'none',
  },
  {
    kind: 'openai',
    model: 'gpt-4.1',
    client: (url) => new OpenAiChatClient({ provider: 'openai', apiKey: 'sk-test', baseUrl: `${url}/v1` }),
    path: /^\/v1\/chat\/completions/,
    text: (t) => openai.completion(t, { prompt: 12, completion: 7, cached: 4 }),
    stream: (parts) => openai.stream(parts, { prompt: 12, completion: 7 }),
    json: (v) => openai.completion(JSON.stringify(v), { prompt: 12, completion: 7 }),
    toolCall: (name, args) => openai.completion('looking', { toolCalls: [{ id: 'call_9', name, arguments: JSON.stringify(args) }] }),
    error: (s, m, h) => openai.error(s, m, h),
    jsonMode: (b) => b.response_format,
    toolsOf: (b) => (b.tools ?? []).map((t: any) => t.function.name),
    toolChoiceNone: (b) => b.tool_choice === 'none',
  },
  {
    kind: 'gemini',
    model: 'gemini-2.5-flash',
    client: (url) => new GeminiChatClient({ provider: 'gemini', apiKey: 'gm-test', baseUrl: url, fetch: jestFetch }),
    path: /^\/v1(beta)?\/models\/gemini-2\.5-flash:(stream)?[gG]enerateContent/,
    text: (t) => gemini.response([{ text: t }], { prompt: 12, candidates: 7, cached: 4 }),
    stream: (parts) => gemini.stream(parts, { prompt: 12, candidates: 7 }),
    json: (v) => gemini.response([{ text: JSON.stringify(v) }], { prompt: 12, candidates: 7 }),
    toolCall: (name, args) => gemini.response([{ text: 'looking' }, { functionCall: { name, args } }]),
    error: (s, m) => gemini.error(s, m),
    jsonMode: (b) => ({ mime: b.generationConfig?.responseMimeType, schema: b.generationConfig?.responseJsonSchema }),
    toolsOf: (b) => (b.tools?.[0]?.functionDeclarations ?? []).map((t: any) => t.name),
    toolChoiceNone: (b) => b.toolConfig?.functionCallingConfig?.mode === 'NONE',
  },
];

describe.each(kits)('$kind chat client through its SDK against a fake server', (kit) => {
  let server: FakeLlmServer;
  let client: ChatClient;
  const ctx = () => ({ signal: new AbortController().signal });

  beforeAll(async () => {
    server = await FakeLlmServer.start();
    client = kit.client(server.url);
  });
  afterAll(() => server.close());

  it('answers a plain call with text and usage (cached tokens counted)', async () => {
    server.reply(kit.text('hello'));
    const res = await client.chat({ model: kit.model, system: 'be brief', messages: [{ role: 'user', content: 'hi' }] }, ctx());
    expect(res.text).toBe('hello');
    expect(res.toolCalls).toEqual([]);
    expect(res.usage.output).toBe(7);
    expect(res.usage.cached).toBe(4);
    expect(res.usage.input).toBeGreaterThanOrEqual(12);
    expect(server.requests[0].url).toMatch(kit.path);
    expect(JSON.stringify(server.requests[0].body)).toContain('be brief');
  });

  it('streams text deltas through onDelta', async () => {
    server.reply(kit.stream(['Hel', 'lo ', 'world']));
    const deltas: string[] = [];
    const res = await client.chat({ model: kit.model, messages: [{ role: 'user', content: 'hi' }], stream: true }, { ...ctx(), onDelta: (d) => deltas.push(d) });
    expect(res.text).toBe('Hello world');
    expect(deltas.join('')).toBe('Hello world');
    expect(deltas.length).toBeGreaterThanOrEqual(2);
    expect(res.usage.output).toBe(7);
  });

  it('offers tools and returns the tool calls; sends tool results back', async () => {
    server.reply(kit.toolCall('read_file', { path: 'a.txt' }), kit.text('done'));
    const tools = [{ name: 'read_file', description: 'read', parameters: { type: 'object', properties: { path: { type: 'string' } }, required: ['path'] } }];
    const first = await client.chat({ model: kit.model, messages: [{ role: 'user', content: 'read a.txt' }], tools }, ctx());
    expect(first.toolCalls).toEqual([{ id: expect.any(String), name: 'read_file', input: { path: 'a.txt' } }]);
    expect(kit.toolsOf(server.requests[0].body)).toEqual(['read_file']);
    const second = await client.chat(
      {
        model: kit.model,
        tools,
        messages: [
          { role: 'user', content: 'read a.txt' },
          { role: 'assistant', content: first.text, toolCalls: first.toolCalls },
          { role: 'tool', results: [{ callId: first.toolCalls[0].id, name: 'read_file', content: 'FILE-CONTENT' }] },
        ],
      },
      ctx(),
    );
    expect(second.text).toBe('done');
    expect(JSON.stringify(server.requests[1].body)).toContain('FILE-CONTENT');
    server.reply(kit.text('summary'));
    await client.chat({ model: kit.model, messages: [{ role: 'user', content: 'sum up' }], tools, toolChoice: 'none' }, ctx());
    expect(kit.toolChoiceNone(server.requests[0].body)).toBe(true);
  });

  it('asks for JSON with the native mode and parses it', async () => {
    server.reply(kit.json({ title: 'Plan' }));
    const res = await chatStructured(client, { model: kit.model, messages: [{ role: 'user', content: 'plan' }], schemaName: 'plan', schema }, check, ctx());
    expect(res.output).toEqual({ title: 'Plan' });
    expect(JSON.stringify(kit.jsonMode(server.requests[0].body))).toContain('"title"');
  });

  it('repairs an invalid output once, sending the validation errors back', async () => {
    server.reply(kit.json({ title: '' }), kit.json({ title: 'Fixed' }));
    const res = await chatStructured(client, { model: kit.model, messages: [{ role: 'user', content: 'plan' }], schemaName: 'plan', schema }, check, ctx());
    expect(res.output).toEqual({ title: 'Fixed' });
    expect(server.requests).toHaveLength(2);
    expect(JSON.stringify(server.requests[1].body)).toContain('/title: must be a non-empty string');
    expect(res.usage.output).toBe(14);
  });

  it('fails output_invalid with the raw text after the one repair (malformed output)', async () => {
    server.reply(kit.text('this is not json at all'));
    const err = await chatStructured(client, { model: kit.model, messages: [{ role: 'user', content: 'plan' }], schemaName: 'plan', schema }, check, ctx()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OutputInvalid);
    expect(err).toMatchObject({ code: 'output_invalid', retryable: false, extra: { raw: 'this is not json at all' } });
    expect(server.requests).toHaveLength(2);
  });

  it('classifies 429 as rate_limited with the retry-after', async () => {
    server.reply(kit.error(429, 'slow down', { 'retry-after': '7' }));
    const err = await client.chat({ model: kit.model, messages: [{ role: 'user', content: 'hi' }] }, ctx()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect(err).toMatchObject({ code: 'rate_limited', retryable: true });
    if (kit.kind !== 'gemini') expect((err as ProviderError).extra.retryAfterMs).toBe(7_000);
    expect(server.requests).toHaveLength(1); // the SDK's own retries are off
  });

  it('classifies 500 as provider_error (retryable), 503 as overloaded, 401 as auth_failed, 400 as bad_request', async () => {
    const cases: [number, string, boolean][] = [
      [500, 'provider_error', true],
      [503, 'overloaded', true],
      [401, 'auth_failed', false],
      [400, 'bad_request', false],
    ];
    for (const [status, code, retryable] of cases) {
      server.reply(kit.error(status, `boom ${status}`));
      const err = await client.chat({ model: kit.model, messages: [{ role: 'user', content: 'hi' }] }, ctx()).catch((e: unknown) => e);
      expect(err).toMatchObject({ code, retryable });
      expect(server.requests).toHaveLength(1);
    }
  });

  it('a slow response is aborted by the signal (the worker timeout) and rejects with its reason', async () => {
    server.reply({ hang: true });
    const controller = new AbortController();
    const reason = new Error('timeout: no result within 150 ms');
    setTimeout(() => controller.abort(reason), 150);
    const started = Date.now();
    const err = await client.chat({ model: kit.model, messages: [{ role: 'user', content: 'hi' }], stream: true }, { signal: controller.signal }).catch((e: unknown) => e);
    expect(err).toBe(reason);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('an SDK-level timeout becomes a retryable timeout failure', async () => {
    server.reply({ hang: true });
    const slowClient = kit.kind === 'anthropic'
      ? new AnthropicChatClient({ provider: 'anthropic', apiKey: 'k', baseUrl: server.url, timeoutMs: 200 })
      : kit.kind === 'openai'
        ? new OpenAiChatClient({ provider: 'openai', apiKey: 'k', baseUrl: `${server.url}/v1`, timeoutMs: 200 })
        : new GeminiChatClient({ provider: 'gemini', apiKey: 'k', baseUrl: server.url, timeoutMs: 200, fetch: jestFetch });
    const err = await slowClient.chat({ model: kit.model, messages: [{ role: 'user', content: 'hi' }] }, ctx()).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: expect.stringMatching(/^(timeout|provider_unreachable)$/), retryable: true });
  });
});

describe('content filtering', () => {
  let server: FakeLlmServer;
  beforeAll(async () => (server = await FakeLlmServer.start()));
  afterAll(() => server.close());
  const ctx = { signal: new AbortController().signal };

  it('maps refusals and safety blocks to content_filtered (not retryable)', async () => {
    server.reply(anthropic.message([{ type: 'text', text: '' }], { stop: 'refusal' }));
    await expect(new AnthropicChatClient({ provider: 'a', apiKey: 'k', baseUrl: server.url }).chat({ model: 'm', messages: [{ role: 'user', content: 'x' }] }, ctx)).rejects.toMatchObject({
      code: 'content_filtered',
      retryable: false,
    });
    server.reply(openai.completion(null, { finish: 'content_filter' }));
    await expect(new OpenAiChatClient({ provider: 'o', apiKey: 'k', baseUrl: `${server.url}/v1` }).chat({ model: 'm', messages: [{ role: 'user', content: 'x' }] }, ctx)).rejects.toMatchObject({
      code: 'content_filtered',
    });
    server.reply(gemini.response([], { blockReason: 'SAFETY' }));
    await expect(new GeminiChatClient({ provider: 'g', apiKey: 'k', baseUrl: server.url, fetch: jestFetch }).chat({ model: 'm', messages: [{ role: 'user', content: 'x' }] }, ctx)).rejects.toMatchObject({
      code: 'content_filtered',
    });
    server.reply(gemini.response([{ text: '' }], { finish: 'SAFETY' }));
    await expect(new GeminiChatClient({ provider: 'g', apiKey: 'k', baseUrl: server.url, fetch: jestFetch }).chat({ model: 'm', messages: [{ role: 'user', content: 'x' }] }, ctx)).rejects.toMatchObject({
      code: 'content_filtered',
    });
  });

  it('never puts the key in an error message', async () => {
    server.reply(openai.error(401, 'Incorrect API key provided: sk-proj-abcdefghijklmnop'));
    const err = await new OpenAiChatClient({ provider: 'o', apiKey: 'sk-proj-abcdefghijklmnop', baseUrl: `${server.url}/v1` })
      .chat({ model: 'm', messages: [{ role: 'user', content: 'x' }] }, ctx)
      .catch((e: Error) => e);
    expect((err as Error).message).not.toContain('abcdefghijklmnop');
    server.reply(anthropic.error(403, 'key my-own-secret-value is revoked'));
    const err2 = await new AnthropicChatClient({ provider: 'a', apiKey: 'my-own-secret-value', baseUrl: server.url })
      .chat({ model: 'm', messages: [{ role: 'user', content: 'x' }] }, ctx)
      .catch((e: Error) => e);
    expect(err2).toMatchObject({ code: 'auth_failed' });
    expect((err2 as Error).message).not.toContain('my-own-secret-value');
  });
});
