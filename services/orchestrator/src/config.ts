import { z } from 'zod';
import { BaseEnv, METRICS_PORTS, metricsEnv, parseEnv } from '@conclave/service-kit';

export const OrchestratorEnv = BaseEnv.extend({
  ...metricsEnv(METRICS_PORTS.orchestrator),
  /** results handled at once by this process (runs are serialised individually) */
  ORCHESTRATOR_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(16),
  /** how many optimistic-concurrency conflicts one input may hit before it is nak'ed for later */
  ORCHESTRATOR_MAX_CONFLICTS: z.coerce.number().int().min(1).max(50).default(8),
  /** runs kept folded in memory (an LRU; evicted runs are re-read from the log) */
  ORCHESTRATOR_CACHE_RUNS: z.coerce.number().int().min(10).default(2000),
  /** a worker silent this long (and at least 3 heartbeats) has its candidates re-dispatched */
  ORCHESTRATOR_STALL_MS: z.coerce.number().int().min(500).default(10_000),
  /** how long a phase deadline waits in this process before it goes to the timers consumer (0: at once; ADR 020) */
  ORCHESTRATOR_DEADLINE_HOLD_MS: z.coerce.number().int().min(0).max(60_000).default(2_000),
  /**
   * A process's outbox lease not renewed for this long is taken for dead, and a live process
   * publishes what its commits still call for (ADR 025). Renewed five times per lease.
   */
  ORCHESTRATOR_LEASE_MS: z.coerce.number().int().min(500).max(600_000).default(5_000),
});
export type OrchestratorEnv = z.infer<typeof OrchestratorEnv>;

export const loadConfig = (env: NodeJS.ProcessEnv = process.env) => parseEnv(OrchestratorEnv, env);
