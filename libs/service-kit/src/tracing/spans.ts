import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Context, type Link, type Span } from '@opentelemetry/api';
import type { TraceContext } from '@conclave/contracts';
import { remoteContext } from './nats';
import { tracingEnabled, withIds } from './sdk';

/** Which service module made a span: in the single-process stack all five share one SDK and one `service.name`. */
export const SERVICE_ATTRIBUTE = 'conclave.service';

const tracer = (service: string) => trace.getTracer(`conclave.${service}`);

export interface SpanOptions {
  /** the parent (extractTrace of a message, remoteContext of a recorded span); none: a new trace */
  parent?: Context;
  attributes?: Attributes;
  links?: Link[];
  kind?: SpanKind;
  startTime?: Date | number;
}

/** Start a span of `service`; undefined when tracing is off (endSpan and spanTrace accept that). */
export function startSpan(service: string, name: string, options: SpanOptions = {}): Span | undefined {
  if (!tracingEnabled()) return undefined;
  return tracer(service).startSpan(
    name,
    { kind: options.kind ?? SpanKind.INTERNAL, attributes: { [SERVICE_ATTRIBUTE]: service, ...options.attributes }, links: options.links, startTime: options.startTime, root: !options.parent },
    options.parent ?? ROOT_CONTEXT,
  );
}

/** End a span, marked as an error when `error` is given. */
export function endSpan(span: Span | undefined, error?: string | null, endTime?: Date | number): void {
  if (!span) return;
  if (error) span.setStatus({ code: SpanStatusCode.ERROR, message: error });
  span.end(endTime);
}

/** A span's ids as the log records them. */
export function spanTrace(span: Span | undefined): TraceContext | undefined {
  if (!span) return undefined;
  const { traceId, spanId } = span.spanContext();
  return { traceId, spanId };
}

export interface RecordedSpan {
  /** the span's own ids (its trace id is the parent's when it has one) */
  ids: TraceContext;
  /** null: the root of its trace */
  parent: TraceContext | null;
  startTime: Date | number;
  endTime: Date | number;
  attributes?: Attributes;
  error?: string | null;
}

/**
 * Emit, in one go, a span that began earlier — possibly in another process — under the ids the log
 * recorded (or derived) when it began: a run or a phase outlives any one call, and its children
 * name it as their parent long before it ends.
 */
export function recordSpan(service: string, name: string, options: RecordedSpan): void {
  if (!tracingEnabled()) return;
  const parent = options.parent ? remoteContext(options.parent) : ROOT_CONTEXT;
  const span = withIds({ ...(options.parent ? {} : { traceId: options.ids.traceId }), spanId: options.ids.spanId }, () =>
    tracer(service).startSpan(name, { attributes: { [SERVICE_ATTRIBUTE]: service, ...options.attributes }, startTime: options.startTime, root: !options.parent }, parent),
  );
  endSpan(span, options.error, options.endTime);
}
