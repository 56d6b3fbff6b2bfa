/**
 * A failure a provider reported (or a timeout of its call): becomes a failed result with this code.
 * Codes: rate_limited, overloaded, provider_error (5xx), timeout, auth_failed, bad_request,
 * not_found, content_filtered, output_invalid, provider_unreachable.
 */
export class ProviderError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly retryable: boolean,
    readonly extra: { retryAfterMs?: number; raw?: string; status?: number } = {},
  ) {
    super(message);
    this.name = 'ProviderError';
  }
}

export function isProviderError(err: unknown): err is ProviderError {
  return err instanceof Error && err.name === 'ProviderError' && typeof (err as ProviderError).code === 'string';
}

/** `retry-after-ms` (OpenAI, Anthropic) wins over `retry-after` (seconds or an HTTP date). */
export function retryAfterMs(headers: unknown, now: number = Date.now()): number | undefined {
  const get = (name: string): string | null => {
    if (!headers) return null;
    if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name);
    const v = (headers as Record<string, unknown>)[name];
    return typeof v === 'string' ? v : null;
  };
  const ms = get('retry-after-ms');
  if (ms !== null && /^\d+(\.\d+)?$/.test(ms.trim())) return Math.round(Number(ms));
  const after = get('retry-after');
  if (after === null) return undefined;
  if (/^\d+(\.\d+)?$/.test(after.trim())) return Math.round(Number(after) * 1000);
  const date = Date.parse(after);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** Never let a key reach a message: a bearer token or key-looking string is masked. */
export function redact(text: string, secret?: string): string {
  const scrubbed = secret && secret.length >= 4 ? text.split(secret).join('[key]') : text;
  return scrubbed
    .replace(/(sk-[A-Za-z0-9_-]{6})[A-Za-z0-9_-]+/g, '$1…')
    .replace(/(AIza[A-Za-z0-9_-]{4})[A-Za-z0-9_-]+/g, '$1…')
    .replace(/(key=)[^&\s]+/gi, '$1…');
}

/**
 * Map an HTTP status (and headers) to a typed ProviderError. `statusText` is the SDK's message.
 * 429 → rate_limited (retryable, retryAfterMs); 529 / 503 → overloaded (retryable); other 5xx →
 * provider_error (retryable); 408 → timeout (retryable); 401 / 403 → auth_failed (not retryable);
 * 404 → not_found; other 4xx → bad_request (not retryable).
 */
export function errorFromStatus(provider: string, status: number, message: string, headers?: unknown, secret?: string): ProviderError {
  const msg = redact(`${provider}: ${message}`, secret).slice(0, 1_000);
  if (status === 429) {
    const wait = retryAfterMs(headers);
    return new ProviderError('rate_limited', msg, true, { status, ...(wait !== undefined ? { retryAfterMs: wait } : {}) });
  }
  if (status === 529 || status === 503) return new ProviderError('overloaded', msg, true, { status, retryAfterMs: retryAfterMs(headers) });
  if (status >= 500) return new ProviderError('provider_error', msg, true, { status });
  if (status === 408) return new ProviderError('timeout', msg, true, { status });
  if (status === 401 || status === 403) return new ProviderError('auth_failed', msg, false, { status });
  if (status === 404) return new ProviderError('not_found', msg, false, { status });
  if (/content[_ ]?(filter|policy)|safety/i.test(message)) return new ProviderError('content_filtered', msg, false, { status });
  return new ProviderError('bad_request', msg, false, { status });
}

/**
 * Classify what an SDK threw. The abort of our own signal is re-thrown as the signal's reason (the
 * worker turns it into cancelled / timeout); an SDK-level timeout becomes `timeout`; a connection
 * failure `provider_unreachable` (retryable); anything with a numeric `status` goes through
 * errorFromStatus; the rest is re-thrown as a plain Error with the same (scrubbed) message
 * (transient: the worker naks with backoff). The client's key is scrubbed from every message.
 */
export function classifySdkError(provider: string, err: unknown, signal: AbortSignal, secret?: string): unknown {
  if (signal.aborted) return signal.reason;
  if (isProviderError(err)) return err;
  const e = err as { status?: unknown; headers?: unknown; message?: unknown; name?: unknown; constructor?: { name?: string } };
  const name = `${String(e?.name ?? '')} ${e?.constructor?.name ?? ''}`;
  const message = typeof e?.message === 'string' ? e.message : String(err);
  if (/Timeout/i.test(name)) return new ProviderError('timeout', redact(`${provider}: ${message}`, secret), true);
  // @google/genai wraps fetch failures as `exception <Name>: <message> sending request`; an abort we
  // did not ask for is its own timeout.
  if (/AbortError|TimeoutError|operation was aborted/.test(message)) return new ProviderError('timeout', redact(`${provider}: ${message}`, secret), true);
  if (typeof e?.status === 'number') return errorFromStatus(provider, e.status, message, e.headers, secret);
  if (/APIConnectionError|ConnectionError/.test(name) || /fetch failed|ECONNREFUSED|ECONNRESET|ENOTFOUND/.test(message)) return new ProviderError('provider_unreachable', redact(`${provider}: ${message}`, secret), true);
  const plain = new Error(redact(message, secret));
  plain.name = typeof e?.name === 'string' ? e.name : 'Error';
  return plain;
}
