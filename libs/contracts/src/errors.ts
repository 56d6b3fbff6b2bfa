import { z } from 'zod';

/**
 * The few typed errors of Conclave (STYLE.md §6). Each maps to exactly one HTTP status; the mapping
 * lives here so that the gateway, the orchestrator's replies and the web app agree.
 */
export const ErrorCode = z.enum([
  'bad_request', // body or query does not parse
  'validation', // parses, but violates a rule (template validation, inputs schema)
  'not_found',
  'illegal_state', // the command is not allowed in the aggregate's current state
  'concurrency', // optimistic concurrency lost after retries
  'payload_too_large',
  'unauthorized',
  'forbidden', // authenticated or not, this request is refused (e.g. a Host not allowed: DNS rebinding)
  'rate_limited',
  'provider', // an LLM provider failed
  'unavailable', // a dependency (NATS, Postgres, projector) is not ready
  'internal',
]);
export type ErrorCode = z.infer<typeof ErrorCode>;

export const HTTP_STATUS: Record<ErrorCode, number> = {
  bad_request: 400,
  validation: 422,
  not_found: 404,
  illegal_state: 409,
  concurrency: 409,
  payload_too_large: 413,
  unauthorized: 401,
  forbidden: 403,
  rate_limited: 429,
  provider: 502,
  unavailable: 503,
  internal: 500,
};

export const ErrorBody = z.object({
  code: ErrorCode,
  message: z.string(),
  details: z.unknown().optional(),
});
export type ErrorBody = z.infer<typeof ErrorBody>;

/** REST error envelope: `{ error: { code, message, details, requestId } }`. */
export const ErrorEnvelope = z.object({ error: ErrorBody.extend({ requestId: z.string() }) });
export type ErrorEnvelope = z.infer<typeof ErrorEnvelope>;

/** A typed failure that crosses process boundaries as data (never a stack trace). */
export class ConclaveError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'ConclaveError';
  }
  toBody(): ErrorBody {
    return { code: this.code, message: this.message, ...(this.details === undefined ? {} : { details: this.details }) };
  }
}
