import { headers } from '@nats-io/transport-node';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { derivedSpanId, endSpan, extractTrace, injectTrace, newTrace, recordSpan, shutdownTracing, startSpan, startTracing, tracingEnabled } from './index';
import { endWorkSpan, recordToolCallSpan, startWorkSpan, workTrace } from './work';

const command = { type: 'GenerateCandidate', commandId: 'c1@1', runId: 'r1', phaseId: 'draft', attempt: 2, provider: 'simulated', model: 'sim', candidateId: 'c1' };

describe('tracing off (no OTLP endpoint)', () => {
  it('starts nothing and writes no header', async () => {
    expect(await startTracing({ service: 'test', env: {} })).toBe(false);
    expect(tracingEnabled()).toBe(false);
    expect(newTrace()).toBeUndefined();
    const h = injectTrace(headers(), { traceId: 'a'.repeat(32), spanId: 'b'.repeat(16) });
    expect(h.keys()).toEqual([]);
    expect(extractTrace(h)).toBeUndefined();
    expect(startSpan('test', 'x')).toBeUndefined();
    startWorkSpan('llm-worker', h, command, 1);
    expect(workTrace(command)).toBeUndefined();
  });
});

describe('tracing on', () => {
  const exporter = new InMemorySpanExporter();
  beforeAll(async () => {
    expect(await startTracing({ service: 'test', spanProcessors: [new SimpleSpanProcessor(exporter)] })).toBe(true);
  });
  afterAll(() => shutdownTracing());
  beforeEach(() => exporter.reset());

  it('carries W3C trace context through NATS headers: the receiver’s span is a child of the sender’s', () => {
    const sender = startSpan('orchestrator', 'send')!;
    const h = injectTrace(headers(), sender);
    expect(h.get('traceparent')).toBe(`00-${sender.spanContext().traceId}-${sender.spanContext().spanId}-01`);
    const receiver = startSpan('llm-worker', 'receive', { parent: extractTrace(h) })!;
    endSpan(receiver);
    endSpan(sender);
    const [received] = exporter.getFinishedSpans();
    expect(received!.parentSpanContext?.spanId).toBe(sender.spanContext().spanId);
    expect(received!.spanContext().traceId).toBe(sender.spanContext().traceId);
    expect(received!.attributes['conclave.service']).toBe('llm-worker');
  });

  it('emits a span that began elsewhere under its recorded ids, child of its recorded parent', () => {
    const run = newTrace()!;
    expect(run.traceId).toMatch(/^[0-9a-f]{32}$/);
    const phase = { traceId: run.traceId, spanId: derivedSpanId(run.traceId, 'phase', 'draft', 1) };
    expect(derivedSpanId(run.traceId, 'phase', 'draft', 1)).toBe(phase.spanId); // any process finds the same id
    expect(derivedSpanId(run.traceId, 'phase', 'draft', 2)).not.toBe(phase.spanId);
    recordSpan('orchestrator', 'phase draft', { ids: phase, parent: run, startTime: 1_000, endTime: 3_000, error: 'boom' });
    recordSpan('orchestrator', 'run', { ids: run, parent: null, startTime: 500, endTime: 4_000 });
    const [p, r] = exporter.getFinishedSpans();
    expect(p!.spanContext()).toMatchObject(phase);
    expect(p!.parentSpanContext?.spanId).toBe(run.spanId);
    expect(p!.status).toMatchObject({ code: 2, message: 'boom' });
    expect(p!.duration).toEqual([2, 0]);
    expect(r!.spanContext()).toMatchObject(run);
    expect(r!.parentSpanContext).toBeUndefined();
    // the preset ids were for those spans only
    const next = startSpan('orchestrator', 'next')!;
    expect(next.spanContext().spanId).not.toBe(run.spanId);
    endSpan(next);
  });

  it('spans a work command under the phase its headers name, with its tool calls and outcome', () => {
    const phase = { traceId: newTrace()!.traceId, spanId: derivedSpanId('x', 'phase') };
    const cmd = { ...command };
    startWorkSpan('llm-worker', injectTrace(headers(), phase), cmd, 1);
    const trace = workTrace(cmd)!;
    expect(trace.traceId).toBe(phase.traceId);
    recordToolCallSpan('llm-worker', cmd, { tool: 'read_file', at: new Date(10_000).toISOString(), durationMs: 250, refused: false });
    endWorkSpan(cmd, { status: 'generated', tokens: { input: 12, output: 34 }, costUsd: 0.5 });
    expect(workTrace(cmd)).toBeUndefined();
    const [tool, work] = exporter.getFinishedSpans();
    expect(tool).toMatchObject({ name: 'tool_call read_file', duration: [0, 250_000_000] });
    expect(tool!.parentSpanContext?.spanId).toBe(trace.spanId);
    expect(work!.name).toBe('candidate simulated/sim');
    expect(work!.parentSpanContext?.spanId).toBe(phase.spanId);
    expect(work!.attributes).toMatchObject({ 'gen_ai.usage.input_tokens': 12, 'gen_ai.usage.output_tokens': 34, 'conclave.cost_usd': 0.5, 'conclave.candidate_id': 'c1', 'conclave.outcome': 'generated' });
  });

  it('names a tool phase’s span after its program', () => {
    const cmd = { ...command, type: 'RunTool', provider: 'tool', model: 'npm', candidateId: undefined };
    startWorkSpan('llm-worker', injectTrace(headers(), newTrace()), cmd, 1);
    endWorkSpan(cmd, { status: 'failed', error: { code: 'exit_1', message: 'tests failed' } });
    const [span] = exporter.getFinishedSpans();
    expect(span).toMatchObject({ name: 'tool npm', status: { code: 2, message: 'tests failed' } });
    expect(span!.attributes['error.type']).toBe('exit_1');
  });

  it('starts no work span for a command without trace context (a run started while tracing was off)', () => {
    const cmd = { ...command };
    startWorkSpan('llm-worker', headers(), cmd, 1);
    expect(workTrace(cmd)).toBeUndefined();
    endWorkSpan(cmd, { status: 'generated' });
    expect(exporter.getFinishedSpans()).toEqual([]);
  });
});
