import 'reflect-metadata';
import { bootService, createLogger, runStandalone, withMetricsServer, type StartService } from '@conclave/service-kit';
import { loadConfig } from './config';
import { createSandbox } from './domain/tools/sandbox';
import { LlmWorkerModule } from './llm-worker.module';

/** Boots the llm-worker from `env`: in its own process (below) or hosted by services/stack. */
export const start: StartService = async (envVars, options = {}) => {
  const env = loadConfig(envVars);
  // Probed once at boot: bwrap, its refusal (no namespaces: tool work is refused) or the explicit opt-out.
  const sandbox = await createSandbox(
    {
      mode: env.AGENT_SANDBOX,
      limits: { memoryMb: env.SANDBOX_MEMORY_MB, cpuSeconds: env.SANDBOX_CPU_SECONDS, maxProcesses: env.SANDBOX_MAX_PROCESSES, maxFileMb: env.SANDBOX_MAX_FILE_MB },
    },
    createLogger('llm-worker', env.LOG_LEVEL, { instance: env.INSTANCE_ID }),
  );
  const running = await bootService({
    service: 'llm-worker',
    module: LlmWorkerModule.forRoot(env, sandbox) as never,
    logLevel: env.LOG_LEVEL,
    hosted: options.hosted,
    ...(env.HEALTH_PORT > 0 ? { http: { port: env.HEALTH_PORT, host: '127.0.0.1' } } : {}),
  });
  return withMetricsServer(running, { service: 'llm-worker', port: env.METRICS_PORT, host: env.METRICS_HOST });
};

if (require.main === module) runStandalone('llm-worker', start);
