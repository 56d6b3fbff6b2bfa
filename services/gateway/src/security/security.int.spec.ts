import { randomUUID } from 'node:crypto';
import { io } from 'socket.io-client';
import { ErrorEnvelope } from '@conclave/contracts';
import { createTestEnv, type TestEnv } from '@conclave/testing';
import { http, startGateway, type RunningGateway } from '../__tests__/harness';
import { API_ROUTES } from '../openapi/document';

interface ExpressLayer {
  route?: { path: string | string[]; methods: Record<string, boolean> };
}

/** Every (method, path) Nest registered on Express, as OpenAPI paths relative to /api/v1. */
function registeredRoutes(gw: RunningGateway): string[] {
  const express = gw.app.getHttpAdapter().getInstance() as { router?: { stack: ExpressLayer[] }; _router?: { stack: ExpressLayer[] } };
  const stack = (express.router ?? express._router)!.stack;
  const out: string[] = [];
  for (const layer of stack) {
    if (!layer.route) continue;
    for (const path of [layer.route.path].flat()) {
      for (const [method, on] of Object.entries(layer.route.methods)) {
        if (!on || method === '_all') continue;
        out.push(`${method} ${path.replace(/^\/api\/v1/, '').replace(/:([A-Za-z0-9_]+)/g, '{$1}')}`);
      }
    }
  }
  return out;
}

describe('gateway security headers, CORS, rate limit and OpenAPI', () => {
  let env: TestEnv;
  let gw: RunningGateway;
  let api: string;
  const allowed = 'https://dash.example.com';

  beforeAll(async () => {
    env = await createTestEnv('gwsec');
    gw = await startGateway(env, { CORS_ORIGINS: `${allowed}, http://localhost:5173`, RATE_LIMIT_PER_MINUTE: '40' });
    api = `${gw.url}/api/v1`;
  });
  afterAll(async () => {
    await gw?.close();
    await env?.dispose();
  });

  it('sends security headers with a CSP that allows only the dashboard itself and its websocket', async () => {
    for (const path of ['/api/v1/health', '/', '/api/v1/nope']) {
      const res = await http(`${gw.url}${path}`, { headers: { accept: 'text/html' } });
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("default-src 'self'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).not.toMatch(/script-src[^;]*unsafe-inline/);
      expect(csp).toContain("connect-src 'self' ws: wss:");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('x-frame-options')).toBe('SAMEORIGIN');
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
      expect(res.headers.get('x-powered-by')).toBeNull();
    }
  });

  it('allows CORS only for the configured origins (preflight answered before auth)', async () => {
    const preflight = await fetch(`${api}/runs`, { method: 'OPTIONS', headers: { origin: allowed, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,authorization' } });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe(allowed);
    expect(preflight.headers.get('access-control-allow-headers')).toContain('authorization');
    const get = await http(`${api}/health`, { headers: { origin: 'http://localhost:5173' } });
    expect(get.headers.get('access-control-allow-origin')).toBe('http://localhost:5173');
    expect(get.headers.get('access-control-expose-headers')).toContain('x-request-id');
    for (const origin of ['https://evil.example.com', 'null', `${allowed}.evil.com`]) {
      const refused = await fetch(`${api}/runs`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST' } });
      expect(refused.headers.get('access-control-allow-origin')).toBeNull();
      const simple = await http(`${api}/health`, { headers: { origin } });
      expect(simple.headers.get('access-control-allow-origin')).toBeNull();
    }
  });

  it('refuses socket.io handshakes from foreign browser origins (websocket and polling)', async () => {
    const attempt = (origin: string | undefined, transport: 'websocket' | 'polling') =>
      new Promise<boolean>((resolve) => {
        const socket = io(gw.url, { path: '/socket.io', transports: [transport], reconnection: false, forceNew: true, ...(origin ? { extraHeaders: { origin } } : {}) });
        socket.once('connect', () => {
          socket.close();
          resolve(true);
        });
        socket.once('connect_error', () => {
          socket.close();
          resolve(false);
        });
      });
    for (const transport of ['websocket', 'polling'] as const) {
      expect({ transport, evil: await attempt('https://evil.example.com', transport) }).toEqual({ transport, evil: false });
      expect({ transport, allowed: await attempt(allowed, transport) }).toEqual({ transport, allowed: true });
      expect({ transport, self: await attempt(gw.url, transport) }).toEqual({ transport, self: true });
      expect({ transport, none: await attempt(undefined, transport) }).toEqual({ transport, none: true });
      expect({ transport, dev: await attempt('http://localhost:5173', transport) }).toEqual({ transport, dev: true });
      expect({ transport, lookalike: await attempt('http://localhost.evil.com', transport) }).toEqual({ transport, lookalike: false });
    }
  });

  it('serves the OpenAPI document (every registered route is in it) and an HTML page without scripts', async () => {
    const res = await http(`${gw.url}/api/docs/openapi.json`);
    expect(res.status).toBe(200);
    const doc = res.body as { openapi: string; servers: { url: string }[]; paths: Record<string, Record<string, unknown>>; components: { schemas?: object } };
    expect(doc.openapi).toBe('3.0.3');
    expect(doc.servers).toEqual([{ url: '/api/v1' }]);
    const documented = new Set(Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m} ${path}`)));
    const routes = registeredRoutes(gw);
    expect(routes.length).toBeGreaterThan(20);
    expect(routes.filter((r) => !documented.has(r))).toEqual([]);
    // DESIGN.md's interface, including the routes other parts of the gateway add
    for (const r of ['post /runs/{id}/phases/{phaseId}/approve', 'post /runs/{id}/rollback', 'get /runs/{id}/tool-calls', 'get /runs/{id}/checkpoints', 'get /events', 'post /admin/replay', 'post /providers/{id}/test', 'put /budgets', 'get /workers']) {
      expect(documented.has(r)).toBe(true);
    }
    expect(Object.keys(API_ROUTES).length).toBe(Object.keys(doc.paths).length);
    const post = (doc.paths['/providers'] as { post: { requestBody: { content: { 'application/json': { schema: { properties: Record<string, unknown>; additionalProperties?: unknown } } } } } }).post;
    expect(Object.keys(post.requestBody.content['application/json'].schema.properties)).toEqual(expect.arrayContaining(['name', 'kind', 'apiKey', 'baseUrl', 'models', 'enabled', 'prices']));

    const html = await http(`${gw.url}/api/docs`, { headers: { accept: 'text/html' } });
    expect(html.status).toBe(200);
    expect(html.headers.get('content-type')).toMatch(/text\/html/);
    expect(html.text).toContain('/api/v1/runs/{id}/phases/{phaseId}/approve');
    expect(html.text).not.toContain('<script');
  });

  it('rate-limits each client on the REST API with the 429 envelope; probes are exempt', async () => {
    let limited: Awaited<ReturnType<typeof http>> | null = null;
    for (let i = 0; i < 60 && !limited; i += 1) {
      const res = await http(`${api}/runs/${randomUUID()}`);
      if (res.status === 429) limited = res;
    }
    expect(limited).not.toBeNull();
    const { error } = ErrorEnvelope.parse(limited!.body);
    expect(error.code).toBe('rate_limited');
    expect(error.requestId).toBe(limited!.headers.get('x-request-id'));
    expect(limited!.headers.get('ratelimit-policy')).toContain('40');
    expect((await http(`${api}/health`)).status).toBe(200);
  });
});
