import type { ClientConfig, RunView, TemplateSummary } from '@conclave/contracts';
import { createTestEnv, eventually, startStack, type Stack, type TestEnv } from '@conclave/testing';
import { OtlpReceiver, type ReceivedSpan } from './support/otlp-receiver';
import { restClient } from './support/rest';

/**
 * Issue 14 §3, what an operator checks in Jaeger: the five services (one process each, as docker
 * compose runs them) export over OTLP to a receiver in this process; the seeded "Software feature
 * pipeline" (five phases, two simulated candidates and a judge each, an agent phase with tool
 * calls) runs once. It must be one trace — the run's, whose id the REST view and every candidate
 * carry — with spans from the orchestrator, the llm-worker and the judge, linked
 * candidate → phase → run and judge → phase, tool calls under their candidate, and projector
 * batches linked to the spans their events record. The dashboard's config names the trace viewer.
 * Needs the services' dist (node scripts/build.mjs).
 */
describe('one OpenTelemetry trace per run, across services', () => {
  let env: TestEnv;
  let stack: Stack;
  let receiver: OtlpReceiver;
  const rest = restClient(() => stack.url);
  const TEMPLATE = 'http://jaeger.test:16686/trace/{traceId}?uiFind={spanId}';

  beforeAll(async () => {
    receiver = await OtlpReceiver.start();
    env = await createTestEnv('e2etrace');
    stack = await startStack(env, {
      label: `e2e-tracing-${env.id}`,
      extraEnv: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_BSP_SCHEDULE_DELAY: '100', TRACE_URL_TEMPLATE: TEMPLATE },
    });
  }, 90_000);

  afterAll(async () => {
    await stack?.stop();
    await receiver?.close();
    await env?.dispose();
  });

  it('gives the dashboard the trace viewer URL template', async () => {
    const res = await rest.api('/config');
    expect(res.status).toBe(200);
    expect(await res.json<ClientConfig>()).toEqual({ traceUrlTemplate: TEMPLATE });
  });

  it('records a run as one trace: run → phases → candidates and judges (→ tool calls), from three services and more', async () => {
    const templates = (await (await rest.api('/templates')).json<{ items: TemplateSummary[] }>()).items;
    const pipeline = templates.find((t) => t.name === 'Software feature pipeline')!;
    expect(pipeline).toBeDefined();
    const runId = await rest.startRun(pipeline.id, { inputs: { idea: 'trace every run' } });
    const run: RunView = await rest.until(runId, 'the run completed', (r) => r.status === 'completed', 90_000);

    // the trace id is recorded on the run and on each candidate
    expect(run.traceId).toMatch(/^[0-9a-f]{32}$/);
    const candidates = run.phases.flatMap((p) => p.candidates.map((c) => ({ phaseId: p.id, ...c })));
    expect(candidates).toHaveLength(10);
    for (const c of candidates) expect(c.trace).toEqual({ traceId: run.traceId, spanId: expect.stringMatching(/^[0-9a-f]{16}$/) });

    // the run's span is emitted when it settles (then exported within OTEL_BSP_SCHEDULE_DELAY)
    const spans = await eventually(async () => {
      const mine = receiver.spans.filter((s) => s.traceId === run.traceId);
      return mine.some((s) => s.name.startsWith('run ')) && mine.filter((s) => s.name.startsWith('candidate ')).length >= 10 && mine;
    }, 'the run span and every candidate span exported', 20_000);
    const byId = new Map(spans.map((s) => [s.spanId, s]));
    expect(byId.size).toBe(spans.length); // no span twice

    const runSpans = spans.filter((s) => s.name.startsWith('run '));
    expect(runSpans).toHaveLength(1);
    const root = runSpans[0]!;
    expect(root).toMatchObject({ service: 'conclave-orchestrator', parentSpanId: null, name: 'run Software feature pipeline' });
    expect(root.attributes).toMatchObject({ 'conclave.run_id': runId, 'conclave.run.status': 'completed', 'conclave.service': 'orchestrator' });

    // one span per phase attempt, children of the run, covering their candidates
    const phases = spans.filter((s) => s.name.startsWith('phase '));
    expect(phases.map((p) => p.attributes['conclave.phase_id']).sort()).toEqual(['discovery', 'implement', 'plan', 'review', 'spec']);
    for (const p of phases) {
      expect(p).toMatchObject({ service: 'conclave-orchestrator', parentSpanId: root.spanId });
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
      expect(span).toMatchObject({ service: 'conclave-llm-worker', name: `candidate ${c.provider}/${c.model}`, parentSpanId: phaseSpan(c.phaseId).spanId });
      expect(span.attributes).toMatchObject({
        'conclave.service': 'llm-worker',
        'conclave.run_id': runId,
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
      expect(j).toMatchObject({ service: 'conclave-judge', name: 'judge simulated/sim-judge', parentSpanId: phaseSpan(String(j.attributes['conclave.phase_id'])).spanId });
      expect(j.attributes['conclave.outcome']).toBe('scored');
    }

    // the agent phase's tool calls: spans under their candidate's
    const implement = new Set(candidateSpans.filter((s) => s.attributes['conclave.phase_id'] === 'implement').map((s) => s.spanId));
    const toolCalls = spans.filter((s) => s.name.startsWith('tool_call '));
    expect(toolCalls.length).toBeGreaterThan(0);
    for (const t of toolCalls) expect(implement.has(t.parentSpanId!)).toBe(true);

    // spans from at least three services, every parent in the trace
    expect(new Set(spans.map((s) => s.service))).toEqual(new Set(['conclave-orchestrator', 'conclave-llm-worker', 'conclave-judge']));
    for (const s of spans) if (s !== root) expect(byId.has(s.parentSpanId!)).toBe(true);

    // the projector's batches are spans of their own, linked to the spans their events recorded
    const batches = await eventually(async () => {
      const linked = receiver.spans.filter((s: ReceivedSpan) => s.name === 'projector batch' && s.links.some((l) => l.traceId === run.traceId));
      const targets = new Set(linked.flatMap((b) => b.links.map((l) => l.spanId)));
      return candidates.every((c) => targets.has(c.trace!.spanId)) && linked;
    }, 'projector batches linked to every candidate span', 10_000);
    for (const b of batches) expect(b).toMatchObject({ service: 'conclave-projector', parentSpanId: null });
  }, 150_000);
});
