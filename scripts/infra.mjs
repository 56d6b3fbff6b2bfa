// NATS (JetStream) and Postgres for `npm start` and `npm test` on one machine.
//
// ensureInfra() keeps whatever already answers at the URLs. Otherwise it starts a local server:
// nats-server as a detached process, Postgres through the Debian cluster that listens on the
// URL's port, or a private cluster under <dataDir>/pg. It installs nothing and never touches a
// server it did not start: stopStarted() stops only the PIDs it recorded.
//
// Only loopback URLs can be started locally; for any other host the server must already answer.
//
// ensureConclaveNats() is `npm start`'s own NATS when NATS_URL is not set: nats-server on 127.0.0.1
// (port 4223 or the first free one after it) with the generated least-privilege config (a user per
// service, no anonymous access; scripts/lib/nats-auth.mjs), JetStream under <dataDir>/nats, the
// users' passwords generated once into <dataDir>/nats-users.json (0600).
//
// Durability (ADR 011): every nats-server this file starts runs from a config file rendered for
// its binary's version (natsServerConfig, libs/event-log): `sync_interval: always` from 2.10 on;
// Debian's 2.9.10 refuses the field, so there acknowledged events are flushed on the server's
// interval. ensureInfra() says which (natsDurability, natsSync for CONCLAVE_NATS_SYNC) and
// durabilityLine() prints it with Postgres' fsync / synchronous_commit.
//
// CLI (.ci/run): node scripts/infra.mjs nats-config <file> <host> <port> <storeDir> [bin]
//   writes the plain (anonymous) JetStream config for that binary and prints the CONCLAVE_NATS_SYNC value.
import { spawn, spawnSync } from 'node:child_process';
import { chownSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { connect as tcpConnect } from 'node:net';
import { delimiter, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

const require = createRequire(import.meta.url);
/** the built libs (CommonJS), loaded on first use: the CLI below and the version detection need them */
const eventLog = () => require('@conclave/event-log');
const NATS_BIN_DIRS = ['/usr/sbin', '/usr/local/sbin', '/usr/local/bin', '/usr/bin'];

const NATS_START_TIMEOUT_MS = 15_000;
const POSTGRES_START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 20_000;
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

const defaultLog = (message) => console.log(`[infra] ${message}`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * conclaveNats: run Conclave's own authenticated NATS (ensureConclaveNats) instead of using natsUrl;
 * natsUrl is then the URL it listens on and natsUsers every user's password.
 * natsDurability: what an acknowledged event survives on that NATS; natsSync: the CONCLAVE_NATS_SYNC
 * the services should get ('always' / 'interval' for a server started from our config, else the
 * caller's own CONCLAVE_NATS_SYNC, else null: the gateway then says what it can tell by version).
 * @param {{ natsUrl: string, databaseUrl: string, dataDir: string, log?: (message: string) => void, conclaveNats?: boolean }} options
 * @returns {Promise<{ natsUrl: string, databaseUrl: string, started: StartedProcess[], natsUsers: Record<string, string> | null, natsSync: 'always' | 'interval' | null, natsDurability: { mode: string, detail: string, serverVersion: string | null } }>}
 *
 * @typedef {{ service: 'nats' | 'postgres', how: string, pid: number, url: string, pidFile?: string }} StartedProcess
 */
export async function ensureInfra({ natsUrl, databaseUrl, dataDir, log = defaultLog, conclaveNats = false }) {
  dataDir = resolve(dataDir);
  /** @type {StartedProcess[]} */
  const started = [];
  let natsUsers = null;
  let natsSync = null;
  let natsDurability = null;
  try {
    if (conclaveNats) {
      const own = await ensureConclaveNats({ dataDir, log });
      started.push(own.proc);
      natsUrl = own.natsUrl;
      natsUsers = own.passwords;
      ({ natsSync, natsDurability } = own);
    } else {
      const nats = await ensureNats(natsUrl, dataDir, log);
      if (nats.proc) started.push(nats.proc);
      ({ natsSync, natsDurability } = nats);
    }
    const postgres = await ensurePostgres(databaseUrl, dataDir, log);
    if (postgres) started.push(postgres);
    await ensureDatabase(databaseUrl, log);
  } catch (err) {
    // Leave nothing half-started behind.
    await stopStarted(started, { log });
    throw err;
  }
  return { natsUrl, databaseUrl, started, natsUsers, natsSync, natsDurability };
}

/**
 * What Postgres' own settings say about a committed transaction (`SHOW fsync`,
 * `SHOW synchronous_commit`); null values when it cannot be asked.
 */
export async function postgresDurability(url) {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    const { rows } = await client.query("select current_setting('fsync') as fsync, current_setting('synchronous_commit') as synchronous_commit");
    return { fsync: rows[0].fsync, synchronous_commit: rows[0].synchronous_commit };
  } catch {
    return { fsync: null, synchronous_commit: null };
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** One line for `npm start`: which durability the running NATS and Postgres give. */
export function durabilityLine({ nats, postgres }) {
  const pgText =
    postgres.fsync === null
      ? 'Postgres: settings unknown'
      : `Postgres: fsync=${postgres.fsync}, synchronous_commit=${postgres.synchronous_commit}${postgres.fsync === 'on' && postgres.synchronous_commit !== 'off' ? ' (a committed transaction survives a crash)' : ' (recent commits may be lost on a crash)'}`;
  return `durability — NATS ${nats.serverVersion ?? '?'}: ${nats.mode}, ${nats.detail}; ${pgText}`;
}

/**
 * The nats-server config file for `bin` (its version decides `sync_interval: always`) without
 * authorization: JetStream under storeDir, listening on host:port. Written to `file`.
 */
export function writePlainNatsConfig({ bin, host, port, storeDir, file }) {
  const config = eventLog().natsServerConfig({
    bin,
    host,
    port,
    storeDir,
    comment: ['NATS with JetStream written by scripts/infra.mjs for this binary (anonymous access, loopback only).'],
  });
  writeFileSync(file, config.text);
  return config;
}

/**
 * Stops the processes ensureInfra started (and nothing else), newest first, by PID.
 * @param {StartedProcess[]} started
 */
export async function stopStarted(started, { log = defaultLog } = {}) {
  for (const proc of [...started].reverse()) {
    if (!isAlive(proc.pid)) continue;
    // Postgres: SIGINT is the "fast" shutdown (SIGTERM would wait for every client to leave).
    const signal = proc.service === 'postgres' ? 'SIGINT' : 'SIGTERM';
    log(`stopping ${proc.service} (pid ${proc.pid}, ${proc.how}) at ${redact(proc.url)}`);
    try {
      process.kill(proc.pid, signal);
    } catch (err) {
      log(`could not signal pid ${proc.pid}: ${err.message}`);
      continue;
    }
    if (!(await waitForExit(proc.pid, STOP_TIMEOUT_MS))) {
      if (proc.service === 'nats') {
        process.kill(proc.pid, 'SIGKILL');
        await waitForExit(proc.pid, 5_000);
      } else {
        log(`postgres (pid ${proc.pid}) is still shutting down after ${STOP_TIMEOUT_MS / 1000}s; leaving it`);
        continue;
      }
    }
    if (proc.pidFile) rmSync(proc.pidFile, { force: true });
    if (proc.stateFile) rmSync(proc.stateFile, { force: true });
  }
}

// ---------------------------------------------------------------------------------------- NATS

const CONCLAVE_NATS_PORTS = { first: 4223, last: 4299 };

/**
 * Conclave's own authenticated nats-server for `npm start`. Keeps the one a previous run left
 * running (recorded in <dataDir>/nats.json, answering with auth required) rather than starting a
 * second one on the same store.
 * @returns {Promise<{ natsUrl: string, passwords: Record<string, string>, proc: StartedProcess | null }>}
 */
export async function ensureConclaveNats({ dataDir, log = defaultLog }) {
  dataDir = resolve(dataDir);
  mkdirSync(dataDir, { recursive: true });
  const { loadOrCreatePasswords, renderConfig, serverEnv } = await import('./lib/nats-auth.mjs');
  const passwords = loadOrCreatePasswords(join(dataDir, 'nats-users.json'), { say: log });
  const stateFile = join(dataDir, 'nats.json');
  const pidFile = join(dataDir, 'nats.pid');
  if (existsSync(stateFile)) {
    const state = JSON.parse(readFileSync(stateFile, 'utf8'));
    const info = isAlive(state.pid) ? await probeNats(state.url) : null;
    if (info && info !== 'not-nats' && info.auth_required === true) {
      log(`Conclave's NATS answers at ${state.url} (pid ${state.pid}, left by an earlier run): keeping it`);
      // its config is the one we wrote: it says whether it fsyncs per message
      const confText = existsSync(join(dataDir, 'nats.conf')) ? readFileSync(join(dataDir, 'nats.conf'), 'utf8') : '';
      const natsSync = /^\s*sync_interval:\s*always\s*$/m.test(confText) ? 'always' : 'interval';
      const natsDurability = eventLog().natsDurability({ serverVersion: info.version, announced: natsSync });
      return { natsUrl: state.url, passwords, natsSync, natsDurability, proc: { service: 'nats', how: 'nats-server (conclave, auth)', pid: state.pid, url: state.url, pidFile } };
    }
    rmSync(stateFile, { force: true });
  }
  const bin = findBinary('nats-server', NATS_BIN_DIRS);
  if (!bin) throw new Error('no nats-server binary was found (install nats-server, or set NATS_URL to a NATS with JetStream)');
  let port = null;
  for (let p = CONCLAVE_NATS_PORTS.first; p <= CONCLAVE_NATS_PORTS.last && port === null; p++) {
    if ((await probeNats(`nats://127.0.0.1:${p}`, 300)) === null) port = p;
  }
  if (port === null) throw new Error(`no free port for Conclave's NATS in ${CONCLAVE_NATS_PORTS.first}-${CONCLAVE_NATS_PORTS.last} (or set NATS_URL)`);
  const url = `nats://127.0.0.1:${port}`;
  const storeDir = join(dataDir, 'nats');
  mkdirSync(storeDir, { recursive: true });
  const confFile = join(dataDir, 'nats.conf');
  const config = renderConfig({ bin, prefix: '', host: '127.0.0.1', port, storeDir });
  writeFileSync(confFile, config.text, { mode: 0o600 });
  // its environment is the passwords the config references, and nothing else of ours
  const proc = await spawnNats({ bin, args: ['-c', confFile], env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...serverEnv(passwords) }, url, dataDir, log, how: 'nats-server (conclave, auth)', ready: (info) => info.auth_required === true });
  writeFileSync(stateFile, `${JSON.stringify({ pid: proc.pid, url })}
`);
  log(`Conclave's NATS (a user per service, no anonymous access) answers at ${url} (pid ${proc.pid}, config ${confFile})`);
  return { natsUrl: url, passwords, natsSync: config.sync, natsDurability: config.durability, proc: { ...proc, stateFile } };
}

/** Whether the NATS at url lets a client in without credentials (its INFO says no auth_required). */
export async function natsAcceptsAnonymous(url) {
  const info = await probeNats(url);
  return Boolean(info && info !== 'not-nats' && info.auth_required !== true);
}

/**
 * NATS sends an `INFO {json}` line as soon as a client connects. Resolves to that JSON, to
 * 'not-nats' when something else holds the port, or to null when nothing answers.
 */
export function probeNats(url, timeoutMs = 1500) {
  const { host, port } = parseNatsUrl(url);
  return new Promise((resolvePromise) => {
    let buffer = '';
    let connected = false;
    const socket = tcpConnect({ host, port });
    const done = (result) => {
      socket.destroy();
      resolvePromise(result);
    };
    socket.on('connect', () => (connected = true));
    socket.setTimeout(timeoutMs, () => done(connected ? 'not-nats' : null));
    socket.on('error', () => done(null));
    socket.on('data', (chunk) => {
      buffer += chunk.toString('utf8');
      const end = buffer.indexOf('\r\n');
      if (end === -1) return;
      const line = buffer.slice(0, end);
      if (!line.startsWith('INFO ')) return done('not-nats');
      try {
        done(JSON.parse(line.slice(5)));
      } catch {
        done({});
      }
    });
  });
}

/**
 * Keeps the NATS that answers at url, or starts one from a config file rendered for the binary.
 * A NATS we did not start is described by its version and the caller's CONCLAVE_NATS_SYNC (if any).
 */
async function ensureNats(url, dataDir, log) {
  const info = await probeNats(url);
  if (info === 'not-nats') throw new Error(`something that is not NATS is listening at ${redact(url)}`);
  if (info) {
    if (info.jetstream === false || info.jetstream === undefined) {
      log(`NATS at ${redact(url)} answers (server ${info.version ?? '?'}) but does not announce JetStream; Conclave needs it (-js)`);
    } else {
      log(`NATS at ${redact(url)} answers (server ${info.version ?? '?'}, JetStream on): keeping it`);
    }
    const natsSync = announcedSync();
    return { proc: null, natsSync, natsDurability: eventLog().natsDurability({ serverVersion: info.version, announced: natsSync }) };
  }
  const { host, port } = parseNatsUrl(url);
  if (!LOOPBACK.has(host)) throw new Error(`NATS does not answer at ${redact(url)}, and only a loopback address can be started locally`);
  const bin = findBinary('nats-server', NATS_BIN_DIRS);
  if (!bin) throw new Error(`NATS does not answer at ${redact(url)} and no nats-server binary was found (install nats-server, or set NATS_URL)`);

  const storeDir = join(dataDir, 'nats');
  mkdirSync(storeDir, { recursive: true });
  const confFile = join(dataDir, 'nats-plain.conf');
  const config = writePlainNatsConfig({ bin, host: host === 'localhost' ? '127.0.0.1' : host, port, storeDir, file: confFile });
  log(`NATS does not answer at ${redact(url)}`);
  const proc = await spawnNats({ bin, args: ['-c', confFile], env: process.env, url, dataDir, log, how: 'nats-server' });
  return { proc, natsSync: config.sync, natsDurability: config.durability };
}

/** CONCLAVE_NATS_SYNC of the caller's environment, when it says something we understand. */
function announcedSync() {
  const value = process.env.CONCLAVE_NATS_SYNC;
  return value === 'always' || value === 'interval' ? value : null;
}

/** Starts nats-server detached (log <dataDir>/nats.log) and waits until it greets at url. */
async function spawnNats({ bin, args, env, url, dataDir, log, how, ready = () => true }) {
  const logFile = join(dataDir, 'nats.log');
  const pidFile = join(dataDir, 'nats.pid');
  log(`starting ${bin} ${args.join(' ')} (log ${logFile})`);
  const fd = openSync(logFile, 'a');
  let child;
  try {
    child = spawn(bin, args, { detached: true, stdio: ['ignore', fd, fd], env });
  } finally {
    closeSync(fd);
  }
  const spawnError = new Promise((_, reject) => child.once('error', reject));
  spawnError.catch(() => undefined);
  let exited = null;
  child.once('exit', (code, signal) => (exited = signal ?? code));
  child.unref();
  if (child.pid === undefined) await spawnError;
  writeFileSync(pidFile, `${child.pid}\n`);
  const proc = { service: 'nats', how, pid: child.pid, url, pidFile };

  const deadline = Date.now() + NATS_START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const answer = await probeNats(url, 500);
    if (answer && answer !== 'not-nats' && ready(answer)) {
      log(`NATS answers at ${redact(url)} (pid ${child.pid})`);
      return proc;
    }
    if (exited !== null) break;
    await sleep(100);
  }
  await stopStarted([proc], { log: () => undefined });
  const why = exited !== null ? `nats-server exited (${exited})` : `nats-server did not answer within ${NATS_START_TIMEOUT_MS / 1000}s`;
  throw new Error(`${why} at ${redact(url)}; last log lines:\n${tail(logFile, 5)}`);
}

function parseNatsUrl(url) {
  const first = String(url).split(',')[0].trim();
  const parsed = new URL(first.includes('://') ? first : `nats://${first}`);
  return { host: parsed.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1', port: Number(parsed.port || 4222) };
}

// ------------------------------------------------------------------------------------ Postgres

/** 'up' when the server accepts a session; 'refused' for an answer we cannot use; 'down' otherwise. */
async function probePostgres(url, timeoutMs = 1500) {
  const client = new pg.Client({ connectionString: adminUrl(url), connectionTimeoutMillis: timeoutMs });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('select 1');
    return { state: 'up' };
  } catch (err) {
    // A SQLSTATE means the server is there but turned us away (auth, missing role, starting up…).
    if (err && typeof err.code === 'string' && /^[0-9A-Z]{5}$/.test(err.code)) {
      return { state: err.code === '57P03' ? 'starting' : 'refused', error: err };
    }
    return { state: 'down', error: err };
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function ensurePostgres(url, dataDir, log) {
  const probe = await probePostgres(url);
  if (probe.state === 'up') {
    log(`Postgres at ${redact(serverUrl(url))} answers: keeping it`);
    return null;
  }
  if (probe.state === 'refused') {
    throw new Error(`Postgres at ${redact(serverUrl(url))} answers but refuses the connection: ${probe.error.message}`);
  }
  if (probe.state === 'starting') {
    log(`Postgres at ${redact(serverUrl(url))} is starting up: waiting`);
    await waitForPostgres(url, POSTGRES_START_TIMEOUT_MS);
    return null;
  }
  const u = new URL(url);
  const host = u.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1';
  const port = Number(u.port || 5432);
  if (!LOOPBACK.has(host)) throw new Error(`Postgres does not answer at ${redact(serverUrl(url))}, and only a loopback address can be started locally`);

  const debian = debianCluster(port);
  if (debian) return startDebianCluster(debian, url, log);
  return startPrivateCluster({ url, port, user: decodeURIComponent(u.username) || 'postgres', dataDir, log });
}

/** The Debian cluster (`/etc/postgresql/<version>/main`) configured for this port, if any. */
function debianCluster(port) {
  if (!existsSync('/etc/postgresql') || !findBinary('pg_ctlcluster', ['/usr/bin'])) return null;
  for (const version of readdirSync('/etc/postgresql').sort(byVersionDesc)) {
    const conf = join('/etc/postgresql', version, 'main', 'postgresql.conf');
    if (!existsSync(conf)) continue;
    const match = /^\s*port\s*=\s*(\d+)/m.exec(readFileSync(conf, 'utf8'));
    if (Number(match?.[1] ?? 5432) === port) return { version, conf };
  }
  return null;
}

async function startDebianCluster({ version }, url, log) {
  log(`Postgres does not answer at ${redact(serverUrl(url))}: pg_ctlcluster --skip-systemctl-redirect ${version} main start`);
  const res = spawnSync('pg_ctlcluster', ['--skip-systemctl-redirect', version, 'main', 'start'], { encoding: 'utf8' });
  if (res.status !== 0) {
    throw new Error(`pg_ctlcluster ${version} main start failed (${res.status}): ${(res.stderr || res.stdout || String(res.error)).trim()}`);
  }
  await waitForPostgres(url, POSTGRES_START_TIMEOUT_MS);
  const pid = readPid(`/var/run/postgresql/${version}-main.pid`) ?? readPid(`/var/lib/postgresql/${version}/main/postmaster.pid`);
  log(`Postgres ${version}/main answers at ${redact(serverUrl(url))} (pid ${pid ?? '?'})`);
  return pid ? { service: 'postgres', how: `pg_ctlcluster ${version} main`, pid, url: serverUrl(url) } : null;
}

async function startPrivateCluster({ url, port, user, dataDir, log }) {
  const binDir = postgresBinDir();
  if (!binDir) {
    throw new Error(`Postgres does not answer at ${redact(serverUrl(url))} and no Postgres binaries were found in /usr/lib/postgresql/*/bin (install postgresql, or set DATABASE_URL)`);
  }
  const pgDir = join(dataDir, 'pg');
  const logFile = join(dataDir, 'postgres.log');
  // Postgres refuses to run as root: run its binaries as the postgres user, which owns the files.
  const asRoot = process.getuid?.() === 0;
  let owner = null;
  if (asRoot) {
    owner = systemUser('postgres');
    if (!owner) throw new Error('running as root, and there is no "postgres" user to run a private Postgres cluster as');
  }
  mkdirSync(pgDir, { recursive: true, mode: 0o700 });
  if (!existsSync(logFile)) writeFileSync(logFile, '');
  if (owner) {
    chownRecursive(pgDir, owner.uid, owner.gid);
    chownSync(logFile, owner.uid, owner.gid);
  }
  const run = (bin, args) => {
    const [cmd, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', join(binDir, bin), ...args]] : [join(binDir, bin), args];
    return spawnSync(cmd, argv, { encoding: 'utf8', cwd: dataDir });
  };

  if (!existsSync(join(pgDir, 'PG_VERSION'))) {
    log(`initialising a private Postgres cluster in ${pgDir} (${binDir}, superuser ${user}, trust auth)`);
    const init = run('initdb', ['-D', pgDir, '-U', user, '--auth=trust', '--encoding=UTF8', '--locale=C.UTF-8', '--no-instructions']);
    if (init.status !== 0) throw new Error(`initdb failed (${init.status}): ${(init.stderr || init.stdout || String(init.error)).trim()}`);
    // TCP on loopback only (127.0.0.1 and ::1); no Unix socket (its directory may not exist or be writable here).
    const confFile = join(pgDir, 'postgresql.conf');
    writeFileSync(confFile, `${readFileSync(confFile, 'utf8')}\n# conclave (scripts/infra.mjs)\nlisten_addresses = 'localhost'\nunix_socket_directories = ''\n`);
  }
  log(`starting the private Postgres cluster on port ${port} (log ${logFile})`);
  const start = run('pg_ctl', ['-D', pgDir, '-l', logFile, '-o', `-p ${port}`, '-w', '-t', String(POSTGRES_START_TIMEOUT_MS / 1000), 'start']);
  if (start.status !== 0) {
    throw new Error(`pg_ctl start failed (${start.status}): ${(start.stderr || start.stdout || String(start.error)).trim()}\n${tail(logFile)}`);
  }
  const pid = readPid(join(pgDir, 'postmaster.pid'));
  const proc = pid ? { service: 'postgres', how: `pg_ctl ${pgDir}`, pid, url: serverUrl(url) } : null;
  try {
    await waitForPostgres(url, POSTGRES_START_TIMEOUT_MS);
  } catch (err) {
    if (proc) await stopStarted([proc], { log: () => undefined });
    throw new Error(`${err.message}\n${tail(logFile)}`);
  }
  log(`private Postgres answers at ${redact(serverUrl(url))} (pid ${pid ?? '?'})`);
  return proc;
}

async function waitForPostgres(url, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    last = await probePostgres(url, 1000);
    if (last.state === 'up') return;
    if (last.state === 'refused') break;
    await sleep(200);
  }
  throw new Error(`Postgres did not answer at ${redact(serverUrl(url))} within ${timeoutMs / 1000}s${last?.error ? `: ${last.error.message}` : ''}`);
}

/** Creates the URL's database when it is missing (on the `postgres` maintenance database). */
async function ensureDatabase(url, log) {
  const name = databaseName(url);
  if (!name || name === 'postgres') return;
  const client = new pg.Client({ connectionString: adminUrl(url), connectionTimeoutMillis: 5000 });
  client.on('error', () => undefined);
  await client.connect();
  try {
    const { rowCount } = await client.query('select 1 from pg_database where datname = $1', [name]);
    if (rowCount) return;
    try {
      await client.query(`create database "${name.replace(/"/g, '""')}"`);
      log(`created database "${name}"`);
    } catch (err) {
      if (err.code !== '42P04') throw err; // created concurrently: fine
    }
  } finally {
    await client.end().catch(() => undefined);
  }
}

function databaseName(url) {
  return decodeURIComponent(new URL(url).pathname.replace(/^\//, ''));
}

/** The same server, `postgres` maintenance database. */
function adminUrl(url) {
  const u = new URL(url);
  u.pathname = '/postgres';
  return u.toString();
}

function serverUrl(url) {
  const u = new URL(url);
  u.pathname = '/';
  u.search = '';
  return u.toString().replace(/\/$/, '');
}

function postgresBinDir() {
  if (!existsSync('/usr/lib/postgresql')) return null;
  for (const version of readdirSync('/usr/lib/postgresql').sort(byVersionDesc)) {
    const bin = join('/usr/lib/postgresql', version, 'bin');
    if (existsSync(join(bin, 'initdb')) && existsSync(join(bin, 'pg_ctl'))) return bin;
  }
  return null;
}

// -------------------------------------------------------------------------------------- helpers

function findBinary(name, extraDirs = []) {
  const dirs = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), ...extraDirs];
  for (const dir of dirs) {
    const candidate = join(dir, name);
    if (existsSync(candidate)) return candidate;
  }
  return null;
}

function systemUser(name) {
  const uid = spawnSync('id', ['-u', name], { encoding: 'utf8' });
  const gid = spawnSync('id', ['-g', name], { encoding: 'utf8' });
  if (uid.status !== 0 || gid.status !== 0) return null;
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

function chownRecursive(dir, uid, gid) {
  chownSync(dir, uid, gid);
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) chownRecursive(path, uid, gid);
    else chownSync(path, uid, gid);
  }
}

function readPid(file) {
  try {
    const pid = Number(readFileSync(file, 'utf8').split('\n')[0].trim());
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
}

async function waitForExit(pid, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return true;
    await sleep(100);
  }
  return !isAlive(pid);
}

function tail(file, lines = 15) {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

function byVersionDesc(a, b) {
  return Number.parseFloat(b) - Number.parseFloat(a);
}

/** URLs may carry passwords; logs and errors never show them. */
function redact(url) {
  return String(url).replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1] && process.argv[2] === 'nats-config') {
  const [file, host, port, storeDir, bin = findBinary('nats-server', NATS_BIN_DIRS)] = process.argv.slice(3);
  if (!file || !host || !port || !storeDir || !bin) {
    console.error('usage: node scripts/infra.mjs nats-config <file> <host> <port> <storeDir> [nats-server binary]');
    process.exit(2);
  }
  const config = writePlainNatsConfig({ bin, host, port: Number(port), storeDir, file });
  console.error(`[infra] wrote ${file} for nats-server ${config.version}: ${config.durability.mode}, ${config.durability.detail}`);
  console.log(config.sync);
}
