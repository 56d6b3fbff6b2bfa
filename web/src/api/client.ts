import { ErrorEnvelope } from '@conclave/contracts';

/**
 * The REST client: fetch under /api/v1. Responses are parsed with the contracts' schemas (every
 * edge validates, STYLE.md §7), so a shape drift shows up as one clear error instead of a broken
 * page. Errors keep the server's `{ code, message, details, requestId }`.
 */
export const API_BASE = '/api/v1';

/** The part of a zod schema this client needs (keeps the client independent of zod's API surface). */
export interface Schema<T> {
  safeParse(input: unknown): { success: true; data: T } | { success: false; error: { issues: readonly Issue[] } };
}
interface Issue {
  path: readonly PropertyKey[];
  message: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
    readonly requestId?: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
  /** A 4xx other than 408/429, or a contract mismatch: retrying the same request cannot succeed. */
  get permanent(): boolean {
    if (this.code === 'bad_response') return true;
    return this.status >= 400 && this.status < 500 && this.status !== 408 && this.status !== 429;
  }
}

export type Query = Record<string, string | number | boolean | null | undefined>;

export interface RequestOptions {
  query?: Query;
  body?: unknown;
  signal?: AbortSignal;
  /** e.g. Idempotency-Key on a creating request */
  headers?: Record<string, string>;
}

export function buildUrl(path: string, query?: Query): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value === undefined || value === null || value === '') continue;
    params.set(key, String(value));
  }
  const qs = params.toString();
  return `${API_BASE}${path}${qs ? `?${qs}` : ''}`;
}

export async function request<T>(method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, schema: Schema<T>, options: RequestOptions = {}): Promise<T> {
  const url = buildUrl(path, options.query);
  let response: Response;
  try {
    response = await fetch(url, {
      method,
      headers: { Accept: 'application/json', ...(options.body !== undefined ? { 'Content-Type': 'application/json' } : {}), ...options.headers },
      body: options.body !== undefined ? JSON.stringify(options.body) : undefined,
      signal: options.signal,
    });
  } catch (err) {
    if (err instanceof DOMException && err.name === 'AbortError') throw err;
    throw new ApiError(0, 'network', `Cannot reach the gateway (${method} ${url})`, err instanceof Error ? err.message : undefined);
  }

  const text = await response.text();
  let json: unknown = undefined;
  if (text) {
    try {
      json = JSON.parse(text);
    } catch {
      if (response.ok) throw new ApiError(response.status, 'bad_response', `${method} ${url} did not return JSON`, text.slice(0, 500));
    }
  }

  if (!response.ok) {
    const envelope = ErrorEnvelope.safeParse(json);
    if (envelope.success) {
      const { code, message, details, requestId } = envelope.data.error;
      throw new ApiError(response.status, code, message, details, requestId);
    }
    // Tolerate a non-standard error body (a proxy's HTML page, an unknown code) but keep its text.
    const loose = (json as { error?: { code?: unknown; message?: unknown; details?: unknown; requestId?: unknown } } | undefined)?.error;
    throw new ApiError(
      response.status,
      typeof loose?.code === 'string' ? loose.code : `http_${response.status}`,
      typeof loose?.message === 'string' ? loose.message : `${method} ${url} failed with ${response.status} ${response.statusText}`,
      loose?.details ?? (json === undefined ? text.slice(0, 500) || undefined : undefined),
      typeof loose?.requestId === 'string' ? loose.requestId : undefined,
    );
  }

  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.slice(0, 10).map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`);
    console.error(`Contract mismatch in ${method} ${url}`, parsed.error.issues, json);
    throw new ApiError(response.status, 'bad_response', `The response of ${method} ${url} does not match the contract`, { issues });
  }
  return parsed.data;
}

/** Type guard usable on TanStack Query's `error`. */
export function isApiError(error: unknown): error is ApiError {
  return error instanceof ApiError;
}
