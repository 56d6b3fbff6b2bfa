import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import type { TestEnv } from './test-env';

export const REPO_ROOT = resolve(__dirname, '..', '..', '..');
export const ALL_SERVICES = ['orchestrator', 'projector', 'llm-worker', 'judge', 'gateway'] as const;
export type ServiceName = (typeof ALL_SERVICES)[number];

export interface Stack {
  url: string;
  port: number;
  processes: Map<string, ChildProcess>;
  logDir: string;
  /** start one more process of a service (e.g. a second llm-worker) */
  spawn(service: ServiceName, extraEnv?: Record<string, string>): ChildProcess;
  /** SIGTERM every process; resolves with each one's exit code (null when killed by a signal) */
  stop(graceMs?: number): Promise<Record<string, number | null>>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePort(port));
    });
  });
}

/**
 * The whole system as child processes (built `dist/` of every service) on a test env's private
 * prefix and database, after `scripts/setup.mjs` (migrations, streams, seeded templates).
 * Logs go to test-output/<label>/<service>.log.
 */
export async function startStack(env: TestEnv, options: { label?: string; services?: readonly ServiceName[]; extraEnv?: Record<string, string> } = {}): Promise<Stack> {
  const port = await freePort();
  const logDir = join(REPO_ROOT, 'test-output', options.label ?? env.id);
  mkdirSync(logDir, { recursive: true });
  // tests poll the API from one address far faster than a person: the per-IP rate limit is lifted
  const baseEnv = {
    ...process.env,
    ...env.serviceEnv,
    PORT: String(port),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
    RATE_LIMIT_PER_MINUTE: '1000000',
    CONCLAVE_MASTER_KEY: randomBytes(32).toString('base64'), // a throwaway key: providers with API keys work in e2e
    ...options.extraEnv,
  };
  const setup = spawnSync(process.execPath, [join(REPO_ROOT, 'scripts', 'setup.mjs')], { cwd: REPO_ROOT, env: baseEnv, encoding: 'utf8' });
  if (setup.status !== 0) throw new Error(`setup failed (exit ${setup.status}):\n${setup.stdout}\n${setup.stderr}`);

  const processes = new Map<string, ChildProcess>();
  let counter = 0;
  const spawnOne = (service: ServiceName, extraEnv: Record<string, string> = {}) => {
    const name = processes.has(service) ? `${service}-${++counter}` : service;
    const child = spawn(process.execPath, [join(REPO_ROOT, 'services', service, 'dist', 'main.js')], {
      cwd: REPO_ROOT,
      // under least-privilege NATS each service connects as its own user (setup above: the admin)
      env: { ...baseEnv, ...env.nats?.serviceEnv(service), INSTANCE_ID: `${name}-${env.id}`, ...extraEnv },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const log = createWriteStream(join(logDir, `${name}.log`));
    child.stdout!.pipe(log);
    child.stderr!.pipe(log);
    processes.set(name, child);
    return child;
  };
  for (const service of options.services ?? ALL_SERVICES) spawnOne(service);

  const stack: Stack = {
    url: `http://127.0.0.1:${port}`,
    port,
    processes,
    logDir,
    spawn: spawnOne,
    async stop(graceMs = 15_000) {
      const codes: Record<string, number | null> = {};
      await Promise.all(
        [...processes].map(
          ([name, child]) =>
            new Promise<void>((done) => {
              if (child.exitCode !== null || child.signalCode !== null) {
                codes[name] = child.exitCode;
                return done();
              }
              const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
              child.once('exit', (code) => {
                clearTimeout(timer);
                codes[name] = code;
                done();
              });
              child.kill('SIGTERM');
            }),
        ),
      );
      return codes;
    },
  };
  if ((options.services ?? ALL_SERVICES).includes('gateway')) {
    try {
      await waitForOk(`${stack.url}/api/v1/health`, 45_000);
    } catch (err) {
      await stack.stop();
      throw new Error(`${(err as Error).message}; see logs in ${logDir}`);
    }
  }
  return stack;
}

export async function waitForOk(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url);
      if (res.ok) return;
      last = `HTTP ${res.status}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${url} did not answer within ${timeoutMs} ms (${last})`);
}
