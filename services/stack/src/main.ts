import 'reflect-metadata';
import { Logger as NestLogger } from '@nestjs/common';
import { ConfigError, createLogger, flushTracing, metricsSettings, PinoNestLogger, serveMetrics, startTracing, type Logger, type RunningService } from '@conclave/service-kit';
import { hostedEnv, selectServices, selectThreads, type HostedService } from './hosted-env';
import { loadStart } from './load';
import { startThread } from './threads';

/**
 * Every service in one Node process (ADR 015): each is still its own Nest application with its own
 * configuration, logger and NATS connections as its own NATS user, and they still talk to each other
 * only over NATS — what is shared is the process, hence one copy of Node, Nest, TypeORM, the SDKs
 * and their heaps. Replicas can run beside it as separate processes (`node services/<name>/dist/main.js`).
 *
 * Environment: everything the services read, shared; `<SERVICE>__<VAR>` for one service only
 * (hosted-env.ts); CONCLAVE_SERVICES limits which services this process hosts; CONCLAVE_THREADS
 * names those that run in a worker thread of it (threads.ts), each with an event loop of its own.
 */

/** a service on the main thread, or in a worker thread of this process (threads.ts) */
type Hosted = Pick<RunningService, 'close'>;

export interface HostedStack {
  services: Map<HostedService, Hosted>;
  /** the gateway first (no new work comes in), then the others side by side, each drained as on SIGTERM */
  close(): Promise<void>;
}

/**
 * Boots every selected service from its own environment, one after the other (the gateway last: its
 * /health answers once everything is up), each on this thread or in its own (CONCLAVE_THREADS); if
 * one fails, the ones started are closed and its error thrown. `frameworkLogger`: where Nest's own
 * messages go once every service is up.
 *
 * Nest's framework logger is one per process (NestFactory makes each app's logger the global one):
 * booting in turn keeps each app's start-up messages under its own service; afterwards framework
 * messages (transport reconnects, unhandled exceptions Nest reports) carry `frameworkLogger`'s name.
 * Conclave's own code logs through each service's pino logger and is unaffected.
 *
 * `onThreadLost`: a service's thread ended without being told to (an uncaught error in it); what
 * the process does about it is the caller's policy (`main` exits, as a crashed service's process would).
 */
export async function startStack(
  env: NodeJS.ProcessEnv,
  options: { frameworkLogger?: Logger; onThreadLost: (service: HostedService, reason: string) => void },
): Promise<HostedStack> {
  const { frameworkLogger, onThreadLost } = options;
  const selected = selectServices(env.CONCLAVE_SERVICES);
  const threads = selectThreads(env.CONCLAVE_THREADS, selected);
  const envs = selected.map((service) => [service, hostedEnv(service, env)] as const); // configuration problems before any connection
  const starts = envs.map(([service, serviceEnv]) => [service, threads.includes(service) ? null : loadStart(service), serviceEnv] as const);
  // one SDK for the process (OTEL_EXPORTER_OTLP_ENDPOINT set): spans name their service module (`conclave.service`)
  await startTracing({ service: 'conclave', env });
  const services = new Map<HostedService, Hosted>();
  let failure: { reason: unknown } | undefined;
  for (const [service, start, serviceEnv] of starts) {
    try {
      services.set(service, start ? await start(serviceEnv, { hosted: true }) : await startThread(service, serviceEnv, onThreadLost));
    } catch (reason) {
      failure = { reason };
      break;
    }
  }
  if (frameworkLogger) NestLogger.overrideLogger(new PinoNestLogger(frameworkLogger));
  const close = async () => {
    const gateway = services.get('gateway');
    if (gateway) await gateway.close();
    const failures = (await Promise.allSettled([...services].filter(([name]) => name !== 'gateway').map(([, s]) => s.close()))).filter((r) => r.status === 'rejected');
    await flushTracing().catch(() => undefined);
    if (failures.length > 0) throw (failures[0] as PromiseRejectedResult).reason;
  };
  if (failure) {
    await close().catch(() => undefined);
    throw failure.reason;
  }
  return { services, close };
}

const LEVELS = new Set(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);
const mb = (bytes: number) => Math.round(bytes / 1024 / 1024);

/** `node services/stack/dist/main.js`: SIGTERM/SIGINT close every service, then exit 0 (1 if one failed to close). */
function main(): void {
  const logger: Logger = createLogger('stack', LEVELS.has(process.env.LOG_LEVEL ?? '') ? process.env.LOG_LEVEL : 'info');
  let stack: HostedStack | undefined;
  let signalled: string | undefined;
  let closing = false;
  const stop = async () => {
    if (closing || !stack) return;
    closing = true;
    logger.info({ signal: signalled }, 'stopping every service');
    try {
      await stack.close();
      logger.info('stopped');
      process.exit(0);
    } catch (err) {
      logger.error({ err }, 'a service failed to stop cleanly');
      process.exit(1);
    }
  };
  // a terminal's Ctrl-C reaches this process and its parent's SIGTERM follows: one shutdown for both
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      signalled ??= signal;
      void stop();
    });
  }
  let metrics: ReturnType<typeof metricsSettings>;
  try {
    metrics = metricsSettings(process.env, 0);
  } catch (err) {
    logger.fatal({ issues: (err as ConfigError).issues }, (err as Error).message);
    process.exit(2);
  }
  // a service whose thread dies takes the stack down, as it would take its own process: the
  // supervisor restarts it, and every consumer resumes from what it acknowledged
  const onThreadLost = (service: HostedService, reason: string) => {
    logger.fatal({ service, reason }, `${service} stopped unexpectedly in its thread: the stack exits`);
    process.exit(1);
  };
  startStack(process.env, { frameworkLogger: logger, onThreadLost }).then(
    (started) => {
      stack = started;
      const { rss, heapUsed } = process.memoryUsage();
      logger.info({ services: [...started.services.keys()], rssMb: mb(rss), heapUsedMb: mb(heapUsed) }, 'every service started in this process');
      // every hosted service records into the one process registry; the gateway serves it at /metrics, METRICS_PORT here too
      if (metrics.METRICS_PORT > 0) void serveMetrics({ port: metrics.METRICS_PORT, host: metrics.METRICS_HOST, logger, service: 'stack' });
      if (signalled) void stop(); // a signal during boot
    },
    (err: unknown) => {
      if (err instanceof ConfigError) {
        logger.fatal({ issues: err.issues }, err.message);
        process.exit(2);
      }
      logger.fatal({ err }, 'the stack failed to start');
      process.exit(1);
    },
  );
}

if (require.main === module) main();
