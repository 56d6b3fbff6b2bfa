import { z } from 'zod';
import { parseEnv } from '../config';

/**
 * The metrics port fields a service adds to its environment schema, with its own default port
 * (each service has one, so that a host running one process of each needs no settings).
 * METRICS_PORT=0 serves no /metrics; METRICS_HOST is 127.0.0.1 unless a scraper elsewhere
 * must reach it (docker compose: 0.0.0.0 on the internal network).
 */
export function metricsEnv(defaultPort: number) {
  return {
    METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(defaultPort),
    METRICS_HOST: z.string().min(1).default('127.0.0.1'),
  };
}

/** Default metrics ports: orchestrator, llm-worker, judge, projector (the gateway serves /metrics on its own port). */
export const METRICS_PORTS = { orchestrator: 9410, 'llm-worker': 9411, judge: 9412, projector: 9413 } as const;

/** METRICS_PORT / METRICS_HOST alone, for a host process (services/stack); a bad value is a ConfigError. */
export function metricsSettings(env: NodeJS.ProcessEnv, defaultPort: number): { METRICS_PORT: number; METRICS_HOST: string } {
  return parseEnv(z.object(metricsEnv(defaultPort)), env);
}
