import { join, resolve } from 'node:path';
import type { StartService } from '@conclave/service-kit';
import type { HostedService } from './hosted-env';

/** services/<name>/dist/main.js, next to this package's dist/ */
const SERVICES_DIR = resolve(__dirname, '..', '..');

/**
 * A service's exported `start` (its built main.js: the same code its own process runs). Loaded by
 * path, so services keep importing no other service and this package depends on none at build time.
 */
export function loadStart(service: HostedService, path = join(SERVICES_DIR, service, 'dist', 'main.js')): StartService {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const entry = require(path) as { start?: unknown };
  if (typeof entry.start !== 'function') throw new Error(`${path} exports no start(env) (rebuild: node scripts/build.mjs)`);
  return entry.start as StartService;
}
