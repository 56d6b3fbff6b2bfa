// `npm start`: bring the whole system up on this machine from a fresh clone.
//   install (when node_modules is missing) → build → NATS + Postgres (reuse or start local ones
//   under .conclave/) → migrations, streams, seeds → the five services → the dashboard URL.
// The services run in ONE Node process by default (services/stack, ADR 015: each still its own Nest
// app, config, logger and NATS user; ~150 MiB resident instead of ~600 MiB for five processes).
// `npm start -- --separate` or CONCLAVE_PROCESSES=separate runs one process per service instead.
// NATS: unless NATS_URL is set, Conclave runs its own nats-server (127.0.0.1:4223 or the next free
// port, data in .conclave/nats) with a user per service and no anonymous access (scripts/infra.mjs
// ensureConclaveNats); set-up connects as the admin user, each service as its own user.
// Ctrl-C stops the services gracefully, then whatever infrastructure this run started.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..');
const DATA_DIR = join(ROOT, '.conclave');
const LOCK = join(DATA_DIR, 'start.lock');
const PORT = Number(process.env.PORT ?? 3000);
/** set: use that NATS as is (NATS_USER / NATS_PASSWORD from the environment, if any); unset: our own */
const NATS_URL_GIVEN = process.env.NATS_URL !== undefined && process.env.NATS_URL !== '';
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/conclave';
const say = (m) => console.log(`\x1b[1m[conclave]\x1b[0m ${m}`);

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
}

// A second `npm start` says so instead of failing on a busy port.
mkdirSync(DATA_DIR, { recursive: true });
if (existsSync(LOCK)) {
  const lock = JSON.parse(readFileSync(LOCK, 'utf8'));
  if (alive(lock.pid)) {
    say(`Conclave is already running (pid ${lock.pid}, started ${lock.startedAt}) at ${lock.url}`);
    say('Stop it with Ctrl-C in its terminal (or `kill ' + lock.pid + '`) before starting another.');
    process.exit(1);
  }
  rmSync(LOCK, { force: true }); // left by a process that died
}
const url = `http://localhost:${PORT}`;
writeFileSync(LOCK, JSON.stringify({ pid: process.pid, url, startedAt: new Date().toISOString() }));
const releaseLock = () => {
  try {
    if (JSON.parse(readFileSync(LOCK, 'utf8')).pid === process.pid) rmSync(LOCK, { force: true });
  } catch {
    /* already gone */
  }
};
process.on('exit', releaseLock);

function run(cmd, args) {
  const r = spawnSync(cmd, args, { cwd: ROOT, stdio: 'inherit' });
  if (r.status !== 0) {
    say(`\`${cmd} ${args.join(' ')}\` failed (exit ${r.status})`);
    process.exit(r.status ?? 1);
  }
}

if (!existsSync(join(ROOT, 'node_modules', '.package-lock.json'))) {
  say('installing dependencies (npm install)…');
  run('npm', ['install', '--no-audit', '--no-fund']);
}
say('building…');
run(process.execPath, [join(ROOT, 'scripts', 'build.mjs')]);

const { durabilityLine, ensureInfra, natsAcceptsAnonymous, postgresDurability, stopStarted } = await import('./infra.mjs');
const { setup } = await import('./setup.mjs');
const { SERVICES, processMode, residentKiB, serviceOfLine, spawnServices, stopChildren, waitForHttp, prettyLine } = await import('./lib/stack.mjs');

let MODE;
try {
  MODE = processMode(process.argv.slice(2), process.env);
} catch (err) {
  say(err.message);
  process.exit(2);
}

(await import('./lib/sandbox-check.mjs')).ensureSandbox({ say }); // bubblewrap for agent tools and tool phases
const infra = await ensureInfra({ natsUrl: process.env.NATS_URL, databaseUrl: DATABASE_URL, dataDir: DATA_DIR, conclaveNats: !NATS_URL_GIVEN });
const NATS_URL = infra.natsUrl;
/** the NATS_USER / NATS_PASSWORD of one of our NATS's users (nothing with a NATS_URL of the user's) */
const natsUser = (user) => (infra.natsUsers ? { NATS_USER: user, NATS_PASSWORD: infra.natsUsers[user] } : {});
if (NATS_URL_GIVEN && (await natsAcceptsAnonymous(NATS_URL))) {
  say(
    `\x1b[33mwarning:\x1b[0m the NATS at NATS_URL accepts anonymous connections: any process that reaches it can pull work, ` +
      'write events and ask the gateway for provider keys. Unset NATS_URL to let `npm start` run its own NATS with a user per service.',
  );
}
let children = [];
let stopping = false;
async function shutdown(code = 0) {
  if (stopping) return;
  stopping = true;
  say('stopping services…');
  // single: the one process closes the gateway, then the other services side by side
  await stopChildren(children, MODE === 'single' ? 20_000 : 10_000);
  if (infra.started.length > 0) await stopStarted(infra.started);
  say('stopped.');
  process.exit(code);
}
process.on('SIGINT', () => void shutdown(0));
process.on('SIGTERM', () => void shutdown(0));

