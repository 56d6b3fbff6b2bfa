import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import type { z } from 'zod';
import { ConclaveError } from '@conclave/contracts';
import { requestIdOf } from './request-context';

/** Parse with a contract schema; a failure is a 400 `bad_request` carrying zod's issues. */
export function parseOr400<S extends z.ZodType>(schema: S, value: unknown, what: string): z.infer<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw badRequest(result.error.issues, what);
  return result.data;
}

/** The 400 `bad_request` of a value that did not parse: its first issue, where it is. */
export function badRequest(issues: readonly z.ZodIssue[], what: string): ConclaveError {
  const first = issues[0];
  const where = first && first.path.length > 0 ? ` at ${first.path.map(String).join('.')}` : '';
  return new ConclaveError('bad_request', `invalid ${what}${first ? `: ${first.message}${where}` : ''}`, { issues });
}

/** Parse with a contract schema; a failure is a 422 `validation` naming the first field at fault (validationError). */
export function parseOr422<S extends z.ZodType>(schema: S, value: unknown, what: string): z.infer<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw validationError(result.error.issues, what);
  return result.data;
}

/** The 422 `validation` of well-formed input that breaks a rule: its first issue's field (or `what`) and message. */
export function validationError(issues: readonly z.ZodIssue[], what: string): ConclaveError {
  const first = issues[0];
  const field = (first?.path ?? []).map(String).join('.') || what;
  return new ConclaveError('validation', `invalid ${what}: ${field}: ${first?.message ?? 'does not match its schema'}`, { field, issues });
}

/**
 * The JSON body of a request. The JSON parser is the only body parser: any other content type
 * leaves the body undefined, which is a 400 rather than an empty object.
 */
export function jsonBody(body: unknown): unknown {
  if (body === undefined) throw new ConclaveError('bad_request', 'expected a JSON body (Content-Type: application/json)');
  return body;
}

/** The request id of the current REST request (see requestContext). */
export const RequestId = createParamDecorator((_data: unknown, ctx: ExecutionContext): string => requestIdOf(ctx.switchToHttp().getRequest<Request>()));

/**
 * Deepest nesting a JSON body may have. Templates with JSON Schemas stay far below it; what lies
 * beyond only costs: serialising it again (idempotency hash, NATS) overflows the stack past ~10,000.
 */
export const MAX_BODY_DEPTH = 128;

const BODYLESS_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Right after the JSON parser, before any handler sees the request:
 * - a body the JSON parser did not read (another or no content type), or JSON in a charset other
 *   than UTF-8, is refused — it would otherwise pass for "no body", which run commands and replay
 *   accept;
 * - a JSON body nested deeper than MAX_BODY_DEPTH, or with a `__proto__` key or a
 *   `constructor.prototype` anywhere (prototype poisoning once merged or assigned), is refused;
 * - a NUL character in a query value is refused (Postgres text cannot hold one: filters are
 *   compared as text). In bodies the schemas decide (a workspace path with one is a 422).
 * All are 400 `bad_request`; nothing reaches a handler.
 */
export function requestGuard() {
  return (req: Request, _res: Response, next: NextFunction) => {
    const queryProblem = nulInQuery(req.query);
    if (queryProblem) return next(new ConclaveError('bad_request', queryProblem));
    if (BODYLESS_METHODS.has(req.method)) return next();
    if (req.body === undefined) {
      const length = req.headers['content-length'];
      const hasBody = req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
      if (hasBody) return next(new ConclaveError('bad_request', `expected a JSON body (Content-Type: application/json), not ${JSON.stringify(req.headers['content-type'] ?? 'untyped')}`));
      return next();
    }
    // RFC 8259: JSON between systems is UTF-8; another charset decodes bytes into something else (one byte of UTF-16: nothing)
    const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(req.headers['content-type'] ?? '')?.[1]?.toLowerCase();
    if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') return next(new ConclaveError('bad_request', `a JSON body must be UTF-8, not ${charset}`));
    const problem = hostileJson(req.body, MAX_BODY_DEPTH);
    next(problem ? new ConclaveError('bad_request', problem) : undefined);
  };
}

/** Why a parsed JSON value is refused, or null. Iterative: depth costs no stack. */
export function hostileJson(value: unknown, maxDepth: number): string | null {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop()!;
    if (current === null || typeof current !== 'object') continue;
    if (depth > maxDepth) return `the request body is nested deeper than ${maxDepth} levels`;
    if (Array.isArray(current)) {
      for (const item of current) stack.push([item, depth + 1]);
      continue;
    }
    for (const key of Object.keys(current)) {
      if (key === '__proto__') return 'the request body has a "__proto__" key';
      const child = (current as Record<string, unknown>)[key];
      if (key === 'constructor' && child !== null && typeof child === 'object' && Object.hasOwn(child, 'prototype')) return 'the request body has a "constructor.prototype" key';
      stack.push([child, depth + 1]);
    }
  }
  return null;
}

function nulInQuery(query: unknown): string | null {
  const stack: unknown[] = [query];
  while (stack.length > 0) {
    const current = stack.pop();
    if (typeof current === 'string') {
      if (current.includes('\u0000')) return 'query parameters may not contain NUL characters';
    } else if (current !== null && typeof current === 'object') {
      for (const [key, child] of Object.entries(current)) {
        if (key.includes('\u0000')) return 'query parameters may not contain NUL characters';
        stack.push(child);
      }
    }
  }
  return null;
}
