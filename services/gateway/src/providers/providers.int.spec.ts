import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { io, type Socket } from 'socket.io-client';
import { CredentialsReply, ErrorEnvelope, ProviderView, type ClientToServerEvents, type ServerToClientEvents } from '@conclave/contracts';
import { ProviderSecretRow } from '@conclave/read-models';
import { createLogger } from '@conclave/service-kit';
import { createTestEnv, type TestEnv } from '@conclave/testing';
import { fold, http, startGateway, type HttpResult, type RunningGateway } from '../__tests__/harness';
import { DATA_SOURCE } from '../tokens';
import type { DataSource } from '@conclave/read-models';
import { ProvidersService } from './providers.service';

/** Fake Anthropic / OpenAI / Gemini endpoints: the real SDKs talk to it, it records what they sent. */
interface FakeProviders {
  url: string;
  requests: { method: string; path: string; headers: IncomingMessage['headers'] }[];
  close(): Promise<void>;
}
async function startFakeProviders(goodKeys: Set<string>): Promise<FakeProviders> {
  const requests: FakeProviders['requests'] = [];
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const path = (req.url ?? '').split('?')[0]!;
      requests.push({ method: req.method ?? '', path, headers: req.headers });
      const presented = String(req.headers['x-api-key'] ?? req.headers['x-goog-api-key'] ?? '').trim() || String(req.headers.authorization ?? '').replace(/^Bearer /, '');
      const json = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      if (!goodKeys.has(presented)) return json(401, { error: { type: 'authentication_error', message: 'invalid x-api-key' } });
      if (req.method === 'POST' && path === '/v1/messages') {
        return json(200, { id: 'msg_1', type: 'message', role: 'assistant', model: 'claude-haiku-4-5', content: [{ type: 'text', text: 'p' }], stop_reason: 'max_tokens', stop_sequence: null, usage: { input_tokens: 1, output_tokens: 1 } });
      }
      if (req.method === 'GET' && path === '/v1/models') return json(200, { object: 'list', data: [{ id: 'gpt-4.1', object: 'model', created: 0, owned_by: 'x' }] });
      if (req.method === 'GET' && /^\/v1(beta)?\/models$/.test(path)) return json(200, { models: [{ name: 'models/gemini-2.5-flash' }] });
      json(404, { error: { message: `no route ${req.method} ${path}` } });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, requests, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

describe('providers: CRUD, encrypted keys, connection test, credentials for workers', () => {
  const ENV_KEY = `sk-ant-env-${randomBytes(12).toString('hex')}`;
  const OPENAI_KEY = `sk-openai-${randomBytes(12).toString('hex')}`;
  const ROTATED_KEY = `sk-rotated-${randomBytes(12).toString('hex')}`;
  const GEMINI_KEY = `AIza-${randomBytes(12).toString('hex')}`;
  const SECRETS = [ENV_KEY, OPENAI_KEY, ROTATED_KEY, GEMINI_KEY];

  let env: TestEnv;
  let gw: RunningGateway;
  let api: string;
  let fake: FakeProviders;
  let db: DataSource;
  const logLines: string[] = [];
  const responses: string[] = [];
  const socketMessages: string[] = [];
  let socket: Socket<ServerToClientEvents, ClientToServerEvents>;

  const call = async (path: string, init: Parameters<typeof http>[1] = {}): Promise<HttpResult> => {
    const res = await http(`${api}${path}`, init);
    responses.push(res.text, JSON.stringify([...res.headers.entries()]));
    return res;
  };
  const foldAll = async () => fold(env, await env.log.readAll(0, 10_000));
  const credentials = async (provider: unknown) => CredentialsReply.parse((await env.log.nc.request(env.log.names.subjects.credentials, JSON.stringify({ provider }), { timeout: 2000 })).json());

  beforeAll(async () => {
    env = await createTestEnv('gwprov');
    fake = await startFakeProviders(new Set(SECRETS));
    const capture = new Writable({
      write(chunk: Buffer, _enc, done) {
        logLines.push(chunk.toString('utf8'));
        done();
      },
    });
    gw = await startGateway(
      env,
      { CONCLAVE_MASTER_KEY: randomBytes(32).toString('base64'), ANTHROPIC_API_KEY: ENV_KEY, LOG_LEVEL: 'trace' },
      createLogger('gateway-test', 'trace', {}, capture),
    );
    api = `${gw.url}/api/v1`;
    db = gw.app.get<DataSource>(DATA_SOURCE);
    socket = io(gw.url, { path: '/socket.io', transports: ['websocket'], reconnection: false, forceNew: true });
    socket.onAny((event: string, ...args: unknown[]) => socketMessages.push(JSON.stringify([event, args])));
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', reject);
    });
    for (const room of ['runs', 'fleet', 'costs'] as const) await socket.emitWithAck('subscribe', { room });
  });
  afterAll(async () => {
    socket?.close();
    await gw?.close();
    await fake?.close();
    await env?.dispose();
  });

  it('lists the built-in simulated provider and the one configured from ANTHROPIC_API_KEY at boot', async () => {
    await foldAll();
    const res = await call('/providers');
    expect(res.status).toBe(200);
    const items = (res.body as { items: unknown[] }).items.map((p) => ProviderView.parse(p));
    expect(items.map((p) => [p.name, p.kind, p.source, p.hasApiKey, p.apiKeyLast4])).toEqual([
      ['simulated', 'simulated', 'builtin', false, null],
      ['anthropic', 'anthropic', 'env', true, ENV_KEY.slice(-4)],
    ]);
  });

  it('configures from the environment idempotently (a second boot appends nothing)', async () => {
    const before = await env.log.lastSequence();
    expect(await gw.app.get(ProvidersService).configureFromEnv()).toEqual([]);
    expect(await env.log.lastSequence()).toBe(before);
  });

  it('creates a provider: 201, the key write-only (last 4 at most), its config in the log without the key', async () => {
    const res = await call('/providers', {
      method: 'POST',
      json: { name: 'openai-local', kind: 'openai', apiKey: OPENAI_KEY, baseUrl: `${fake.url}/v1`, models: ['gpt-4.1'], prices: { 'gpt-4.1': { inputPer1M: 2, outputPer1M: 8 } } },
    });
    expect(res.status).toBe(201);
    const view = ProviderView.parse(res.body);
    expect(view).toEqual(expect.objectContaining({ id: 'openai-local', kind: 'openai', hasApiKey: true, apiKeyLast4: OPENAI_KEY.slice(-4), enabled: true, source: 'api' }));
    expect(Object.keys(res.body as object)).not.toContain('apiKey');
    const events = await env.log.read('provider', 'openai-local');
    expect(events.map((e) => e.type)).toEqual(['ProviderConfigured']);
    expect(events[0]!.data).toEqual(expect.objectContaining({ hasApiKey: true, prices: { 'gpt-4.1': { inputPer1M: 2, outputPer1M: 8 } } }));
  });

  it('refuses duplicates (409), bad bodies and unknown fields (400), unknown ids (404), writing nothing', async () => {
    const before = await env.log.lastSequence();
    const expectError = (res: HttpResult, status: number, code: string) => expect({ status: res.status, code: ErrorEnvelope.parse(res.body).error.code }).toEqual({ status, code });
    expectError(await call('/providers', { method: 'POST', json: { name: 'openai-local', kind: 'openai' } }), 409, 'illegal_state');
    expectError(await call('/providers', { method: 'POST', json: { name: 'x', kind: 'mistral' } }), 400, 'bad_request');
    expectError(await call('/providers', { method: 'POST', json: { name: 'Has Spaces', kind: 'openai' } }), 400, 'bad_request');
    expectError(await call('/providers', { method: 'POST', json: { name: 'y', kind: 'openai', colour: 'red' } }), 400, 'bad_request');
    expectError(await call('/providers', { method: 'POST', json: { name: 'z', kind: 'openai', baseUrl: 'file:///etc/passwd' } }), 400, 'bad_request');
    expectError(await call('/providers', { method: 'POST', json: { name: 'w', kind: 'openai', prices: { m: { inputPer1M: -1, outputPer1M: 1 } } } }), 400, 'bad_request');
    expectError(await call('/providers/nope', { method: 'PATCH', json: { enabled: false } }), 404, 'not_found');
    expectError(await call('/providers/openai-local', { method: 'PATCH', json: { name: 'other' } }), 400, 'bad_request');
    expectError(await call('/providers/nope', { method: 'DELETE' }), 404, 'not_found');
    expectError(await call('/providers/nope/test', { method: 'POST' }), 404, 'not_found');
    expectError(await call('/providers/simulated', { method: 'DELETE' }), 409, 'illegal_state');
    expect(await env.log.lastSequence()).toBe(before);
  });

  it('tests connections through the official SDKs against the base URL, and reports failures', async () => {
    expect((await call('/providers/simulated/test', { method: 'POST' })).body).toEqual({ ok: true, latencyMs: 0 });

    const openai = await call('/providers/openai-local/test', { method: 'POST' });
    expect(openai.body).toEqual({ ok: true, latencyMs: expect.any(Number) });
    expect(fake.requests.at(-1)).toEqual(expect.objectContaining({ method: 'GET', path: '/v1/models' }));
    expect(fake.requests.at(-1)!.headers.authorization).toBe(`Bearer ${OPENAI_KEY}`);

    // a new endpoint takes its key with it, explicitly (a key is never moved to another URL)
    expect((await call('/providers/anthropic', { method: 'PATCH', json: { baseUrl: fake.url, apiKey: ENV_KEY } })).status).toBe(200);
    expect((await call('/providers/anthropic/test', { method: 'POST' })).body).toEqual({ ok: true, latencyMs: expect.any(Number) });
    expect(fake.requests.at(-1)).toEqual(expect.objectContaining({ method: 'POST', path: '/v1/messages' }));
    // this SDK version sends the key as x-api-key or as a bearer token
    const sent = fake.requests.at(-1)!.headers;
    expect([sent['x-api-key'], sent.authorization]).toContainEqual(expect.stringContaining(ENV_KEY));

    expect((await call('/providers', { method: 'POST', json: { name: 'gemini', kind: 'gemini', apiKey: GEMINI_KEY, baseUrl: fake.url } })).status).toBe(201);
    expect((await call('/providers/gemini/test', { method: 'POST' })).body).toEqual({ ok: true, latencyMs: expect.any(Number) });
    expect(fake.requests.at(-1)!.path).toMatch(/^\/v1(beta)?\/models$/);

    // a wrong key: the provider's 401 comes back as ok: false with the SDK's message
    expect((await call('/providers', { method: 'POST', json: { name: 'bad-key', kind: 'openai', apiKey: 'sk-wrong-1234567890', baseUrl: `${fake.url}/v1` } })).status).toBe(201);
    const bad = await call('/providers/bad-key/test', { method: 'POST' });
    expect(bad.body).toEqual({ ok: false, latencyMs: expect.any(Number), error: expect.stringContaining('401'), code: 'auth_failed' });
    // a refused key is an alert in the log (ADR 016), once per configuration however often it is tested
    expect(((await call('/providers/bad-key/test', { method: 'POST' })).body as { code?: string }).code).toBe('auth_failed');
    const refusals = (await env.log.readAll(0, 10_000)).filter((e) => e.type === 'AlertRaised' && (e.data as { providerName: string | null }).providerName === 'bad-key');
    expect(refusals.map((e) => (e.data as { kind: string }).kind)).toEqual(['provider_credentials']);
    // nothing listening
    expect((await call('/providers/bad-key', { method: 'PATCH', json: { baseUrl: 'http://127.0.0.1:9/v1' } })).status).toBe(200);
    expect(((await call('/providers/bad-key/test', { method: 'POST' })).body as { ok: boolean }).ok).toBe(false);
  });

  it('never sends a stored key to a new endpoint: changing baseUrl or kind deletes it (keyCleared), the test then calls without it', async () => {
    expect((await call('/providers', { method: 'POST', json: { name: 'moving', kind: 'openai', apiKey: OPENAI_KEY, baseUrl: `${fake.url}/v1` } })).status).toBe(201);
    const moved = await call('/providers/moving', { method: 'PATCH', json: { baseUrl: 'http://127.0.0.1:9/v1' } });
    expect(moved.status).toBe(200);
    expect(ProviderView.parse(moved.body)).toEqual(expect.objectContaining({ hasApiKey: false, apiKeyLast4: null, keyCleared: true }));
    expect(await db.getRepository(ProviderSecretRow).findOneBy({ providerId: 'moving' })).toBeNull();
    // back at the old URL, the test presents no key at all
    const before = fake.requests.length;
    await call('/providers/moving', { method: 'PATCH', json: { baseUrl: `${fake.url}/v1` } });
    expect(((await call('/providers/moving/test', { method: 'POST' })).body as { ok: boolean }).ok).toBe(false);
    expect(fake.requests.slice(before).map((r) => r.headers.authorization ?? '')).not.toContainEqual(expect.stringContaining(OPENAI_KEY));
    // a kind change clears it too; a change that names the key again keeps it; a same-URL PATCH keeps it
    await call('/providers/moving', { method: 'PATCH', json: { apiKey: OPENAI_KEY } });
    expect(ProviderView.parse((await call('/providers/moving', { method: 'PATCH', json: { baseUrl: `${fake.url}/v1`, enabled: true } })).body)).toEqual(expect.objectContaining({ hasApiKey: true }));
    expect(ProviderView.parse((await call('/providers/moving', { method: 'PATCH', json: { kind: 'anthropic' } })).body)).toEqual(expect.objectContaining({ hasApiKey: false, keyCleared: true }));
    const both = await call('/providers/moving', { method: 'PATCH', json: { kind: 'openai', apiKey: OPENAI_KEY } });
    expect(ProviderView.parse(both.body)).toEqual(expect.objectContaining({ hasApiKey: true, apiKeyLast4: OPENAI_KEY.slice(-4) }));
    expect(ProviderView.parse(both.body).keyCleared).toBeUndefined();
    // a baseUrl that is not http(s) is refused
    expect((await call('/providers/moving', { method: 'PATCH', json: { baseUrl: 'file:///etc/passwd' } })).status).toBe(400);
  });

  it('rotates and deletes keys with PATCH; the read model follows the log', async () => {
    const rotated = await call('/providers/openai-local', { method: 'PATCH', json: { apiKey: ROTATED_KEY, enabled: false } });
    expect(ProviderView.parse(rotated.body)).toEqual(expect.objectContaining({ apiKeyLast4: ROTATED_KEY.slice(-4), enabled: false }));
    const cleared = await call('/providers/bad-key', { method: 'PATCH', json: { apiKey: null } });
    expect(ProviderView.parse(cleared.body)).toEqual(expect.objectContaining({ hasApiKey: false, apiKeyLast4: null }));
    await foldAll();
    const list = ((await call('/providers')).body as { items: ProviderView[] }).items;
    expect(list.find((p) => p.id === 'openai-local')).toEqual(expect.objectContaining({ apiKeyLast4: ROTATED_KEY.slice(-4), enabled: false }));
  });

  it('serves credentials to workers over NATS request/reply', async () => {
    const reply = await credentials('openai-local');
    expect(reply).toEqual({ ok: true, kind: 'openai', apiKey: ROTATED_KEY, baseUrl: `${fake.url}/v1`, models: ['gpt-4.1'], prices: { 'gpt-4.1': { inputPer1M: 2, outputPer1M: 8 } }, enabled: false });
    expect(await credentials('simulated')).toEqual(expect.objectContaining({ ok: true, kind: 'simulated', apiKey: null }));
    expect(await credentials('ghost')).toEqual({ ok: false, error: expect.objectContaining({ code: 'not_found' }) });
    expect(await credentials(42)).toEqual({ ok: false, error: expect.objectContaining({ code: 'bad_request' }) });
  });

  it('fails to decrypt a tampered ciphertext, nonce or tag, or a secret moved to another provider (AAD)', async () => {
    const repo = db.getRepository(ProviderSecretRow);
    const original = (await repo.findOneByOrFail({ providerId: 'openai-local' }))!;
    const flip = (b: Buffer) => Buffer.from(b.map((x, i) => (i === 0 ? x ^ 1 : x)));
    for (const field of ['ciphertext', 'nonce', 'tag'] as const) {
      await repo.update({ providerId: 'openai-local' }, { [field]: flip(original[field]) });
      expect(await credentials('openai-local')).toEqual({ ok: false, error: expect.objectContaining({ code: 'unavailable' }) });
      const view = await call('/providers/openai-local');
      expect(ProviderView.parse(view.body)).toEqual(expect.objectContaining({ hasApiKey: true, apiKeyLast4: null }));
      await repo.update({ providerId: 'openai-local' }, { [field]: original[field] });
    }
    // the openai key copied onto the gemini row: the associated data (provider id) no longer matches
    const gemini = (await repo.findOneByOrFail({ providerId: 'gemini' }))!;
    await repo.update({ providerId: 'gemini' }, { ciphertext: original.ciphertext, nonce: original.nonce, tag: original.tag });
    expect(await credentials('gemini')).toEqual({ ok: false, error: expect.objectContaining({ code: 'unavailable' }) });
    await repo.update({ providerId: 'gemini' }, { ciphertext: gemini.ciphertext, nonce: gemini.nonce, tag: gemini.tag });
    expect(await credentials('gemini')).toEqual(expect.objectContaining({ ok: true, apiKey: GEMINI_KEY }));
    expect(await credentials('openai-local')).toEqual(expect.objectContaining({ ok: true, apiKey: ROTATED_KEY }));
  });

  it('removes a provider and its stored key', async () => {
    const res = await call('/providers/gemini', { method: 'DELETE' });
    expect(res.status).toBe(200);
    expect(await db.getRepository(ProviderSecretRow).existsBy({ providerId: 'gemini' })).toBe(false);
    expect((await call('/providers/gemini')).status).toBe(404);
    await foldAll();
    expect(((await call('/providers')).body as { items: ProviderView[] }).items.map((p) => p.id)).not.toContain('gemini');
    // a removed name can be configured again
    expect((await call('/providers', { method: 'POST', json: { name: 'gemini', kind: 'gemini' } })).status).toBe(201);
  });

  it('never lets a key reach a response, a log line, an event or a socket message', async () => {
    const events = JSON.stringify(await env.log.readAll(0, 10_000));
    const rows = JSON.stringify(await db.query('SELECT * FROM providers'));
    expect(logLines.length).toBeGreaterThan(10);
    expect(logLines.filter((l) => l.includes('"provider configured"')).length).toBeGreaterThan(5); // the audit lines exist, keyless
    const haystacks = { responses: responses.join('\n'), logs: logLines.join(''), events, readModel: rows, sockets: socketMessages.join('\n') };
    for (const secret of SECRETS) {
      for (const [where, text] of Object.entries(haystacks)) {
        expect({ where, leaks: text.includes(secret) }).toEqual({ where, leaks: false });
      }
    }
    expect(responses.length).toBeGreaterThan(20);
  });
});

