import { z } from 'zod';
import { METRICS_PORTS, metricsEnv, parseEnv } from '@conclave/service-kit';
import { WorkerEnv } from '@conclave/worker-kit';

/** judge configuration: the worker settings (see WorkerEnv) plus the judges' own deadline. */
export const JudgeEnv = WorkerEnv.extend({
  ...metricsEnv(METRICS_PORTS.judge),
  /** a judge call that has not answered by then yields a failed `timeout` result (retryable) */
  JUDGE_TIMEOUT_SECONDS: z.coerce.number().int().positive().max(86_400).default(300),
});
export type JudgeEnv = z.infer<typeof JudgeEnv>;

export const loadConfig = (env: NodeJS.ProcessEnv = process.env): JudgeEnv => parseEnv(JudgeEnv, env);
