import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { io, type Socket } from 'socket.io-client';
import { launchChromium } from './support/browser';
import { sim } from './support/templates';
import type { ClientToServerEvents, RunView, ServerToClientEvents, SocketEvent, TemplateInput, TimelineEntry } from '@conclave/contracts';
import { createTestEnv, eventually, REPO_ROOT, startStack, type Stack, type TestEnv } from '@conclave/testing';

/**
 * The whole system as a user meets it: five services as processes on real NATS + Postgres, a
 * template created over REST, a run followed over socket.io to RunCompleted, the read model
 * checked, and the dashboard opened in headless Chromium.
 */
const SCREENSHOTS = join(REPO_ROOT, 'test-output', 'screenshots');
const template: TemplateInput = {
  name: 'e2e pipeline',
  description: 'three phases, two of them judged',
  inputs: { type: 'object', properties: { idea: { type: 'string' } }, required: ['idea'] },
  phases: [
    { id: 'discovery', kind: 'llm', prompt: { user: 'Idea: {{inputs.idea}}' }, candidates: [sim('a', 400), sim('b', 300)], judge: { provider: 'simulated', model: 'judge' }, output: { artifact: 'spec' } },
    { id: 'notes', kind: 'llm', prompt: { user: 'Notes on {{inputs.idea}}' }, candidates: [sim('c', 100)] },
    {
      id: 'plan', kind: 'llm', dependsOn: ['discovery', 'notes'], prompt: { user: 'Plan {{phases.discovery.output.title}}' },
      candidates: [sim('a', 100), sim('b', 150)], judge: { provider: 'simulated', model: 'judge' },
      output: { schema: { type: 'object', properties: { steps: { type: 'array', items: { type: 'string' }, minItems: 1 } }, required: ['steps'] } },
    },
  ],
};

