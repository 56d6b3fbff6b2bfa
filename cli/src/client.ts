import { ErrorEnvelope } from '@conclave/contracts';

/** What the client needs of a schema: the contracts' zod schemas fit it. */
export interface Parser<T> {
  safeParse(value: unknown): { success: true; data: T } | { success: false; error: { issues: readonly Issue[] } };
}
export interface Issue {
  message: string;
  path: readonly PropertyKey[];
}

/** Where the gateway listens by default (services/gateway: PORT 3000 on 127.0.0.1). */
export const DEFAULT_URL = 'http://localhost:3000';

export interface Connection {
  /** the gateway's base URL, without /api/v1 */
  url: string;
  /** a bearer token (CONCLAVE_API_TOKEN or one of CONCLAVE_API_TOKENS on the gateway); none on an open loopback gateway */
  token: string | undefined;
}

/**
 * A request the API refused: its `{ error: { code, message, details, requestId } }` envelope, or for
 * an answer that is not one (a proxy's page), the status and the `x-request-id` header when present.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly requestId: string | null,
    readonly details: unknown,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** The gateway could not be reached at all (refused, reset, DNS): no request id exists. */
export class UnreachableError extends Error {
  constructor(
    readonly url: string,
    cause: unknown,
  ) {
    const reason = (cause as { cause?: { code?: string; message?: string } })?.cause;
    super(`cannot reach the gateway at ${url}: ${reason?.code ?? reason?.message ?? (cause instanceof Error ? cause.message : String(cause))} (set CONCLAVE_URL or --url)`);
    this.name = 'UnreachableError';
  }
}

/** A 2xx answer that does not fit the contract's schema: the CLI and the gateway disagree on a version. */
export class ContractError extends Error {
  constructor(path: string, issues: readonly Issue[]) {
    const first = issues[0];
    super(`the answer of ${path} does not fit the contract${first ? `: ${first.message} at ${first.path.map(String).join('.') || '(root)'}` : ''}`);
    this.name = 'ContractError';
  }
}

type Query = Record<string, string | number | boolean | undefined>;

/** `/runs/<id>/<rest>`, each segment encoded */
export function runPath(runId: string, ...rest: string[]): string {
  return ['/runs', ...[runId, ...rest].map(encodeURIComponent)].join('/');
}

/** `/runs/<id>/phases/<phase>/<command>`: a phase command (approve, reject, answer, retry, …) */
export function phasePath(runId: string, phaseId: string, command: string): string {
  return runPath(runId, 'phases', phaseId, command);
}

/** REST under `/api/v1`, JSON both ways; every answer is parsed with the contract's schema for it. */
export class ApiClient {
  readonly base: string;

  constructor(
    readonly connection: Connection,
    private readonly fetchImpl: typeof fetch = fetch,
  ) {
    this.base = `${connection.url.replace(/\/+$/, '')}/api/v1`;
  }

  get<T>(path: string, schema: Parser<T>, query: Query = {}): Promise<T> {
    return this.request('GET', path, schema, undefined, query);
  }

  post<T>(path: string, schema: Parser<T>, body: unknown = {}): Promise<T> {
    return this.request('POST', path, schema, body);
  }

  put<T>(path: string, schema: Parser<T>, body: unknown): Promise<T> {
    return this.request('PUT', path, schema, body);
  }

  async request<T>(method: string, path: string, schema: Parser<T>, body?: unknown, query: Query = {}): Promise<T> {
    const search = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined) search.set(k, String(v));
    const qs = search.size > 0 ? `?${search.toString()}` : '';
    const headers: Record<string, string> = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (this.connection.token) headers.authorization = `Bearer ${this.connection.token}`;
    let res: Response;
    try {
      res = await this.fetchImpl(`${this.base}${path}${qs}`, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    } catch (err) {
      throw new UnreachableError(this.connection.url, err);
    }
    const text = await res.text();
    let json: unknown = undefined;
    try {
      json = text === '' ? undefined : JSON.parse(text);
    } catch {
      json = undefined;
    }
    if (!res.ok) throw apiErrorOf(res.status, res.headers.get('x-request-id'), json, text);
    const parsed = schema.safeParse(json);
    if (!parsed.success) throw new ContractError(`${method} ${path}`, parsed.error.issues);
    return parsed.data;
  }
}

export function apiErrorOf(status: number, headerRequestId: string | null, json: unknown, text: string): ApiError {
  const envelope = ErrorEnvelope.safeParse(json);
  if (envelope.success) {
    const { code, message, details, requestId } = envelope.data.error;
    return new ApiError(status, code, message, requestId, details);
  }
  const snippet = text.trim().slice(0, 200);
  return new ApiError(status, `http_${status}`, `HTTP ${status}${snippet ? `: ${snippet}` : ''}`, headerRequestId, null);
}
