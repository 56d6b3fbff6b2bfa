import 'reflect-metadata';
import { bootService, ConfigError, createLogger } from '@conclave/service-kit';
import { loadConfig, type JudgeEnv } from './config';
import { JudgeModule } from './judge.module';

async function main() {
  let env: JudgeEnv;
  try {
    env = loadConfig();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    createLogger('judge').fatal({ issues: err.issues }, err.message);
    process.exit(2);
  }
  await bootService({
    service: 'judge',
    module: JudgeModule.forRoot(env) as never,
    logLevel: env.LOG_LEVEL,
    ...(env.HEALTH_PORT > 0 ? { http: { port: env.HEALTH_PORT, host: '127.0.0.1' } } : {}),
  });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
