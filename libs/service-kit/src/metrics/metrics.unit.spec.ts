import { createServer } from 'node:net';
import { Writable } from 'node:stream';
import { createLogger } from '../logger';
import { conclaveInstruments, ServiceMetrics } from './catalog';
import { addThreadMetrics, defineCounter, processRegistry, renderMetrics, resetProcessRegistry, type MetricsData } from './registry';
import { RunObserver } from './runs';
import { serveMetrics } from './server';

/** the value of one series of the process registry, or undefined when the series is absent */
async function sample(name: string, labels: Record<string, string>): Promise<number | undefined> {
  const metrics = await processRegistry()!.getMetricsAsJSON();
  const metric = metrics.find((m) => m.name === name.replace(/_(sum|count|bucket)$/, '') || m.name === name);
  const values = (metric?.values ?? []) as { value: number; labels: Record<string, string | number>; metricName?: string }[];
  const found = values.find((v) => (v.metricName ?? metric!.name) === name && Object.entries(labels).every(([k, val]) => String(v.labels[k]) === val));
  return found?.value;
}

const silent = () => createLogger('test', 'info', {}, new Writable({ write: (_c, _e, done) => done() }));

describe('the process metrics registry', () => {
  const saved = process.env.CONCLAVE_METRICS;
  beforeEach(() => {
    delete process.env.CONCLAVE_METRICS;
    resetProcessRegistry();
  });
  afterAll(() => {
    if (saved === undefined) delete process.env.CONCLAVE_METRICS;
    else process.env.CONCLAVE_METRICS = saved;
    resetProcessRegistry();
  });

  it('defines each metric once per process: services hosted side by side share it and stay apart by their service label', async () => {
    // the single-process stack: five modules each make their own ServiceMetrics in one process
    const orchestrator = new ServiceMetrics('orchestrator');
    const worker = new ServiceMetrics('llm-worker');
    const judge = new ServiceMetrics('judge');
    const again = new ServiceMetrics('llm-worker');
    orchestrator.runStarted('feature-pipeline');
    worker.call('candidate', { provider: 'simulated', model: 'sim', durationMs: 120, outcome: { status: 'generated', tokens: { input: 100, output: 40 }, costUsd: 0.002 } });
    again.call('candidate', { provider: 'simulated', model: 'sim', durationMs: 80, outcome: { status: 'generated', tokens: { input: 10, output: 5 }, costUsd: 0 } });
    judge.call('judge', { provider: 'simulated', model: 'sim-judge', durationMs: 30, outcome: { status: 'scored', tokens: { input: 7, output: 3 }, costUsd: 0.001 } });

    const text = (await renderMetrics())!.body;
    // one family per name: a second registration would have thrown, and Prometheus refuses repeated families
    for (const name of ['conclave_runs_started_total', 'conclave_candidate_duration_seconds', 'conclave_llm_tokens_total', 'conclave_consumer_pending_messages']) {
      expect(text.split('\n').filter((l) => l === `# TYPE ${name} ${name.endsWith('_total') ? 'counter' : name.endsWith('_seconds') ? 'histogram' : 'gauge'}`)).toHaveLength(1);
    }
    expect(text).toContain('process_cpu_user_seconds_total'); // the default process metrics, once
    expect(text.match(/^# TYPE process_cpu_user_seconds_total/gm)).toHaveLength(1);

    expect(await sample('conclave_runs_started_total', { service: 'orchestrator', template: 'feature-pipeline' })).toBe(1);
    expect(await sample('conclave_candidate_duration_seconds_count', { service: 'llm-worker', provider: 'simulated', model: 'sim', outcome: 'generated' })).toBe(2);
    expect(await sample('conclave_candidate_duration_seconds_sum', { service: 'llm-worker', provider: 'simulated', model: 'sim', outcome: 'generated' })).toBeCloseTo(0.2, 6);
    expect(await sample('conclave_llm_tokens_total', { service: 'llm-worker', role: 'candidate', provider: 'simulated', model: 'sim', direction: 'input' })).toBe(110);
    expect(await sample('conclave_llm_tokens_total', { service: 'llm-worker', role: 'candidate', provider: 'simulated', model: 'sim', direction: 'output' })).toBe(45);
    expect(await sample('conclave_llm_tokens_total', { service: 'judge', role: 'judge', provider: 'simulated', model: 'sim-judge', direction: 'input' })).toBe(7);
    expect(await sample('conclave_llm_cost_usd_total', { service: 'llm-worker', role: 'candidate', provider: 'simulated', model: 'sim' })).toBeCloseTo(0.002, 9);
    expect(await sample('conclave_judge_duration_seconds_count', { service: 'judge', provider: 'simulated', model: 'sim-judge', outcome: 'scored' })).toBe(1);
    // the judge's tokens are not the llm-worker's
    expect(await sample('conclave_llm_tokens_total', { service: 'llm-worker', role: 'judge' })).toBeUndefined();
  });

  it('refuses a second definition of a name with other labels', () => {
    defineCounter({ name: 'conclave_test_things_total', help: 'things', labelNames: ['service', 'kind'] });
    expect(() => defineCounter({ name: 'conclave_test_things_total', help: 'things', labelNames: ['service', 'kind'] })).not.toThrow();
    expect(() => defineCounter({ name: 'conclave_test_things_total', help: 'things', labelNames: ['service'] })).toThrow(/already defined/);
  });

  it('reads scrape-time gauges from every source of the process, drops a source that fails or is removed', async () => {
    const orchestrator = new ServiceMetrics('orchestrator');
    const worker = new ServiceMetrics('llm-worker');
    let infoCalls = 0;
    const stopOrchestrator = orchestrator.watchConsumers([
      { stream: 'EVENTS', consumer: 'dispatcher', info: async () => (infoCalls++, { num_pending: 3, num_ack_pending: 2, num_redelivered: 1 }) },
      { stream: 'RESULTS', consumer: 'orchestrator-results', info: () => Promise.reject(new Error('no responders')) },
    ]);
    const stopWorker = worker.watchConsumers([{ stream: 'COMMANDS', consumer: 'llm-workers', info: async () => ({ num_pending: 7, num_ack_pending: 0, num_redelivered: 4 }) }]);
    let inFlight = 5;
    const stopInFlight = worker.watchInFlight('w-1', () => inFlight);

    const text = (await renderMetrics())!.body;
    expect(infoCalls).toBe(1); // one consumer info per scrape, shared by the three gauges
    expect(text).toContain('conclave_consumer_pending_messages{service="orchestrator",stream="EVENTS",consumer="dispatcher"} 3');
    expect(text).toContain('conclave_consumer_ack_pending_messages{service="orchestrator",stream="EVENTS",consumer="dispatcher"} 2');
    expect(text).toContain('conclave_consumer_redelivered_messages{service="orchestrator",stream="EVENTS",consumer="dispatcher"} 1');
    expect(text).toContain('conclave_consumer_pending_messages{service="llm-worker",stream="COMMANDS",consumer="llm-workers"} 7');
    expect(text).toContain('conclave_worker_in_flight{service="llm-worker",worker="w-1"} 5');
    expect(text).not.toContain('consumer="orchestrator-results"'); // unknown, not a stale or zero value

    stopOrchestrator();
    inFlight = 2;
    await new Promise((r) => setTimeout(r, 1_100)); // past the window in which one scrape's gauges share a refresh
    const after = (await renderMetrics())!.body;
    expect(after).not.toContain('consumer="dispatcher"');
    expect(after).toContain('conclave_worker_in_flight{service="llm-worker",worker="w-1"} 2');
    stopWorker();
    stopInFlight();
  });

  it('counts the outbox repair path (sweeps, messages it published) and reads its unpublished commits at scrape', async () => {
    const orchestrator = new ServiceMetrics('orchestrator');
    let unpublished = 4;
    const stop = orchestrator.watchOutbox(() => unpublished);
    orchestrator.outboxSwept();
    orchestrator.outboxRepaired(3);
    orchestrator.outboxRepaired(0);
    const text = (await renderMetrics())!.body;
    expect(text).toContain('conclave_outbox_sweeps_total{service="orchestrator"} 1');
    expect(text).toContain('conclave_outbox_repaired_messages_total{service="orchestrator"} 3');
    expect(text).toContain('conclave_outbox_unpublished_commits{service="orchestrator"} 4');
    unpublished = 0;
    await new Promise((r) => setTimeout(r, 1_100)); // past the window in which one scrape's gauges share a refresh
    expect((await renderMetrics())!.body).toContain('conclave_outbox_unpublished_commits{service="orchestrator"} 0');
    stop();
  });

  it('counts a fleet status that no worker has as 0', async () => {
    const gateway = new ServiceMetrics('gateway');
    const stop = gateway.watchFleet(async () => [
      { role: 'llm-worker', status: 'busy' },
      { role: 'llm-worker', status: 'stalled' },
      { role: 'llm-worker', status: 'busy' },
      { role: 'judge', status: 'idle' },
    ]);
    expect(await sample('conclave_fleet_workers', { service: 'gateway', role: 'llm-worker', status: 'busy' })).toBe(2);
    expect(await sample('conclave_fleet_workers', { service: 'gateway', role: 'llm-worker', status: 'stalled' })).toBe(1);
    expect(await sample('conclave_fleet_workers', { service: 'gateway', role: 'judge', status: 'stalled' })).toBe(0);
    stop();
  });

  it('counts runs by template and times phases by kind from what the orchestrator appended', async () => {
    const observer = new RunObserver(new ServiceMetrics('orchestrator'));
    const run = { status: 'running', templateId: 'tpl-1', template: { phases: [{ id: 'draft', kind: 'llm' }, { id: 'ok', kind: 'gate' }] } };
    const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString();
    observer.observe('r1', [{ type: 'RunStarted', occurredAt: at(0), data: { templateId: 'tpl-1' } }, { type: 'PhaseStarted', occurredAt: at(0), data: { phaseId: 'draft' } }], run);
    observer.observe('r1', [{ type: 'PhaseCompleted', occurredAt: at(3), data: { phaseId: 'draft' } }, { type: 'PhaseStarted', occurredAt: at(3), data: { phaseId: 'ok' } }], run);
    observer.observe('r1', [{ type: 'PhaseFailed', occurredAt: at(10), data: { phaseId: 'ok' } }, { type: 'RunFailed', occurredAt: at(10), data: {} }], run);
    // a phase this process did not see start (another replica, a restart) is not timed
    observer.observe('r2', [{ type: 'PhaseCompleted', occurredAt: at(5), data: { phaseId: 'draft' } }, { type: 'RunCompleted', occurredAt: at(5), data: {} }], run);

    expect(await sample('conclave_runs_started_total', { template: 'tpl-1' })).toBe(1);
    expect(await sample('conclave_runs_failed_total', { template: 'tpl-1' })).toBe(1);
    expect(await sample('conclave_runs_completed_total', { template: 'tpl-1' })).toBe(1);
    expect(await sample('conclave_phase_duration_seconds_count', { kind: 'llm', outcome: 'completed' })).toBe(1);
    expect(await sample('conclave_phase_duration_seconds_sum', { kind: 'llm', outcome: 'completed' })).toBe(3);
    expect(await sample('conclave_phase_duration_seconds_sum', { kind: 'gate', outcome: 'failed' })).toBe(7);
  });

  it("serves a worker thread's metrics beside this thread's: its services' series, not its copy of Node's process metrics", async () => {
    new ServiceMetrics('gateway').runStarted('t1');
    const thread: MetricsData = [
      { name: 'conclave_runs_started_total', help: 'h', type: 'counter' as never, aggregator: 'sum', values: [{ value: 3, labels: { service: 'projector', template: 't1' } }] },
      { name: 'conclave_projector_lag_events', help: 'h', type: 'gauge' as never, aggregator: 'sum', values: [{ value: 7, labels: { service: 'projector' } }] },
      { name: 'process_cpu_user_seconds_total', help: 'h', type: 'counter' as never, aggregator: 'sum', values: [{ value: 123456, labels: {} }] },
    ];
    const removeThread = addThreadMetrics(() => Promise.resolve(thread));
    const removeSilent = addThreadMetrics(() => Promise.reject(new Error('thread gone')));
    try {
      const body = (await renderMetrics())!.body;
      expect(body).toContain('conclave_runs_started_total{service="gateway",template="t1"} 1');
      expect(body).toContain('conclave_runs_started_total{service="projector",template="t1"} 3');
      expect(body).toContain('conclave_projector_lag_events{service="projector"} 7');
      expect(body.match(/^# TYPE conclave_runs_started_total counter$/gm)).toHaveLength(1);
      expect(body).toMatch(/^process_cpu_user_seconds_total \d/m); // this thread's own, once
      expect(body).not.toContain('123456');
    } finally {
      removeThread();
      removeSilent();
    }
    expect((await renderMetrics())!.body).not.toContain('service="projector"');
  });

  it('with CONCLAVE_METRICS=off records nothing and serves nothing', async () => {
    process.env.CONCLAVE_METRICS = 'off';
    resetProcessRegistry();
    const metrics = new ServiceMetrics('llm-worker');
    const result = { provider: 'p', model: 'm', durationMs: 1, outcome: { status: 'generated', tokens: { input: 1, output: 1 }, costUsd: 1 } };
    expect(metrics.call('candidate', result)).toBe(result);
    expect(processRegistry()).toBeNull();
    expect(await renderMetrics()).toBeNull();
    expect(conclaveInstruments().tokens).toEqual(conclaveInstruments().cost); // the same no-op
  });

  it('serves GET /metrics on its port, and gives the port up (logged, no throw) when it is taken', async () => {
    new ServiceMetrics('judge').runStarted('x');
    const server = await serveMetrics({ port: 0, host: '127.0.0.1', logger: silent(), service: 'judge' });
    expect(server).not.toBeNull();
    const res = await fetch(`http://127.0.0.1:${server!.port}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(await res.text()).toContain('conclave_runs_started_total{service="judge",template="x"} 1');
    expect((await fetch(`http://127.0.0.1:${server!.port}/other`)).status).toBe(404);

    const taken = createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
    const port = (taken.address() as { port: number }).port;
    expect(await serveMetrics({ port, host: '127.0.0.1', logger: silent(), service: 'judge' })).toBeNull();
    await new Promise((r) => taken.close(r));
    await server!.close();
  });
});
