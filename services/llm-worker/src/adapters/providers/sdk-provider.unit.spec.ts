import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { artifactJsonSchema, GenerateCandidate, type ToolCallRecord } from '@conclave/contracts';
import { anthropic, FakeLlmServer, gemini, openai } from '@conclave/testing';
import { GeminiChatClient, StaticCredentialSource } from '@conclave/worker-kit';
import { generateCandidate } from '../../domain/generate';
import { AjvOutputValidator } from '../ajv-validator';
import { createProviderRegistry } from '../providers';

const schema = { type: 'object', properties: { title: { type: 'string', minLength: 1 }, steps: { type: 'array', items: { type: 'string' } } }, required: ['title', 'steps'], additionalProperties: false };
const jestFetch: typeof fetch = (input, init) => fetch(input, init);

const command = (overrides: Record<string, unknown> = {}): GenerateCandidate =>
  GenerateCandidate.parse({
    type: 'GenerateCandidate',
    commandId: 'cmd-1',
    runId: 'run1',
    phaseId: 'p1',
    attempt: 1,
    candidateId: 'run1.p1.1.c0',
    slot: 0,
    provider: 'openai',
    model: 'gpt-4.1',
    prompt: { system: 'You plan.', user: 'Plan a bike shop' },
    output: { schema },
    attemptToken: 'tok',
    timeoutSeconds: 30,
    ...overrides,
  });

