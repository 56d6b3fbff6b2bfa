import 'reflect-metadata';
import { Transport } from '@nestjs/microservices';
import { bootService, natsConnectionOptions } from '@conclave/service-kit';
import { loadConfig } from './config';
import { OrchestratorModule } from './orchestrator.module';

async function main() {
  const config = loadConfig();
  await bootService({
    service: 'orchestrator',
    module: OrchestratorModule.forRoot(config) as never,
    logLevel: config.LOG_LEVEL,
    // request/reply from the gateway; the queue group makes replicas share commands (STACK-NOTES)
    microservice: { transport: Transport.NATS, options: { ...natsConnectionOptions(config), queue: 'orchestrator', name: `orchestrator-cmd-${config.INSTANCE_ID}` } },
    ...(config.HEALTH_PORT ? { http: { port: config.HEALTH_PORT, host: '127.0.0.1' } } : {}),
  });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
