import { hostname } from 'node:os';
import { ConfigError } from '@conclave/service-kit';

/** The services one process can host, in the order they boot side by side and are listed. */
export const HOSTED_SERVICES = ['orchestrator', 'projector', 'llm-worker', 'judge', 'gateway'] as const;
export type HostedService = (typeof HOSTED_SERVICES)[number];

/**
 * `<SERVICE>__`: a variable meant for one hosted service only, e.g. `LLM_WORKER__NATS_USER`
 * (the llm-worker's NATS user) or `PROJECTOR__HEALTH_PORT`.
 */
export function overridePrefix(service: HostedService): string {
  return `${service.toUpperCase().replace(/-/g, '_')}__`;
}

/** Shared variables only one service receives (the master key never leaves the gateway's config). */
const ONLY_FOR: Record<string, HostedService> = { CONCLAVE_MASTER_KEY: 'gateway' };

/**
 * Shared variables no hosted service receives: one port per process (set `<SERVICE>__HEALTH_PORT`).
 * METRICS_PORT is the stack's own: one /metrics for the process (the registry is the process's).
 */
const NOT_SHARED = new Set(['HEALTH_PORT', 'METRICS_PORT']);

/**
 * Variables every hosted service must see alike: code reads them from process.env at import time
 * (the orchestrator's command subject) or once per process.
 */
const PROCESS_WIDE = new Set(['CONCLAVE_PREFIX', 'NODE_OPTIONS', 'CONCLAVE_SERVICES', 'CONCLAVE_THREADS', 'CONCLAVE_METRICS']);

/** CONCLAVE_SERVICES (a comma list; unset or empty: all of them) as hosted services. */
export function selectServices(value: string | undefined): HostedService[] {
  const names = (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (names.length === 0) return [...HOSTED_SERVICES];
  const unknown = names.filter((n) => !(HOSTED_SERVICES as readonly string[]).includes(n));
  if (unknown.length > 0) throw new ConfigError([`CONCLAVE_SERVICES: unknown service ${unknown.map((n) => `"${n}"`).join(', ')} (known: ${HOSTED_SERVICES.join(', ')})`]);
  return HOSTED_SERVICES.filter((s) => names.includes(s));
}

/** The services that run in a thread of their own unless CONCLAVE_THREADS says otherwise. */
export const DEFAULT_THREADS: readonly HostedService[] = ['projector'];

/**
 * CONCLAVE_THREADS: the hosted services that each run in a worker thread of the process instead of
 * on its main thread (threads.ts), a comma list, or `none`. Unset or empty: the projector, whose
 * transactions then no longer wait behind the other services' work (issue 12), if this process
 * hosts it.
 */
export function selectThreads(value: string | undefined, hosted: readonly HostedService[]): HostedService[] {
  const names = (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (names.length === 1 && names[0] === 'none') return [];
  if (names.length === 0) return hosted.filter((s) => DEFAULT_THREADS.includes(s));
  const unknown = names.filter((n) => !(HOSTED_SERVICES as readonly string[]).includes(n));
  if (unknown.length > 0) throw new ConfigError([`CONCLAVE_THREADS: unknown service ${unknown.map((n) => `"${n}"`).join(', ')} (known: ${HOSTED_SERVICES.join(', ')}; or none)`]);
  const absent = names.filter((n) => !(hosted as readonly string[]).includes(n));
  if (absent.length > 0) throw new ConfigError([`CONCLAVE_THREADS: ${absent.map((n) => `"${n}"`).join(', ')} not hosted by this process (CONCLAVE_SERVICES)`]);
  return hosted.filter((s) => names.includes(s));
}

/**
 * One hosted service's environment: the process's variables without any service's `<SERVICE>__`
 * ones, then this service's own with the prefix removed. INSTANCE_ID gets the service's name
 * appended (each service is a distinct worker, consumer owner and log source, as separate
 * processes are), unless the service is given its own.
 */
export function hostedEnv(service: HostedService, env: NodeJS.ProcessEnv, processId = `${hostname()}-${process.pid}`): NodeJS.ProcessEnv {
  const prefixes = HOSTED_SERVICES.map(overridePrefix);
  const own = overridePrefix(service);
  const shared: NodeJS.ProcessEnv = {};
  const overrides: NodeJS.ProcessEnv = {};
  const refused: string[] = [];
  for (const [key, value] of Object.entries(env)) {
    if (value === undefined) continue;
    const prefix = prefixes.find((p) => key.startsWith(p));
    if (prefix === undefined) {
      if (NOT_SHARED.has(key)) continue;
      if (ONLY_FOR[key] !== undefined && ONLY_FOR[key] !== service) continue;
      shared[key] = value;
    } else if (prefix === own) {
      const name = key.slice(own.length);
      if (PROCESS_WIDE.has(name)) refused.push(key);
      else overrides[name] = value;
    }
  }
  if (refused.length > 0) throw new ConfigError(refused.map((k) => `${k}: ${k.slice(own.length)} is one per process in the single-process stack (set it without the ${own} prefix)`));
  const instance = overrides.INSTANCE_ID ?? `${shared.INSTANCE_ID ?? processId}-${service}`;
  // no hosted service opens its default metrics port: the gateway's /metrics (or the stack's METRICS_PORT) serves the process
  return { METRICS_PORT: '0', ...shared, ...overrides, INSTANCE_ID: instance };
}
