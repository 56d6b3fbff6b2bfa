import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Objm } from '@nats-io/obj';
import { io, type Socket } from 'socket.io-client';
import { launchChromium } from './support/browser';
import type { ClientToServerEvents, LiveMessage, ProviderView, RunView, ServerToClientEvents, TemplateInput } from '@conclave/contracts';
import { anthropic, createTestEnv, eventually, FakeLlmServer, gemini, openai, REPO_ROOT, startStack, type FakeReply, type RecordedRequest, type Stack, type TestEnv } from '@conclave/testing';

/**
 * The real providers' path, end to end: providers configured over REST (keys encrypted at rest,
 * handed to workers over NATS), workers and judges calling the official SDKs against local fake
 * servers that speak each provider's wire format, an agent phase editing its workspace through a
 * provider's tool calling, transcripts, costs, and a revoked key marking its provider failing.
 */

type Json = Record<string, unknown>;

/** A value valid for the (simple) JSON Schemas the workers and judges send: objects, arrays, enums, numbers in range, strings. */
function instanceOf(schema: Json | undefined): unknown {
  if (!schema) return {};
  if (Array.isArray(schema.enum)) return schema.enum[0];
  switch (schema.type) {
    case 'object': {
      const properties = (schema.properties ?? {}) as Record<string, Json>;
      return Object.fromEntries(Object.entries(properties).map(([k, v]) => [k, instanceOf(v)]));
    }
    case 'array': {
      const items = (schema.items ?? {}) as Json;
      const label = ((items.properties ?? {}) as Record<string, Json>).label;
      // a judge's scores: one entry per answer label
      if (label && Array.isArray(label.enum)) return label.enum.map((l) => ({ ...(instanceOf(items) as Json), label: l }));
      return Array.from({ length: Math.max(1, Number(schema.minItems ?? 1)) }, () => instanceOf(items));
    }
    case 'number':
    case 'integer':
      return typeof schema.maximum === 'number' ? schema.maximum * 0.9 : 7;
    case 'boolean':
      return true;
    default:
      return 'a considered answer from the fake provider';
  }
}

/** A judge's answer favours the first label shown; anything else is the schema's instance. */
function answerFor(schema: Json | undefined): string {
  const value = instanceOf(schema) as Json;
  if (Array.isArray(value.scores)) {
    value.scores = (value.scores as Json[]).map((s, i) => ({ ...s, criteria: Object.fromEntries(Object.keys(s.criteria as Json).map((c) => [c, Math.max(0.1, 0.9 - i * 0.3)])) }));
    value.winner = (value.scores as Json[])[0]!.label;
  }
  return JSON.stringify(value);
}

const isToolResultTurn = (messages: Json[] | undefined) => {
  const last = messages?.at(-1);
  return Array.isArray(last?.content) && (last.content as Json[]).some((b) => b.type === 'tool_result');
};

const anthropicResponder = (r: RecordedRequest): FakeReply => {
  const body = r.body as Json;
  const tools = body.tools as Json[] | undefined;
  const forced = (body.tool_choice as Json | undefined)?.type === 'tool';
  if (forced) {
    const tool = tools!.find((t) => t.name === (body.tool_choice as Json).name)!;
    const answer = answerFor(tool.input_schema as Json);
    return body.stream ? anthropic.streamTool(String(tool.name), [answer.slice(0, 10), answer.slice(10)], { input: 1200, output: 300 }) : anthropic.message([{ type: 'tool_use', id: 'toolu_json', name: String(tool.name), input: JSON.parse(answer) }], { input: 1200, output: 300 });
  }
  // an agent turn: write a file, then summarise once the tool result is back
  if (tools?.length && !isToolResultTurn(body.messages as Json[])) {
    return anthropic.streamTool('write_file', [JSON.stringify({ path: 'src/greeting.ts', content: "export const greeting = 'hello from claude';\n" })], { input: 900, output: 120 });
  }
  return anthropic.stream(['Created src/greeting.ts ', 'with the greeting.'], { input: 1000, output: 40 });
};

