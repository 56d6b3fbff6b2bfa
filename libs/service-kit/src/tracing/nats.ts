import { context, trace, TraceFlags, type Context, type Span, type TextMapGetter, type TextMapSetter } from '@opentelemetry/api';
import type { TraceContext } from '@conclave/contracts';
import { w3cPropagator } from './sdk';

/** The part of nats.js' `MsgHdrs` the propagator uses (MsgHdrs satisfies it). */
export interface NatsHeaders {
  get(key: string): string;
  set(key: string, value: string): void;
  keys(): string[];
}

/** W3C trace context (`traceparent`, `tracestate`) read from NATS message headers. */
export const natsHeaderGetter: TextMapGetter<NatsHeaders> = {
  keys: (carrier) => carrier.keys(),
  get: (carrier, key) => carrier.get(key) || undefined,
};
/** … and written to them. */
export const natsHeaderSetter: TextMapSetter<NatsHeaders> = {
  set: (carrier, key, value) => carrier.set(key, value),
};

/** A context whose parent is a span recorded elsewhere (the log, another process). */
export function remoteContext(parent: TraceContext): Context {
  return trace.setSpanContext(context.active(), { traceId: parent.traceId, spanId: parent.spanId, traceFlags: TraceFlags.SAMPLED, isRemote: true });
}

/**
 * Write `traceparent` (and `tracestate`) naming `parent` into NATS headers. Tracing off, or no
 * parent: nothing is written.
 */
export function injectTrace<H extends NatsHeaders>(headers: H, parent: TraceContext | Span | null | undefined): H {
  const w3c = w3cPropagator();
  if (!w3c || !parent) return headers;
  const ctx = 'spanContext' in parent ? trace.setSpan(context.active(), parent) : remoteContext(parent);
  w3c.inject(ctx, headers, natsHeaderSetter);
  return headers;
}

/** The context a message's headers carry, or undefined (tracing off, or no valid `traceparent`). */
export function extractTrace(headers: NatsHeaders | undefined): Context | undefined {
  const w3c = w3cPropagator();
  if (!w3c || !headers) return undefined;
  const ctx = w3c.extract(context.active(), headers, natsHeaderGetter);
  return trace.getSpanContext(ctx) ? ctx : undefined;
}