try {
  const admin = natsUser('admin');
  await setup({ natsUrl: NATS_URL, natsUser: admin.NATS_USER ?? process.env.NATS_USER, natsPassword: admin.NATS_PASSWORD ?? process.env.NATS_PASSWORD, databaseUrl: DATABASE_URL });
} catch (err) {
  say(`set-up failed: ${err.message}`);
  await shutdown(1);
}

// Provider API keys are sealed with CONCLAVE_MASTER_KEY (AES-256-GCM). Locally, one is generated
// once under .conclave/ (0600). Losing it makes the stored keys unreadable (re-enter them).
function masterKey() {
  if (process.env.CONCLAVE_MASTER_KEY) return process.env.CONCLAVE_MASTER_KEY;
  const file = join(DATA_DIR, 'master.key');
  if (!existsSync(file)) {
    writeFileSync(file, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600 });
    say(`\x1b[33mwarning:\x1b[0m generated a master key for provider secrets in ${file} — keep it private and back it up; set CONCLAVE_MASTER_KEY in production`);
  }
  return readFileSync(file, 'utf8').trim();
}

const keys = ['ANTHROPIC_API_KEY', 'OPENAI_API_KEY', 'GEMINI_API_KEY'].filter((k) => process.env[k]);
const width = Math.max(...[...SERVICES, 'stack'].map((s) => s.length));
const colours = [36, 35, 33, 32, 34];
const colourOf = (name) => (SERVICES.includes(name) ? colours[SERVICES.indexOf(name) % colours.length] : 37);
// CONCLAVE_NATS_SYNC: the sync policy of the config our nats-server runs from (the gateway's /ready
// reports it; unset for a NATS of the user's unless they set it)
const env = { NATS_URL, DATABASE_URL, PORT: String(PORT), LOG_LEVEL: process.env.LOG_LEVEL ?? 'info', ...(infra.natsSync ? { CONCLAVE_NATS_SYNC: infra.natsSync } : {}) };
const gatewayKey = masterKey(); // only the gateway's configuration holds it (in either mode)
children = spawnServices({
  mode: MODE,
  env,
  serviceEnv: (name) => ({ ...natsUser(name), ...(name === 'gateway' ? { CONCLAVE_MASTER_KEY: gatewayKey } : {}) }),
  // single: one process's lines, each naming its service (pino's `service` field)
  onLine: (line, child) => {
    const name = MODE === 'single' ? (serviceOfLine(line) ?? child) : child;
    console.log(`\x1b[${colourOf(name)}m${name.padEnd(width)}\x1b[0m │ ${prettyLine(line)}`);
  },
});
for (const child of children) {
  child.on('exit', (code, signal) => {
    if (stopping) return;
    say(`${MODE === 'single' ? 'the Conclave process' : child.serviceName} exited unexpectedly (${signal ?? `code ${code}`}); stopping everything`);
    void shutdown(1);
  });
}

try {
  await waitForHttp(`http://127.0.0.1:${PORT}/api/v1/health`, 60_000);
} catch (err) {
  say(err.message);
  await shutdown(1);
}
say('');
say(`Conclave is up: \x1b[4m${url}\x1b[0m`);
say(durabilityLine({ nats: infra.natsDurability, postgres: await postgresDurability(DATABASE_URL) }));
say(
  keys.length
    ? `providers from the environment: ${keys.map((k) => k.split('_')[0].toLowerCase()).join(', ')} (the simulated provider is always there)`
    : 'no provider key is set: runs use the offline `simulated` provider (set ANTHROPIC_API_KEY / OPENAI_API_KEY / GEMINI_API_KEY for real models)',
);
const resident = (await Promise.all(children.map((c) => residentKiB(c.pid)))).reduce((n, kib) => n + (kib ?? 0), 0);
say(
  MODE === 'single'
    ? `services: one process (pid ${children[0].pid}), ${Math.round(resident / 1024)} MiB resident — CONCLAVE_PROCESSES=separate runs one process per service`
    : `services: one process each (pids ${children.map((c) => c.pid).join(', ')}), ${Math.round(resident / 1024)} MiB resident together`,
);
say('built-in templates: "Software feature pipeline" and "Producer → evaluator → reviser" — open Templates and press Start run.');
say('Ctrl-C stops everything.');