const openaiResponder = (r: RecordedRequest): FakeReply => {
  const body = r.body as Json;
  const format = body.response_format as { json_schema?: { schema?: Json } } | undefined;
  const answer = answerFor(format?.json_schema?.schema);
  return body.stream ? openai.stream([answer.slice(0, 8), answer.slice(8)], { prompt: 1500, completion: 250 }) : openai.completion(answer, { prompt: 1500, completion: 250 });
};

const geminiResponder = (r: RecordedRequest): FakeReply => {
  const body = r.body as Json;
  const config = (body.generationConfig ?? {}) as Json;
  const answer = answerFor(config.responseJsonSchema as Json | undefined);
  return r.url.includes(':streamGenerateContent') ? gemini.stream([answer.slice(0, 12), answer.slice(12)], { prompt: 800, candidates: 200 }) : gemini.response([{ text: answer }], { prompt: 800, candidates: 200 });
};

const summary = { type: 'object', properties: { summary: { type: 'string' } }, required: ['summary'] };
const template: TemplateInput = {
  name: 'three providers',
  description: 'Anthropic and OpenAI compete, Gemini judges and plans, Claude builds',
  inputs: { type: 'object', properties: { idea: { type: 'string' } }, required: ['idea'] },
  phases: [
    {
      id: 'research', kind: 'llm', prompt: { system: 'You are a product analyst.', user: 'Idea: {{inputs.idea}}' },
      candidates: [{ provider: 'anthropic', model: 'claude-sonnet-4-5' }, { provider: 'openai', model: 'gpt-4.1' }],
      judge: { provider: 'gemini', model: 'gemini-2.5-pro', criteria: ['correctness', 'completeness'] },
      output: { schema: summary },
    },
    {
      id: 'plan', kind: 'llm', dependsOn: ['research'], prompt: { user: 'Plan: {{phases.research.output.summary}}' },
      candidates: [{ provider: 'gemini', model: 'gemini-2.5-pro' }],
      output: { schema: { type: 'object', properties: { steps: { type: 'array', items: { type: 'string' }, minItems: 2 } }, required: ['steps'] } },
    },
    { id: 'build', kind: 'agent', dependsOn: ['plan'], prompt: { user: 'Implement the plan' }, candidates: [{ provider: 'anthropic', model: 'claude-sonnet-4-5' }], tools: ['write_file', 'read_file', 'list_files'], maxIterations: 4 },
  ],
};

/** The key a request carried, in whichever header its SDK uses. */
const keyOf = (r: RecordedRequest) => String(r.headers['x-api-key'] ?? r.headers['x-goog-api-key'] ?? r.headers.authorization ?? '').replace(/^Bearer /, '');

const KEYS = { anthropic: 'sk-ant-e2e-secret-9f2a', openai: 'sk-openai-e2e-secret-77c1', gemini: 'gm-e2e-secret-b4d0' } as const;

