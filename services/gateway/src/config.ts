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
  /**
   * named tokens `name:token,…` (names [a-z0-9_-]); the name of the token a request presents is the
   * actor of the events it causes. CONCLAVE_API_TOKEN alone is the token named `default`.
   */
  CONCLAVE_API_TOKENS: z
    .string()
    .default('')
    .transform((v, ctx) => {
      const tokens: NamedToken[] = [];
      for (const entry of v.split(',').map((e) => e.trim()).filter(Boolean)) {
        const colon = entry.indexOf(':');
        const name = colon < 0 ? entry : entry.slice(0, colon).trim();
        const token = colon < 0 ? '' : entry.slice(colon + 1).trim();
        if (!TOKEN_NAME.test(name)) ctx.addIssue({ code: 'custom', message: `"${name}" is not a token name (name:token, a name of a-z 0-9 _ -, at most 64)` });
        else if (token === '') ctx.addIssue({ code: 'custom', message: `the token named "${name}" is empty (name:token)` });
        else tokens.push({ name, token });
      }
      return tokens;
    }),
  /**
   * Host headers accepted besides localhost / 127.0.0.1 / [::1] while listening on loopback (comma
   * list of `host` or `host:port`): other Hosts are refused (DNS rebinding)
   */
  CONCLAVE_ALLOWED_HOSTS: z
    .string()
    .default('')
    .transform((v) => v.split(',').map((h) => h.trim().toLowerCase()).filter(Boolean)),
  /** socket.io: messages per second per socket (token bucket refill) and the bucket's size */
  SOCKET_MESSAGES_PER_SECOND: z.coerce.number().positive().max(10_000).default(20),
  SOCKET_MESSAGE_BURST: z.coerce.number().int().min(1).max(100_000).default(40),
  /** socket.io: rooms one socket may be in at once */
  SOCKET_MAX_ROOMS: z.coerce.number().int().min(1).max(100_000).default(100),
  WEB_DIST: z.string().min(1).default(DEFAULT_WEB_DIST),
  /**
   * A trace viewer's URL for one trace, e.g. `http://localhost:16686/trace/{traceId}` (Jaeger) —
   * `{spanId}` may be used too. The dashboard links trace ids to it (`GET /api/v1/config`)
   */
  TRACE_URL_TEMPLATE: optionalText.refine((v) => v === undefined || (/^https?:\/\/[^\s]+$/.test(v) && v.includes('{traceId}')), 'an http(s) URL containing {traceId}'),
  /** upper bound of a `?min_sequence=` wait */
  MIN_SEQUENCE_WAIT_MS: z.coerce.number().int().min(0).max(120_000).default(5000),
  /** a re-judging study over more candidates than this needs `confirm: true` after its estimate (ADR 023) */
  STUDY_CONFIRM_CANDIDATES: z.coerce.number().int().min(0).max(10_000_000).default(200),
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

export interface NamedToken {
  name: string;
  token: string;
}
const TOKEN_NAME = /^[a-z0-9_-]{1,64}$/;
/** the name CONCLAVE_API_TOKEN goes by (as the actor of the events its requests cause) */
export const DEFAULT_TOKEN_NAME = 'default';

/** Every accepted API token with its name: CONCLAVE_API_TOKENS, and CONCLAVE_API_TOKEN as `default`. */
export function apiTokens(config: Pick<GatewayConfig, 'CONCLAVE_API_TOKEN' | 'CONCLAVE_API_TOKENS'>): NamedToken[] {
  return [...config.CONCLAVE_API_TOKENS, ...(config.CONCLAVE_API_TOKEN ? [{ name: DEFAULT_TOKEN_NAME, token: config.CONCLAVE_API_TOKEN }] : [])];
}

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
  const tokens = apiTokens(config);
  const names = tokens.map((t) => t.name);
  const repeatedNames = [...new Set(names.filter((n, i) => names.indexOf(n) !== i))];
  if (repeatedNames.length > 0) {
    throw new ConfigError([`CONCLAVE_API_TOKENS: duplicate token name ${repeatedNames.map((n) => `"${n}"`).join(', ')}${repeatedNames.includes(DEFAULT_TOKEN_NAME) && config.CONCLAVE_API_TOKEN ? ' (CONCLAVE_API_TOKEN is named "default")' : ''}`]);
  }
  const values = tokens.map((t) => t.token);
  const shared = tokens.filter((t, i) => values.indexOf(t.token) !== i).map((t) => t.name);
  if (shared.length > 0) throw new ConfigError([`CONCLAVE_API_TOKENS: the token named ${shared.map((n) => `"${n}"`).join(', ')} repeats another's token; each name needs its own`]);
  if (!isLoopback(config.HOST) && tokens.length === 0) {
    throw new ConfigError([
      `HOST: refusing to listen on non-loopback address "${config.HOST}" without CONCLAVE_API_TOKEN or CONCLAVE_API_TOKENS ` +
        '(set one, or HOST=127.0.0.1)',
    ]);
  }
  const short = tokens.filter((t) => t.token.length < MIN_PUBLIC_TOKEN_LENGTH).map((t) => t.name);
  if (!isLoopback(config.HOST) && short.length > 0) {
    const which = config.CONCLAVE_API_TOKEN && short.includes(DEFAULT_TOKEN_NAME) && short.length === 1 ? 'CONCLAVE_API_TOKEN' : `CONCLAVE_API_TOKENS (${short.join(', ')})`;
    throw new ConfigError([`${which}: must have at least ${MIN_PUBLIC_TOKEN_LENGTH} characters on a non-loopback HOST (e.g. openssl rand -hex 32)`]);
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
