import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../logger';
import type { RunningService } from '../bootstrap';
import { renderMetrics } from './registry';

/**
 * Answers a GET of the process's metrics in the Prometheus text format (404 when metrics are
 * off). Works as a plain node:http handler and as Express middleware (the gateway mounts it).
 */
export async function answerMetrics(_req: IncomingMessage, res: ServerResponse): Promise<void> {
  try {
    const metrics = await renderMetrics();
    if (!metrics) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('metrics are off (CONCLAVE_METRICS=off)\n');
      return;
    }
    res.writeHead(200, { 'content-type': metrics.contentType, 'cache-control': 'no-store' }).end(metrics.body);
  } catch (err) {
    res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end(`metrics could not be collected: ${(err as Error).message}\n`);
  }
}

export interface MetricsServer {
  port: number;
  close(): Promise<void>;
}

/**
 * A small HTTP server with `GET /metrics` only, for services that serve no HTTP of their own.
 * Resolves null (logged) when the port is taken: metrics never stop a service from starting
 * (several replicas on one host share a default port; give each its own METRICS_PORT).
 */
export function serveMetrics(options: { port: number; host: string; logger: Logger; service: string }): Promise<MetricsServer | null> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && (path === '/metrics' || path === '/metrics/')) return void answerMetrics(req, res);
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found: GET /metrics\n');
  });
  return new Promise((resolve) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      options.logger.warn({ err: err.message, port: options.port, host: options.host }, `${options.service}: metrics port unavailable; /metrics is off in this process (set METRICS_PORT)`);
      resolve(null);
    });
    server.listen(options.port, options.host, () => {
      server.removeAllListeners('error');
      const port = (server.address() as AddressInfo).port;
      options.logger.info({ port, host: options.host }, `${options.service} serving /metrics`);
      resolve({
        port,
        close: () => new Promise<void>((done) => server.close(() => done())),
      });
      server.unref(); // never what keeps a stopping process alive
    });
  });
}

/**
 * `running` with a metrics server on `port` beside it (0: none), closed after the service itself.
 * What every service's main.ts wraps its booted service in.
 */
export async function withMetricsServer(running: RunningService, options: { service: string; port: number; host: string }): Promise<RunningService> {
  if (options.port <= 0) return running;
  const server = await serveMetrics({ ...options, logger: running.logger });
  if (!server) return running;
  return {
    ...running,
    close: async () => {
      try {
        await running.close();
      } finally {
        await server.close();
      }
    },
  };
}
