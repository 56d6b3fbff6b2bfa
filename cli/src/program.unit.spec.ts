import { PassThrough } from 'node:stream';
import { runCli, type CliIo } from './program';

interface Call {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: unknown;
}

/** A gateway stand-in: answers by "METHOD path" (without the query), records every request. */
function fakeGateway(routes: Record<string, (call: Call) => { status: number; body: unknown; headers?: Record<string, string> }>) {
  const calls: Call[] = [];
  const fetchImpl = (async (input: string | URL, init?: RequestInit) => {
    const url = new URL(String(input));
    const call: Call = { method: init?.method ?? 'GET', url: `${url.pathname}${url.search}`, headers: (init?.headers ?? {}) as Record<string, string>, body: init?.body ? JSON.parse(String(init.body)) : undefined };
    calls.push(call);
    const route = routes[`${call.method} ${url.pathname}`];
    const answer = route ? route(call) : { status: 404, body: { error: { code: 'not_found', message: `no route ${url.pathname}`, details: null, requestId: 'req-404' } } };
    return new Response(JSON.stringify(answer.body), { status: answer.status, headers: { 'content-type': 'application/json', ...(answer.headers ?? {}) } });
  }) as typeof fetch;
  return { calls, fetchImpl };
}

async function cli(argv: string[], fetchImpl: typeof fetch, env: NodeJS.ProcessEnv = {}, input?: string) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  stderr.on('data', (d: Buffer) => (err += d.toString()));
  const stdin = new PassThrough();
  if (input !== undefined) stdin.end(input);
  const io: CliIo = { stdout, stderr, stdin, env, fetch: fetchImpl, now: () => Date.parse('2026-01-01T00:00:00Z') };
  const code = await runCli(argv, io);
  return { code, stdout: out, stderr: err };
}

const templateView = {
  id: 'tpl-1', name: 'gated', version: 2, description: 'd', archived: false, updatedAt: '2026-01-01T00:00:00.000Z', versions: [1, 2],
  template: {
    name: 'gated',
    inputs: { type: 'object', properties: { topic: { type: 'string' }, words: { type: 'integer' } } },
    phases: [{ id: 'review', kind: 'gate', message: 'ok?' }],
  },
};

