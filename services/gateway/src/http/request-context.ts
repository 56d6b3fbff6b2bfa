import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import type { Logger } from '@conclave/service-kit';

/** An incoming `x-request-id` is kept when it is short and plain; anything else is replaced. */
const SANE_REQUEST_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

export interface RequestContext {
  requestId: string;
  startedAt: bigint;
}

const contexts = new WeakMap<object, RequestContext>();

export function requestIdOf(req: object): string {
  return contexts.get(req)?.requestId ?? 'unknown';
}

/**
 * First middleware of the chain: assigns the request id (echoed in `x-request-id`) and writes one
 * structured access log line when the response is finished. Bodies and headers (Authorization)
 * are never logged.
 */
export function requestContext(logger: Logger) {
  return (req: Request, res: Response, next: NextFunction) => {
    const incoming = req.headers['x-request-id'];
    const requestId = typeof incoming === 'string' && SANE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
    const context: RequestContext = { requestId, startedAt: process.hrtime.bigint() };
    contexts.set(req, context);
    res.setHeader('x-request-id', requestId);
    const path = req.originalUrl.split('?')[0];
    res.once('finish', () => {
      const ms = Number(process.hrtime.bigint() - context.startedAt) / 1e6;
      logger.info({ method: req.method, path, status: res.statusCode, ms: Math.round(ms * 10) / 10, requestId }, 'request');
    });
    next();
  };
}
