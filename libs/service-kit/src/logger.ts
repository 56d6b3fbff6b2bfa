import type { LoggerService } from '@nestjs/common';
import pino, { type Logger } from 'pino';

/** Fields that may carry secrets: never written, whatever the level (DESIGN.md: secrets never reach a log line). */
export const REDACT_PATHS = [
  'apiKey', '*.apiKey', '*.*.apiKey', 'authorization', '*.authorization', 'headers.authorization',
  'req.headers.authorization', 'token', '*.token', 'secret', '*.secret', 'masterKey', '*.masterKey',
  'pass', '*.pass', 'password', '*.password', 'NATS_PASSWORD', '*.NATS_PASSWORD',
];

/** Structured JSON logs (one object per line) with the service name on every line. */
export function createLogger(service: string, level = 'info', extra: Record<string, unknown> = {}, destination?: pino.DestinationStream): Logger {
  const options = {
    level,
    base: { service, pid: process.pid, ...extra },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
  };
  // `destination`: tests capture the lines (e.g. to prove a secret never reaches them)
  return destination ? pino(options, destination) : pino(options);
}

/** Nest's LoggerService on top of pino, so framework messages are structured too. */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}
  private write(level: 'info' | 'error' | 'warn' | 'debug' | 'trace', message: unknown, rest: unknown[]) {
    const context = typeof rest[rest.length - 1] === 'string' ? (rest[rest.length - 1] as string) : undefined;
    if (message instanceof Error) this.logger[level]({ context, err: message }, message.message);
    else if (typeof message === 'object' && message !== null) this.logger[level]({ context, ...message });
    else this.logger[level]({ context, ...(level === 'error' && typeof rest[0] === 'string' && rest.length > 1 ? { stack: rest[0] } : {}) }, String(message));
  }
  log(message: unknown, ...rest: unknown[]) {
    this.write('info', message, rest);
  }
  error(message: unknown, ...rest: unknown[]) {
    this.write('error', message, rest);
  }
  warn(message: unknown, ...rest: unknown[]) {
    this.write('warn', message, rest);
  }
  debug(message: unknown, ...rest: unknown[]) {
    this.write('debug', message, rest);
  }
  verbose(message: unknown, ...rest: unknown[]) {
    this.write('trace', message, rest);
  }
}
export type { Logger };
