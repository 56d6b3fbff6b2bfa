import { z } from 'zod';

/**
 * A span's W3C trace context as the log records it (issue 14 §3): lower-case hex, 32 digits of
 * trace id and 16 of span id, neither all zeros. Recorded on a run (RunStarted: the run's root
 * span) and on a candidate (its worker's span); absent when tracing was off.
 */
export const TraceContext = z.object({
  traceId: z.string().regex(/^(?!0{32})[0-9a-f]{32}$/, 'a trace id is 32 lower-case hex digits, not all zeros'),
  spanId: z.string().regex(/^(?!0{16})[0-9a-f]{16}$/, 'a span id is 16 lower-case hex digits, not all zeros'),
});
export type TraceContext = z.infer<typeof TraceContext>;

/** `GET /api/v1/config`: what the dashboard reads once at startup. */
export const ClientConfig = z.object({
  /**
   * TRACE_URL_TEMPLATE: a trace viewer's URL with `{traceId}` (and optionally `{spanId}`) to fill
   * in, e.g. `http://localhost:16686/trace/{traceId}`; null when unset (trace ids are shown, not linked)
   */
  traceUrlTemplate: z.string().nullable(),
});
export type ClientConfig = z.infer<typeof ClientConfig>;

/** The trace viewer's URL for a trace (and span), or null without a template. */
export function traceUrl(template: string | null | undefined, trace: { traceId: string; spanId?: string | null }): string | null {
  if (!template) return null;
  return template.replaceAll('{traceId}', encodeURIComponent(trace.traceId)).replaceAll('{spanId}', encodeURIComponent(trace.spanId ?? ''));
}
