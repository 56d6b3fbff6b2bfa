import 'reflect-metadata';
import { bootService, createLogger, parseEnv, runStandalone, withMetricsServer, type StartService } from '@conclave/service-kit';
import { ProjectorEnv } from './config';
import { projectorAppModule } from './projector.module';

/**
 * The projector: folds the log into the Postgres read models (DESIGN.md "projector"). Boots from
 * `env`, in its own process (below) or hosted by services/stack.
 */
export const start: StartService = async (env, options = {}) => {
  const config = parseEnv(ProjectorEnv, env);
  const logger = createLogger('projector', config.LOG_LEVEL, { instance: config.INSTANCE_ID });
  const running = await bootService({
    service: 'projector',
    module: projectorAppModule(config, logger),
    logLevel: config.LOG_LEVEL,
    hosted: options.hosted,
    http: config.HEALTH_PORT > 0 ? { port: config.HEALTH_PORT, host: config.HEALTH_HOST } : undefined,
  });
  return withMetricsServer(running, { service: 'projector', port: config.METRICS_PORT, host: config.METRICS_HOST });
};

if (require.main === module) runStandalone('projector', start);
