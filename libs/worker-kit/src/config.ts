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
  /**
   * worker-owned folders: fresh run repositories (`repos/<runId>`), candidate and tool worktrees
   * (`worktrees/<runId>/…`) and the plain folders of runs without a workspace (`<runId>`)
   */
  WORKSPACES_ROOT: z.string().min(1).default('.conclave/workspaces'),
  /** candidates' and tools' worktrees (scratch space: a tmpfs such as /dev/shm/conclave is fastest); default `<WORKSPACES_ROOT>/worktrees` */
  WORKTREES_ROOT: z.string().min(1).optional(),
  /**
   * the folders users' repositories may live in (colon-separated, like PATH; the gateway's
   * WORKSPACE_ROOTS): a command naming a repository elsewhere is refused
   */
  WORKSPACE_ROOTS: z
    .string()
    .default('')
    .transform((v) => v.split(':').map((p) => p.trim()).filter((p) => p.length > 0)),
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
  /**
   * where agent bash/git calls and tool phases run: `bwrap` (bubblewrap: no network, only the
   * workspace writable, a scrubbed environment, limits; probed at boot, and when it cannot run
   * such work is refused) or `none`, the operator's explicit opt-out (tools run UNCONFINED as the
   * worker; logged at warn level at boot and on every tool process)
   */
  AGENT_SANDBOX: z.enum(['bwrap', 'none']).default('bwrap'),
  /** private writable memory of each process in the sandbox (RLIMIT_DATA: heap, not reserved address space), MiB; 0 = unlimited */
  SANDBOX_MEMORY_MB: z.coerce.number().int().nonnegative().max(1_048_576).default(4096),
  /** CPU time of each process in the sandbox (RLIMIT_CPU), seconds; 0 = unlimited */
  SANDBOX_CPU_SECONDS: z.coerce.number().int().nonnegative().max(86_400).default(600),
  /** processes alive at once in one sandbox (a pids cgroup where one can be made, else RLIMIT_NPROC); 0 = unlimited */
  SANDBOX_MAX_PROCESSES: z.coerce.number().int().nonnegative().max(100_000).default(256),
  /** largest file a sandboxed process may write (RLIMIT_FSIZE) and the size of its /tmp, MiB; 0 = unlimited */
  SANDBOX_MAX_FILE_MB: z.coerce.number().int().nonnegative().max(1_048_576).default(512),
});
export type WorkerEnv = z.infer<typeof WorkerEnv>;

/** What may be logged about the configuration: the keys only as "set" / "unset". */
export function describeWorkerEnv(env: WorkerEnv): Record<string, unknown> {
  return {
    prefix: env.CONCLAVE_PREFIX,
    instanceId: env.INSTANCE_ID,
    nats: { user: env.NATS_USER ?? 'anonymous', password: env.NATS_PASSWORD ? 'set' : 'unset' },
    concurrency: env.WORKER_CONCURRENCY,
    heartbeatMs: env.WORKER_HEARTBEAT_MS,
    shutdownGraceMs: env.WORKER_SHUTDOWN_GRACE_MS,
    workingIntervalMs: env.WORKER_WORKING_INTERVAL_MS,
    workspacesRoot: env.WORKSPACES_ROOT,
    workspaceRoots: env.WORKSPACE_ROOTS,
    agentBashAllow: env.AGENT_BASH_ALLOW,
    agentSandbox: env.AGENT_SANDBOX,
    sandboxLimits: { memoryMb: env.SANDBOX_MEMORY_MB, cpuSeconds: env.SANDBOX_CPU_SECONDS, maxProcesses: env.SANDBOX_MAX_PROCESSES, maxFileMb: env.SANDBOX_MAX_FILE_MB },
    providerKeys: {
      anthropic: env.ANTHROPIC_API_KEY ? 'set' : 'unset',
      openai: env.OPENAI_API_KEY ? 'set' : 'unset',
      gemini: env.GEMINI_API_KEY ? 'set' : 'unset',
    },
  };
}
