import 'reflect-metadata';
import { Transport } from '@nestjs/microservices';
import { bootService, natsConnectionOptions, runStandalone, type StartService } from '@conclave/service-kit';
import { loadConfig } from './config';
import { OrchestratorModule } from './orchestrator.module';

/** Boots the orchestrator from `env`: in its own process (below) or hosted by services/stack. */
export const start: StartService = async (env, options = {}) => {
  const config = loadConfig(env);
  return bootService({
    service: 'orchestrator',
    module: OrchestratorModule.forRoot(config) as never,
    logLevel: config.LOG_LEVEL,
    hosted: options.hosted,
    // request/reply from the gateway; the queue group makes replicas share commands (STACK-NOTES)
    microservice: { transport: Transport.NATS, options: { ...natsConnectionOptions(config), queue: 'orchestrator', noAsyncTraces: true, name: `orchestrator-cmd-${config.INSTANCE_ID}` } },
    ...(config.HEALTH_PORT ? { http: { port: config.HEALTH_PORT, host: '127.0.0.1' } } : {}),
  });
};

if (require.main === module) runStandalone('orchestrator', start);
