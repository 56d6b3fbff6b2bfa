import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { INestApplication, INestApplicationContext, Type } from '@nestjs/common';
import { ConfigError } from './config';
import { createLogger, PinoNestLogger, type Logger } from './logger';

export interface BootOptions {
  service: string;
  module: Type<unknown>;
  logLevel?: string;
  /** serve HTTP on this port (0 or undefined: an application context without HTTP) */
  http?: { port: number; host: string; globalPrefix?: string; configure?: (app: INestApplication) => void | Promise<void> };
  /** a Nest microservice transport (e.g. `{ transport: Transport.NATS, options }`) served alongside */
  microservice?: Record<string, unknown>;
}

/**
 * Boot a Nest service: structured logs, shutdown hooks (SIGTERM/SIGINT drain consumers, then the
 * NATS connection), optional HTTP. A configuration error exits with code 2 and the listed issues.
 */
export async function bootService(options: BootOptions): Promise<{ app: INestApplicationContext; logger: Logger }> {
  const logger = createLogger(options.service, options.logLevel ?? process.env.LOG_LEVEL ?? 'info');
  try {
    const nestLogger = new PinoNestLogger(logger);
    let app: INestApplicationContext;
    if (options.http && options.http.port > 0) {
      const http = await NestFactory.create(options.module, { logger: nestLogger, bufferLogs: true });
      if (options.http.globalPrefix) http.setGlobalPrefix(options.http.globalPrefix);
      await options.http.configure?.(http);
      http.enableShutdownHooks(undefined, { useProcessExit: true });
      if (options.microservice) {
        http.connectMicroservice(options.microservice, { inheritAppConfig: true });
        await http.startAllMicroservices();
      }
      await http.listen(options.http.port, options.http.host);
      logger.info({ port: options.http.port, host: options.http.host }, `${options.service} listening`);
      app = http;
    } else if (options.microservice) {
      const ms = await NestFactory.createMicroservice(options.module, { ...options.microservice, logger: nestLogger, bufferLogs: true });
      ms.enableShutdownHooks(undefined, { useProcessExit: true });
      await ms.listen();
      app = ms;
    } else {
      app = await NestFactory.createApplicationContext(options.module, { logger: nestLogger, bufferLogs: true });
      app.enableShutdownHooks(undefined, { useProcessExit: true });
    }
    logger.info(`${options.service} started`);
    return { app, logger };
  } catch (err) {
    if (err instanceof ConfigError) {
      logger.fatal({ issues: err.issues }, err.message);
      process.exit(2);
    }
    logger.fatal({ err }, `${options.service} failed to start`);
    throw err;
  }
}
