import { authHeaders } from '../auth/session';

/**
 * The REST paths and the GETs a route starts before its code is there. A route's loader knows the
 * page's main read before the page's chunk, the contracts and the REST client have loaded (tens
 * of ms of parsing, more on a busy machine): it starts that GET here, in the shell, and `request`
 * (client.ts) takes the response in flight for the same URL instead of asking again. Each is taken
 * once; one nobody takes within EARLY_TTL_MS is dropped. Nothing here imports the contracts.
 */
export const API_BASE = '/api/v1';
const EARLY_TTL_MS = 10_000;

export type Query = Record<string, string | number | boolean | null | undefined>;

export function buildUrl(path: string, query?: Query): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value === undefined || value === null || value === '') continue;
    params.set(key, String(value));
  }
  const qs = params.toString();
  return `${API_BASE}${path}${qs ? `?${qs}` : ''}`;
}

/** `?min_sequence=` of a page's URL: a whole number ≥ 0, else none. */
export function minSequenceOf(url: URL): number | undefined {
  const raw = url.searchParams.get('min_sequence');
  const n = Number(raw);
  return raw && Number.isInteger(n) && n >= 0 ? n : undefined;
}

/** GET /runs/:id as `api.getRun` asks for it (the same URL, so `request` finds the early response). */
export function runUrl(id: string, minSequence: number | undefined): string {
  return buildUrl(`/runs/${encodeURIComponent(id)}`, { min_sequence: minSequence });
}

const early = new Map<string, Promise<Response>>();

export function startEarlyGet(url: string): void {
  if (early.has(url)) return;
  const response = fetch(url, { headers: { Accept: 'application/json', ...authHeaders() } });
  // a failure is `request`'s to report when it takes the response; nobody may take it
  response.catch(() => undefined);
  early.set(url, response);
  setTimeout(() => {
    if (early.get(url) === response) early.delete(url);
  }, EARLY_TTL_MS);
}

export function takeEarlyGet(url: string): Promise<Response> | undefined {
  const response = early.get(url);
  early.delete(url);
  return response;
}
