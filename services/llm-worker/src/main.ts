import 'reflect-metadata';
import { bootService, ConfigError, createLogger } from '@conclave/service-kit';
import { loadConfig, type LlmWorkerEnv } from './config';
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
  await bootService({
    service: 'llm-worker',
    module: LlmWorkerModule.forRoot(env) as never,
    logLevel: env.LOG_LEVEL,
    ...(env.HEALTH_PORT > 0 ? { http: { port: env.HEALTH_PORT, host: '127.0.0.1' } } : {}),
  });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
