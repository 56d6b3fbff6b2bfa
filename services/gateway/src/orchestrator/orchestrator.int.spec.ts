import { randomUUID } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorEnvelope } from '@conclave/contracts';
import { createTestEnv, type TestEnv } from '@conclave/testing';
import { http, startFakeOrchestrator, startGateway, type FakeOrchestrator, type RunningGateway } from '../__tests__/harness';

const template = {
  name: 'one-step',
  description: 'a single llm phase',
  inputs: { type: 'object', properties: { topic: { type: 'string' } } },
  phases: [{ id: 'draft', kind: 'llm', prompt: { user: 'Write {{inputs.topic}}' }, candidates: [{ provider: 'simulated', model: 'sim' }] }],
};

describe('gateway → orchestrator (NATS request/reply, fake orchestrator)', () => {
  let env: TestEnv;
  let gw: RunningGateway;
  let fake: FakeOrchestrator;
  let api: string;

  beforeAll(async () => {
    env = await createTestEnv('gworch');
    fake = await startFakeOrchestrator(env);
    gw = await startGateway(env, { ORCHESTRATOR_TIMEOUT_MS: '500' });
    api = `${gw.url}/api/v1`;
  });
  afterAll(async () => {
    await gw?.close();
    await fake?.close();
    await env?.dispose();
  });
  beforeEach(() => {
    fake.requests.length = 0;
  });

  it('creates a template: the validated template goes out, the orchestrator\'s id/version come back (201)', async () => {
    fake.behave(() => ({ ok: true, id: 'tpl-1', sequence: 17, version: 1 }));
    const res = await http(`${api}/templates`, { method: 'POST', json: template, headers: { 'x-request-id': 'create-tpl-1' } });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ id: 'tpl-1', version: 1, sequence: 17 });
    expect(fake.requests).toHaveLength(1);
    const [request] = fake.requests;
    expect(request).toEqual({
      command: { type: 'CreateTemplate', template: expect.objectContaining({ name: 'one-step', phases: [expect.objectContaining({ id: 'draft', dependsOn: [] })] }) },
      actor: { kind: 'user', id: 'anonymous' },
      requestId: 'create-tpl-1',
    });
    // defaults are filled in by the contract before sending
    expect(request!.command.type === 'CreateTemplate' && request!.command.template.defaults.timeoutSeconds).toBe(600);
  });

  it('never sends an invalid template', async () => {
    fake.behave(() => ({ ok: true, id: 'nope', sequence: 1, version: 1 }));
    const res = await http(`${api}/templates`, { method: 'POST', json: { ...template, phases: [{ ...template.phases[0], dependsOn: ['draft'] }] } });
    expect(res.status).toBe(422);
    expect(res.body.error.details.errors[0]).toEqual(expect.objectContaining({ code: 'self_dependency', phaseId: 'draft' }));
    expect(fake.requests).toHaveLength(0);
  });

  it('starts a run (201 { id, sequence }) with the StartRun command', async () => {
    fake.behave((req) => ({ ok: true, id: `run-for-${req.command.type === 'StartRun' ? req.command.templateId : '?'}`, sequence: 42 }));
    const res = await http(`${api}/runs`, { method: 'POST', json: { templateId: 'tpl-1', name: 'first', inputs: { topic: 'bees' }, budgetUsd: 2 } });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ id: 'run-for-tpl-1', sequence: 42 });
    // no workspace named, no template default: a fresh repository under <WORKSPACES_ROOT>/repos
    const reposRoot = realpathSync(join(gw.config.WORKSPACES_ROOT, 'repos'));
    expect(fake.requests[0]!.command).toEqual({ type: 'StartRun', templateId: 'tpl-1', name: 'first', inputs: { topic: 'bees' }, budgetUsd: 2, autoMode: true, workspace: { kind: 'fresh', reposRoot } });
    expect(fake.requests[0]!.requestId).toBe(res.headers.get('x-request-id'));
  });

  it('maps the orchestrator\'s typed errors to their statuses (not_found → 404, validation → 422, illegal_state → 409)', async () => {
    const cases = [
      { code: 'not_found', status: 404 },
      { code: 'validation', status: 422 },
      { code: 'illegal_state', status: 409 },
      { code: 'concurrency', status: 409 },
    ] as const;
    for (const { code, status } of cases) {
      fake.behave(() => ({ ok: false, error: { code, message: `orchestrator says ${code}`, details: { templateId: 'missing' } } }));
      const res = await http(`${api}/runs`, { method: 'POST', json: { templateId: 'missing' } });
      expect(res.status).toBe(status);
      const { error } = ErrorEnvelope.parse(res.body);
      expect(error).toEqual({ code, message: `orchestrator says ${code}`, details: { templateId: 'missing' }, requestId: res.headers.get('x-request-id') });
    }
  });

  it('answers 503 when the orchestrator does not answer in time', async () => {
    fake.behave(() => new Promise(() => undefined)); // never answers
    const started = Date.now();
    const res = await http(`${api}/templates`, { method: 'POST', json: template });
    expect(res.status).toBe(503);
    expect(res.body.error).toEqual(expect.objectContaining({ code: 'unavailable', message: expect.stringMatching(/did not answer within 500 ms/) }));
    expect(Date.now() - started).toBeGreaterThanOrEqual(450);
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('answers 500 (not the reply) when the orchestrator replies with something that is not an OrchestratorReply', async () => {
    fake.behave(() => ({ ok: true, id: 42 }) as never);
    const res = await http(`${api}/runs`, { method: 'POST', json: { templateId: 't' } });
    expect(res.status).toBe(500);
    expect(res.body.error).toEqual(expect.objectContaining({ code: 'internal', message: 'the orchestrator sent an invalid reply' }));
  });

  it('answers 500 when the orchestrator\'s handler throws', async () => {
    fake.behave(() => {
      throw new Error(`boom ${randomUUID()}`);
    });
    const res = await http(`${api}/runs`, { method: 'POST', json: { templateId: 't' } });
    expect(res.status).toBe(500);
    expect(res.body.error.code).toBe('internal');
    expect(res.text).not.toContain('boom');
  });
});

describe('gateway → orchestrator with an API token', () => {
  let env: TestEnv;
  let gw: RunningGateway;
  let fake: FakeOrchestrator;
  const token = randomUUID();

  beforeAll(async () => {
    env = await createTestEnv('gworchtok');
    fake = await startFakeOrchestrator(env);
    gw = await startGateway(env, { CONCLAVE_API_TOKEN: token });
  });
  afterAll(async () => {
    await gw?.close();
    await fake?.close();
    await env?.dispose();
  });

  it('records the actor as the token\'s name: default for CONCLAVE_API_TOKEN', async () => {
    fake.behave(() => ({ ok: true, id: 'r1', sequence: 3 }));
    const res = await http(`${gw.url}/api/v1/runs`, { method: 'POST', json: { templateId: 't' }, headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(201);
    expect(fake.requests[0]!.actor).toEqual({ kind: 'user', id: 'default' });
  });
});
