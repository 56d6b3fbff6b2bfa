import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderNatsConfig } from './nats-auth';
import { natsDurability, natsServerConfig, natsServerVersion, parseNatsServerVersion, streamReplicas, supportsSyncAlways } from './nats-server-config';

/** a stand-in nats-server binary that only answers --version the way the real one does */
function fakeServer(dir: string, version: string): string {
  const bin = join(dir, `nats-server-${version}`);
  writeFileSync(bin, `#!/bin/sh\n[ "$1" = "--version" ] && echo "nats-server: v${version}" && exit 0\nexit 1\n`);
  chmodSync(bin, 0o755);
  return bin;
}

describe('nats-server config by version', () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'nats-bin-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads the version nats-server --version prints', () => {
    expect(parseNatsServerVersion('nats-server: v2.9.10\n')).toBe('2.9.10');
    expect(parseNatsServerVersion('nats-server: v2.12.0-RC.3')).toBe('2.12.0');
    expect(parseNatsServerVersion('command not found')).toBeNull();
    expect(natsServerVersion(fakeServer(dir, '2.11.4'))).toBe('2.11.4');
    expect(() => natsServerVersion(join(dir, 'missing'))).toThrow(/--version/);
  });

  it('compares versions numerically: sync_interval: always exists from 2.10.0', () => {
    expect(supportsSyncAlways('2.9.10')).toBe(false);
    expect(supportsSyncAlways('2.9.99')).toBe(false);
    expect(supportsSyncAlways('2.10.0')).toBe(true);
    expect(supportsSyncAlways('2.15.3')).toBe(true);
    expect(supportsSyncAlways('3.0.0')).toBe(true);
  });

  it('for 2.9.10 leaves sync_interval out and says writes are flushed within the interval', () => {
    const config = natsServerConfig({ bin: fakeServer(dir, '2.9.10'), host: '127.0.0.1', port: 4333, storeDir: '/var/x', maxFileStore: '1GB' });
    expect(config.version).toBe('2.9.10');
    expect(config.text).not.toMatch(/^\s*sync_interval/m);
    expect(config.text).toMatch(/^jetstream \{\n {2}store_dir: "\/var\/x"\n {2}max_file_store: 1GB\n\}$/m);
    expect(config.text).toContain('host: "127.0.0.1"');
    expect(config.text).toContain('port: 4333');
    expect(config.sync).toBe('interval');
    expect(config.durability).toEqual({
      mode: 'interval',
      serverVersion: '2.9.10',
      replicas: null,
      detail: expect.stringContaining("flushed to disk within the server's sync interval (2 min default on 2.9)"),
    });
    expect(config.text).toMatch(/^# Durability \(nats-server 2\.9\.10\): no sync_interval/m);
  });

  it('for 2.10 and later writes sync_interval: always and says every write is fsynced', () => {
    for (const version of ['2.10.0', '2.15.3']) {
      const config = natsServerConfig({ bin: fakeServer(dir, version), port: 4333, storeDir: '/var/x' });
      expect(config.text).toMatch(/^jetstream \{\n {2}store_dir: "\/var\/x"\n {2}sync_interval: always\n\}$/m);
      expect(config.sync).toBe('always');
      expect(config.durability.mode).toBe('fsync-per-message');
      expect(config.durability.serverVersion).toBe(version);
    }
  });

  it('puts the same jetstream block into the least-privilege config', () => {
    for (const [version, always] of [
      ['2.9.10', false],
      ['2.11.0', true],
    ] as const) {
      const config = natsServerConfig({ bin: fakeServer(dir, version), port: 4333, storeDir: '/s', render: (js) => renderNatsConfig({ prefix: 'p', port: 4333, ...js }) });
      expect(config.text.includes('  sync_interval: always\n')).toBe(always);
      expect(config.text).toContain('authorization {');
      expect(config.text).toContain('store_dir: "/s"');
    }
  });
});

describe('the durability a client can tell', () => {
  it('a 2.9 server flushes on its interval whatever the deployment announces', () => {
    expect(natsDurability({ serverVersion: '2.9.10', announced: 'always' }).mode).toBe('interval');
    expect(natsDurability({ serverVersion: '2.9.10' }).mode).toBe('interval');
  });

  it('a 2.10+ server is taken at the deployment’s word, and is unknown without one', () => {
    expect(natsDurability({ serverVersion: '2.15.3', announced: 'always', replicas: 3 })).toEqual({
      mode: 'fsync-per-message',
      detail: expect.stringContaining('fsynced before it is acknowledged'),
      serverVersion: '2.15.3',
      replicas: 3,
    });
    expect(natsDurability({ serverVersion: '2.15.3', announced: 'interval' }).mode).toBe('interval');
    expect(natsDurability({ serverVersion: '2.15.3' })).toEqual(expect.objectContaining({ mode: 'unknown', detail: expect.stringContaining('CONCLAVE_NATS_SYNC') }));
    expect(natsDurability({ serverVersion: '2.15.3', announced: 'sometimes' }).mode).toBe('unknown');
  });

  it('is unknown without a server version', () => {
    expect(natsDurability({ serverVersion: undefined, announced: 'always' })).toEqual(expect.objectContaining({ mode: 'unknown', serverVersion: null }));
  });
});

describe('stream replicas', () => {
  it('are 1 unless CONCLAVE_STREAM_REPLICAS says otherwise, and a bad value is refused', () => {
    expect(streamReplicas({})).toBe(1);
    expect(streamReplicas({ CONCLAVE_STREAM_REPLICAS: '' })).toBe(1);
    expect(streamReplicas({ CONCLAVE_STREAM_REPLICAS: '3' })).toBe(3);
    for (const bad of ['0', '6', '2.5', 'three']) expect(() => streamReplicas({ CONCLAVE_STREAM_REPLICAS: bad })).toThrow(/CONCLAVE_STREAM_REPLICAS/);
  });
});
