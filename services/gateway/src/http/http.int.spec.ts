import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorEnvelope } from '@conclave/contracts';
import { ReadModelQueries } from '@conclave/read-models';
import { createTestEnv, type TestEnv } from '@conclave/testing';
import { http, startGateway, type RunningGateway } from '../__tests__/harness';

const template = {
  name: 'two-steps',
  inputs: { type: 'object', properties: { idea: { type: 'string' } }, required: ['idea'] },
  phases: [
    { id: 'draft', kind: 'llm', prompt: { user: 'Idea: {{inputs.idea}}' }, candidates: [{ provider: 'simulated', model: 'sim' }] },
    { id: 'review', kind: 'gate', dependsOn: ['draft'], message: 'ok?' },
  ],
};

describe('gateway REST edges (no orchestrator, empty read models)', () => {
  let env: TestEnv;
  let gw: RunningGateway;
  let api: string;
  let startSequence: number;

  beforeAll(async () => {
    env = await createTestEnv('gwhttp');
    gw = await startGateway(env);
    api = `${gw.url}/api/v1`;
    startSequence = await env.log.lastSequence();
  });
  afterAll(async () => {
    await gw?.close();
    await env?.dispose();
  });
  afterEach(async () => {
    // bad input never writes an event
    expect(await env.log.lastSequence()).toBe(startSequence);
  });

  const expectEnvelope = (res: { status: number; body: unknown; headers: Headers }, status: number, code: string) => {
    expect({ status: res.status, code: (res.body as ErrorEnvelope | undefined)?.error?.code }).toEqual({ status, code });
    const envelope = ErrorEnvelope.parse(res.body);
    expect(envelope.error.requestId).toBe(res.headers.get('x-request-id'));
    expect(Object.keys(envelope.error).sort()).toEqual(['code', 'details', 'message', 'requestId']);
    return envelope;
  };

  it('answers /health', async () => {
    const res = await http(`${api}/health`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok', service: 'gateway', checks: { nats: true } });
  });

  it('refuses an invalid template with 422 and located errors, sending nothing', async () => {
    const bad = {
      ...template,
      phases: [
        { ...template.phases[0], prompt: { user: '{{phases.review.output}}' } },
        { id: 'review', kind: 'gate', dependsOn: ['draft', 'ghost'], message: 'ok?' },
        { id: 'x', kind: 'gate', dependsOn: [], message: 'm', bogus: true },
      ],
    };
    const res = await http(`${api}/templates`, { method: 'POST', json: bad });
    const { error } = expectEnvelope(res, 422, 'validation');
    const errors = (error.details as { errors: { code: string; path: unknown[]; phaseId?: string }[] }).errors;
    expect(errors.length).toBeGreaterThan(0);
    expect(errors[0]).toEqual(expect.objectContaining({ code: 'schema', path: ['phases', 2], phaseId: 'x' }));

    const semantic = { ...template, phases: [template.phases[0], { id: 'review', kind: 'gate', dependsOn: ['draft', 'ghost'], message: 'ok?' }] };
    const res2 = await http(`${api}/templates`, { method: 'POST', json: semantic });
    const e2 = expectEnvelope(res2, 422, 'validation').error;
    expect((e2.details as { errors: unknown[] }).errors).toEqual([
      expect.objectContaining({ code: 'unknown_phase', phaseId: 'review', path: ['phases', 1, 'dependsOn', 1], field: 'dependsOn[1]' }),
    ]);
  });

  it('validates a template without storing it', async () => {
    const ok = await http(`${api}/templates/validate`, { method: 'POST', json: template });
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ valid: true, errors: [], levels: [['draft'], ['review']] });
    const bad = await http(`${api}/templates/validate`, { method: 'POST', json: { name: 'x', phases: [] } });
    expect(bad.status).toBe(200);
    expect(bad.body.valid).toBe(false);
    expect(bad.body.errors[0]).toEqual(expect.objectContaining({ code: 'schema', path: ['phases'] }));
  });

  it('refuses a JSON Schema that would not compile at run time (an invalid pattern), naming the phase', async () => {
    const uncompilable = { ...template, phases: [{ ...template.phases[0], output: { schema: { type: 'string', pattern: '([unclosed' } } }, template.phases[1]] };
    const checked = await http(`${api}/templates/validate`, { method: 'POST', json: uncompilable });
    expect(checked.body.valid).toBe(false);
    expect(checked.body.errors).toEqual([expect.objectContaining({ code: 'schema', phaseId: 'draft', field: 'output.schema' })]);
    const before = await env.log.lastSequence();
    expectEnvelope(await http(`${api}/templates`, { method: 'POST', json: uncompilable }), 422, 'validation');
    expect(await env.log.lastSequence()).toBe(before);
  });

  it('answers 400 to a body that is not JSON', async () => {
    const syntax = await http(`${api}/templates`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name": ' });
    expect(expectEnvelope(syntax, 400, 'bad_request').error.message).toMatch(/not valid JSON/);
    const scalar = await http(`${api}/runs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '"just a string"' });
    expectEnvelope(scalar, 400, 'bad_request');
    const text = await http(`${api}/runs`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'templateId=x' });
    expect(expectEnvelope(text, 400, 'bad_request').error.message).toMatch(/JSON body/);
    const form = await http(`${api}/templates/validate`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'name=x' });
    expectEnvelope(form, 400, 'bad_request');
  });

  it('answers 400 with the zod issues to a run body that does not parse or has unknown fields', async () => {
    const unknown = await http(`${api}/runs`, { method: 'POST', json: { templateId: 't1', inputs: {}, colour: 'blue' } });
    const e = expectEnvelope(unknown, 400, 'bad_request').error;
    expect((e.details as { issues: { code: string; keys?: string[] }[] }).issues).toEqual([expect.objectContaining({ code: 'unrecognized_keys', keys: ['colour'] })]);
    const missing = await http(`${api}/runs`, { method: 'POST', json: { inputs: {} } });
    expect((expectEnvelope(missing, 400, 'bad_request').error.details as { issues: { path: string[] }[] }).issues[0]!.path).toEqual(['templateId']);
    const wrongType = await http(`${api}/runs`, { method: 'POST', json: { templateId: 't', budgetUsd: -1 } });
    expectEnvelope(wrongType, 400, 'bad_request');
  });

  it('answers 413 to a body over 1 MB', async () => {
    const huge = { ...template, description: 'x'.repeat(1_100_000) };
    const res = await http(`${api}/templates`, { method: 'POST', json: huge });
    expectEnvelope(res, 413, 'payload_too_large');
    const justUnder = await http(`${api}/templates/validate`, { method: 'POST', json: { ...template, description: 'x'.repeat(3_000) } });
    expect(justUnder.status).toBe(200);
  });

  it('answers 404 for unknown runs, templates and artifacts', async () => {
    const id = randomUUID();
    for (const path of [`/runs/${id}`, `/runs/${id}/timeline`, `/runs/${id}/candidates?phase=a`, `/runs/${id}/artifacts`, `/runs/${id}/artifacts/a1`, `/templates/${id}`, `/templates/${id}?version=2`, '/runs/not%20an%20id', `/runs/${'x'.repeat(300)}`]) {
      const res = await http(`${api}${path}`);
      expect({ path, ...expectEnvelope(res, 404, 'not_found').error, requestId: undefined }).toEqual(expect.objectContaining({ path, code: 'not_found' }));
    }
  });

  it('answers 404 with the envelope for unknown routes, inside and outside the API', async () => {
    expectEnvelope(await http(`${api}/nope`), 404, 'not_found');
    expectEnvelope(await http(`${api}/runs/${randomUUID()}/nope`, { method: 'POST', json: {} }), 404, 'not_found');
    expectEnvelope(await http(`${api}/runs`, { method: 'PUT', json: {} }), 404, 'not_found'); // no such method on the path
    expectEnvelope(await http(`${gw.url}/api/v2/runs`), 404, 'not_found');
    expectEnvelope(await http(`${gw.url}/api/v1`), 404, 'not_found');
    expectEnvelope(await http(`${gw.url}/whatever`, { method: 'DELETE' }), 404, 'not_found');
    expectEnvelope(await http(`${gw.url}/runs`, { headers: { accept: 'application/json' } }), 404, 'not_found');
  });

  it('answers 400 to bad query parameters', async () => {
    for (const path of ['/runs?limit=0', '/runs?limit=abc', '/runs?cursor=garbage', `/runs?min_sequence=-1`, '/runs?min_sequence=abc', '/runs?min_sequence=', '/templates?min_sequence=1e3', `/runs/${randomUUID()}/timeline?since_sequence=-5`, '/templates/t1?version=0', '/runs?status=a&status=b']) {
      const res = await http(`${api}${path}`);
      expect({ path, status: res.status, code: res.body?.error?.code }).toEqual({ path, status: 400, code: 'bad_request' });
    }
  });

  it('lists nothing yet', async () => {
    expect((await http(`${api}/templates`)).body).toEqual({ items: [] });
    expect((await http(`${api}/runs`)).body).toEqual({ items: [], nextCursor: null });
  });

  it('keeps a sane x-request-id and replaces anything else', async () => {
    const kept = await http(`${api}/runs/${randomUUID()}`, { headers: { 'x-request-id': 'req-42.a:b' } });
    expect(kept.headers.get('x-request-id')).toBe('req-42.a:b');
    expect(kept.body.error.requestId).toBe('req-42.a:b');
    for (const bad of ['has space', 'x'.repeat(200), '<script>']) {
      const res = await http(`${api}/health`, { headers: { 'x-request-id': bad } });
      expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    }
  });

  it('answers 500 with a generic message when something unexpected fails (the cause is logged, not returned)', async () => {
    const queries = gw.app.get(ReadModelQueries);
    const spy = jest.spyOn(queries, 'listTemplates').mockRejectedValueOnce(new Error('db password is hunter2 at /srv/x.ts:12'));
    try {
      const res = await http(`${api}/templates`);
      const { error } = expectEnvelope(res, 500, 'internal');
      expect(error.message).toBe('internal error');
      expect(res.text).not.toContain('hunter2');
    } finally {
      spy.mockRestore();
    }
  });

  it('answers 503 when the orchestrator does not listen', async () => {
    const res = await http(`${api}/runs`, { method: 'POST', json: { templateId: 't1', inputs: {} } });
    expectEnvelope(res, 503, 'unavailable');
  });

  it('says the dashboard is not built when WEB_DIST is missing', async () => {
    for (const path of ['/', '/runs', `/runs/${randomUUID()}`, '/fleet']) {
      const res = await http(`${gw.url}${path}`, { headers: { accept: 'text/html' } });
      expect({ path, status: res.status, type: res.headers.get('content-type') }).toEqual({ path, status: 200, type: expect.stringContaining('text/html') });
      expect(res.text).toContain('npm run build');
    }
  });
});

describe('gateway static dashboard and auth', () => {
  let env: TestEnv;
  let gw: RunningGateway;
  const token = `tok-${randomUUID()}`;

  beforeAll(async () => {
    env = await createTestEnv('gwauth');
    const webDist = mkdtempSync(join(tmpdir(), 'gateway-web-'));
    mkdirSync(join(webDist, 'assets'));
    writeFileSync(join(webDist, 'index.html'), '<!doctype html><div id="root">conclave-dashboard</div>');
    writeFileSync(join(webDist, 'assets', 'app-abc123.js'), 'console.log("app")');
    gw = await startGateway(env, { WEB_DIST: webDist, CONCLAVE_API_TOKEN: token });
  });
  afterAll(async () => {
    await gw?.close();
    await env?.dispose();
  });

  it('serves index.html at / and for every dashboard route (history API fallback)', async () => {
    for (const path of ['/', '/runs', `/runs/${randomUUID()}`, '/templates', '/templates/t1', '/providers', '/costs', '/fleet', '/events', '/some/other/page']) {
      const res = await http(`${gw.url}${path}`, { headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' } });
      expect({ path, status: res.status }).toEqual({ path, status: 200 });
      expect(res.text).toContain('conclave-dashboard');
    }
  });

  it('serves assets, and 404s missing ones instead of answering with index.html', async () => {
    const js = await http(`${gw.url}/assets/app-abc123.js`, { headers: { accept: '*/*' } });
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toMatch(/javascript/);
    expect(js.headers.get('cache-control')).toContain('immutable');
    const missing = await http(`${gw.url}/assets/missing.js`, { headers: { accept: '*/*' } });
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('not_found');
  });

  it('requires the bearer token on REST routes except /health', async () => {
    expect((await http(`${gw.url}/api/v1/health`)).status).toBe(200);
    for (const headers of [{}, { authorization: 'Bearer wrong' }, { authorization: token }, { authorization: `Basic ${token}` }] as Record<string, string>[]) {
      const res = await http(`${gw.url}/api/v1/runs`, { headers });
      expect(res.status).toBe(401);
      expect(ErrorEnvelope.parse(res.body).error.code).toBe('unauthorized');
    }
    const ok = await http(`${gw.url}/api/v1/runs`, { headers: { authorization: `Bearer ${token}` } });
    expect(ok.status).toBe(200);
    const lower = await http(`${gw.url}/api/v1/templates`, { headers: { authorization: `bearer ${token}` } });
    expect(lower.status).toBe(200);
    // auth comes before the body: an unauthenticated client never gets its body parsed
    const unparsed = await http(`${gw.url}/api/v1/runs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{oops' });
    expect(unparsed.status).toBe(401);
    expect((await http(`${gw.url}/api/v1/ready`)).status).toBe(401);
    expect((await http(`${gw.url}/api/v1/nope`)).status).toBe(401);
  });

  it('keeps the dashboard itself public', async () => {
    expect((await http(`${gw.url}/`, { headers: { accept: 'text/html' } })).status).toBe(200);
  });
});
