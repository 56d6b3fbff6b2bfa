import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { z } from 'zod';
import { BaseEnv, ConfigError, parseEnv } from '@conclave/service-kit';

/** The built dashboard: `<repo>/web/dist` (this file lives at services/gateway/{src,dist}/config.*). */
export const DEFAULT_WEB_DIST = resolve(__dirname, '..', '..', '..', 'web', 'dist');

export const GatewayEnv = BaseEnv.extend({
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().min(1).default('127.0.0.1'),
  /** when set, REST (except /health) and the socket handshake require `Authorization: Bearer <token>` */
  CONCLAVE_API_TOKEN: z
    .string()
    .optional()
    .transform((v) => (v === undefined || v === '' ? undefined : v)),
  WEB_DIST: z.string().min(1).default(DEFAULT_WEB_DIST),
  /** upper bound of a `?min_sequence=` wait */
  MIN_SEQUENCE_WAIT_MS: z.coerce.number().int().min(0).max(120_000).default(5000),
  /** upper bound of one orchestrator request/reply */
  ORCHESTRATOR_TIMEOUT_MS: z.coerce.number().int().min(1).max(300_000).default(10_000),
});
export type GatewayConfig = z.infer<typeof GatewayEnv>;

/** 127.0.0.0/8, ::1 (also IPv4-mapped 127.x) and `localhost`. */
export function isLoopback(host: string): boolean {
  const h = host.trim().toLowerCase().replace(/^\[(.*)\]$/, '$1');
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) {
    if (h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(h);
    return mapped !== null && mapped[1]!.startsWith('127.');
  }
  return false;
}

/**
 * Parse the environment once at boot. Throws ConfigError (the process exits with code 2) on a bad
 * value, and when the gateway would listen beyond loopback without an API token (DESIGN.md).
 */
export function loadGatewayConfig(env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  const config = parseEnv(GatewayEnv, env);
  if (!isLoopback(config.HOST) && !config.CONCLAVE_API_TOKEN) {
    throw new ConfigError([
      `HOST: refusing to listen on non-loopback address "${config.HOST}" without CONCLAVE_API_TOKEN ` +
        '(set CONCLAVE_API_TOKEN, or HOST=127.0.0.1)',
    ]);
  }
  return config;
}
