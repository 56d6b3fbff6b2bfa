import type { Recorded } from '@conclave/contracts';
import { derivedSpanId, shutdownTracing, startTracing } from '@conclave/service-kit';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { evolve, initialRunState, type DecidedEvent, type RunState } from '../domain';
import { decide } from '../domain/decide';
import { ctx, generated, given, ofType, RUN, start } from '../domain/__tests__/spec-kit';
import { commandHeaders, phaseSpan, traceAppended } from './run-tracing';

const TRACE = { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331' };
const at = (s: number) => new Date(Date.UTC(2026, 10, 22, 10, 0, s)).toISOString();
let position = 1000;
const recorded = (events: DecidedEvent[], occurredAt: string): Recorded[] =>
  events.map((e) => ({ ...e, schemaVersion: 1, streamId: `run:${RUN}`, occurredAt, correlationId: 'c', causationId: null, actor: { kind: 'system', id: 't' }, sequence: (position += 1) }) as Recorded);

describe('a run without a trace, or tracing off', () => {
  it('writes no traceparent on work commands', async () => {
    expect(await startTracing({ service: 'orchestrator', env: {} })).toBe(false);
    const state = decide(initialRunState(), { ...start(), trace: TRACE }, ctx).reduce<RunState>((s, e) => evolve(s, e), initialRunState());
    traceAppended(RUN, [], state);
    expect(commandHeaders({ runId: RUN, phaseId: 'a', attempt: 1 }).get('traceparent')).toBe('');
  });
});

describe('the decider records traces', () => {
  it('RunStarted carries the start’s trace; CandidateGenerated the worker’s span', () => {
    const started = decide(initialRunState(), { ...start(), trace: TRACE }, ctx);
    expect(ofType(started, 'RunStarted')[0]!.data.trace).toEqual(TRACE);
    const span = { traceId: TRACE.traceId, spanId: '00f067aa0ba902b7' };
    const candidateId = ofType(started, 'CandidateRequested')[0]!.data.candidateId;
    const events = given(...started).when(generated(candidateId, 'a', 'x', { trace: span }));
    expect(ofType(events, 'CandidateGenerated')[0]!.data.trace).toEqual(span);
  });
});

describe('tracing on', () => {
  const exporter = new InMemorySpanExporter();
  beforeAll(async () => {
    await startTracing({ service: 'orchestrator', spanProcessors: [new SimpleSpanProcessor(exporter)] });
  });
  afterAll(() => shutdownTracing());

  it('names each phase attempt’s span in its commands and emits the phase and run spans when they end', () => {
    const first = decide(initialRunState(), { ...start(), trace: TRACE }, ctx);
    let state = first.reduce<RunState>((s, e) => evolve(s, e), initialRunState());
    traceAppended(RUN, recorded(first, at(0)), state);

    const phaseA = phaseSpan(TRACE, 'a', 1);
    expect(phaseA).toEqual({ traceId: TRACE.traceId, spanId: derivedSpanId(TRACE.traceId, 'phase', 'a', 1) });
    expect(commandHeaders({ runId: RUN, phaseId: 'a', attempt: 1 }).get('traceparent')).toBe(`00-${TRACE.traceId}-${phaseA.spanId}-01`);
    expect(commandHeaders({ runId: RUN, phaseId: '', attempt: 1 }).get('traceparent')).toBe(`00-${TRACE.traceId}-${TRACE.spanId}-01`); // run-wide work
    expect(commandHeaders({ runId: 'another', phaseId: 'a', attempt: 1 }).get('traceparent')).toBe(''); // a run not traced

    const ended: DecidedEvent[] = [
      { id: 'e1', type: 'PhaseCompleted', data: { phaseId: 'a', attempt: 1, artifactId: null } },
      { id: 'e2', type: 'RunCompleted', data: {} },
    ];
    state = ended.reduce<RunState>((s, e) => evolve(s, e), state);
    traceAppended(RUN, recorded(ended, at(7)), state);

    const spans = exporter.getFinishedSpans();
    const byName = new Map(spans.map((s) => [s.name, s]));
    // b started with a; c had not started: it has no span
    expect([...byName.keys()].sort()).toEqual(['phase a', 'phase b', 'run pipe']);
    const a = byName.get('phase a')!;
    expect(a.spanContext()).toMatchObject(phaseA);
    expect(a.parentSpanContext?.spanId).toBe(TRACE.spanId);
    expect(a.duration).toEqual([7, 0]);
    expect(a.attributes).toMatchObject({ 'conclave.phase.status': 'completed', 'conclave.phase.kind': 'llm', 'conclave.service': 'orchestrator' });
    expect(byName.get('phase b')!.attributes['conclave.phase.status']).toBe('completed'); // still open when the run ended
    const run = byName.get('run pipe')!;
    expect(run.spanContext()).toMatchObject(TRACE);
    expect(run.parentSpanContext).toBeUndefined();
    expect(run.duration).toEqual([7, 0]);
  });
});
