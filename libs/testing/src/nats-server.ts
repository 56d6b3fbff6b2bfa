import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from '@nats-io/transport-node';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateNatsPasswords, natsServerConfig, natsServerEnv, renderNatsConfig, type NatsServerConfig } from '@conclave/event-log';
import type { NatsUser } from '@conclave/contracts';
import { freePort } from './stack';

/** A private nats-server with least-privilege auth (the generated config for one prefix). */
export interface AuthNats {
  url: string;
  pid: number;
  prefix: string;
  passwords: Record<NatsUser, string>;
  /** the binary's version and the durability its config gives (natsServerConfig) */
  config: Omit<NatsServerConfig, 'text'>;
  /** a service's NATS_USER / NATS_PASSWORD */
  serviceEnv(user: NatsUser): { NATS_USER: string; NATS_PASSWORD: string };
  /** stops the server (by its PID) and removes its folder */
  stop(): Promise<void>;
}

export const NATS_SERVER_BIN = ['/usr/sbin/nats-server', '/usr/local/sbin/nats-server', '/usr/local/bin/nats-server', '/usr/bin/nats-server'].find((p) => existsSync(p)) ?? 'nats-server';

/** Stops a server this process spawned (SIGTERM, SIGKILL after 5 s) and removes its folder. */
export async function stopServer(child: ChildProcess, dir: string): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      child.kill('SIGTERM');
    });
  }
  rmSync(dir, { recursive: true, force: true });
}

/**
 * Spawns nats-server on a free loopback port with `renderNatsConfig({ prefix })` and fresh random
 * passwords (given to the server through its environment), JetStream under a temporary folder,
 * `sync_interval: always` where the binary's version accepts it (natsServerConfig).
 */
export async function startAuthNats(prefix: string): Promise<AuthNats> {
  const dir = mkdtempSync(join(tmpdir(), 'conclave-nats-'));
  const port = await freePort();
  const config = join(dir, 'nats.conf');
  const rendered = natsServerConfig({ bin: NATS_SERVER_BIN, port, storeDir: join(dir, 'js'), render: (js) => renderNatsConfig({ prefix, host: '127.0.0.1', port, ...js }) });
  writeFileSync(config, rendered.text, { mode: 0o600 });
  const passwords = generateNatsPasswords();
  // CONCLAVE_TEST_NATS_LOG_DIR: keep the server's log (e.g. to look for "Permissions Violation")
  const logDir = process.env.CONCLAVE_TEST_NATS_LOG_DIR;
  const logArgs = logDir ? ['-l', join(logDir, `nats-${prefix}.log`)] : [];
  const child: ChildProcess = spawn(NATS_SERVER_BIN, ['-c', config, ...logArgs], { env: { ...natsServerEnv(passwords) }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const url = `nats://127.0.0.1:${port}`;
  const stop = () => stopServer(child, dir);
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      const nc = await connect({ servers: url, user: 'admin', pass: passwords.admin, timeout: 1000, reconnect: false });
      await nc.close();
      break;
    } catch (err) {
      if (child.exitCode !== null || Date.now() > deadline) {
        await stop();
        throw new Error(`nats-server with auth did not start on ${url}: ${(err as Error).message}\n${stderr}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    url,
    pid: child.pid!,
    prefix,
    passwords,
    config: { version: rendered.version, sync: rendered.sync, durability: rendered.durability },
    serviceEnv: (user) => ({ NATS_USER: user, NATS_PASSWORD: passwords[user] }),
    stop,
  };
}
