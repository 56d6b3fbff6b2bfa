// Launches Conclave's services as child processes (for `npm start` and the bench). Each service
// is `node services/<name>/dist/main.js`; stopping sends SIGTERM (graceful drain) and escalates
// to SIGKILL only after a grace period.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SERVICES = ['orchestrator', 'projector', 'llm-worker', 'judge', 'gateway'];

/**
 * @param {string} name service folder name
 * @param {Record<string, string>} env extra environment
 * @param {(line: string, name: string) => void} onLine every output line (stdout and stderr)
 */
export function spawnService(name, env, onLine = () => {}) {
  const child = spawn(process.execPath, [join(ROOT, 'services', name, 'dist', 'main.js')], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  for (const stream of [child.stdout, child.stderr]) createInterface({ input: stream }).on('line', (line) => onLine(line, name));
  child.serviceName = name;
  return child;
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
