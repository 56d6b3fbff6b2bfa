import 'reflect-metadata';
import { ConfigError, createLogger } from '@conclave/service-kit';
import { createGatewayApp } from './app';
import { apiTokens, loadGatewayConfig, type GatewayConfig } from './config';

/**
 * `node services/gateway/dist/main.js`. A bad configuration (including a non-loopback HOST without
 * an API token) exits with code 2; SIGTERM/SIGINT stop the relay, socket.io and HTTP, then
 * close the DataSource and drain NATS, and exit 0.
 */
async function main() {
  const bootLogger = createLogger('gateway', process.env.LOG_LEVEL ?? 'info');
  let config: GatewayConfig;
  try {
    config = loadGatewayConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      bootLogger.fatal({ issues: err.issues }, err.message);
      process.exit(2);
    }
    throw err;
  }
  const logger = createLogger('gateway', config.LOG_LEVEL, { instance: config.INSTANCE_ID });
  try {
    const app = await createGatewayApp(config, logger);
    app.enableShutdownHooks(['SIGTERM', 'SIGINT'], { useProcessExit: true });
    await app.listen(config.PORT, config.HOST);
    logger.info({ host: config.HOST, port: config.PORT, auth: apiTokens(config).length > 0 ? 'bearer' : 'none', tokens: apiTokens(config).map((t) => t.name), webDist: config.WEB_DIST }, 'gateway listening');
  } catch (err) {
    logger.fatal({ err }, 'gateway failed to start');
    process.exit(1);
  }
}

void main();
