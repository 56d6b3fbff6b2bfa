import { parseEnv } from '@conclave/service-kit';
import { WorkerEnv } from '@conclave/worker-kit';

/**
 * llm-worker configuration (BaseEnv + WORKER_CONCURRENCY, WORKER_HEARTBEAT_MS,
 * WORKER_SHUTDOWN_GRACE_MS, WORKER_WORKING_INTERVAL_MS and the optional provider keys).
 */
export const LlmWorkerEnv = WorkerEnv;
export type LlmWorkerEnv = WorkerEnv;

export const loadConfig = (env: NodeJS.ProcessEnv = process.env): LlmWorkerEnv => parseEnv(LlmWorkerEnv, env);
