import { randomBytes } from 'node:crypto';
import type { RunUsageItem, RunView, TemplateInput } from '@conclave/contracts';
import { createTestEnv, eventually, freePort, startStack, waitForOk, type ServiceName, type Stack, type TestEnv } from '@conclave/testing';
import { parsePrometheus, select, total, type Sample } from './support/prometheus';
import { restClient } from './support/rest';
import { startSingleProcessStack } from './support/single-process';
import { sim } from './support/templates';

/**
 * Prometheus metrics of every service after a run on the simulated provider (issue 14 §2): the
 * services as separate processes, each scraped on its own port (the gateway on its HTTP server,
 * behind the API token), then the single-process stack, scraped once for the whole process. The
 * counters must have moved by exactly what the run recorded (its candidates, phases and usage).
 */
const TOKEN = `metrics-e2e-${randomBytes(12).toString('hex')}`;
const AUTH = { authorization: `Bearer ${TOKEN}` };
const summary = { type: 'object', properties: { summary: { type: 'string' } }, required: ['summary'] };

describe('metrics of every service after a run', () => {
  let env: TestEnv;
  let stack: Stack;
  let templateId = '';
  const ports: Partial<Record<ServiceName, number>> = {};
  const { api, post, createTemplate, runView } = restClient(() => stack.url, { headers: AUTH });
  const scrape = async (url: string, headers: Record<string, string> = {}): Promise<Sample[]> => {
    const res = await fetch(url, { headers });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    return parsePrometheus(await res.text());
  };
  const scrapeService = (service: Exclude<ServiceName, 'gateway'>) => scrape(`http://127.0.0.1:${ports[service]}/metrics`);
  /** starts a run of the template and waits for it to complete; its view and usage */
  const completedRun = async (): Promise<{ run: RunView; usage: RunUsageItem[] }> => {
    const started = await post('/runs', { templateId, inputs: { topic: 'metrics' } });
    expect(started.status).toBe(201);
    const { id } = await started.json<{ id: string }>();
    const run = await eventually(async () => {
      const body = await runView(id);
      return body.status === 'completed' ? body : body.status === 'failed' ? Promise.reject(new Error(`run failed: ${JSON.stringify(body)}`)) : null;
    }, 'the run to complete', 60_000, 200);
    const usage = (await (await api(`/runs/${run.id}/usage`)).json<{ items: RunUsageItem[] }>()).items;
    return { run, usage };
  };

  beforeAll(async () => {
    env = await createTestEnv('e2e');
    // set-up only; each service is started below with its own metrics port
    stack = await startStack(env, { label: `e2e-metrics-${env.id}`, services: [], extraEnv: { CONCLAVE_API_TOKEN: TOKEN } });
    for (const service of ['orchestrator', 'projector', 'llm-worker', 'judge'] as const) {
      ports[service] = await freePort();
      stack.spawn(service, { METRICS_PORT: String(ports[service]) });
    }
    stack.spawn('gateway');
    await waitForOk(`${stack.url}/api/v1/health`, 45_000);
    const template: TemplateInput = {
      name: `metrics ${env.id}`,
      inputs: { type: 'object', properties: { topic: { type: 'string' } }, required: ['topic'] },
      phases: [
        { id: 'draft', kind: 'llm', prompt: { user: 'Draft about {{inputs.topic}}' }, candidates: [sim('sim-a', 50), sim('sim-b', 50)], judge: { provider: 'simulated', model: 'sim-judge', criteria: ['quality'] }, output: { schema: summary } },
        { id: 'polish', kind: 'llm', dependsOn: ['draft'], prompt: { user: 'Polish {{phases.draft.output.summary}}' }, candidates: [sim('sim-a', 50)], output: { schema: summary } },
      ],
    };
    templateId = await createTemplate(template);
  });

  afterAll(async () => {
    await stack?.stop();
    await env?.dispose();
  });

  it('separate processes: each service’s /metrics moved by what the run recorded', async () => {
    // the gateway's /metrics wants the token, as /ready does
    const refused = await fetch(`${stack.url}/metrics`);
    expect(refused.status).toBe(401);

    const before = { orchestrator: await scrapeService('orchestrator'), worker: await scrapeService('llm-worker'), judge: await scrapeService('judge') };
    const { run, usage } = await completedRun();
    const candidates = run.phases.flatMap((p) => p.candidates);
    expect(candidates).toHaveLength(3);

    const orchestrator = await scrapeService('orchestrator');
    const delta = (after: Sample[], old: Sample[], name: string, labels: Record<string, string> = {}) => total(after, name, labels) - total(old, name, labels);
    expect(delta(orchestrator, before.orchestrator, 'conclave_runs_started_total', { service: 'orchestrator', template: templateId })).toBe(1);
    expect(delta(orchestrator, before.orchestrator, 'conclave_runs_completed_total', { service: 'orchestrator', template: templateId })).toBe(1);
    expect(delta(orchestrator, before.orchestrator, 'conclave_runs_failed_total', { template: templateId })).toBe(0);
    expect(delta(orchestrator, before.orchestrator, 'conclave_phase_duration_seconds_count', { kind: 'llm', outcome: 'completed' })).toBe(2);
    // the durables it reads, from JetStream consumer info at this scrape
    for (const consumer of [env.log.names.consumers.orchestratorResults, env.log.names.consumers.timers]) {
      expect(select(orchestrator, 'conclave_consumer_pending_messages', { service: 'orchestrator', consumer })).toHaveLength(1);
      expect(select(orchestrator, 'conclave_consumer_redelivered_messages', { service: 'orchestrator', consumer })).toHaveLength(1);
    }
    expect(total(orchestrator, 'process_resident_memory_bytes')).toBeGreaterThan(0);
    // the outbox (ADR 025): the run's commands are all out; nothing was swept
    expect(select(orchestrator, 'conclave_outbox_unpublished_commits', { service: 'orchestrator' })).toHaveLength(1);
    expect(total(orchestrator, 'conclave_outbox_sweeps_total', { service: 'orchestrator' })).toBe(0);

    // candidates by provider and model = the run's candidates; tokens and cost = its recorded usage
    const worker = await scrapeService('llm-worker');
    expect(delta(worker, before.worker, 'conclave_candidate_duration_seconds_count', { provider: 'simulated' })).toBe(candidates.length);
    for (const item of usage.filter((u) => u.role === 'candidate')) {
      const labels = { provider: item.provider, model: item.model };
      expect(delta(worker, before.worker, 'conclave_candidate_duration_seconds_count', labels)).toBe(item.calls);
      expect(delta(worker, before.worker, 'conclave_llm_tokens_total', { ...labels, role: 'candidate', direction: 'input' })).toBe(item.tokens.input);
      expect(delta(worker, before.worker, 'conclave_llm_tokens_total', { ...labels, role: 'candidate', direction: 'output' })).toBe(item.tokens.output);
      expect(delta(worker, before.worker, 'conclave_llm_cost_usd_total', { ...labels, role: 'candidate' })).toBeCloseTo(item.costUsd, 9);
    }
    expect(usage.filter((u) => u.role === 'candidate').reduce((n, u) => n + u.tokens.input, 0)).toBeGreaterThan(0); // the comparison above compared something
    expect(total(worker, 'conclave_worker_in_flight', { service: 'llm-worker' })).toBe(0);
    expect(select(worker, 'conclave_consumer_pending_messages', { consumer: env.log.names.consumers.generateWorkers })[0]?.value).toBe(0);

    const judge = await scrapeService('judge');
    const judged = usage.filter((u) => u.role === 'judge');
    expect(judged).toHaveLength(1);
    for (const item of judged) {
      const labels = { provider: item.provider, model: item.model };
      expect(delta(judge, before.judge, 'conclave_judge_duration_seconds_count', labels)).toBe(item.calls);
      expect(delta(judge, before.judge, 'conclave_llm_tokens_total', { ...labels, role: 'judge', direction: 'input' })).toBe(item.tokens.input);
      expect(delta(judge, before.judge, 'conclave_llm_tokens_total', { ...labels, role: 'judge', direction: 'output' })).toBe(item.tokens.output);
    }

    // the projector has caught up: no lag, in messages or in seconds
    await eventually(async () => {
      const projector = await scrapeService('projector');
      return total(projector, 'conclave_projector_lag_events', { service: 'projector' }) === 0 && select(projector, 'conclave_projector_lag_seconds', { service: 'projector' })[0]?.value === 0;
    }, 'the projector lag to read 0');

    // the fleet as the gateway sees it (from heartbeats, every 2 s): the workers live, none stalled
    const gateway = await eventually(async () => {
      const samples = await scrape(`${stack.url}/metrics`, AUTH);
      const live = (role: string) => total(samples, 'conclave_fleet_workers', { service: 'gateway', role }) - total(samples, 'conclave_fleet_workers', { service: 'gateway', role, status: 'stalled' });
      return live('judge') >= 1 && live('llm-worker') >= 1 ? samples : null;
    }, 'the fleet to list the workers', 15_000, 250);
    expect(total(gateway, 'conclave_fleet_workers', { service: 'gateway', role: 'llm-worker', status: 'stalled' })).toBe(0);
    expect(select(gateway, 'conclave_fleet_workers', { service: 'gateway', role: 'judge', status: 'stalled' })[0]?.value).toBe(0);
  });

  it('separate processes: a dead letter shows in the projector’s metrics by consumer and reason', async () => {
    const consumer = env.log.names.consumers.generateWorkers;
    const open = async () => total(await scrapeService('projector'), 'conclave_dead_letters', { service: 'projector', consumer, reason: 'undecodable', state: 'open' });
    expect(await open()).toBe(0);
    // a broken producer's command: the llm-worker dead-letters it, the projector folds the record
    await env.log.js.publish(env.log.names.subjects.generate, new TextEncoder().encode('not json at all'));
    await eventually(async () => (await open()) === 1, 'conclave_dead_letters to count the poison command', 30_000, 250);
  });

  it('single process: one /metrics for every hosted service, each series under its own service', async () => {
    await stack.stop();
    const single = await startSingleProcessStack(env, { logDir: stack.logDir, extraEnv: { CONCLAVE_API_TOKEN: TOKEN } });
    try {
      stack = { ...stack, url: single.url }; // completedRun() talks to it
      const { run, usage } = await completedRun();
      const text = await (await fetch(`${single.url}/metrics`, { headers: AUTH })).text();
      // one family per name though five services record into it
      expect(text.match(/^# TYPE conclave_runs_started_total counter$/gm)).toHaveLength(1);
      expect(text.match(/^# TYPE process_cpu_user_seconds_total counter$/gm)).toHaveLength(1);
      const samples = parsePrometheus(text);
      expect(total(samples, 'conclave_runs_completed_total', { service: 'orchestrator', template: templateId })).toBe(1);
      expect(total(samples, 'conclave_candidate_duration_seconds_count', { service: 'llm-worker', provider: 'simulated' })).toBe(run.phases.flatMap((p) => p.candidates).length);
      const judged = usage.find((u) => u.role === 'judge')!;
      expect(total(samples, 'conclave_llm_tokens_total', { service: 'judge', role: 'judge', direction: 'output' })).toBe(judged.tokens.output);
      const services = new Set(select(samples, 'conclave_consumer_pending_messages').map((s) => s.labels.service));
      expect([...services].sort()).toEqual(['judge', 'llm-worker', 'orchestrator', 'projector']);
      expect(select(samples, 'conclave_fleet_workers', { service: 'gateway' }).length).toBeGreaterThan(0);
      expect(select(samples, 'conclave_projector_lag_events', { service: 'projector' })).toHaveLength(1);
    } finally {
      await single.stop();
    }
  });
});
