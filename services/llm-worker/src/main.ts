import 'reflect-metadata';
import { bootService, ConfigError, createLogger } from '@conclave/service-kit';
import { loadConfig, type LlmWorkerEnv } from './config';
import { createSandbox } from './domain/tools/sandbox';
import { LlmWorkerModule } from './llm-worker.module';

async function main() {
  let env: LlmWorkerEnv;
  try {
    env = loadConfig();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    createLogger('llm-worker').fatal({ issues: err.issues }, err.message);
    process.exit(2);
  }
  // Probed once at boot: bwrap, its refusal (no namespaces: tool work is refused) or the explicit opt-out.
  const sandbox = await createSandbox(
    {
      mode: env.AGENT_SANDBOX,
      limits: { memoryMb: env.SANDBOX_MEMORY_MB, cpuSeconds: env.SANDBOX_CPU_SECONDS, maxProcesses: env.SANDBOX_MAX_PROCESSES, maxFileMb: env.SANDBOX_MAX_FILE_MB },
    },
    createLogger('llm-worker', env.LOG_LEVEL, { instance: env.INSTANCE_ID }),
  );
  await bootService({
    service: 'llm-worker',
    module: LlmWorkerModule.forRoot(env, sandbox) as never,
    logLevel: env.LOG_LEVEL,
    ...(env.HEALTH_PORT > 0 ? { http: { port: env.HEALTH_PORT, host: '127.0.0.1' } } : {}),
  });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
