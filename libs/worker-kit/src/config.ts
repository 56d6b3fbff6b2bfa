import { z } from 'zod';
import { BaseEnv } from '@conclave/service-kit';

const positiveInt = (fallback: number, max: number) => z.coerce.number().int().positive().max(max).default(fallback);

/**
 * Environment of the work-queue workers (llm-worker, judge). Parsed once at boot.
 * Provider keys are optional and secret: they are never logged (use `describeWorkerEnv`).
 */
export const WorkerEnv = BaseEnv.extend({
  /** commands handled at once by this process */
  WORKER_CONCURRENCY: positiveInt(8, 1024),
  /** heartbeat period on the live subject */
  WORKER_HEARTBEAT_MS: positiveInt(2_000, 600_000),
  /** how long in-flight calls may finish after SIGTERM before they are aborted and handed back */
  WORKER_SHUTDOWN_GRACE_MS: z.coerce.number().int().nonnegative().max(600_000).default(10_000),
  /** in-progress ack period while a call runs; must stay well below the consumers' ack_wait (30 s) */
  WORKER_WORKING_INTERVAL_MS: positiveInt(5_000, 600_000),
  ANTHROPIC_API_KEY: z.string().min(1).optional(),
  OPENAI_API_KEY: z.string().min(1).optional(),
  GEMINI_API_KEY: z.string().min(1).optional(),
  /** OpenAI-compatible servers, proxies and the tests' fake servers */
  ANTHROPIC_BASE_URL: z.string().url().optional(),
  OPENAI_BASE_URL: z.string().url().optional(),
  GEMINI_BASE_URL: z.string().url().optional(),
  /** agent phases work in `<WORKSPACES_ROOT>/<runId>` */
  WORKSPACES_ROOT: z.string().min(1).default('.conclave/workspaces'),
  /**
   * directories under which a run may name its own workspace (comma-separated); empty (the
   * default) = naming a workspace is refused and every run gets `<WORKSPACES_ROOT>/<runId>`
   */
  WORKSPACE_ROOTS: z
    .string()
    .default('')
    .transform((v) => v.split(',').map((p) => p.trim()).filter((p) => p.length > 0)),
  /** programs the agent's `bash` tool may run (comma-separated bare names) */
  AGENT_BASH_ALLOW: z
    .string()
    .default('ls,cat,grep,node,npm,git,echo,wc,head,tail')
    .transform((v) => v.split(',').map((p) => p.trim()).filter((p) => p.length > 0)),
  AGENT_BASH_TIMEOUT_MS: positiveInt(30_000, 600_000),
  /** characters of a tool's output returned to the model */
  AGENT_TOOL_OUTPUT_CAP: positiveInt(16_000, 1_000_000),
  /** characters kept of each transcript message */
  TRANSCRIPT_MESSAGE_CAP: positiveInt(20_000, 1_000_000),
});
export type WorkerEnv = z.infer<typeof WorkerEnv>;

/** What may be logged about the configuration: the keys only as "set" / "unset". */
export function describeWorkerEnv(env: WorkerEnv): Record<string, unknown> {
  return {
    prefix: env.CONCLAVE_PREFIX,
    instanceId: env.INSTANCE_ID,
    concurrency: env.WORKER_CONCURRENCY,
    heartbeatMs: env.WORKER_HEARTBEAT_MS,
    shutdownGraceMs: env.WORKER_SHUTDOWN_GRACE_MS,
    workingIntervalMs: env.WORKER_WORKING_INTERVAL_MS,
    workspacesRoot: env.WORKSPACES_ROOT,
    workspaceRoots: env.WORKSPACE_ROOTS,
    agentBashAllow: env.AGENT_BASH_ALLOW,
    providerKeys: {
      anthropic: env.ANTHROPIC_API_KEY ? 'set' : 'unset',
      openai: env.OPENAI_API_KEY ? 'set' : 'unset',
      gemini: env.GEMINI_API_KEY ? 'set' : 'unset',
    },
  };
}
