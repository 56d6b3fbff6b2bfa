import 'reflect-metadata';
import { bootService, runStandalone, withMetricsServer, type StartService } from '@conclave/service-kit';
import { loadConfig } from './config';
import { JudgeModule } from './judge.module';

/** Boots the judge from `env`: in its own process (below) or hosted by services/stack. */
export const start: StartService = async (envVars, options = {}) => {
  const env = loadConfig(envVars);
  const running = await bootService({
    service: 'judge',
    module: JudgeModule.forRoot(env) as never,
    logLevel: env.LOG_LEVEL,
    hosted: options.hosted,
    ...(env.HEALTH_PORT > 0 ? { http: { port: env.HEALTH_PORT, host: '127.0.0.1' } } : {}),
  });
  return withMetricsServer(running, { service: 'judge', port: env.METRICS_PORT, host: env.METRICS_HOST });
};

if (require.main === module) runStandalone('judge', start);
