import 'reflect-metadata';
import { Transport } from '@nestjs/microservices';
import { bootService, natsConnectionOptions, runStandalone, withMetricsServer, type StartService } from '@conclave/service-kit';
import { loadConfig } from './config';
import { OrchestratorModule } from './orchestrator.module';

/** Boots the orchestrator from `env`: in its own process (below) or hosted by services/stack. */
export const start: StartService = async (env, options = {}) => {
  const config = loadConfig(env);
  const running = await bootService({
    service: 'orchestrator',
    module: OrchestratorModule.forRoot(config) as never,
    logLevel: config.LOG_LEVEL,
    hosted: options.hosted,
    // request/reply from the gateway; the queue group makes replicas share commands (STACK-NOTES)
    microservice: { transport: Transport.NATS, options: { ...natsConnectionOptions(config), queue: 'orchestrator', noAsyncTraces: true, name: `orchestrator-cmd-${config.INSTANCE_ID}` } },
    ...(config.HEALTH_PORT ? { http: { port: config.HEALTH_PORT, host: '127.0.0.1' } } : {}),
  });
  return withMetricsServer(running, { service: 'orchestrator', port: config.METRICS_PORT, host: config.METRICS_HOST });
};

if (require.main === module) runStandalone('orchestrator', start);
