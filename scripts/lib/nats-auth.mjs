// Least-privilege NATS for `npm start` (and docker compose's deploy/nats/<node>.conf): the nats-server
// configuration rendered from natsPermissions() (libs/contracts) by renderNatsConfig()
// (libs/event-log), the users' passwords, and the environment each service connects with.
//
// CLI: node scripts/lib/nats-auth.mjs            rewrite deploy/nats/*.conf (needs the built libs)
//      node scripts/lib/nats-auth.mjs --check    exit 1 when deploy/nats/*.conf is not what it renders
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(import.meta.url);
export const DEPLOY_NATS_DIR = join(ROOT, 'deploy', 'nats');

/** the built libs (CommonJS), loaded on first use like scripts/setup.mjs does */
function libs() {
  return { ...require('@conclave/event-log'), ...require('@conclave/contracts') };
}

/** every NATS user: the admin (set-up, tests) and one per service */
export function natsUsers() {
  return libs().NATS_USERS;
}

/**
 * The users' passwords for this machine's Conclave NATS, generated once into `file` (mode 0600,
 * like the master key): they survive restarts, so the server's config and the services agree.
 */
export function loadOrCreatePasswords(file, { say = () => {} } = {}) {
  const { generateNatsPasswords, NATS_USERS, NATS_PASSWORD_PATTERN } = libs();
  let stored = {};
  if (existsSync(file)) stored = JSON.parse(readFileSync(file, 'utf8'));
  const missing = NATS_USERS.filter((u) => typeof stored[u] !== 'string' || !NATS_PASSWORD_PATTERN.test(stored[u]));
  if (missing.length > 0) {
    const fresh = generateNatsPasswords();
    for (const u of missing) stored[u] = fresh[u];
    writeFileSync(file, `${JSON.stringify(stored, null, 2)}\n`, { mode: 0o600 });
    say(`generated NATS passwords for ${missing.join(', ')} in ${file} (0600)`);
  }
  return stored;
}

/**
 * nats-server config for a prefix, listening on host:port, JetStream under storeDir, for the binary
 * `bin`: `sync_interval: always` where its version accepts it (natsServerConfig, libs/event-log).
 * @returns {{ text: string, version: string, sync: 'always' | 'interval', durability: { mode: string, detail: string, serverVersion: string | null } }}
 */
export function renderConfig({ bin, prefix = '', host = '127.0.0.1', port, storeDir }) {
  const { natsServerConfig, renderNatsConfig } = libs();
  return natsServerConfig({
    bin,
    port,
    storeDir,
    render: (jetstream) =>
      renderNatsConfig({
        prefix,
        host,
        port,
        ...jetstream,
        comment: ["Conclave's own NATS for `npm start` (scripts/infra.mjs): passwords come from the server's", 'environment (.conclave/nats-users.json).'],
      }),
  });
}

/** nats-server's environment: each user's password under CONCLAVE_NATS_<USER>_PASSWORD. */
export function serverEnv(passwords) {
  return libs().natsServerEnv(passwords);
}

/** A service's (or the admin's) NATS_USER / NATS_PASSWORD. */
export function userEnv(user, passwords) {
  return { NATS_USER: user, NATS_PASSWORD: passwords[user] };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const files = Object.entries(libs().deployNatsConfigs()).map(([node, text]) => [join(DEPLOY_NATS_DIR, `${node}.conf`), text]);
  if (process.argv.includes('--check')) {
    const stale = files.filter(([file, text]) => !existsSync(file) || readFileSync(file, 'utf8') !== text).map(([file]) => file);
    console.log(stale.length === 0 ? 'deploy/nats/*.conf are current' : `${stale.join(', ')} differ from what natsPermissions() renders: run node scripts/lib/nats-auth.mjs`);
    process.exit(stale.length === 0 ? 0 : 1);
  }
  mkdirSync(DEPLOY_NATS_DIR, { recursive: true });
  for (const [file, text] of files) {
    writeFileSync(file, text);
    console.log(`wrote ${file}`);
  }
}
