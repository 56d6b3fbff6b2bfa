import { Module, type DynamicModule } from '@nestjs/common';
import { createWorkerModule, type ManagedRuntime } from '@conclave/worker-kit';
import { createGenerateRuntime } from './adapters/generate-worker';
import { createToolRuntime } from './adapters/tool-worker';
import { defaultSandbox, type Sandbox } from './domain/tools/sandbox';
import { createWorkspaceRuntime } from './adapters/workspace-worker';
import type { LlmWorkerEnv } from './config';

/** Several runtimes managed as one: started together, drained together. */
function together(runtimes: ManagedRuntime[]): ManagedRuntime {
  return {
    start: async () => void (await Promise.all(runtimes.map((r) => r.start()))),
    shutdown: async () => void (await Promise.all(runtimes.map((r) => r.shutdown()))),
    get running() {
      return runtimes.every((r) => r.running);
    },
    get inFlightCount() {
      return runtimes.reduce((n, r) => n + r.inFlightCount, 0);
    },
  };
}

/** A runtime beside the generate one (tool phases, git work): its own worker id, a quarter of the concurrency, the workspace policy. */
function sideRuntime(env: LlmWorkerEnv, suffix: string) {
  return {
    workspacesRoot: env.WORKSPACES_ROOT,
    workspaceRoots: env.WORKSPACE_ROOTS,
    ...(env.WORKTREES_ROOT ? { worktreesRoot: env.WORKTREES_ROOT } : {}),
    workerId: `${env.INSTANCE_ID}-${suffix}`,
    concurrency: Math.max(1, Math.floor(env.WORKER_CONCURRENCY / 4)),
    heartbeatMs: env.WORKER_HEARTBEAT_MS,
    shutdownGraceMs: env.WORKER_SHUTDOWN_GRACE_MS,
    workingIntervalMs: env.WORKER_WORKING_INTERVAL_MS,
  };
}

@Module({})
export class LlmWorkerModule {
  /**
   * `sandbox`: where agents' bash/git calls and tool phases run, probed at boot (main.ts,
   * createSandbox); absent = bubblewrap with the default limits if installed, else refused.
   */
  static forRoot(env: LlmWorkerEnv, sandbox: Sandbox = defaultSandbox()): DynamicModule {
    // the generate runtime's options take these on (spread), so its heartbeats carry the sandbox too
    const heartbeat: { liveIntervalMs?: number; sandbox: Sandbox['status'] } = { sandbox: sandbox.status };
    return createWorkerModule({
      module: LlmWorkerModule,
      service: 'llm-worker',
      env,
      describe: { toolAllow: env.TOOL_ALLOW, sandbox: sandbox.status, sandboxDetail: sandbox.description },
      createRuntime: (log, logger) =>
        together([
          createGenerateRuntime({ ...env, sandbox }, log, logger, heartbeat),
          // tool phases heartbeat as a worker of their own, so the fleet view counts them apart
          createToolRuntime({ ...sideRuntime(env, 'tools'), allow: env.TOOL_ALLOW, outputCap: env.TOOL_OUTPUT_CAP, sandbox }, log, logger),
          // the run branch's git work (integrate, reset, clean-up), also a worker of its own in the fleet
          createWorkspaceRuntime(sideRuntime(env, 'git'), log, logger),
        ]),
      durables: (names) => [names.consumers.generateWorkers, names.consumers.toolRunners, names.consumers.workspaceTasks],
    });
  }
}
