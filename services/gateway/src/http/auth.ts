import { createHash, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { ConclaveError } from '@conclave/contracts';
import type { NamedToken } from '../config';
import { inFlightRequest } from './request-context';

/** Constant-time comparison (hashing first makes the lengths equal, so length does not leak either). */
export function tokenMatches(expected: string, presented: string | undefined | null): boolean {
  if (typeof presented !== 'string' || presented.length === 0) return false;
  const a = createHash('sha256').update(expected, 'utf8').digest();
  const b = createHash('sha256').update(presented, 'utf8').digest();
  return timingSafeEqual(a, b);
}

/** `Authorization: Bearer <token>` → the token (scheme case-insensitive). */
export function bearerToken(header: string | string[] | undefined): string | undefined {
  if (typeof header !== 'string') return undefined;
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  return match?.[1];
}

/**
 * The name of the token presented, or null. Every configured token is compared, in constant time,
 * whatever matched before: neither which token matched nor how many there are shows in the timing.
 */
export function tokenAuthenticator(tokens: readonly NamedToken[]): (presented: string | undefined | null) => string | null {
  const digests = tokens.map((t) => ({ name: t.name, digest: createHash('sha256').update(t.token, 'utf8').digest() }));
  return (presented) => {
    if (typeof presented !== 'string' || presented.length === 0) return null;
    const digest = createHash('sha256').update(presented, 'utf8').digest();
    let found: string | null = null;
    for (const t of digests) {
      const same = timingSafeEqual(t.digest, digest);
      if (same && found === null) found = t.name;
    }
    return found;
  };
}

/** the author of a REST request in the log: the name of the token it presented */
export interface UserActor {
  kind: 'user';
  id: string;
}

/** who the log records when no token is configured (loopback without auth) */
export const ANONYMOUS: UserActor = { kind: 'user', id: 'anonymous' };

const principals = new WeakMap<object, UserActor>();

/**
 * The actor of the request being answered under `requestId`: its token's name, `anonymous`
 * without tokens; undefined when no request has that id (the gateway's own work).
 */
export function actorOf(requestId: string): UserActor | undefined {
  const req = inFlightRequest(requestId);
  return req ? (principals.get(req) ?? ANONYMOUS) : undefined;
}

/** Paths under the REST API that stay open without a token. */
const PUBLIC_API_PATHS = new Set(['/api/v1/health', '/api/docs', '/api/docs/openapi.json']);

/**
 * With API tokens configured (CONCLAVE_API_TOKENS, CONCLAVE_API_TOKEN), every REST route but
 * /health (and /metrics too, which tells what the deployment runs, as /ready does) requires one of them as a bearer token; the token's name becomes the request's actor.
 * Runs before the body parser: an unauthenticated client never gets its body parsed. The static
 * dashboard is not REST and stays public (it calls the API with the token itself).
 */
export function bearerAuth(tokens: readonly NamedToken[]) {
  const authenticate = tokenAuthenticator(tokens);
  return (req: Request, _res: Response, next: NextFunction) => {
    if (tokens.length === 0) return next();
    const path = req.path.replace(/\/+$/, '') || '/';
    if (!(path === '/api' || path.startsWith('/api/') || path === '/metrics') || PUBLIC_API_PATHS.has(path)) return next();
    const name = authenticate(bearerToken(req.headers.authorization));
    if (name !== null) {
      principals.set(req, { kind: 'user', id: name });
      return next();
    }
    next(new ConclaveError('unauthorized', 'missing or invalid bearer token (Authorization: Bearer <one of CONCLAVE_API_TOKENS>)'));
  };
}
