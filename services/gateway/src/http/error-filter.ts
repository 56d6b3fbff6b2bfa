import { Catch, HttpException, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { Request, Response } from 'express';
import { ZodError } from 'zod';
import { ConclaveError, HTTP_STATUS, type ErrorCode, type ErrorEnvelope } from '@conclave/contracts';
import { natsUnavailable } from '@conclave/event-log';
import type { Logger } from '@conclave/service-kit';
import { requestIdOf } from './request-context';

/** HTTP statuses Nest / Express raise themselves → the contract's codes. */
const CODE_OF_STATUS: Record<number, ErrorCode> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'unauthorized',
  404: 'not_found',
  405: 'not_found',
  409: 'illegal_state',
  411: 'bad_request',
  413: 'payload_too_large',
  414: 'bad_request',
  415: 'bad_request',
  422: 'validation',
  429: 'rate_limited',
  431: 'bad_request',
  503: 'unavailable',
};

/** Postgres SQLSTATEs of a lost or refused connection (class 08) and of a server shutting down (57P0x). */
const PG_UNREACHABLE = /^(08\d{3}|57P0[1-3])$/;
const NODE_UNREACHABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'ENOTFOUND']);
const PG_POOL_MESSAGES = /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|connection is closed|Connection ended unexpectedly/i;
export type Dependency = 'postgres' | 'nats';

/**
 * A dependency that cannot be reached (Postgres or NATS down or restarting; a connection refused
 * or cut; a request that got no answer) is the client's to retry — 503 `unavailable` with
 * Retry-After — never a 500. TypeORM wraps the driver's error (`driverError`); node-postgres
 * reports pool failures by message only; NATS errors are recognised by `natsUnavailable`
 * (libs/event-log), which the orchestrator uses for its replies too.
 */
export function unreachableDependency(err: unknown): { dependency: Dependency; cause: string } | null {
  for (let e: unknown = err, depth = 0; e && typeof e === 'object' && depth < 4; depth += 1) {
    const nats = natsUnavailable(e);
    if (nats) return { dependency: 'nats', cause: nats };
    const { code, message } = e as { code?: unknown; message?: unknown };
    if (typeof code === 'string' && (PG_UNREACHABLE.test(code) || NODE_UNREACHABLE.has(code))) return { dependency: 'postgres', cause: code };
    if (typeof message === 'string' && PG_POOL_MESSAGES.test(message)) return { dependency: 'postgres', cause: message };
    e = (e as { driverError?: unknown; cause?: unknown }).driverError ?? (e as { cause?: unknown }).cause;
  }
  return null;
}

const DEPENDENCY_NAME: Record<Dependency, string> = { postgres: 'the database', nats: 'NATS (the event log and the orchestrator)' };

/**
 * Every thrown thing → one ConclaveError. The status then comes from HTTP_STATUS[code] only, so the
 * contract's table is the single mapping (exhaustive by its Record type). Unknown errors become a
 * generic `internal` (their message and stack are logged, never returned).
 */
export function toConclaveError(err: unknown): { error: ConclaveError; unexpected: boolean } {
  if (err instanceof ConclaveError) return { error: err, unexpected: false };
  if (err instanceof ZodError) return { error: new ConclaveError('bad_request', 'the request does not parse', { issues: err.issues }), unexpected: false };
  if (err instanceof HttpException) {
    const status = err.getStatus();
    const code = CODE_OF_STATUS[status];
    if (code) {
      const cause = err.cause as { type?: string } | undefined;
      if (cause instanceof SyntaxError || cause?.type === 'entity.parse.failed') {
        return { error: new ConclaveError('bad_request', `the request body is not valid JSON: ${err.message}`), unexpected: false };
      }
      if (status === 413) return { error: new ConclaveError('payload_too_large', 'the request body is larger than the 1 MB limit'), unexpected: false };
      return { error: new ConclaveError(code, err.message), unexpected: false };
    }
  }
  const unreachable = unreachableDependency(err);
  if (unreachable) {
    const { dependency, cause } = unreachable;
    return { error: new ConclaveError('unavailable', `a dependency (${DEPENDENCY_NAME[dependency]}) cannot be reached right now: retry shortly`, { dependency, cause }), unexpected: false };
  }
  return { error: new ConclaveError('internal', 'internal error'), unexpected: true };
}

/** Seconds a client should wait before retrying a 503. */
export const RETRY_AFTER_SECONDS = 5;

export function envelopeOf(error: ConclaveError, requestId: string): ErrorEnvelope {
  return { error: { code: error.code, message: error.message, details: error.details ?? null, requestId } };
}

/** The one exception filter of the REST API (registered globally). */
@Catch()
export class ErrorFilter implements ExceptionFilter {
  constructor(private readonly logger: Logger) {}

  catch(exception: unknown, host: ArgumentsHost) {
    if (host.getType() !== 'http') throw exception; // socket handlers answer with acks, never throw
    const http = host.switchToHttp();
    const req = http.getRequest<Request>();
    const res = http.getResponse<Response>();
    const requestId = requestIdOf(req);
    const { error, unexpected } = toConclaveError(exception);
    const status = HTTP_STATUS[error.code];
    if (unexpected) this.logger.error({ err: exception, requestId, method: req.method, path: req.originalUrl.split('?')[0] }, 'unhandled error');
    else if (error.code === 'internal' || error.code === 'unavailable') this.logger.warn({ requestId, code: error.code, message: error.message }, 'request failed');
    if (res.headersSent) {
      res.end();
      return;
    }
    if (status === 503) res.setHeader('Retry-After', String(RETRY_AFTER_SECONDS));
    res.status(status).json(envelopeOf(error, requestId));
  }
}
