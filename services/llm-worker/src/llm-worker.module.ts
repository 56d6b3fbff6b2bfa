import { Module, type DynamicModule } from '@nestjs/common';
import { createWorkerModule, type ManagedRuntime } from '@conclave/worker-kit';
import { createGenerateRuntime } from './adapters/generate-worker';
import { createToolRuntime } from './adapters/tool-worker';
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

@Module({})
export class LlmWorkerModule {
  static forRoot(env: LlmWorkerEnv): DynamicModule {
    return createWorkerModule({
      module: LlmWorkerModule,
      service: 'llm-worker',
      env,
      describe: { toolAllow: env.TOOL_ALLOW },
      createRuntime: (log, logger) =>
        together([
          createGenerateRuntime(env, log, logger),
          // tool phases heartbeat as a worker of their own, so the fleet view counts them apart
          createToolRuntime(
            {
              allow: env.TOOL_ALLOW,
              workspacesRoot: env.WORKSPACES_ROOT,
              workspaceRoots: env.WORKSPACE_ROOTS,
              outputCap: env.TOOL_OUTPUT_CAP,
              workerId: `${env.INSTANCE_ID}-tools`,
              concurrency: Math.max(1, Math.floor(env.WORKER_CONCURRENCY / 4)),
              heartbeatMs: env.WORKER_HEARTBEAT_MS,
              shutdownGraceMs: env.WORKER_SHUTDOWN_GRACE_MS,
              workingIntervalMs: env.WORKER_WORKING_INTERVAL_MS,
            },
            log,
            logger,
          ),
        ]),
    });
  }
}