describe('providers: PROVIDER_BASE_URL_HOSTS limits where keys may go', () => {
  let env: TestEnv;
  let gw: RunningGateway;
  beforeAll(async () => {
    env = await createTestEnv('gwprovhosts');
    gw = await startGateway(env, { CONCLAVE_MASTER_KEY: randomBytes(32).toString('base64'), PROVIDER_BASE_URL_HOSTS: 'api.openai.com, *.example.com' });
  });
  afterAll(async () => {
    await gw?.close();
    await env?.dispose();
  });

  it('accepts the listed hosts and subdomains, refuses others with a 422 naming them, writes nothing', async () => {
    const post = (json: unknown) => http(`${gw.url}/api/v1/providers`, { method: 'POST', json });
    expect((await post({ name: 'ok-a', kind: 'openai', baseUrl: 'https://api.openai.com/v1' })).status).toBe(201);
    expect((await post({ name: 'ok-b', kind: 'openai', baseUrl: 'https://llm.eu.example.com/v1' })).status).toBe(201);
    const before = (await env.log.readAll(0, 10_000)).length;
    const refused = await post({ name: 'evil', kind: 'openai', apiKey: 'sk-never-sent-1234', baseUrl: 'http://127.0.0.1:9/v1' });
    expect(refused.status).toBe(422);
    expect(ErrorEnvelope.parse(refused.body).error.message).toContain('PROVIDER_BASE_URL_HOSTS');
    expect((await http(`${gw.url}/api/v1/providers/ok-a`, { method: 'PATCH', json: { baseUrl: 'https://example.com.evil.test/v1' } })).status).toBe(422);
    expect((await env.log.readAll(0, 10_000)).length).toBe(before);
  });
});
