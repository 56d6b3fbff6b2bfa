import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { NextFunction, Request, Response } from 'express';
import { answerMetrics, PinoNestLogger, type Logger } from '@conclave/service-kit';
import { apiTokens, type GatewayConfig } from './config';
import { GatewayModule } from './gateway.module';
import { bearerAuth } from './http/auth';
import { ErrorFilter } from './http/error-filter';
import { requestContext } from './http/request-context';
import { requestGuard } from './http/parse';
import { answerClientErrors } from './http/client-error';
import { apiRateLimit, enableCors, securityHeaders, serveApiDocs } from './security/hardening';
import { hostCheck } from './security/host-check';
import { serveDashboard } from './web/static-web';

export const API_PREFIX = 'api/v1';
export const JSON_BODY_LIMIT = '1mb';

/**
 * The gateway application, configured but not listening (main.ts listens; tests listen on port 0).
 * Middleware order: request id + access log → Host allow-list (on loopback) → security headers →
 * CORS (preflights answered before auth) → rate limit → bearer auth → JSON body (1 MB) → the
 * request's actor → API docs → /metrics → dashboard → Nest routes under /api/v1 → Nest's 404 and error
 * handlers, all answered by the one ErrorFilter.
 */
export async function createGatewayApp(config: GatewayConfig, logger: Logger): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(GatewayModule.forRoot(config, logger), {
    logger: new PinoNestLogger(logger),
    bodyParser: false, // JSON only (registered below, after auth); no urlencoded bodies
    // a failing module init is thrown to the caller (main.ts logs it and exits with a code; the
    // single-process host reports it) instead of Nest aborting the whole process
    abortOnError: false,
  });
  answerClientErrors(app.getHttpServer()); // an over-long URL or unparsable request: the envelope, not a bare status line
  app.setGlobalPrefix(API_PREFIX);
  app.disable('x-powered-by');
  app.use(requestContext(logger));
  app.use(hostCheck(config));
  app.use(securityHeaders());
  enableCors(app, config.CORS_ORIGINS);
  app.use(apiRateLimit(config.RATE_LIMIT_PER_MINUTE));
  app.use(bearerAuth(apiTokens(config)));
  app.useBodyParser('json', { limit: JSON_BODY_LIMIT });
  app.use(requestGuard()); // no untyped, too deep or __proto__-poisoned bodies; no NUL in queries
  serveApiDocs(app);
  // the process's Prometheus metrics (every hosted service's in the single-process stack); a bearer token when tokens are set
  app.use((req: Request, res: Response, next: NextFunction) => (req.method === 'GET' && req.path === '/metrics' ? void answerMetrics(req, res) : next()));
  serveDashboard(app, config.WEB_DIST);
  app.useGlobalFilters(new ErrorFilter(logger));
  return app;
}
