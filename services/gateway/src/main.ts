import 'reflect-metadata';
import { createLogger, markLogged, runStandalone, type StartService } from '@conclave/service-kit';
import { createGatewayApp } from './app';
import { apiTokens, loadGatewayConfig } from './config';

/**
 * Boots the gateway from `env` and listens: `node services/gateway/dist/main.js` (below) or hosted
 * by services/stack. A bad configuration (including a non-loopback HOST without an API token)
 * exits with code 2; in its own process SIGTERM/SIGINT stop the relay, socket.io and HTTP, then
 * close the DataSource and drain NATS, and exit 0 (hosted: the host closes the app).
 */
export const start: StartService = async (env, options = {}) => {
  const config = loadGatewayConfig(env);
  const logger = createLogger('gateway', config.LOG_LEVEL, { instance: config.INSTANCE_ID });
  try {
    const app = await createGatewayApp(config, logger);
    if (!options.hosted) app.enableShutdownHooks(['SIGTERM', 'SIGINT'], { useProcessExit: true });
    await app.listen(config.PORT, config.HOST);
    logger.info({ host: config.HOST, port: config.PORT, auth: apiTokens(config).length > 0 ? 'bearer' : 'none', tokens: apiTokens(config).map((t) => t.name), webDist: config.WEB_DIST }, 'gateway listening');
    return { app, logger, close: () => app.close() };
  } catch (err) {
    logger.fatal({ err }, 'gateway failed to start');
    markLogged(err);
    throw err;
  }
};

if (require.main === module) runStandalone('gateway', start);
