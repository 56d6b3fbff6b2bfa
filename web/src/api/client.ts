import { ErrorEnvelope } from '@conclave/contracts';
import { authenticationRequired, authHeaders } from '../auth/session';
import { buildUrl, takeEarlyGet, type Query } from './early';

/**
 * The REST client: fetch under /api/v1. Responses are parsed with the contracts' schemas (every
 * edge validates, STYLE.md §7), so a shape drift shows up as one clear error instead of a broken
 * page. Errors keep the server's `{ code, message, details, requestId }`. Every call carries the
 * tab's API token (auth/session.ts); a 401 sends the app to its sign-in screen.
 */
export { API_BASE, buildUrl, type Query } from './early';

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


export interface RequestOptions {
  query?: Query;
  body?: unknown;
  signal?: AbortSignal;
  /** e.g. Idempotency-Key on a creating request */
  headers?: Record<string, string>;
}


export async function request<T>(method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, schema: Schema<T>, options: RequestOptions = {}): Promise<T> {
  const url = buildUrl(path, options.query);
  // a plain GET a route's loader already started (early.ts) is not asked again
  const started = method === 'GET' && options.body === undefined && !options.headers ? takeEarlyGet(url) : undefined;
  let response: Response;
  try {
    response = await (started ?? fetch(url, {
      method,
      headers: { Accept: 'application/json', ...(options.body !== undefined ? { 'Content-Type': 'application/json' } : {}), ...authHeaders(), ...options.headers },
      body: options.body !== undefined ? JSON.stringify(options.body) : undefined,
      signal: options.signal,
    }));
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
    if (response.status === 401) authenticationRequired();
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

/**
 * Saves a gateway download (an export, a patch) as a file: fetched with the tab's token in the
 * Authorization header and handed to the browser as a blob — the token never goes into a URL.
 * The file name is the response's Content-Disposition name, else `fallbackName`.
 */
export async function downloadFile(url: string, fallbackName: string): Promise<void> {
  let response: Response;
  try {
    response = await fetch(url, { headers: authHeaders() });
  } catch (err) {
    throw new ApiError(0, 'network', `Cannot reach the gateway (GET ${url})`, err instanceof Error ? err.message : undefined);
  }
  if (!response.ok) {
    if (response.status === 401) authenticationRequired();
    const text = await response.text();
    let loose: { code?: unknown; message?: unknown; requestId?: unknown } | undefined;
    try {
      loose = (JSON.parse(text) as { error?: typeof loose }).error;
    } catch {
      loose = undefined;
    }
    throw new ApiError(
      response.status,
      typeof loose?.code === 'string' ? loose.code : `http_${response.status}`,
      typeof loose?.message === 'string' ? loose.message : `GET ${url} failed with ${response.status} ${response.statusText}`,
      undefined,
      typeof loose?.requestId === 'string' ? loose.requestId : undefined,
    );
  }
  const blob = await response.blob();
  const name = fileNameOf(response.headers.get('content-disposition')) ?? fallbackName;
  const href = URL.createObjectURL(blob);
  try {
    const a = Object.assign(document.createElement('a'), { href, download: name, rel: 'noopener' });
    a.style.display = 'none';
    document.body.append(a);
    a.click();
    a.remove();
  } finally {
    // the click has started the download; give the browser a moment before the blob goes
    setTimeout(() => URL.revokeObjectURL(href), 10_000);
  }
}

/** `attachment; filename="runs.csv"` (or RFC 5987 `filename*=UTF-8''…`) → the name. */
export function fileNameOf(disposition: string | null): string | null {
  if (!disposition) return null;
  const extended = /filename\*\s*=\s*UTF-8''([^;]+)/i.exec(disposition);
  if (extended) {
    try {
      return decodeURIComponent(extended[1]!.trim());
    } catch {
      /* fall through to the plain name */
    }
  }
  const plain = /filename\s*=\s*"([^"]*)"|filename\s*=\s*([^;]+)/i.exec(disposition);
  const name = (plain?.[1] ?? plain?.[2])?.trim();
  return name ? name.replace(/[\\/]/g, '_') : null;
}
