import type { NestExpressApplication } from '@nestjs/platform-express';
import type { NextFunction, Request, Response } from 'express';
import { rateLimit } from 'express-rate-limit';
import helmet from 'helmet';
import { ConclaveError } from '@conclave/contracts';
import { isLoopback, type GatewayConfig } from '../config';
import { openApiDocument, openApiHtml } from '../openapi/document';

/**
 * Security headers for every response. The CSP allows the built dashboard only: scripts, styles,
 * fonts and images from the gateway itself, and socket.io's websocket back to it. Inline style
 * attributes are allowed (React Flow positions nodes with them); inline scripts are not.
 */
export function securityHeaders() {
  return helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        styleSrcAttr: ["'unsafe-inline'"],
        imgSrc: ["'self'", 'data:'],
        fontSrc: ["'self'", 'data:'],
        connectSrc: ["'self'", 'ws:', 'wss:'],
        objectSrc: ["'none'"],
        baseUri: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
      },
    },
    crossOriginEmbedderPolicy: false,
  });
}

/**
 * CORS: only the origins of CORS_ORIGINS (none by default: same-origin only). A refused origin
 * gets no Access-Control-Allow-* headers, so the browser blocks the response.
 */
export function enableCors(app: NestExpressApplication, origins: readonly string[]): void {
  const allowed = new Set(origins);
  app.enableCors({
    origin: (origin: string | undefined, callback: (err: Error | null, allow?: boolean) => void) => callback(null, origin !== undefined && allowed.has(origin)),
    methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
    allowedHeaders: ['authorization', 'content-type', 'x-request-id'],
    exposedHeaders: ['x-request-id', 'ratelimit', 'ratelimit-policy', 'retry-after', 'content-disposition'],
    maxAge: 600,
  });
}

/** Probes are exempt: an orchestrator of containers polls them. */
const RATE_LIMIT_EXEMPT = new Set(['/api/v1/health', '/api/v1/ready']);

/** Per client IP (the socket address: no proxy is trusted) on the REST API; 429 `rate_limited`. */
export function apiRateLimit(perMinute: number) {
  return rateLimit({
    windowMs: 60_000,
    limit: perMinute,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    skip: (req: Request) => !req.path.startsWith('/api/') || RATE_LIMIT_EXEMPT.has(req.path),
    handler: (_req: Request, _res: Response, next: NextFunction) =>
      next(new ConclaveError('rate_limited', `too many requests: at most ${perMinute} per minute per client`, { limitPerMinute: perMinute })),
  });
}

/** `/api/docs` (an HTML listing, no CDN) and `/api/docs/openapi.json`. */
export function serveApiDocs(app: NestExpressApplication): void {
  app.use((req: Request, res: Response, next: NextFunction) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    const path = req.path.replace(/\/+$/, '');
    if (path === '/api/docs/openapi.json') return void res.json(openApiDocument());
    if (path === '/api/docs') return void res.type('html').send(openApiHtml());
    next();
  });
}

export type SecurityConfig = Pick<GatewayConfig, 'CORS_ORIGINS' | 'RATE_LIMIT_PER_MINUTE'>;

/**
 * socket.io handshakes (polling and websocket upgrades, which CORS does not cover): a browser's
 * Origin must be the gateway's own host or one of CORS_ORIGINS, so another web page cannot open
 * a socket to a local gateway and read its events (cross-site websocket hijacking). Loopback
 * origins pass too (the vite dev server proxies the socket from localhost:5173). Clients without
 * an Origin (not browsers) pass; the bearer token, when configured, still applies.
 */
export function socketOriginCheck(origins: readonly string[]) {
  const allowed = new Set(origins);
  return (req: { headers: Record<string, string | string[] | undefined> }, callback: (err: string | null | undefined, success: boolean) => void) => {
    const origin = req.headers.origin;
    if (origin === undefined) return callback(null, true);
    if (typeof origin !== 'string') return callback('origin not allowed', false);
    let ok = allowed.has(origin);
    try {
      const url = new URL(origin);
      ok ||= url.host === req.headers.host || isLoopback(url.hostname);
    } catch {
      /* not a URL: refused unless listed */
    }
    callback(ok ? null : 'origin not allowed', ok);
  };
}
