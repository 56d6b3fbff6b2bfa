import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { z } from 'zod';
import { BaseEnv, ConfigError, parseEnv } from '@conclave/service-kit';
import { parseMasterKey } from './providers/secret-box';

/** The built dashboard: `<repo>/web/dist` (this file lives at services/gateway/{src,dist}/config.*). */
export const DEFAULT_WEB_DIST = resolve(__dirname, '..', '..', '..', 'web', 'dist');

const optionalText = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

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
  /** 32 bytes (hex or base64) sealing provider API keys (AES-256-GCM); without it no key can be stored */
  CONCLAVE_MASTER_KEY: optionalText,
  /** browser origins allowed by CORS (comma list); none by default (same-origin only) */
  CORS_ORIGINS: z
    .string()
    .default('')
    .transform((v) => v.split(',').map((o) => o.trim()).filter(Boolean))
    .pipe(z.array(z.string().regex(/^https?:\/\/[^/\s]+$/, 'an origin is scheme://host[:port], without a path'))),
  /**
   * hosts a provider's baseUrl may name (comma list; `*.example.com` matches its subdomains); empty
   * = any http(s) host. Keys are only ever sent to a provider's own baseUrl.
   */
  PROVIDER_BASE_URL_HOSTS: z
    .string()
    .default('')
    .transform((v) => v.split(',').map((h) => h.trim().toLowerCase()).filter(Boolean)),
  /** per client IP, on the REST API */
  RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).max(1_000_000).default(600),
  /** the workers' heartbeat period: a worker silent for more than 3 periods is reported `stalled` */
  WORKER_HEARTBEAT_MS: z.coerce.number().int().min(100).max(600_000).default(2_000),
  /**
   * Where users' repositories may live (colon-separated, absolute or relative to the working
   * directory): `GET /workspaces` lists the git repositories under them and `POST /runs` accepts
   * only a repository inside one. Empty: runs get fresh repositories of their own only.
   */
  WORKSPACE_ROOTS: z
    .string()
    .default('')
    .transform((v) => v.split(':').map((d) => d.trim()).filter(Boolean)),
  /** fresh run repositories are made by the workers under `<WORKSPACES_ROOT>/repos/<runId>` */
  WORKSPACES_ROOT: z.string().trim().min(1).default('.conclave/workspaces'),
  /** providers named anthropic / openai / gemini are configured from these at boot (idempotent) */
  ANTHROPIC_API_KEY: optionalText,
  OPENAI_API_KEY: optionalText,
  GEMINI_API_KEY: optionalText,
});
export type GatewayConfig = z.infer<typeof GatewayEnv>;

/** a guessable token on a public address is no better than none */
export const MIN_PUBLIC_TOKEN_LENGTH = 16;

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
  if (!isLoopback(config.HOST) && config.CONCLAVE_API_TOKEN && config.CONCLAVE_API_TOKEN.length < MIN_PUBLIC_TOKEN_LENGTH) {
    throw new ConfigError([`CONCLAVE_API_TOKEN: must have at least ${MIN_PUBLIC_TOKEN_LENGTH} characters on a non-loopback HOST (e.g. openssl rand -hex 32)`]);
  }
  if (config.CONCLAVE_MASTER_KEY) {
    try {
      parseMasterKey(config.CONCLAVE_MASTER_KEY);
    } catch (err) {
      throw new ConfigError([`CONCLAVE_MASTER_KEY: ${(err as Error).message}`]);
    }
  }
  return config;
}
