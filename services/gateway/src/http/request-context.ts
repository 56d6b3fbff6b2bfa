import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import type { Logger } from '@conclave/service-kit';

/** An incoming `x-request-id` is kept when it is short and plain (and not in use); anything else is replaced. */
const SANE_REQUEST_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

export interface RequestContext {
  requestId: string;
  startedAt: bigint;
}

const contexts = new WeakMap<object, RequestContext>();
/** the requests being answered, by request id (unique among them: see requestContext) */
const inFlight = new Map<string, object>();

export function requestIdOf(req: object): string {
  return contexts.get(req)?.requestId ?? 'unknown';
}

/**
 * The request being answered under `requestId`, or undefined once it is answered (or for an id
 * that is not a request's, such as the gateway's own work at boot). This is how code below a
 * controller finds what the request carried (its actor) from the request id it is given, without
 * AsyncLocalStorage: in Node 20 that turns async hooks on for every promise of the process — in
 * the single-process stack, every service's (issue 12).
 */
export function inFlightRequest(requestId: string): object | undefined {
  return inFlight.get(requestId);
}

/**
 * First middleware of the chain: assigns the request id (echoed in `x-request-id`) and writes one
 * structured access log line when the response is finished. Bodies and headers (Authorization)
 * are never logged.
 */
export function requestContext(logger: Logger) {
  return (req: Request, res: Response, next: NextFunction) => {
    const incoming = req.headers['x-request-id'];
    // an incoming id is kept unless a request in flight has it already: ids identify requests
    const requestId = typeof incoming === 'string' && SANE_REQUEST_ID.test(incoming) && !inFlight.has(incoming) ? incoming : randomUUID();
    const context: RequestContext = { requestId, startedAt: process.hrtime.bigint() };
    contexts.set(req, context);
    inFlight.set(requestId, req);
    res.once('close', () => inFlight.delete(requestId));
    res.setHeader('x-request-id', requestId);
    const path = req.originalUrl.split('?')[0];
    res.once('finish', () => {
      const ms = Number(process.hrtime.bigint() - context.startedAt) / 1e6;
      logger.info({ method: req.method, path, status: res.statusCode, ms: Math.round(ms * 10) / 10, requestId }, 'request');
    });
    next();
  };
}
