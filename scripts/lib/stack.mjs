// Launches Conclave's services as child processes (for `npm start` and the bench), in one of two modes:
//   single (npm start's default): one process, `node services/stack/dist/main.js`, hosting every
//     service — each still its own Nest app, config, logger and NATS user (ADR 015);
//   separate: `node services/<name>/dist/main.js` per service (docker compose's shape).
// Stopping sends SIGTERM (graceful drain) and escalates to SIGKILL only after a grace period.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SERVICES = ['orchestrator', 'projector', 'llm-worker', 'judge', 'gateway'];
/** the single-process host's entry */
export const STACK_MAIN = join(ROOT, 'services', 'stack', 'dist', 'main.js');

/**
 * 'single' or 'separate': `--separate` / `--single` in argv, else CONCLAVE_PROCESSES
 * (`separate` | `single`), else single.
 */
export function processMode(argv = process.argv, env = process.env) {
  if (argv.includes('--separate')) return 'separate';
  if (argv.includes('--single')) return 'single';
  const value = (env.CONCLAVE_PROCESSES ?? '').trim();
  if (value === '' || value === 'single') return 'single';
  if (value === 'separate') return 'separate';
  throw new Error(`CONCLAVE_PROCESSES must be "single" or "separate" (got "${value}")`);
}

/**
 * The single process's environment for per-service variables: `{ 'llm-worker': { NATS_USER: 'x' } }`
 * becomes `{ LLM_WORKER__NATS_USER: 'x' }` (services/stack/src/hosted-env.ts reads them back).
 * @param {Record<string, Record<string, string>>} perService
 */
export function hostedServiceEnv(perService) {
  const env = {};
  for (const [service, vars] of Object.entries(perService)) {
    const prefix = `${service.toUpperCase().replace(/-/g, '_')}__`;
    for (const [key, value] of Object.entries(vars ?? {})) if (value !== undefined) env[`${prefix}${key}`] = value;
  }
  return env;
}

/** extra node flags for every service process, e.g. CONCLAVE_NODE_FLAGS="--cpu-prof --cpu-prof-dir=/tmp/prof" to profile a bench */
const NODE_FLAGS = (process.env.CONCLAVE_NODE_FLAGS ?? '').split(/\s+/).filter(Boolean);

function spawnNode(file, env, name, onLine) {
  const child = spawn(process.execPath, [...NODE_FLAGS, file], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  for (const stream of [child.stdout, child.stderr]) createInterface({ input: stream }).on('line', (line) => onLine(line, name));
  child.serviceName = name;
  return child;
}

/**
 * @param {string} name service folder name
 * @param {Record<string, string>} env extra environment
 * @param {(line: string, name: string) => void} onLine every output line (stdout and stderr)
 */
export function spawnService(name, env, onLine = () => {}) {
  return spawnNode(join(ROOT, 'services', name, 'dist', 'main.js'), env, name, onLine);
}

/**
 * One process hosting `services` (default: all five). Its `serviceName` is 'stack' and `services`
 * lists what it hosts; every log line carries its service's name in the JSON `service` field
 * (`serviceOfLine`).
 * @param {Record<string, string>} env the environment every hosted service shares
 * @param {Record<string, Record<string, string>>} [perService] variables for one service only (NATS_USER, NATS_PASSWORD, CONCLAVE_MASTER_KEY, HEALTH_PORT…)
 * @param {(line: string, name: string) => void} [onLine]
 * @param {{ services?: string[] }} [options]
 */
export function spawnStack(env, perService = {}, onLine = () => {}, { services = SERVICES } = {}) {
  const child = spawnNode(STACK_MAIN, { ...env, ...hostedServiceEnv(perService), CONCLAVE_SERVICES: services.join(',') }, 'stack', onLine);
  child.services = [...services];
  return child;
}

/**
 * Every service, as one process or one per service: the bench's and `npm start`'s entry.
 * @param {{ mode?: 'single' | 'separate', env: Record<string, string>, serviceEnv?: (name: string) => Record<string, string>, onLine?: (line: string, name: string) => void, services?: string[] }} options
 *   env: shared by every service; serviceEnv(name): that service's own (its NATS user, the gateway's master key…)
 * @returns {import('node:child_process').ChildProcess[]} one child (single) or one per service (separate)
 */
export function spawnServices({ mode = 'single', env, serviceEnv = () => ({}), onLine = () => {}, services = SERVICES }) {
  if (mode === 'single') return [spawnStack(env, Object.fromEntries(services.map((s) => [s, serviceEnv(s)])), onLine, { services })];
  return services.map((name) => spawnService(name, { ...env, ...serviceEnv(name) }, onLine));
}

/** The service a log line of the single process comes from (its JSON `service` field), else undefined. */
export function serviceOfLine(line) {
  if (!line.startsWith('{')) return undefined;
  try {
    const { service } = JSON.parse(line);
    return typeof service === 'string' ? service : undefined;
  } catch {
    return undefined;
  }
}

/** VmRSS of a process in KiB (Linux /proc), or null where it cannot be read. */
export async function residentKiB(pid) {
  try {
    const { readFile } = await import('node:fs/promises');
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(await readFile(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : null;
  } catch {
    return null;
  }
}

export function stopChildren(children, graceMs = 10_000) {
  return Promise.all(
    children.map(
      (child) =>
        new Promise((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve(child.exitCode);
          const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
          child.once('exit', (code) => {
            clearTimeout(timer);
            resolve(code);
          });
          child.kill('SIGTERM');
        }),
    ),
  );
}

export async function waitForHttp(url, timeoutMs = 30_000, headers = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url, { headers });
      if (res.ok) return;
      last = `HTTP ${res.status}`;
    } catch (err) {
      last = err.message;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${url} did not answer within ${timeoutMs} ms (${last})`);
}

/** Turn a pino JSON line into `hh:mm:ss level message {fields}` for a terminal. */
export function prettyLine(line) {
  let entry;
  try {
    entry = JSON.parse(line);
  } catch {
    return line;
  }
  const { time, level, msg, service: _s, pid: _p, instance: _i, context, ...rest } = entry;
  const clock = typeof time === 'string' ? time.slice(11, 19) : '';
  const fields = Object.keys(rest).length ? ` ${JSON.stringify(rest)}` : '';
  return `${clock} ${String(level).padEnd(5)} ${context ? `[${context}] ` : ''}${msg ?? ''}${fields}`;
}
