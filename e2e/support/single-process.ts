import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { ALL_SERVICES, freePort, REPO_ROOT, waitForOk, type TestEnv } from '@conclave/testing';

export interface SingleProcessStack {
  url: string;
  /** SIGTERM, resolved when the process has exited */
  stop(): Promise<void>;
}

/**
 * The five services in one process (services/stack, ADR 015) on a test env that set-up has
 * prepared (e.g. startStack first), each hosted service connecting as its own NATS user
 * (`<SERVICE>__NATS_USER`…, services/stack hosted-env); resolves once the gateway answers /health.
 * Its output goes to `<logDir>/stack.log`.
 */
export async function startSingleProcessStack(env: TestEnv, options: { logDir: string; extraEnv?: Record<string, string> }): Promise<SingleProcessStack> {
  const port = await freePort();
  const perService = Object.fromEntries(ALL_SERVICES.flatMap((s) => Object.entries(env.nats?.serviceEnv(s) ?? {}).map(([k, v]) => [`${s.toUpperCase().replace(/-/g, '_')}__${k}`, v])));
  const child = spawn(process.execPath, [join(REPO_ROOT, 'services', 'stack', 'dist', 'main.js')], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      ...env.serviceEnv,
      ...perService,
      PORT: String(port),
      HOST: '127.0.0.1',
      RATE_LIMIT_PER_MINUTE: '1000000',
      CONCLAVE_MASTER_KEY: randomBytes(32).toString('base64'),
      INSTANCE_ID: `stack-${env.id}`,
      ...options.extraEnv,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log = createWriteStream(join(options.logDir, 'stack.log'));
  child.stdout!.pipe(log);
  child.stderr!.pipe(log);
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((done) => child.once('exit', done));
    child.kill('SIGTERM');
    await exited;
  };
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitForOk(`${url}/api/v1/health`, 60_000);
  } catch (err) {
    await stop();
    throw err;
  }
  return { url, stop };
}
