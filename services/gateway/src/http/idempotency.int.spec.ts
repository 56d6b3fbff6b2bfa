import { randomBytes, randomUUID } from 'node:crypto';
import { ErrorEnvelope } from '@conclave/contracts';
import { createTestEnv, type TestEnv } from '@conclave/testing';
import { http, startFakeOrchestrator, startGateway, type FakeOrchestrator, type RunningGateway } from '../__tests__/harness';

/** `Idempotency-Key` on creating requests: a retried request after a timeout creates nothing twice. */
describe('Idempotency-Key', () => {
  let env: TestEnv;
  let gw: RunningGateway;
  let fake: FakeOrchestrator;
  const MASTER_KEY = randomBytes(32).toString('base64');
  const start = () => startGateway(env, { CONCLAVE_MASTER_KEY: MASTER_KEY });
  const post = (path: string, json: unknown, key?: string) => http(`${gw.url}/api/v1${path}`, { method: 'POST', json, ...(key ? { headers: { 'idempotency-key': key } } : {}) });

  beforeAll(async () => {
    env = await createTestEnv('gwidem');
    fake = await startFakeOrchestrator(env);
    gw = await start();
  });
  afterAll(async () => {
    await gw?.close();
    await fake?.close();
    await env?.dispose();
  });
  beforeEach(() => {
    fake.requests.length = 0;
    let n = 0;
    fake.behave(() => ({ ok: true, id: `run-${++n}-${randomUUID()}`, sequence: 10 + n }));
  });

  it('starts one run for a key however often the client retries, also after a gateway restart', async () => {
    const key = randomUUID();
    const body = { templateId: 'tpl-1', inputs: { topic: 'bees' } };
    const first = await post('/runs', body, key);
    expect(first.status).toBe(201);
    const again = await post('/runs', body, key);
    expect(again.status).toBe(201);
    expect(again.body).toEqual(first.body);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(fake.requests).toHaveLength(1);

    await gw.close();
    gw = await start();
    const afterRestart = await post('/runs', body, key);
    expect(afterRestart.status).toBe(201);
    expect(afterRestart.body).toEqual(first.body);
    expect(fake.requests).toHaveLength(1);

    // without a key, or with another one, it is a new run
    expect((await post('/runs', body)).body).not.toEqual(first.body);
    expect((await post('/runs', body, randomUUID())).body).not.toEqual(first.body);
    expect(fake.requests).toHaveLength(3);
  });

  it('refuses the same key with another body (422) and a malformed key (400), sending nothing', async () => {
    const key = randomUUID();
    await post('/runs', { templateId: 'tpl-1', inputs: {} }, key);
    const other = await post('/runs', { templateId: 'tpl-2', inputs: {} }, key);
    expect(other.status).toBe(422);
    expect(ErrorEnvelope.parse(other.body).error.message).toContain('different request body');
    for (const bad of ['x'.repeat(256), 'with space']) expect((await post('/runs', { templateId: 'tpl-1' }, bad)).status).toBe(400);
    expect(fake.requests).toHaveLength(1);
  });

  it('keeps nothing for a request that failed: its retry is handled afresh', async () => {
    const key = randomUUID();
    fake.behave(() => ({ ok: false, error: { code: 'not_found', message: 'no such template' } }));
    expect((await post('/runs', { templateId: 'tpl-x' }, key)).status).toBe(404);
    fake.behave(() => ({ ok: true, id: 'run-after-fix', sequence: 99 }));
    const retried = await post('/runs', { templateId: 'tpl-x' }, key);
    expect(retried.status).toBe(201);
    expect(retried.body).toEqual({ id: 'run-after-fix', sequence: 99 });
    expect(fake.requests).toHaveLength(2);
  });

  it('scopes a key to its method and path: fork and rerun of two runs, a provider created once', async () => {
    const key = randomUUID();
    expect((await post('/runs/run-a/rerun', {}, key)).status).toBe(201);
    expect((await post('/runs/run-b/rerun', {}, key)).status).toBe(201);
    expect((await post('/runs/run-a/rerun', {}, key)).status).toBe(201);
    expect(fake.requests).toHaveLength(2);

    const before = (await env.log.readAll(0, 10_000)).length;
    const provider = { name: `p-${randomUUID().slice(0, 8)}`, kind: 'openai', apiKey: 'sk-once-1234567890' };
    const created = await post('/providers', provider, key);
    expect(created.status).toBe(201);
    const replayed = await post('/providers', provider, key);
    expect(replayed.status).toBe(201);
    expect(replayed.body).toEqual(created.body);
    expect((await env.log.readAll(0, 10_000)).length).toBe(before + 1); // one ProviderConfigured
  });
});