describe('Conclave end to end', () => {
  let env: TestEnv;
  let stack: Stack;
  let browser: Browser | undefined;
  /** REST call; `json()` is typed by the caller (the body is checked by the assertions). */
  const api = async (path: string, init?: RequestInit) => {
    const res = await fetch(`${stack.url}/api/v1${path}`, { ...init, headers: { 'content-type': 'application/json', ...(init?.headers ?? {}) } });
    return { status: res.status, json: <T = any>() => res.json() as Promise<T> };
  };

  beforeAll(async () => {
    env = await createTestEnv('e2e');
    stack = await startStack(env, { label: `e2e-${env.id}` });
  });
  afterAll(async () => {
    await browser?.close();
    const codes = stack ? await stack.stop() : {};
    await env?.dispose();
    // graceful shutdown: every service drains and exits 0 on SIGTERM
    expect(codes).toEqual(Object.fromEntries(Object.keys(codes).map((k) => [k, 0])));
  });

  it('refuses bad input without writing an event', async () => {
    const before = await env.log.lastSequence();
    const invalid = await api('/templates', { method: 'POST', body: JSON.stringify({ ...template, phases: [{ ...template.phases[2], dependsOn: ['ghost'] }] }) });
    expect(invalid.status).toBe(422);
    const body = await invalid.json();
    expect(body.error).toMatchObject({ code: 'validation' });
    expect(body.error.details.errors[0]).toMatchObject({ code: 'unknown_phase', phaseId: 'plan', field: 'dependsOn[0]' });
    const unknownTemplate = await api('/runs', { method: 'POST', body: JSON.stringify({ templateId: 'no-such-template', inputs: {} }) });
    expect(unknownTemplate.status).toBe(404);
    const garbage = await api('/runs', { method: 'POST', body: '{"templateId": ' });
    expect(garbage.status).toBe(400);
    expect((await garbage.json()).error.code).toBe('bad_request');
    expect(await env.log.lastSequence()).toBe(before);
  });

  it('creates a template, runs it to completion live over socket.io, and serves the finished run', async () => {
    const created = await api('/templates', { method: 'POST', body: JSON.stringify(template) });
    expect(created.status).toBe(201);
    const { id: templateId, version } = await created.json();
    expect(version).toBe(1);

    const socket: Socket<ServerToClientEvents, ClientToServerEvents> = io(stack.url, { transports: ['websocket'] });
    const received: SocketEvent[] = [];
    socket.on('event', (e) => received.push(e));
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', resolve);
        socket.once('connect_error', reject);
      });
      const startedRes = await api('/runs', { method: 'POST', body: JSON.stringify({ templateId, inputs: { idea: 'a kite that flies itself' }, name: 'e2e run' }) });
      expect(startedRes.status).toBe(201);
      const { id: runId, sequence } = await startedRes.json();
      expect(sequence).toBeGreaterThan(0);
      const ack = await socket.timeout(5_000).emitWithAck('subscribe', { room: `run:${runId}` });
      expect(ack).toEqual({ ok: true, room: `run:${runId}` });

      const completed = await eventually(async () => received.find((e) => e.runId === runId && e.type === 'RunCompleted'), 'RunCompleted over socket.io', 60_000);
      const ours = received.filter((e) => e.runId === runId);
      expect(ours.every((e, i) => i === 0 || e.sequence > ours[i - 1]!.sequence)).toBe(true);
      expect(ours.some((e) => e.type === 'VerdictRecorded')).toBe(true);

      const runRes = await api(`/runs/${runId}?min_sequence=${completed.sequence}`);
      expect(runRes.status).toBe(200);
      const run = (await runRes.json()) as RunView;
      expect(run).toMatchObject({ id: runId, templateId, templateVersion: 1, status: 'completed', name: 'e2e run', inputs: { idea: 'a kite that flies itself' } });
      expect(run.phases.map((p) => [p.id, p.status])).toEqual([['discovery', 'completed'], ['notes', 'completed'], ['plan', 'completed']]);
      for (const phase of run.phases) {
        expect(phase.artifactId).toBeTruthy();
        expect(phase.candidates.every((c) => c.status === 'generated' && c.provider === 'simulated')).toBe(true);
        if (phase.candidates.length > 1) {
          expect(phase.verdict).not.toBeNull();
          expect(phase.candidates.map((c) => c.id)).toContain(phase.verdict!.winnerId);
          expect(Object.keys(phase.verdict!.scores).sort()).toEqual(phase.candidates.map((c) => c.id).sort());
        } else {
          expect(phase.verdict).toBeNull();
        }
      }
      expect(run.phases.map((p) => p.candidates.length)).toEqual([2, 1, 2]);

      const artifacts = await (await api(`/runs/${runId}/artifacts`)).json();
      expect(artifacts.items).toHaveLength(3);
      const plan = artifacts.items.find((a: { phaseId: string }) => a.phaseId === 'plan');
      expect(plan.content.steps.length).toBeGreaterThan(0);
      const spec = artifacts.items.find((a: { phaseId: string }) => a.phaseId === 'discovery');
      expect(spec.artifactType).toBe('spec');
      expect(typeof spec.content.title).toBe('string');

      const timeline: { items: TimelineEntry[] } = await (await api(`/runs/${runId}/timeline`)).json();
      expect(timeline.items[0]!.type).toBe('RunStarted');
      expect(timeline.items.at(-1)!.type).toBe('RunCompleted');
      // everything the socket relayed is in the timeline, which also holds what came before the subscription
      const timelineSeqs = new Set(timeline.items.map((e) => e.sequence));
      expect(ours.filter((e) => !timelineSeqs.has(e.sequence))).toEqual([]);
      expect(timeline.items.filter((e) => e.type === 'CandidateRequested')).toHaveLength(5);
      const gap = await (await api(`/runs/${runId}/timeline?since_sequence=${timeline.items[2]!.sequence}`)).json();
      expect(gap.items[0].sequence).toBe(timeline.items[3]!.sequence);

      // the dashboard shows the DAG with every phase completed
      browser = await launchChromium();
      const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
      await page.goto(`${stack.url}/runs/${runId}`);
      await page.waitForSelector('[data-testid="phase-node"][data-status="completed"]', { timeout: 30_000 });
      await eventually(async () => (await page.locator('[data-testid="phase-node"][data-status="completed"]').count()) === 3, 'three completed nodes', 15_000);
      const ids = await page.locator('[data-testid="phase-node"]').evaluateAll((nodes) => nodes.map((n) => n.getAttribute('data-phase-id')).sort());
      expect(ids).toEqual(['discovery', 'notes', 'plan']);
      mkdirSync(SCREENSHOTS, { recursive: true });
      await page.screenshot({ path: join(SCREENSHOTS, 'run-page.png'), fullPage: true });
      await page.goto(`${stack.url}/runs`);
      await page.waitForSelector(`text=e2e run`, { timeout: 15_000 });
      await page.screenshot({ path: join(SCREENSHOTS, 'runs-list.png'), fullPage: true });
    } finally {
      socket.close();
    }
  });

  it('versions, clones and archives templates; runs keep the version they froze', async () => {
    const one = { name: 'versioned', phases: [{ id: 'a', kind: 'llm', prompt: { user: 'v1' }, candidates: [sim('m', 0)] }] };
    const created = await (await api('/templates', { method: 'POST', body: JSON.stringify(one) })).json<{ id: string; sequence: number }>();
    expect((await api(`/templates/${created.id}?min_sequence=${created.sequence}`)).status).toBe(200); // read our own write
    const v2 = await api(`/templates/${created.id}`, { method: 'PUT', body: JSON.stringify({ ...one, phases: [{ ...one.phases[0], prompt: { user: 'v2' } }] }) });
    expect(v2.status).toBe(200);
    const { version, sequence } = await v2.json<{ version: number; sequence: number }>();
    expect(version).toBe(2);
    const view = await (await api(`/templates/${created.id}?min_sequence=${sequence}`)).json<{ version: number; versions: number[] }>();
    expect(view).toMatchObject({ version: 2, versions: [1, 2] });
    const pinned = await (await api('/runs', { method: 'POST', body: JSON.stringify({ templateId: created.id, templateVersion: 1, inputs: {} }) })).json<{ id: string }>();

    const clone = await api(`/templates/${created.id}/clone`, { method: 'POST', body: JSON.stringify({ name: 'my copy' }) });
    expect(clone.status).toBe(201);
    const cloneId = (await clone.json<{ id: string }>()).id;
    expect(cloneId).not.toBe(created.id);

    const archived = await api(`/templates/${created.id}`, { method: 'DELETE' });
    expect(archived.status).toBe(202);
    const after = await (await api(`/templates?min_sequence=${(await archived.json<{ sequence: number }>()).sequence}`)).json<{ items: { id: string; name: string }[] }>();
    expect(after.items.map((t) => t.id)).not.toContain(created.id);
    expect(after.items.find((t) => t.id === cloneId)?.name).toBe('my copy');
    expect((await api('/runs', { method: 'POST', body: JSON.stringify({ templateId: created.id, inputs: {} }) })).status).toBe(404);
    expect((await api(`/templates/${created.id}`, { method: 'PUT', body: JSON.stringify(one) })).status).toBe(404);

    const run = await eventually(async () => {
      const r = await (await api(`/runs/${pinned.id}`)).json<RunView>();
      return r.status === 'completed' && r;
    }, 'the pinned run', 30_000);
    expect(run.templateVersion).toBe(1);
    const request = (await (await api(`/runs/${pinned.id}/timeline`)).json<{ items: TimelineEntry[] }>()).items.find((e) => e.type === 'CandidateRequested')!;
    expect((request.data as { prompt: { user: string } }).prompt.user).toBe('v1');
  });

  it('runs the seeded producer → evaluator → reviser loop to completion', async () => {
    const res = await api('/runs', { method: 'POST', body: JSON.stringify({ templateId: 'write-review-loop', inputs: { topic: 'tides', audience: 'sailors' } }) });
    expect(res.status).toBe(201);
    const { id } = await res.json();
    const run = await eventually(async () => {
      const view = (await (await api(`/runs/${id}`)).json()) as RunView;
      return ['completed', 'failed'].includes(view.status) && view;
    }, 'the loop run to finish', 60_000);
    expect(run.status).toBe('completed');
    const draft = run.phases.find((p) => p.id === 'draft')!;
    expect(draft.status).toBe('completed');
    const timeline: { items: TimelineEntry[] } = await (await api(`/runs/${id}/timeline`)).json();
    const evaluations = timeline.items.filter((e) => e.type === 'VerdictRecorded' && e.phaseId === 'draft');
    expect(evaluations.length).toBeGreaterThanOrEqual(1);
    expect(evaluations.length).toBeLessThanOrEqual(3);
  });
});
