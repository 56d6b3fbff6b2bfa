import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager, StorageType } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { EventLog, natsDurability, natsServerConfig, natsServerVersion, renderJetStreamBlock, supportsSyncAlways } from '@conclave/event-log';
import { freePort, NATS_SERVER_BIN, startAuthNats } from '@conclave/testing';

/**
 * The rendered config on the real nats-server of this machine (Debian's 2.9.10, which refuses
 * `sync_interval`): it starts, serves JetStream on file storage under the rendered store_dir, and
 * what the config says about durability is what a client concludes from the server's INFO.
 */
interface Running {
  child: ChildProcess;
  url: string;
  stderr: () => string;
}

async function startServer(configText: string, dir: string, port: number): Promise<Running> {
  const file = join(dir, `nats-${port}.conf`);
  writeFileSync(file, configText);
  const child = spawn(NATS_SERVER_BIN, ['-c', file], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const url = `nats://127.0.0.1:${port}`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      const nc = await connect({ servers: url, timeout: 500, reconnect: false });
      await nc.close();
      return { child, url, stderr: () => stderr };
    } catch (err) {
      if (child.exitCode !== null || Date.now() > deadline) {
        await stopServer(child);
        throw new Error(`nats-server did not start with ${file}: ${(err as Error).message}\n${stderr}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

async function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM'); // by the PID of the child this spec spawned
  });
}

describe('natsServerConfig on the real nats-server', () => {
  let dir: string;
  const running: ChildProcess[] = [];
  let nc: NatsConnection | undefined;

  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'nats-config-int-'))));
  afterAll(async () => {
    await nc?.close().catch(() => undefined);
    for (const child of running) await stopServer(child);
    rmSync(dir, { recursive: true, force: true });
  });

  it('starts with the rendered file, keeps a published message on file storage across a restart, and says the durability a client derives from its INFO', async () => {
    const port = await freePort();
    const storeDir = join(dir, 'js');
    const config = natsServerConfig({ bin: NATS_SERVER_BIN, host: '127.0.0.1', port, storeDir, maxFileStore: '1GB' });
    expect(config.version).toBe(natsServerVersion(NATS_SERVER_BIN));
    expect(/^\s*sync_interval: always$/m.test(config.text)).toBe(supportsSyncAlways(config.version));

    let server = await startServer(config.text, dir, port);
    running.push(server.child);
    nc = await connect({ servers: server.url });
    expect(nc.info?.version).toBe(config.version);
    expect(nc.info?.jetstream).toBe(true);
    // what the gateway concludes from the connection and the announcement infra sets
    expect(natsDurability({ serverVersion: nc.info?.version, announced: config.sync })).toEqual(config.durability);
    if (!supportsSyncAlways(config.version)) expect(config.durability.mode).toBe('interval');

    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: 'DURABLE', subjects: ['durable.>'], storage: StorageType.File });
    const js = jsm.jetstream();
    const ack = await js.publish('durable.one', 'kept');
    expect(ack.seq).toBe(1);
    await nc.close();
    nc = undefined;
    await stopServer(server.child);

    server = await startServer(config.text, dir, port);
    running.push(server.child);
    nc = await connect({ servers: server.url });
    const again = await jetstreamManager(nc);
    const stored = await again.streams.getMessage('DURABLE', { seq: 1 });
    expect(stored?.string()).toBe('kept');
    expect((await again.streams.info('DURABLE')).config.storage).toBe(StorageType.File);
    await nc.close();
    nc = undefined;
    await stopServer(server.child);
  }, 40_000);

  it('would not start with sync_interval: always exactly when the binary is older than 2.10 (why the version is detected)', async () => {
    const version = natsServerVersion(NATS_SERVER_BIN);
    const port = await freePort();
    const forced = [`port: ${port}`, 'host: "127.0.0.1"', ...renderJetStreamBlock({ storeDir: join(dir, 'forced'), syncAlways: true }), ''].join('\n');
    const started = await startServer(forced, dir, port).then(
      (server) => {
        running.push(server.child);
        return true;
      },
      (err: Error) => {
        expect(err.message).toMatch(/sync_interval/);
        return false;
      },
    );
    expect(started).toBe(supportsSyncAlways(version));
  }, 20_000);

  it('creates every stream and the transcripts store with CONCLAVE_STREAM_REPLICAS replicas (one server cannot hold 3)', async () => {
    const port = await freePort();
    const server = await startServer(natsServerConfig({ bin: NATS_SERVER_BIN, host: '127.0.0.1', port, storeDir: join(dir, 'replicas') }).text, dir, port);
    running.push(server.child);
    const log = await EventLog.connect({ servers: server.url, prefix: 'repl' });
    const saved = process.env.CONCLAVE_STREAM_REPLICAS;
    try {
      process.env.CONCLAVE_STREAM_REPLICAS = '3';
      await expect(log.ensureTopology()).rejects.toThrow(/replicas|resources|clustered/i);
      process.env.CONCLAVE_STREAM_REPLICAS = '1';
      await log.ensureTopology();
      const streams = await log.jsm.streams.list().next();
      expect(streams.length).toBeGreaterThanOrEqual(4); // events, commands, results, the transcripts store
      for (const stream of streams) expect(stream.config.num_replicas).toBe(1);
    } finally {
      if (saved === undefined) delete process.env.CONCLAVE_STREAM_REPLICAS;
      else process.env.CONCLAVE_STREAM_REPLICAS = saved;
      await log.destroyTopology().catch(() => undefined);
      await log.close();
      await stopServer(server.child);
    }
  }, 30_000);

  it("the tests' least-privilege servers use the same rendering", async () => {
    const nats = await startAuthNats(`cfg${Date.now().toString(36)}`);
    try {
      expect(nats.config.version).toBe(natsServerVersion(NATS_SERVER_BIN));
      expect(nats.config.sync).toBe(supportsSyncAlways(nats.config.version) ? 'always' : 'interval');
      const admin = await connect({ servers: nats.url, user: 'admin', pass: nats.passwords.admin });
      expect(admin.info?.jetstream).toBe(true);
      await admin.close();
    } finally {
      await nats.stop();
    }
  }, 20_000);
});
