import { z } from 'zod';
import { METRICS_PORTS, metricsEnv, parseEnv } from '@conclave/service-kit';
import { WorkerEnv } from '@conclave/worker-kit';

/**
 * llm-worker configuration: the worker settings of worker-kit (concurrency, heartbeat, shutdown
 * grace, provider keys, agent workspace and tools) plus the programs `tool` phases may run.
 */
export const LlmWorkerEnv = WorkerEnv.extend({
  ...metricsEnv(METRICS_PORTS['llm-worker']),
  /** programs a `tool` phase may run in the run's workspace (comma-separated bare names) */
  TOOL_ALLOW: z
    .string()
    .default('npm,node,npx,git,make,ls,cat,echo,true,false,python3,pytest,go,cargo')
    .transform((v) => v.split(',').map((p) => p.trim()).filter((p) => p.length > 0)),
  /** characters of stdout + stderr a tool phase keeps in its artifact */
  TOOL_OUTPUT_CAP: z.coerce.number().int().positive().max(10_000_000).default(200_000),
  /**
   * test hook (the chaos suite): a file the simulated provider appends one line to per call
   * (`<candidateId> <runId> <phaseId> <slot>`), so repeated calls for one candidate can be counted
   */
  CONCLAVE_SIMULATED_CALL_LOG: z.string().min(1).optional(),
});
export type LlmWorkerEnv = z.infer<typeof LlmWorkerEnv>;

export const loadConfig = (env: NodeJS.ProcessEnv = process.env): LlmWorkerEnv => parseEnv(LlmWorkerEnv, env);
