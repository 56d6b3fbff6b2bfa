import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { INestApplication, INestApplicationContext, Type } from '@nestjs/common';
import { ConfigError } from './config';
import { createLogger, PinoNestLogger, type Logger } from './logger';
import { flushTracing, startTracing } from './tracing';

export interface BootOptions {
  service: string;
  module: Type<unknown>;
  logLevel?: string;
  /** serve HTTP on this port (0 or undefined: an application context without HTTP) */
  http?: { port: number; host: string; globalPrefix?: string; configure?: (app: INestApplication) => void | Promise<void> };
  /** a Nest microservice transport (e.g. `{ transport: Transport.NATS, options }`) served alongside */
  microservice?: Record<string, unknown>;
  /**
   * hosted beside other services in one process (services/stack): no signal handlers of its own
   * and no process.exit — a failure is thrown, and the host closes the app (`RunningService.close`)
   */
  hosted?: boolean;
}

/** How a service's main is told where it runs. */
export interface StartOptions {
  /** see BootOptions.hosted */
  hosted?: boolean;
}

/** A booted service: its Nest application and logger; `close()` drains it as SIGTERM would. */
export interface RunningService {
  app: INestApplicationContext;
  logger: Logger;
  close(): Promise<void>;
}

/**
 * What every service's main.ts exports: boot the service from `env` (its own process passes
 * process.env; the single-process stack passes a per-service environment).
 */
export type StartService = (env: NodeJS.ProcessEnv, options?: StartOptions) => Promise<RunningService>;

/** errors bootService has already logged (a standalone main then exits without logging them again) */
const logged = new WeakSet<object>();

/**
 * Boot a Nest service: structured logs, shutdown hooks (SIGTERM/SIGINT drain consumers, then the
 * NATS connection), optional HTTP. A configuration error exits with code 2 and the listed issues
 * (hosted: it is thrown).
 */
export async function bootService(options: BootOptions): Promise<RunningService> {
  const logger = createLogger(options.service, options.logLevel ?? process.env.LOG_LEVEL ?? 'info');
  const hosted = options.hosted === true;
  // hosted: a failing module init is thrown to the host instead of ending the whole process, and
  // nothing is buffered — Nest's buffer is one per process, flushed by whichever app starts next
  const nestOptions = { logger: new PinoNestLogger(logger), bufferLogs: !hosted, ...(hosted ? { abortOnError: false } : {}) };
  const shutdownHooks = (app: INestApplicationContext) => {
    if (!hosted) app.enableShutdownHooks(undefined, { useProcessExit: true });
  };
  try {
    // its own process: its own SDK (hosted: the stack starts one for all, services/stack)
    if (!hosted && (await startTracing({ service: `conclave-${options.service}` }))) {
      logger.info('tracing: exporting spans over OTLP');
      // best effort: what is buffered leaves while Nest drains (the process exits right after)
      for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => void flushTracing().catch(() => undefined));
    }
    let app: INestApplicationContext;
    if (options.http && options.http.port > 0) {
      const http = await NestFactory.create(options.module, nestOptions);
      if (options.http.globalPrefix) http.setGlobalPrefix(options.http.globalPrefix);
      await options.http.configure?.(http);
      shutdownHooks(http);
      if (options.microservice) {
        http.connectMicroservice(options.microservice, { inheritAppConfig: true });
        // lifecycle hooks first, as the microservice-only path does: a service's loops (the
        // orchestrator's outbox lease, ADR 025) run before the first request is taken
        await http.init();
        await http.startAllMicroservices();
      }
      await http.listen(options.http.port, options.http.host);
      logger.info({ port: options.http.port, host: options.http.host }, `${options.service} listening`);
      app = http;
    } else if (options.microservice) {
      const ms = await NestFactory.createMicroservice(options.module, { ...options.microservice, ...nestOptions });
      shutdownHooks(ms);
      await ms.listen();
      app = ms;
    } else {
      app = await NestFactory.createApplicationContext(options.module, nestOptions);
      shutdownHooks(app);
    }
    logger.info(`${options.service} started`);
    return { app, logger, close: () => app.close() };
  } catch (err) {
    if (err instanceof ConfigError) {
      logger.fatal({ issues: err.issues }, err.message);
      if (!hosted) process.exit(2);
    } else {
      logger.fatal({ err }, `${options.service} failed to start`);
    }
    if (err instanceof Object) logged.add(err);
    throw err;
  }
}

/**
 * A service's own process: `start(process.env)`; a configuration error exits with code 2 (its
 * issues logged), any other failure with code 1. SIGTERM/SIGINT are handled by the app itself.
 */
export function runStandalone(service: string, start: StartService): void {
  start(process.env).catch((err: unknown) => {
    if (err instanceof ConfigError) {
      if (!logged.has(err)) createLogger(service).fatal({ issues: err.issues }, err.message);
      process.exit(2);
    }
    if (!(err instanceof Object) || !logged.has(err)) createLogger(service).fatal({ err }, `${service} failed to start`);
    process.exit(1);
  });
}

/** Marks an error as logged by the caller (runStandalone then exits without logging it again). */
export function markLogged(err: unknown): void {
  if (err instanceof Object) logged.add(err);
}