describe('real providers through their SDKs (fake servers)', () => {
  let env: TestEnv;
  let stack: Stack;
  const fakes = {} as Record<keyof typeof KEYS | 'revoked' | 'sloppy', FakeLlmServer>;
  const api = async <T = any>(path: string, init?: RequestInit) => {
    const res = await fetch(`${stack.url}/api/v1${path}`, { ...init, headers: { 'content-type': 'application/json', ...(init?.headers ?? {}) } });
    return { status: res.status, body: (await res.json()) as T };
  };
  const until = (id: string, what: string, ok: (run: RunView) => boolean) =>
    eventually(async () => {
      const { status, body } = await api<RunView>(`/runs/${id}`);
      return status === 200 && ok(body) ? body : null;
    }, what, 60_000);

  beforeAll(async () => {
    fakes.anthropic = (await FakeLlmServer.start()).respond(anthropicResponder);
    fakes.openai = (await FakeLlmServer.start()).respond(openaiResponder);
    fakes.gemini = (await FakeLlmServer.start()).respond(geminiResponder);
    fakes.revoked = (await FakeLlmServer.start()).reply(openai.error(401, 'Incorrect API key provided'));
    // answers valid JSON of the wrong shape, also when asked to repair it
    fakes.sloppy = (await FakeLlmServer.start()).respond((r) => ((r.body as Json).stream ? openai.stream(['{"summary": ', '42}'], { prompt: 100, completion: 10 }) : openai.completion('{"summary": 42}', { prompt: 100, completion: 10 })));
    env = await createTestEnv('e2eprov');
    stack = await startStack(env, { label: `e2e-providers-${env.id}` });
    for (const kind of ['anthropic', 'openai', 'gemini'] as const) {
      const created = await api('/providers', { method: 'POST', body: JSON.stringify({ name: kind, kind, apiKey: KEYS[kind], baseUrl: fakes[kind].url }) });
      expect(created.status).toBe(201);
    }
  });
  afterAll(async () => {
    const codes = stack ? await stack.stop() : {};
    await env?.dispose();
    for (const fake of Object.values(fakes)) await fake.close();
    expect(Object.values(codes).every((c) => c === 0)).toBe(true);
  });

  it('runs a template whose phases use Anthropic, OpenAI and Gemini, with an agent phase whose tool calls arrive live', async () => {
    const created = await api<{ id: string }>('/templates', { method: 'POST', body: JSON.stringify(template) });
    expect(created.status).toBe(201);
    const socket: Socket<ServerToClientEvents, ClientToServerEvents> = io(stack.url, { transports: ['websocket'] });
    const live: LiveMessage[] = [];
    socket.on('live', (m) => live.push(m));
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', resolve);
        socket.once('connect_error', reject);
      });
      const started = await api<{ id: string }>('/runs', { method: 'POST', body: JSON.stringify({ templateId: created.body.id, inputs: { idea: 'a kite that flies itself' } }) });
      expect(started.status).toBe(201);
      const runId = started.body.id;
      expect(await socket.timeout(5_000).emitWithAck('subscribe', { room: `run:${runId}` })).toEqual({ ok: true, room: `run:${runId}` });
      const run = await until(runId, 'the three-provider run to complete', (r) => r.status === 'completed' || r.status === 'failed');
      expect(run.error).toBeNull();
      expect(run.status).toBe('completed');

      // every candidate went through its own provider's SDK, was priced from the price table, and is stored with its conversation
      const research = run.phases.find((p) => p.id === 'research')!;
      expect(research.candidates.map((c) => [c.provider, c.model, c.status])).toEqual([
        ['anthropic', 'claude-sonnet-4-5', 'generated'],
        ['openai', 'gpt-4.1', 'generated'],
      ]);
      expect(research.candidates.map((c) => c.tokens)).toEqual([{ input: 1200, output: 300 }, { input: 1500, output: 250 }]);
      expect(research.candidates[0]!.costUsd).toBeCloseTo((1200 * 3 + 300 * 15) / 1e6, 9);
      expect(research.candidates[1]!.costUsd).toBeCloseTo((1500 * 2 + 250 * 8) / 1e6, 9);
      expect(research.verdict?.winnerId).toEqual(expect.any(String));
      expect(Object.keys(research.verdict!.scores).sort()).toEqual(research.candidates.map((c) => c.id).sort());
      expect(run.phases.find((p) => p.id === 'plan')!.candidates).toEqual([expect.objectContaining({ provider: 'gemini', status: 'generated', tokens: { input: 800, output: 200 } })]);

      // the keys came from the encrypted store: each fake saw its own key on every request
      for (const kind of ['anthropic', 'openai', 'gemini'] as const) {
        expect(fakes[kind].requests.length).toBeGreaterThan(0);
        expect(new Set(fakes[kind].requests.map(keyOf))).toEqual(new Set([KEYS[kind]]));
      }
      // the judge call went to Gemini in JSON mode, the answers shown under neutral labels
      expect(fakes.gemini.requests.some((r) => JSON.stringify(r.body).includes('### Answer B'))).toBe(true);

      // the agent phase wrote its file through Claude's tool calls, each one seen live and audited
      const build = run.phases.find((p) => p.id === 'build')!;
      const artifact = await api<{ artifactType: string; content: { files: { path: string; change: string }[] } }>(`/runs/${runId}/artifacts/${build.artifactId}`);
      expect(artifact.body.artifactType).toBe('code-change');
      expect(artifact.body.content.files).toEqual(expect.arrayContaining([expect.objectContaining({ path: 'src/greeting.ts', change: 'created' })]));
      const calls = await api<{ items: { tool: string; refused: boolean }[] }>(`/runs/${runId}/tool-calls`);
      expect(calls.body.items.map((c) => [c.tool, c.refused])).toEqual([['write_file', false]]);
      await eventually(async () => live.some((m) => m.kind === 'tool_call' && m.runId === runId && m.tool === 'write_file'), 'the tool call over socket.io');
      expect(live.some((m) => m.kind === 'tokens' && m.runId === runId)).toBe(true);

      // the agent's whole conversation is stored and served
      const transcript = await api<{ messages: { role: string; tool?: string; content: string }[] }>(`/runs/${runId}/candidates/${build.candidates[0]!.id}/transcript`);
      expect(transcript.status).toBe(200);
      expect(transcript.body.messages.map((m) => m.role)).toEqual(['system', 'user', 'tool_call', 'tool_result', 'assistant']);
      expect(transcript.body.messages[2]).toMatchObject({ tool: 'write_file' });
      expect(transcript.body.messages[4]!.content).toBe('Created src/greeting.ts with the greeting.');

      // costs by provider add up across the three
      const costs = await api<{ items: { key: string; costUsd: number }[] }>(`/costs?groupBy=provider&min_sequence=${run.sequence}`);
      for (const kind of ['anthropic', 'openai', 'gemini']) expect(costs.body.items.find((i) => i.key === kind)?.costUsd).toBeGreaterThan(0);
    } finally {
      socket.close();
    }
  });

  it('marks a provider whose key is refused (401) failing without retrying, and clears it when the key is replaced', async () => {
    const provider = await api<ProviderView>('/providers', { method: 'POST', body: JSON.stringify({ name: 'openai-revoked', kind: 'openai', apiKey: 'sk-revoked-0000', baseUrl: fakes.revoked.url }) });
    expect(provider.status).toBe(201);
    const tpl = await api<{ id: string }>('/templates', {
      method: 'POST',
      body: JSON.stringify({ name: 'revoked', phases: [{ id: 'ask', kind: 'llm', prompt: { user: 'hello' }, candidates: [{ provider: 'openai-revoked', model: 'gpt-4.1' }] }] }),
    });
    const started = await api<{ id: string }>('/runs', { method: 'POST', body: JSON.stringify({ templateId: tpl.body.id, inputs: {} }) });
    const run = await until(started.body.id, 'the run to fail', (r) => r.status === 'failed');
    expect(run.phases[0]!.candidates).toEqual([expect.objectContaining({ status: 'failed', error: expect.objectContaining({ code: 'auth_failed' }) })]);
    expect(fakes.revoked.requests).toHaveLength(1); // not retried
    const marked = await api<ProviderView>(`/providers/${provider.body.id}?min_sequence=${run.sequence}`);
    expect(marked.body.failure).toMatchObject({ code: 'auth_failed', runId: started.body.id });
    expect(JSON.stringify(marked.body)).not.toContain('sk-revoked-0000');
    // the providers page says so
    const browser = await launchChromium();
    try {
      const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
      await page.goto(`${stack.url}/providers`);
      const card = page.getByRole('article', { name: 'Provider openai-revoked' });
      await card.getByText('failing', { exact: true }).waitFor({ timeout: 15_000 });
      expect(await card.textContent()).toContain('Incorrect API key provided');
      mkdirSync(join(REPO_ROOT, 'test-output', 'screenshots'), { recursive: true });
      await page.screenshot({ path: join(REPO_ROOT, 'test-output', 'screenshots', 'providers-failing.png'), fullPage: true });
    } finally {
      await browser.close();
    }

    const fixed = await api<ProviderView>(`/providers/${provider.body.id}`, { method: 'PATCH', body: JSON.stringify({ apiKey: 'sk-fresh-1111' }) });
    expect(fixed.status).toBe(200);
    expect(fixed.body.failure).toBeNull();
    const listed = await api<{ items: ProviderView[] }>(`/providers?min_sequence=${fixed.body.sequence}`);
    expect(listed.body.items.find((p) => p.id === provider.body.id)?.failure).toBeNull();
  });

  it('rejects an output that stays invalid after the repair attempt, keeps the raw answer and its cost, and lets the user accept an edited one', async () => {
    expect((await api('/providers', { method: 'POST', body: JSON.stringify({ name: 'sloppy', kind: 'openai', apiKey: 'sk-sloppy-2222', baseUrl: fakes.sloppy.url }) })).status).toBe(201);
    const tpl = await api<{ id: string }>('/templates', {
      method: 'POST',
      body: JSON.stringify({ name: 'sloppy', phases: [{ id: 'sum', kind: 'llm', prompt: { user: 'Summarise' }, candidates: [{ provider: 'sloppy', model: 'gpt-4.1' }], output: { schema: summary } }] }),
    });
    const started = await api<{ id: string }>('/runs', { method: 'POST', body: JSON.stringify({ templateId: tpl.body.id, inputs: {} }) });
    const failed = await until(started.body.id, 'the run to fail on the rejected output', (r) => r.status === 'failed');
    expect(fakes.sloppy.requests).toHaveLength(2); // the call and one repair, carrying the validation errors
    expect(JSON.stringify(fakes.sloppy.requests[1]!.body)).toContain('summary');
    const [candidate] = failed.phases[0]!.candidates;
    expect(candidate).toMatchObject({ status: 'rejected', output: { summary: 42 }, error: { code: 'output_rejected' } });
    expect(candidate!.costUsd).toBeGreaterThan(0); // both calls were billed
    const timeline = await api<{ items: { type: string; data: { raw?: unknown; errors?: string[] } }[] }>(`/runs/${started.body.id}/timeline`);
    expect(timeline.body.items.find((e) => e.type === 'OutputRejected')?.data).toMatchObject({ raw: { summary: 42 }, errors: [expect.stringContaining('summary')] });

    const accepted = await api(`/runs/${started.body.id}/phases/sum/accept`, { method: 'POST', body: JSON.stringify({ output: { summary: 'fixed by hand' } }) });
    expect(accepted.status).toBe(202);
    const done = await until(started.body.id, 'the run to complete with the edited output', (r) => r.status === 'completed');
    const artifact = await api<{ content: unknown }>(`/runs/${done.id}/artifacts/${done.phases[0]!.artifactId}`);
    expect(artifact.body.content).toEqual({ summary: 'fixed by hand' });
  });

  it('never lets a provider key reach a log line, an event or a conversation transcript', async () => {
    const secrets = [...Object.values(KEYS), 'sk-revoked-0000', 'sk-fresh-1111', 'sk-sloppy-2222'];
    const logs = readdirSync(stack.logDir).map((f) => readFileSync(join(stack.logDir, f), 'utf8'));
    expect(logs.join('').length).toBeGreaterThan(0);
    const events = JSON.stringify(await env.log.readAll(0, 100_000));
    // every candidate's conversation as the API serves it (GET …/transcript) …
    const served: string[] = [];
    const runs = await api<{ items: { id: string }[] }>('/runs?limit=200&archived=all');
    for (const { id } of runs.body.items) {
      const run = (await api<RunView>(`/runs/${id}`)).body;
      for (const candidate of run.phases.flatMap((p) => p.candidates)) {
        if (!candidate.transcript) continue;
        const res = await fetch(`${stack.url}/api/v1/runs/${id}/candidates/${candidate.id}/transcript`);
        expect(res.status).toBe(200);
        served.push(await res.text());
      }
    }
    // … and every transcript object stored (the TRANSCRIPTS object store, read directly)
    const store = await new Objm(env.log.js).open(env.log.names.buckets.transcripts);
    const stored: string[] = [];
    for (const info of await store.list()) stored.push(new TextDecoder().decode((await store.getBlob(info.name)) ?? new Uint8Array()));
    // the runs above talked to all three providers, the agent through several turns
    expect(served.length).toBeGreaterThanOrEqual(4);
    // small transcripts travel inline in their CandidateGenerated event (checked with the events
    // below), only large ones reach the store: together they are every conversation served
    expect(stored.length + (events.match(/"inline":\[/g) ?? []).length).toBeGreaterThanOrEqual(served.length);
    expect(served.some((t) => t.includes('Created src/greeting.ts with the greeting.'))).toBe(true);
    for (const secret of secrets) {
      expect(logs.filter((l) => l.includes(secret))).toEqual([]);
      expect(events.includes(secret)).toBe(false);
      expect({ secret, served: served.filter((t) => t.includes(secret)).length, stored: stored.filter((t) => t.includes(secret)).length }).toEqual({ secret, served: 0, stored: 0 });
    }
  });
});
