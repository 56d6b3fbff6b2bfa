import { randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { io } from 'socket.io-client';
import { ErrorEnvelope, type LogEntry } from '@conclave/contracts';
import { createTestEnv, type TestEnv } from '@conclave/testing';
import { http, startFakeOrchestrator, startGateway, type FakeOrchestrator, type RunningGateway } from '../__tests__/harness';

/** A request with a Host header of our choosing (fetch does not let a caller set Host). */
function withHost(url: string, host: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { headers: { ...headers, host } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('named API tokens: each name authenticates and is the actor of what its requests cause', () => {
  let env: TestEnv;
  let gw: RunningGateway;
  let fake: FakeOrchestrator;
  const tokens = { alice: `alice-${randomUUID()}`, ci: `ci-${randomUUID()}`, legacy: `legacy-${randomUUID()}` };
  const as = (token: string) => ({ authorization: `Bearer ${token}` });

  beforeAll(async () => {
    env = await createTestEnv('gwnamedtok');
    fake = await startFakeOrchestrator(env);
    gw = await startGateway(env, { CONCLAVE_API_TOKENS: `alice:${tokens.alice},ci:${tokens.ci}`, CONCLAVE_API_TOKEN: tokens.legacy });
  });
  afterAll(async () => {
    await gw?.close();
    await fake?.close();
    await env?.dispose();
  });

  it('accepts every configured token, CONCLAVE_API_TOKEN too, and answers 401 to anything else', async () => {
    for (const token of Object.values(tokens)) expect((await http(`${gw.url}/api/v1/runs`, { headers: as(token) })).status).toBe(200);
    for (const headers of [{}, as('wrong'), as(`${tokens.alice}x`), as(tokens.alice.slice(0, -1)), { authorization: `alice:${tokens.alice}` }] as Record<string, string>[]) {
      const res = await http(`${gw.url}/api/v1/runs`, { headers });
      expect(res.status).toBe(401);
      expect(ErrorEnvelope.parse(res.body).error.code).toBe('unauthorized');
    }
  });

  it('sends the token\'s name as the actor of run commands and template changes', async () => {
    fake.behave((request) => ({ ok: true, id: request.command.type === 'CreateTemplate' ? 'tpl-1' : 'run-1', sequence: 5, version: 1 }));
    fake.requests.length = 0;
    expect((await http(`${gw.url}/api/v1/runs`, { method: 'POST', json: { templateId: 't' }, headers: as(tokens.alice) })).status).toBe(201);
    expect((await http(`${gw.url}/api/v1/runs/run-1/pause`, { method: 'POST', json: {}, headers: as(tokens.ci) })).status).toBeLessThan(300);
    const template = { name: 'by-legacy', phases: [{ id: 'draft', kind: 'llm', prompt: { user: 'Write' }, candidates: [{ provider: 'simulated', model: 'sim' }] }] };
    expect((await http(`${gw.url}/api/v1/templates`, { method: 'POST', json: template, headers: as(tokens.legacy) })).status).toBe(201);
    expect(fake.requests.map((r) => [r.command.type, r.actor])).toEqual([
      ['StartRun', { kind: 'user', id: 'alice' }],
      ['PauseRun', { kind: 'user', id: 'ci' }],
      ['CreateTemplate', { kind: 'user', id: 'default' }],
    ]);
  });

  it('keeps each request\'s actor apart when two in flight present the same x-request-id (the second gets its own id)', async () => {
    fake.behave(async (request) => {
      await new Promise((r) => setTimeout(r, 300)); // both requests are in flight at once
      return { ok: true, id: 'run-1', sequence: request.command.type === 'PauseRun' ? 7 : 8, version: 1 };
    });
    fake.requests.length = 0;
    const headers = (token: string) => ({ ...as(token), 'x-request-id': 'same-id-1' });
    const [paused, resumed] = await Promise.all([
      http(`${gw.url}/api/v1/runs/run-1/pause`, { method: 'POST', json: {}, headers: headers(tokens.alice) }),
      http(`${gw.url}/api/v1/runs/run-1/resume`, { method: 'POST', json: {}, headers: headers(tokens.ci) }),
    ]);
    expect([paused.status, resumed.status]).toEqual([202, 202]);
    const ids = [paused.headers.get('x-request-id'), resumed.headers.get('x-request-id')];
    expect(ids).toContain('same-id-1');
    expect(new Set(ids).size).toBe(2);
    const byType = Object.fromEntries(fake.requests.map((r) => [r.command.type, r]));
    expect(byType.PauseRun).toMatchObject({ actor: { kind: 'user', id: 'alice' }, requestId: paused.headers.get('x-request-id') });
    expect(byType.ResumeRun).toMatchObject({ actor: { kind: 'user', id: 'ci' }, requestId: resumed.headers.get('x-request-id') });
  });

  it('records the token\'s name as the actor of a provider change in the event log', async () => {
    const name = `prov-${randomUUID().slice(0, 8)}`;
    const created = await http(`${gw.url}/api/v1/providers`, { method: 'POST', json: { name, kind: 'openai', baseUrl: 'https://api.openai.com/v1' }, headers: as(tokens.alice) });
    expect(created.status).toBe(201);
    expect((await http(`${gw.url}/api/v1/providers/${name}`, { method: 'PATCH', json: { enabled: false }, headers: as(tokens.ci) })).status).toBe(200);
    const events = await http<{ items: LogEntry[] }>(`${gw.url}/api/v1/events?streamId=provider:${name}`, { headers: as(tokens.ci) });
    expect(events.status).toBe(200);
    expect(events.body.items.map((e) => [e.type, e.actor])).toEqual([
      ['ProviderConfigured', { kind: 'user', id: 'alice' }],
      ['ProviderConfigured', { kind: 'user', id: 'ci' }],
    ]);
  });

  it('opens the socket.io handshake to every named token and to no other', async () => {
    const handshake = (token: string) =>
      new Promise<string>((resolve) => {
        const socket = io(gw.url, { path: '/socket.io', transports: ['websocket'], reconnection: false, forceNew: true, auth: { token } });
        socket.once('connect', () => (socket.close(), resolve('connected')));
        socket.once('connect_error', (err) => (socket.close(), resolve(err.message)));
      });
    expect(await handshake(tokens.alice)).toBe('connected');
    expect(await handshake(tokens.ci)).toBe('connected');
    expect(await handshake(tokens.legacy)).toBe('connected');
    expect(await handshake('wrong')).toBe('unauthorized');
  });
});

describe('Host allow-list on a loopback gateway (DNS rebinding)', () => {
  let env: TestEnv;
  let gw: RunningGateway;
  let port: string;

  beforeAll(async () => {
    env = await createTestEnv('gwhosts');
    gw = await startGateway(env, { CONCLAVE_ALLOWED_HOSTS: 'conclave.internal, dev.box:8080' });
    port = new URL(gw.url).port;
  });
  afterAll(async () => {
    await gw?.close();
    await env?.dispose();
  });

  it('answers localhost, 127.0.0.1, [::1] and CONCLAVE_ALLOWED_HOSTS', async () => {
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`, 'localhost', `conclave.internal:${port}`, 'dev.box:8080']) {
      const res = await withHost(`${gw.url}/api/v1/runs`, host);
      expect({ host, status: res.status }).toEqual({ host, status: 200 });
    }
  });

  it('refuses any other Host with a 403 forbidden envelope: REST, health, the dashboard and the socket.io handshake', async () => {
    for (const host of [`evil.example:${port}`, 'evil.example', `localhost.evil.example:${port}`, 'dev.box:9090', `192.168.1.5:${port}`]) {
      for (const path of ['/api/v1/runs', '/api/v1/health', '/', '/runs', '/api/docs']) {
        const res = await withHost(`${gw.url}${path}`, host, { accept: 'text/html,application/json' });
        expect({ host, path, status: res.status }).toEqual({ host, path, status: 403 });
        const envelope = ErrorEnvelope.parse(JSON.parse(res.body));
        expect(envelope.error.code).toBe('forbidden');
        expect(envelope.error.message).toMatch(/Host header not allowed/);
      }
      const socket = await withHost(`${gw.url}/socket.io/?EIO=4&transport=polling`, host);
      expect({ host, socket: socket.status }).toEqual({ host, socket: 403 });
      expect(socket.body).toMatch(/Host header not allowed/);
    }
    // the same handshake with an allowed Host opens
    expect((await withHost(`${gw.url}/socket.io/?EIO=4&transport=polling`, `localhost:${port}`)).status).toBe(200);
  });
});
