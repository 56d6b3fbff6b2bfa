import { ClientConfig, traceUrl } from '@conclave/contracts';
import { useQuery } from '@tanstack/react-query';
import { request } from '../api/client';

/** TRACE_URL_TEMPLATE, read once per session from `GET /api/v1/config` (null: trace ids are shown, not linked). */
export function useTraceUrlTemplate(): string | null {
  const config = useQuery({ queryKey: ['client-config'], queryFn: ({ signal }) => request('GET', '/config', ClientConfig, { signal }), staleTime: Infinity, retry: 1 });
  return config.data?.traceUrlTemplate ?? null;
}

/**
 * A trace id (one trace per run; a candidate's span within it), linked to the trace viewer when the
 * gateway names one. Shortened on screen; the whole id is in the title, the link and the clipboard.
 */
export function TraceLink({ traceId, spanId, label = 'trace' }: { traceId: string; spanId?: string; label?: string }) {
  const url = traceUrl(useTraceUrlTemplate(), { traceId, spanId });
  const text = (
    <>
      {label} <span className="mono">{traceId.slice(0, 12)}…</span>
    </>
  );
  const title = spanId ? `trace ${traceId}, span ${spanId}` : `trace ${traceId}`;
  return url ? (
    <a href={url} target="_blank" rel="noreferrer noopener" title={`${title} (opens the trace viewer)`} data-testid="trace-link">
      {text}
    </a>
  ) : (
    <span title={title} data-testid="trace-id" data-trace-id={traceId}>
      {text}
    </span>
  );
}
