import 'reflect-metadata';
import { bootService, ConfigError, createLogger, parseEnv } from '@conclave/service-kit';
import { ProjectorEnv } from './config';
import { projectorAppModule } from './projector.module';

/** The projector process: folds the log into the Postgres read models (DESIGN.md "projector"). */
async function main(): Promise<void> {
  let env: ProjectorEnv;
  try {
    env = parseEnv(ProjectorEnv);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    createLogger('projector').fatal({ issues: err.issues }, err.message);
    process.exit(2);
  }
  const logger = createLogger('projector', env.LOG_LEVEL, { instance: env.INSTANCE_ID });
  await bootService({
    service: 'projector',
    module: projectorAppModule(env, logger),
    logLevel: env.LOG_LEVEL,
    http: env.HEALTH_PORT > 0 ? { port: env.HEALTH_PORT, host: env.HEALTH_HOST } : undefined,
  });
}

main().catch(() => process.exit(1)); // bootService has logged the cause