describe('conclave runs start (arguments → request)', () => {
  it('resolves a template by name, types the inputs and posts the run with the token', async () => {
    const gw = fakeGateway({
      'GET /api/v1/templates/gated': () => ({ status: 404, body: { error: { code: 'not_found', message: 'template "gated" not found', details: null, requestId: 'r1' } } }),
      'GET /api/v1/templates': () => ({ status: 200, body: { items: [{ ...templateView, template: undefined, versions: undefined }] } }),
      'GET /api/v1/templates/tpl-1': () => ({ status: 200, body: templateView }),
      'POST /api/v1/runs': () => ({ status: 201, body: { id: 'run-9', sequence: 7000 } }),
    });
    const res = await cli(['runs', 'start', 'gated', '--input', 'topic=rivers', '--input', 'words=120', '--name', 'first', '--budget', '0.5', '--manual', '--json'], gw.fetchImpl, {
      CONCLAVE_URL: 'http://gw.test:3000',
      CONCLAVE_API_TOKEN: 'secret-token',
    });
    expect(res.code).toBe(0);
    expect(JSON.parse(res.stdout)).toEqual({ id: 'run-9', sequence: 7000 });
    const post = gw.calls.find((c) => c.method === 'POST')!;
    expect(post.url).toBe('/api/v1/runs');
    expect(post.body).toEqual({ templateId: 'tpl-1', inputs: { topic: 'rivers', words: 120 }, name: 'first', budgetUsd: 0.5, autoMode: false });
    expect(gw.calls.every((c) => c.headers.authorization === 'Bearer secret-token')).toBe(true);
  });

  it('runs retry sends the provider and model to switch to', async () => {
    const gw = fakeGateway({ 'POST /api/v1/runs/r%201/phases/slow/retry': () => ({ status: 202, body: { sequence: 42 } }) });
    const res = await cli(['runs', 'retry', 'r 1', 'slow', '--provider', 'openai', '--model', 'gpt-4.1'], gw.fetchImpl);
    expect(res).toMatchObject({ code: 0, stdout: 'retry: accepted for phase "slow" of run r 1 (sequence 42)\n' });
    expect(gw.calls[0]!.body).toEqual({ provider: 'openai', model: 'gpt-4.1' });
  });

  it('refuses a malformed --input before sending anything', async () => {
    const gw = fakeGateway({ 'GET /api/v1/templates/tpl-1': () => ({ status: 200, body: templateView }) });
    const res = await cli(['runs', 'start', 'tpl-1', '--input', 'words=many'], gw.fetchImpl);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/--input words: "many" is not a number/);
    expect(gw.calls.filter((c) => c.method === 'POST')).toHaveLength(0);
  });

  it('--url and --token win over the environment', async () => {
    const gw = fakeGateway({ 'GET /api/v1/runs': () => ({ status: 200, body: { items: [], nextCursor: null } }) });
    const res = await cli(['--url', 'http://flag.test:9', '--token', 'flag-token', 'runs', 'list', '--status', 'running', '--limit', '5'], gw.fetchImpl, { CONCLAVE_URL: 'http://env.test', CONCLAVE_API_TOKEN: 'env' });
    expect(res).toMatchObject({ code: 0, stdout: 'no runs\n' });
    expect(gw.calls[0]).toMatchObject({ url: '/api/v1/runs?status=running&limit=5', headers: { authorization: 'Bearer flag-token' } });
  });

  it('a bad option value is a usage error (exit 1, nothing sent)', async () => {
    const gw = fakeGateway({});
    const res = await cli(['runs', 'list', '--limit', 'lots'], gw.fetchImpl);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/option '--limit <n>' argument 'lots' is invalid/);
    expect(gw.calls).toHaveLength(0);
  });
});

describe('conclave runs answer', () => {
  const waitingRun = {
    id: 'r1', name: null, templateId: 't1', templateVersion: 1, templateName: 't', status: 'waiting', inputs: {}, phases: [], currentPhases: ['ask'],
    costUsd: 0, tokens: { input: 0, output: 0 }, startedAt: '2026-01-01T00:00:00.000Z', completedAt: null, sequence: 9000, error: null,
    pending: { gates: [], questions: [{ phaseId: 'ask', questions: [{ id: 'q1', question: 'Where to?' }, { id: 'q2', question: 'When?', why: 'prices move' }] }], continue: [] },
  };

  it('asks at the prompt only the questions --answer left out, and posts every answer in question order', async () => {
    const gw = fakeGateway({
      'GET /api/v1/runs/r1': () => ({ status: 200, body: waitingRun }),
      'POST /api/v1/runs/r1/phases/ask/answer': () => ({ status: 202, body: { sequence: 9001 } }),
    });
    const res = await cli(['runs', 'answer', 'r1', 'ask', '--answer', '2=in June'], gw.fetchImpl, {}, 'Porto\n');
    expect(res.code).toBe(0);
    expect(res.stdout).toBe('  1. Where to?\n  > Porto\nanswer: accepted for phase "ask" of run r1 (sequence 9001)\n');
    expect(gw.calls[1]!.body).toEqual({ answers: [{ question: 'Where to?', answer: 'Porto' }, { question: 'When?', answer: 'in June' }] });
  });

  it('sends nothing when the input ends before the last answer', async () => {
    const gw = fakeGateway({ 'GET /api/v1/runs/r1': () => ({ status: 200, body: waitingRun }) });
    const res = await cli(['runs', 'answer', 'r1', 'ask'], gw.fetchImpl, {}, 'Porto\n');
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/the input ended before every question was answered/);
    expect(gw.calls.filter((c) => c.method === 'POST')).toHaveLength(0);
  });

  it('refuses a phase the run is not asking about', async () => {
    const gw = fakeGateway({ 'GET /api/v1/runs/r1': () => ({ status: 200, body: waitingRun }) });
    const res = await cli(['runs', 'answer', 'r1', 'plan', '--answer', '1=x'], gw.fetchImpl);
    expect(res).toMatchObject({ code: 1, stderr: 'error: run r1 is not waiting for answers in phase "plan" (it is in: ask)\n' });
  });
});

