import type { ClientConfig, RunView, TemplateSummary } from '@conclave/contracts';
import { createTestEnv, eventually, startStack, type Stack, type TestEnv } from '@conclave/testing';
import { launchChromium } from './support/browser';
import { OtlpReceiver, type ReceivedSpan } from './support/otlp-receiver';
import { restClient } from './support/rest';
import { startSingleProcessStack } from './support/single-process';

/**
 * Issue 14 §3, what an operator checks in Jaeger: the five services (one process each, as docker
 * compose runs them) export over OTLP to a receiver in this process; the seeded "Software feature
 * pipeline" (five phases, two simulated candidates and a judge each, an agent phase with tool
 * calls) runs once. It must be one trace — the run's, whose id the REST view and every candidate
 * carry — with spans from the orchestrator, the llm-worker and the judge, linked
 * candidate → phase → run and judge → phase, tool calls under their candidate, and projector
 * batches linked to the spans their events record. The dashboard's config names the trace viewer,
 * and the run page links the run's trace and each candidate's span to it. Then the same with the
 * five services in one process (services/stack): one SDK, spans told apart by `conclave.service`.
 * Needs the services' dist and web/dist (node scripts/build.mjs).
 */
const TEMPLATE = 'http://jaeger.test:16686/trace/{traceId}?uiFind={spanId}';
/** the service modules whose spans a run's trace involves (`conclave.service`) */
type Module = 'orchestrator' | 'llm-worker' | 'judge' | 'projector';

