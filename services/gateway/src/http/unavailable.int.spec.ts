import { ErrorEnvelope } from '@conclave/contracts';
import { createTestEnv, eventually, type TestEnv } from '@conclave/testing';
import { CuttableProxy } from '../__tests__/cuttable-proxy';
import { appendMeta, http, startFakeOrchestrator, startGateway, type FakeOrchestrator, type RunningGateway } from '../__tests__/harness';

/**
 * Postgres going away under a running gateway: the gateway talks to it through a TCP proxy the
 * test can cut. Requests then get 503 `unavailable` with Retry-After (never a 500), and the
 * gateway serves again once Postgres is back.
 */
describe('the gateway with Postgres unreachable', () => {
  let env: TestEnv;
  let gw: RunningGateway;
  let proxy: CuttableProxy;

  beforeAll(async () => {
    env = await createTestEnv('gwdown');
    proxy = CuttableProxy.to(env.databaseUrl, 5432);
    await proxy.open();
    gw = await startGateway(env, { DATABASE_URL: proxy.via(env.databaseUrl) });
  });
  afterAll(async () => {
    await gw?.close();
    await proxy?.cut();
    await env?.dispose();
  });

  it('answers 503 with Retry-After while Postgres is down, and serves again when it is back', async () => {
    expect((await http(`${gw.url}/api/v1/runs`)).status).toBe(200);
    const port = proxy.port;
    await proxy.cut();
    for (const path of ['/runs', '/templates', '/providers', '/costs?groupBy=provider']) {
      const res = await http(`${gw.url}/api/v1${path}`);
      expect({ path, status: res.status }).toEqual({ path, status: 503 });
      expect(res.headers.get('retry-after')).toBe('5');
      expect(ErrorEnvelope.parse(res.body).error.code).toBe('unavailable');
    }
    await proxy.open(port);
    let status = 0;
    for (let i = 0; i < 40 && status !== 200; i += 1) {
      status = (await http(`${gw.url}/api/v1/runs`)).status;
      if (status !== 200) await new Promise((r) => setTimeout(r, 250));
    }
    expect(status).toBe(200);
  });
});

/**
 * NATS going away under a running gateway: the gateway's connections (the log and the
 * orchestrator client) go through a TCP proxy the test cuts, while the orchestrator itself stays
 * on NATS. A command (NATS request/reply) and reads of the log then get 503 `unavailable` with
 * Retry-After (never a 500), /ready names NATS as what is down, and everything works again once
 * NATS is back (the clients reconnect on their own).
 */
describe('the gateway with NATS unreachable', () => {
  let env: TestEnv;
  let gw: RunningGateway;
  let proxy: CuttableProxy;
  let fake: FakeOrchestrator;
  const runId = '11111111-2222-4333-8444-555555555555';

  beforeAll(async () => {
    env = await createTestEnv('gwnatsdown');
    fake = await startFakeOrchestrator(env);
    fake.behave(() => ({ ok: true, id: runId, sequence: 42 }));
    proxy = CuttableProxy.to(env.natsUrl, 4222);
    await proxy.open();
    gw = await startGateway(env, { NATS_URL: proxy.via(env.natsUrl), ORCHESTRATOR_TIMEOUT_MS: '1500' });
    await env.log.append('provider', 'before-cut', [{ type: 'ProviderConfigured', data: { providerId: 'before-cut', name: 'before-cut', kind: 'simulated', baseUrl: null, models: [], enabled: true, prices: {}, hasApiKey: false, source: 'api' } }], 0, appendMeta());
  });
  afterAll(async () => {
    await gw?.close();
    await proxy?.cut();
    await fake?.close();
    await env?.dispose();
  });

  const requests: [string, string, RequestInit & { json?: unknown }][] = [
    ['a run command (request/reply to the orchestrator)', `/runs/${runId}/pause`, { method: 'POST', json: {} }],
    ['the raw log', '/events?after=0&limit=10', {}],
    ['one aggregate of the log', '/events?streamId=provider:before-cut', {}],
    ['a provider (read from its events)', '/providers/before-cut', {}],
  ];

  it('answers 503 with Retry-After while NATS is down, says so on /ready, and serves again when it is back', async () => {
    for (const [what, path, init] of requests) {
      const res = await http(`${gw.url}/api/v1${path}`, init);
      expect({ what, status: res.status }).toEqual({ what, status: path.endsWith('pause') ? 202 : 200 });
    }
    const port = proxy.port;
    await proxy.cut();
    for (const [what, path, init] of requests) {
      const res = await http(`${gw.url}/api/v1${path}`, init);
      expect({ what, status: res.status, code: res.body?.error?.code }).toEqual({ what, status: 503, code: 'unavailable' });
      expect(res.headers.get('retry-after')).toBe('5');
      expect(ErrorEnvelope.parse(res.body).error.requestId).toEqual(expect.any(String));
    }
    const ready = await http(`${gw.url}/api/v1/ready`);
    expect(ready.status).toBe(503);
    expect(ready.headers.get('retry-after')).toBe('5');
    expect(ready.body.error.details).toEqual(expect.objectContaining({ checks: expect.objectContaining({ nats: false, postgres: true }), down: ['nats'] }));
    expect(ready.body.error.message).toMatch(/nats/i);

    await proxy.open(port);
    for (const [what, path, init] of requests) {
      const status = await eventually(async () => {
        const res = await http(`${gw.url}/api/v1${path}`, init);
        return res.status < 500 ? res.status : null;
      }, `${what} after NATS is back`, 20_000, 250);
      expect({ what, status }).toEqual({ what, status: path.endsWith('pause') ? 202 : 200 });
    }
    expect((await http(`${gw.url}/api/v1/events?streamId=provider:before-cut`)).body.items).toHaveLength(1);
  });
});
