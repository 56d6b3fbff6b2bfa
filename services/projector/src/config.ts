import { z } from 'zod';
import { BaseEnv, METRICS_PORTS, metricsEnv } from '@conclave/service-kit';
import { DEFAULT_BATCH, DEFAULT_MIN_INTERVAL_MS, DEFAULT_TRICKLE_MS } from './projector';
import { DEFAULT_THRESHOLDS, type AlertThresholds } from './alerts/detectors';

/** The projector's environment, parsed once at boot. */
export const ProjectorEnv = BaseEnv.extend({
  ...metricsEnv(METRICS_PORTS.projector),
  /** most events folded in one transaction */
  PROJECTOR_BATCH: z.coerce.number().int().min(1).max(10_000).default(DEFAULT_BATCH),
  /** after a commit with nothing more pending, how long the projector waits for the next one to share the transaction (0: none) */
  PROJECTOR_TRICKLE_MS: z.coerce.number().int().min(0).max(100).default(DEFAULT_TRICKLE_MS),
  /** under a steady stream, the least time between the starts of two batches (0: none); a quiet log's first event goes at once */
  PROJECTOR_MIN_INTERVAL_MS: z.coerce.number().int().min(0).max(1_000).default(DEFAULT_MIN_INTERVAL_MS),
  /** interface of the optional /health and /status server (HEALTH_PORT) */
  HEALTH_HOST: z.string().min(1).default('127.0.0.1'),
  /** alerts (ADR 016): a running run with no event for this many minutes is stalled (fractions allowed) */
  CONCLAVE_STALL_MINUTES: z.coerce.number().positive().max(10_080).default(DEFAULT_THRESHOLDS.stallMinutes),
  /** this many provider-side failures of one provider… */
  CONCLAVE_ALERT_PROVIDER_FAILURES: z.coerce.number().int().min(1).max(10_000).default(DEFAULT_THRESHOLDS.providerFailures),
  /** …within this many minutes raise `provider_failures` */
  CONCLAVE_ALERT_PROVIDER_WINDOW_MINUTES: z.coerce.number().positive().max(10_080).default(DEFAULT_THRESHOLDS.providerWindowMinutes),
  /** a completed run costing more than this × its template's median is a `cost_spike` */
  CONCLAVE_ALERT_COST_SPIKE_FACTOR: z.coerce.number().min(1).max(1_000).default(DEFAULT_THRESHOLDS.costSpikeFactor),
  /** the median needs at least this many earlier completed runs of the template */
  CONCLAVE_ALERT_COST_SPIKE_MIN_RUNS: z.coerce.number().int().min(1).max(10_000).default(DEFAULT_THRESHOLDS.costSpikeMinRuns),
});
export type ProjectorEnv = z.infer<typeof ProjectorEnv>;

export function alertThresholds(env: ProjectorEnv): AlertThresholds {
  return {
    stallMinutes: env.CONCLAVE_STALL_MINUTES,
    providerFailures: env.CONCLAVE_ALERT_PROVIDER_FAILURES,
    providerWindowMinutes: env.CONCLAVE_ALERT_PROVIDER_WINDOW_MINUTES,
    costSpikeFactor: env.CONCLAVE_ALERT_COST_SPIKE_FACTOR,
    costSpikeMinRuns: env.CONCLAVE_ALERT_COST_SPIKE_MIN_RUNS,
  };
}