describe('SDK providers through generateCandidate (fake servers, real SDKs)', () => {
  let server: FakeLlmServer;
  let base: string;
  const validator = new AjvOutputValidator();
  let deps: { providers: ReturnType<typeof createProviderRegistry>; validator: AjvOutputValidator };
  const deltas: string[] = [];
  const toolCalls: ToolCallRecord[] = [];
  const ctx = () => ({ signal: new AbortController().signal, onDelta: (d: string) => deltas.push(d), onToolCall: (r: ToolCallRecord) => toolCalls.push(r) });

  beforeAll(async () => {
    server = await FakeLlmServer.start();
    base = await mkdtemp(path.join(tmpdir(), 'conclave-sdk-'));
    const source = new StaticCredentialSource({
      openai: { kind: 'openai', apiKey: 'sk-test', baseUrl: `${server.url}/v1`, prices: { 'gpt-4.1': { inputPer1M: 2, outputPer1M: 8 } } },
      anthropic: { kind: 'anthropic', apiKey: 'sk-ant', baseUrl: server.url },
      'local-llm': { kind: 'openai', apiKey: 'none', baseUrl: `${server.url}/v1`, models: ['llama'] },
      'off-llm': { kind: 'openai', apiKey: 'k', baseUrl: `${server.url}/v1`, enabled: false },
      'sim-two': { kind: 'simulated', apiKey: null },
    });
    deps = { providers: createProviderRegistry({ WORKSPACES_ROOT: path.join(base, 'ws') }, validator, source), validator };
  });
  afterAll(async () => {
    await server.close();
    await rm(base, { recursive: true, force: true });
  });
  beforeEach(() => {
    server.reply();
    deltas.length = 0;
    toolCalls.length = 0;
  });

  it('generates a validated output, streams deltas, prices the tokens and keeps the transcript', async () => {
    server.reply(openai.stream(['{"title":"Shop",', '"steps":["rent"]}'], { prompt: 1_000_000, completion: 500_000, cached: 0 }));
    const outcome = await generateCandidate(command(), deps, ctx());
    expect(outcome).toMatchObject({ status: 'generated', output: { title: 'Shop', steps: ['rent'] }, tokens: { input: 1_000_000, output: 500_000 }, costUsd: 6 });
    expect(deltas.join('')).toBe('{"title":"Shop","steps":["rent"]}');
    if (outcome.status !== 'generated') return;
    expect(outcome.transcript?.map((m) => m.role)).toEqual(['system', 'user', 'assistant']);
    expect((server.requests[0].body as any).response_format).toMatchObject({ type: 'json_schema', json_schema: { name: 'output', strict: false } });
  });

  it('repairs once, then fails output_invalid carrying the raw output, tokens and cost', async () => {
    server.reply(openai.stream(['{"title":""}']));
    const outcome = await generateCandidate(command(), deps, ctx());
    expect(outcome).toMatchObject({ status: 'failed', error: { code: 'output_invalid', retryable: false }, raw: '{"title":""}', tokens: { input: 20, output: 10 } });
    expect(server.requests).toHaveLength(2);
  });

  it('turns a 429 into a retryable failure with retryAfterMs (retry-after-ms wins)', async () => {
    server.reply(openai.error(429, 'Rate limit reached', { 'retry-after-ms': '1500', 'retry-after': '9' }));
    expect(await generateCandidate(command(), deps, ctx())).toMatchObject({ status: 'failed', error: { code: 'rate_limited', retryable: true, retryAfterMs: 1500 } });
  });

  it('Anthropic: JSON through a streamed forced tool', async () => {
    server.reply(anthropic.streamTool('output', ['{"title":"A",', '"steps":[]}']));
    const outcome = await generateCandidate(command({ provider: 'anthropic', model: 'claude-opus-4-5' }), deps, ctx());
    expect(outcome).toMatchObject({ status: 'generated', output: { title: 'A', steps: [] } });
    expect((server.requests[0].body as any).tool_choice).toEqual({ type: 'tool', name: 'output' });
    expect(deltas.join('')).toBe('{"title":"A","steps":[]}');
  });

  it('every request names its candidate (x-conclave-candidate), OpenAI and Anthropic, repairs included', async () => {
    server.reply(openai.stream(['{"title":""}']));
    await generateCandidate(command(), deps, ctx());
    expect(server.requests.map((r) => r.headers['x-conclave-candidate'])).toEqual(['run1.p1.1.c0', 'run1.p1.1.c0']);
    server.reply(anthropic.streamTool('output', ['{"title":"A","steps":[]}']));
    await generateCandidate(command({ provider: 'anthropic', model: 'claude-opus-4-5', candidateId: 'run1.p1.1.c1' }), deps, ctx());
    expect(server.requests.map((r) => r.headers['x-conclave-candidate'])).toEqual(['run1.p1.1.c1']);
  });

  it('the simulated provider tells CONCLAVE_SIMULATED_CALL_LOG of each call', async () => {
    const log = path.join(base, 'calls.log');
    const logged = { providers: createProviderRegistry({ WORKSPACES_ROOT: path.join(base, 'ws'), CONCLAVE_SIMULATED_CALL_LOG: log }, validator), validator };
    await generateCandidate(command({ provider: 'simulated', model: 'sim' }), logged, ctx());
    await generateCandidate(command({ provider: 'simulated', model: 'sim' }), logged, ctx());
    expect((await readFile(log, 'utf8')).trim().split('\n')).toEqual(['run1.p1.1.c0 run1 p1 0', 'run1.p1.1.c0 run1 p1 0']);
  });

  it('a provider without credentials, or a model it does not allow, is a typed failure', async () => {
    expect(await generateCandidate(command({ provider: 'gemini' }), deps, ctx())).toMatchObject({ status: 'failed', error: { code: 'provider_not_configured', retryable: false } });
    expect(await generateCandidate(command({ provider: 'local-llm', model: 'gpt-4.1' }), deps, ctx())).toMatchObject({ status: 'failed', error: { code: 'model_not_allowed' } });
    expect(await generateCandidate(command({ provider: 'off-llm' }), deps, ctx())).toMatchObject({ status: 'failed', error: { code: 'provider_disabled', retryable: false } });
  });

  it('a provider of kind simulated under another name is answered offline', async () => {
    expect(await generateCandidate(command({ provider: 'sim-two', model: 'any' }), deps, ctx())).toMatchObject({ status: 'generated', costUsd: 0 });
    expect(server.requests).toHaveLength(0);
  });

  it('runs an agent loop on tool calling: edits the workspace, audits every call live, returns a code-change', async () => {
    server.reply(
      openai.stream(['Writing the file.'], { toolCalls: [{ id: 'c1', name: 'write_file', arguments: JSON.stringify({ path: 'hello.txt', content: 'hi\n' }) }] }),
      openai.stream([], { toolCalls: [{ id: 'c2', name: 'read_file', arguments: JSON.stringify({ path: '../escape.txt' }) }] }),
      openai.stream(['Created hello.txt.']),
    );
    const outcome = await generateCandidate(
      command({ runId: 'runagent', output: { artifact: 'code-change', schema: artifactJsonSchema('code-change') }, agent: { tools: ['read_file', 'write_file'], maxIterations: 5 } }),
      deps,
      ctx(),
    );
    expect(outcome).toMatchObject({
      status: 'generated',
      output: { summary: 'Created hello.txt.', files: [{ path: 'hello.txt', change: 'created' }], diff: '' },
    });
    expect(await readFile(path.join(base, 'ws', 'runagent', 'hello.txt'), 'utf8')).toBe('hi\n');
    if (outcome.status !== 'generated') return;
    expect(outcome.toolCalls?.map((c) => [c.tool, c.refused])).toEqual([
      ['write_file', false],
      ['read_file', true],
    ]);
    expect(toolCalls).toHaveLength(2);
    expect(outcome.transcript?.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'tool_call', 'tool_result', 'tool_call', 'tool_result', 'assistant']);
    const sent = server.requests[1].body as any;
    expect(sent.tools.map((t: any) => t.function.name)).toEqual(['read_file', 'write_file']);
    expect(sent.messages.at(-1)).toMatchObject({ role: 'tool', tool_call_id: 'c1' });
  });

  it('stops at maxIterations and asks for a summary without tools', async () => {
    server.reply(openai.stream([], { toolCalls: [{ id: 'c1', name: 'list_files', arguments: '{}' }] }), openai.stream([], { toolCalls: [{ id: 'c2', name: 'list_files', arguments: '{}' }] }), openai.stream(['Gave up.']));
    const outcome = await generateCandidate(
      command({ runId: 'runcap', output: { artifact: 'code-change', schema: artifactJsonSchema('code-change') }, agent: { tools: ['list_files'], maxIterations: 2 } }),
      deps,
      ctx(),
    );
    expect(outcome).toMatchObject({ status: 'generated', output: { summary: 'Gave up.' } });
    expect(server.requests).toHaveLength(3);
    expect((server.requests[2].body as any).tool_choice).toBe('none');
  });

  it('Gemini through generateCandidate (JSON mode with responseJsonSchema)', async () => {
    // the registry builds clients itself; here the client is exercised with jest's fetch seam
    const client = new GeminiChatClient({ provider: 'gemini', apiKey: 'k', baseUrl: server.url, fetch: jestFetch });
    server.reply(gemini.response([{ text: '{"title":"G","steps":[]}' }]));
    const res = await client.chat({ model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'x' }], json: { name: 'output', schema } }, ctx());
    expect(JSON.parse(res.text)).toEqual({ title: 'G', steps: [] });
    expect((server.requests[0].body as any).generationConfig).toMatchObject({ responseMimeType: 'application/json', responseJsonSchema: schema });
  });
});