describe('conclave errors', () => {
  it("prints the API's message and request id, exit 1; with --json the envelope goes to stderr and stdout stays empty", async () => {
    const refusal = { error: { code: 'illegal_state', message: 'run r1 is not waiting on gate "review"', details: null, requestId: 'req-abc' } };
    const gw = fakeGateway({ 'POST /api/v1/runs/r1/phases/review/approve': () => ({ status: 409, body: refusal }) });
    const human = await cli(['runs', 'approve', 'r1', 'review', '--comment', 'ok'], gw.fetchImpl);
    expect(human.code).toBe(1);
    expect(human.stderr).toBe('error: run r1 is not waiting on gate "review"\n  illegal_state (HTTP 409), request id req-abc\n');
    expect(gw.calls[0]!.body).toEqual({ comment: 'ok' });
    const json = await cli(['runs', 'approve', 'r1', 'review', '--json'], gw.fetchImpl);
    expect(json.stdout).toBe('');
    expect(JSON.parse(json.stderr)).toEqual({ error: { code: 'illegal_state', message: refusal.error.message, status: 409, requestId: 'req-abc', details: null } });
  });

  it('an answer that is not the envelope still shows the status and the x-request-id header', async () => {
    const gw = fakeGateway({ 'GET /api/v1/templates': () => ({ status: 502, body: 'bad gateway', headers: { 'x-request-id': 'proxy-7' } }) });
    const res = await cli(['templates', 'list'], gw.fetchImpl);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/HTTP 502.*\n {2}http_502 \(HTTP 502\), request id proxy-7/);
  });

  it('an unreachable gateway names the URL to fix', async () => {
    const refused = (async () => {
      throw Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } });
    }) as typeof fetch;
    const res = await cli(['runs', 'list'], refused, { CONCLAVE_URL: 'http://127.0.0.1:1' });
    expect(res).toMatchObject({ code: 1, stderr: 'error: cannot reach the gateway at http://127.0.0.1:1: ECONNREFUSED (set CONCLAVE_URL or --url)\n' });
  });
});

describe('conclave templates validate', () => {
  it('lists the errors by phase and field and exits 1 when the template is invalid', async () => {
    const gw = fakeGateway({
      'POST /api/v1/templates/validate': () => ({
        status: 200,
        body: { valid: false, levels: [], errors: [{ code: 'unknown_phase', message: 'dependsOn names "nope", which does not exist', path: ['phases', 0, 'dependsOn', 0], phaseId: 'a', field: 'dependsOn' }] },
      }),
    });
    const file = `${__dirname}/../../templates/examples/gated-brief.json`;
    const res = await cli(['templates', 'validate', file], gw.fetchImpl);
    expect(res.code).toBe(1);
    expect(res.stdout).toBe('invalid: 1 error(s)\n  - phase "a", field dependsOn: dependsOn names "nope", which does not exist [unknown_phase]\n');
    expect((gw.calls[0]!.body as { name: string }).name).toBe('gated-brief');
  });

  it('help names the environment variables', async () => {
    const res = await cli(['--help'], fakeGateway({}).fetchImpl);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/CONCLAVE_URL +the gateway \(default http:\/\/localhost:3000\)/);
    expect(res.stdout).toMatch(/CONCLAVE_API_TOKEN/);
  });
});
