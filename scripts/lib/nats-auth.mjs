// Least-privilege NATS for `npm start` (and docker compose's deploy/nats.conf): the nats-server
// configuration rendered from natsPermissions() (libs/contracts) by renderNatsConfig()
// (libs/event-log), the users' passwords, and the environment each service connects with.
//
// CLI: node scripts/lib/nats-auth.mjs            rewrite deploy/nats.conf (needs the built libs)
//      node scripts/lib/nats-auth.mjs --check    exit 1 when deploy/nats.conf is not what it renders
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(import.meta.url);
export const DEPLOY_NATS_CONF = join(ROOT, 'deploy', 'nats.conf');

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

/** nats-server config text for a prefix, listening on host:port, JetStream under storeDir. */
export function renderConfig({ prefix = '', host = '127.0.0.1', port, storeDir }) {
  return libs().renderNatsConfig({
    prefix,
    host,
    port,
    storeDir,
    comment: ["Conclave's own NATS for `npm start` (scripts/infra.mjs): passwords come from the server's", 'environment (.conclave/nats-users.json).'],
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
  const text = libs().deployNatsConfig();
  if (process.argv.includes('--check')) {
    const same = existsSync(DEPLOY_NATS_CONF) && readFileSync(DEPLOY_NATS_CONF, 'utf8') === text;
    console.log(same ? 'deploy/nats.conf is current' : 'deploy/nats.conf differs from what natsPermissions() renders: run node scripts/lib/nats-auth.mjs');
    process.exit(same ? 0 : 1);
  }
  writeFileSync(DEPLOY_NATS_CONF, text);
  console.log(`wrote ${DEPLOY_NATS_CONF}`);
}
