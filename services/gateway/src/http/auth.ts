import { createHash, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { ConclaveError } from '@conclave/contracts';

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

/** Paths under the REST API that stay open without a token. */
const PUBLIC_API_PATHS = new Set(['/api/v1/health', '/api/docs', '/api/docs/openapi.json']);

/**
 * With CONCLAVE_API_TOKEN set, every REST route but /health requires the bearer token. Runs before
 * the body parser: an unauthenticated client never gets its body parsed. The static dashboard is
 * not REST and stays public (it calls the API with the token itself).
 */
export function bearerAuth(token: string | undefined) {
  return (req: Request, _res: Response, next: NextFunction) => {
    if (!token) return next();
    const path = req.path.replace(/\/+$/, '') || '/';
    if (!(path === '/api' || path.startsWith('/api/')) || PUBLIC_API_PATHS.has(path)) return next();
    if (tokenMatches(token, bearerToken(req.headers.authorization))) return next();
    next(new ConclaveError('unauthorized', 'missing or invalid bearer token (Authorization: Bearer <CONCLAVE_API_TOKEN>)'));
  };
}
