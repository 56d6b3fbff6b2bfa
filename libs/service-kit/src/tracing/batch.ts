import type { Link } from '@opentelemetry/api';
import type { Recorded, TraceContext } from '@conclave/contracts';
import { endSpan, startSpan } from './spans';
import { tracingEnabled } from './sdk';

/** links per batch span: a batch of 2,000 events would otherwise carry hundreds */
const MAX_LINKS = 32;

/**
 * The span of a batch the projector committed (issue 14 §3), emitted once committed from the
 * batch's start to now. A batch folds events of many runs, so it belongs to no run's trace: it is
 * a root span linked to the spans its events record (a run's root, a candidate's call).
 */
export function recordBatchSpan(service: string, events: readonly Recorded[], startTime: number, checkpoint: number): void {
  if (!tracingEnabled() || events.length === 0) return;
  const links: Link[] = [];
  const runs = new Set<string>();
  for (const e of events) {
    if (e.streamId.startsWith('run:')) runs.add(e.streamId);
    // events are parsed with the contracts already: a `trace` present is a TraceContext
    const trace = links.length < MAX_LINKS ? (e.data as { trace?: TraceContext }).trace : undefined;
    if (trace) links.push({ context: { traceId: trace.traceId, spanId: trace.spanId, traceFlags: 1, isRemote: true }, attributes: { 'conclave.event_type': e.type, 'conclave.sequence': e.sequence } });
  }
  const span = startSpan(service, 'projector batch', {
    startTime,
    links,
    attributes: {
      'conclave.events': events.length,
      'conclave.runs': runs.size,
      'conclave.sequence.first': events[0]!.sequence,
      'conclave.sequence.last': events[events.length - 1]!.sequence,
      'conclave.checkpoint': checkpoint,
    },
  });
  endSpan(span);
}