describe('one OpenTelemetry trace per run, across services', () => {
  let env: TestEnv;
  let stack: Stack;
  let receiver: OtlpReceiver;
  const rest = restClient(() => stack.url);
  const otelEnv = () => ({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_BSP_SCHEDULE_DELAY: '100', TRACE_URL_TEMPLATE: TEMPLATE });

  beforeAll(async () => {
    receiver = await OtlpReceiver.start();
    env = await createTestEnv('e2etrace');
    stack = await startStack(env, { label: `e2e-tracing-${env.id}`, extraEnv: otelEnv() });
  }, 90_000);

  afterAll(async () => {
    await stack?.stop();
    await receiver?.close();
    await env?.dispose();
  });

  /** The seeded five-phase pipeline, run to completion. */
  const runPipeline = async (): Promise<RunView> => {
    // the seeded templates are read models: on a busy machine the projector may not have folded them yet
    const pipeline = await eventually(async () => {
      const templates = (await (await rest.api('/templates')).json<{ items: TemplateSummary[] }>()).items;
      return templates.find((t) => t.name === 'Software feature pipeline');
    }, 'the seeded pipeline template listed', 20_000);
    const runId = await rest.startRun(pipeline.id, { inputs: { idea: 'trace every run' } });
    return rest.until(runId, 'the run completed', (r) => r.status === 'completed', 90_000);
  };

  /**
   * What one run's trace must hold. `serviceName`: the resource's service.name of a module's spans
   * (a process each: its own; one process: the stack's).
   */
  const expectOneTrace = async (run: RunView, serviceName: (module: Module) => string) => {
    // the trace id is recorded on the run and on each candidate
    expect(run.traceId).toMatch(/^[0-9a-f]{32}$/);
    const candidates = run.phases.flatMap((p) => p.candidates.map((c) => ({ phaseId: p.id, ...c })));
    expect(candidates).toHaveLength(10);
    for (const c of candidates) expect(c.trace).toEqual({ traceId: run.traceId, spanId: expect.stringMatching(/^[0-9a-f]{16}$/) });

    // the run's span is emitted when it settles (then exported within OTEL_BSP_SCHEDULE_DELAY)
    const spans = await eventually(async () => {
      const mine = receiver.spans.filter((s) => s.traceId === run.traceId);
      // each process exports on its own batch timer: the judge's spans may come after the others
      const count = (prefix: string) => mine.filter((s) => s.name.startsWith(prefix)).length;
      return mine.some((s) => s.name.startsWith('run ')) && count('candidate ') >= 10 && count('judge ') >= 5 && mine;
    }, 'the run span and every candidate and judge span exported', 20_000);
    const byId = new Map(spans.map((s) => [s.spanId, s]));
    expect(byId.size).toBe(spans.length); // no span twice
    const of = (s: ReceivedSpan, module: Module) => {
      expect(s.service).toBe(serviceName(module));
      expect(s.attributes['conclave.service']).toBe(module);
    };

    const runSpans = spans.filter((s) => s.name.startsWith('run '));
    expect(runSpans).toHaveLength(1);
    const root = runSpans[0]!;
    of(root, 'orchestrator');
    expect(root).toMatchObject({ parentSpanId: null, name: 'run Software feature pipeline' });
    expect(root.attributes).toMatchObject({ 'conclave.run_id': run.id, 'conclave.run.status': 'completed' });

    // one span per phase attempt, children of the run, within it
    const phases = spans.filter((s) => s.name.startsWith('phase '));
    expect(phases.map((p) => p.attributes['conclave.phase_id']).sort()).toEqual(['discovery', 'implement', 'plan', 'review', 'spec']);
    for (const p of phases) {
      of(p, 'orchestrator');
      expect(p.parentSpanId).toBe(root.spanId);
      expect(p.attributes).toMatchObject({ 'conclave.phase.status': 'completed', 'conclave.phase.attempt': 1 });
      expect(p.attributes['conclave.start_unknown']).toBeUndefined();
      expect(p.startMs).toBeGreaterThanOrEqual(root.startMs);
      expect(p.endMs).toBeLessThanOrEqual(root.endMs);
    }
    const phaseSpan = (phaseId: string) => phases.find((p) => p.attributes['conclave.phase_id'] === phaseId)!;

    // every candidate call: an llm-worker span under its phase, the one the REST view names
    const candidateSpans = spans.filter((s) => s.name.startsWith('candidate '));
    expect(candidateSpans).toHaveLength(10);
    for (const c of candidates) {
      const span = byId.get(c.trace!.spanId)!;
      expect(span).toBeDefined();
      of(span, 'llm-worker');
      expect(span).toMatchObject({ name: `candidate ${c.provider}/${c.model}`, parentSpanId: phaseSpan(c.phaseId).spanId });
      expect(span.attributes).toMatchObject({
        'conclave.run_id': run.id,
        'conclave.candidate_id': c.id,
        'gen_ai.provider.name': 'simulated',
        'gen_ai.request.model': c.model,
        'gen_ai.usage.input_tokens': c.tokens.input,
        'gen_ai.usage.output_tokens': c.tokens.output,
        'conclave.outcome': 'generated',
      });
    }

    // every judge call: a judge span under its phase
    const judges = spans.filter((s) => s.name.startsWith('judge '));
    expect(judges).toHaveLength(5);
    for (const j of judges) {
      of(j, 'judge');
      expect(j).toMatchObject({ name: 'judge simulated/sim-judge', parentSpanId: phaseSpan(String(j.attributes['conclave.phase_id'])).spanId });
      expect(j.attributes['conclave.outcome']).toBe('scored');
    }

    // the agent phase's tool calls: spans under their candidate's
    const implement = new Set(candidateSpans.filter((s) => s.attributes['conclave.phase_id'] === 'implement').map((s) => s.spanId));
    const toolCalls = spans.filter((s) => s.name.startsWith('tool_call '));
    expect(toolCalls.length).toBeGreaterThan(0);
    for (const t of toolCalls) {
      of(t, 'llm-worker');
      expect(implement.has(t.parentSpanId!)).toBe(true);
    }

    // three service modules in the trace, every parent in it
    expect(new Set(spans.map((s) => s.attributes['conclave.service']))).toEqual(new Set(['orchestrator', 'llm-worker', 'judge']));
    for (const s of spans) if (s !== root) expect(byId.has(s.parentSpanId!)).toBe(true);

    // the projector's batches are spans of their own, linked to the spans their events recorded
    const batches = await eventually(async () => {
      const linked = receiver.spans.filter((s) => s.name === 'projector batch' && s.links.some((l) => l.traceId === run.traceId));
      const targets = new Set(linked.flatMap((b) => b.links.map((l) => l.spanId)));
      return [root.spanId, ...candidates.map((c) => c.trace!.spanId)].every((id) => targets.has(id)) && linked;
    }, 'projector batches linked to the run span and every candidate span', 10_000);
    for (const b of batches) {
      of(b, 'projector');
      expect(b.parentSpanId).toBeNull();
    }
    return candidates;
  };

  it('gives the dashboard the trace viewer URL template', async () => {
    const res = await rest.api('/config');
    expect(res.status).toBe(200);
    expect(await res.json<ClientConfig>()).toEqual({ traceUrlTemplate: TEMPLATE });
  });

  it('records a run as one trace (a process per service): run → phases → candidates and judges → tool calls; the run page links it', async () => {
    const run = await runPipeline();
    const candidates = await expectOneTrace(run, (module) => `conclave-${module}`);

    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      await page.goto(`${stack.url}/runs/${run.id}?phase=discovery`);
      const runLink = page.locator('header.page-header [data-testid="trace-link"]');
      await runLink.waitFor();
      expect(await runLink.getAttribute('href')).toBe(`http://jaeger.test:16686/trace/${run.traceId}?uiFind=`);
      const discovery = candidates.filter((c) => c.phaseId === 'discovery');
      const cards = page.locator('[data-testid="candidate-card"] [data-testid="trace-link"]');
      await eventually(async () => (await cards.count()) === discovery.length, 'a trace link on each discovery candidate card');
      const hrefs = await cards.evaluateAll((links) => links.map((a) => a.getAttribute('href')));
      expect(hrefs.sort()).toEqual(discovery.map((c) => `http://jaeger.test:16686/trace/${run.traceId}?uiFind=${c.trace!.spanId}`).sort());
    } finally {
      await browser.close();
    }
  }, 150_000);

  it('records a run as one trace with the five services in one process (one SDK; spans carry their service module)', async () => {
    await stack.stop();
    const single = await startSingleProcessStack(env, { logDir: stack.logDir, extraEnv: otelEnv() });
    try {
      stack = { ...stack, url: single.url };
      await expectOneTrace(await runPipeline(), () => 'conclave');
    } finally {
      await single.stop();
    }
  }, 180_000);
});
