import { spawnSync } from 'node:child_process';
import type { NatsDurability } from '@conclave/contracts';

/**
 * nats-server configuration that says what it gives (ADR 011). `sync_interval: always` (fsync
 * every write before it is acknowledged) exists from nats-server 2.10; Debian's 2.9.10 refuses
 * the field ("unknown field"), so the version is detected (`nats-server --version`) and the field
 * written only where the server accepts it. Without it JetStream flushes its files on the server's
 * own interval (2 min by default): an acknowledged event may be lost on power failure or a host
 * crash (not on a crash of nats-server alone: the OS still holds the writes).
 */
export const SYNC_ALWAYS_SINCE = '2.10.0';

/** What infra writes into CONCLAVE_NATS_SYNC for the gateway: the sync policy of the config it rendered. */
export type NatsSyncAnnouncement = 'always' | 'interval';

export const DURABILITY_DETAIL = {
  fsync: 'every write is fsynced before it is acknowledged (sync_interval: always)',
  interval:
    "flushed to disk within the server's sync interval (2 min default on 2.9): an acknowledged event may be lost on power failure or a host crash",
  unknown: "nats-server >= 2.10 can fsync per message, but this deployment does not say whether it is configured to (set CONCLAVE_NATS_SYNC to 'always' or 'interval')",
} as const;

/** "nats-server: v2.9.10" (or "v2.11.4", "2.12.0-RC.1") → "2.9.10"; null when no version is found. */
export function parseNatsServerVersion(text: string): string | null {
  return /\bv?(\d+\.\d+\.\d+)/.exec(text)?.[1] ?? null;
}

/** numeric comparison of dotted versions: < 0, 0, > 0 */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map((n) => Number.parseInt(n, 10) || 0);
  const pb = b.split('.').map((n) => Number.parseInt(n, 10) || 0);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

export function supportsSyncAlways(version: string): boolean {
  return compareVersions(version, SYNC_ALWAYS_SINCE) >= 0;
}

/** The binary's version from `<bin> --version`; throws when it does not run or names none. */
export function natsServerVersion(bin: string): string {
  const res = spawnSync(bin, ['--version'], { encoding: 'utf8', timeout: 10_000 });
  if (res.error) throw new Error(`could not run ${bin} --version: ${res.error.message}`);
  const version = parseNatsServerVersion(`${res.stdout ?? ''}\n${res.stderr ?? ''}`);
  if (!version) throw new Error(`${bin} --version named no version: ${(res.stdout || res.stderr || '').trim()}`);
  return version;
}

/**
 * The durability of a NATS as far as its clients can tell: the server's version (its INFO, e.g.
 * `nc.info.version`) and what the deployment announces (CONCLAVE_NATS_SYNC). A 2.9 server cannot
 * fsync per message whatever anyone announces; a newer one is taken at the deployment's word, and
 * without one it is `unknown` rather than a guess.
 */
export function natsDurability(input: { serverVersion: string | null | undefined; announced?: string | null; replicas?: number | null }): NatsDurability {
  const serverVersion = input.serverVersion ? (parseNatsServerVersion(input.serverVersion) ?? input.serverVersion) : null;
  const replicas = input.replicas ?? null;
  const versioned = (mode: NatsDurability['mode'], detail: string): NatsDurability => ({ mode, detail, serverVersion, replicas });
  if (!serverVersion || !/^\d+\.\d+\.\d+$/.test(serverVersion)) return versioned('unknown', 'the NATS server version is not known (not connected)');
  if (!supportsSyncAlways(serverVersion)) return versioned('interval', `nats-server ${serverVersion} cannot fsync per message: ${DURABILITY_DETAIL.interval}`);
  if (input.announced === 'always') return versioned('fsync-per-message', `nats-server ${serverVersion}: ${DURABILITY_DETAIL.fsync}`);
  if (input.announced === 'interval') return versioned('interval', `nats-server ${serverVersion}: ${DURABILITY_DETAIL.interval.replace(' (2 min default on 2.9)', ' (sync_interval, 2 min by default)')}`);
  return versioned('unknown', DURABILITY_DETAIL.unknown);
}

export interface JetStreamOptions {
  storeDir: string;
  /** writes `sync_interval: always` (the caller decides by version: supportsSyncAlways) */
  syncAlways?: boolean;
  maxFileStore?: string;
  maxMemoryStore?: string;
}

/** The `jetstream { … }` block: file storage under storeDir, fsync per message when syncAlways. */
export function renderJetStreamBlock(o: JetStreamOptions): string[] {
  return [
    'jetstream {',
    `  store_dir: ${JSON.stringify(o.storeDir)}`,
    ...(o.syncAlways ? ['  sync_interval: always'] : []),
    ...(o.maxFileStore ? [`  max_file_store: ${o.maxFileStore}`] : []),
    ...(o.maxMemoryStore ? [`  max_memory_store: ${o.maxMemoryStore}`] : []),
    '}',
  ];
}

export interface NatsServerConfigOptions extends Omit<JetStreamOptions, 'syncAlways'> {
  /** the nats-server binary the config is for (its version decides sync_interval) */
  bin: string;
  /** the binary's version when already known (skips running `<bin> --version`) */
  version?: string;
  host?: string;
  port: number;
  /** comment lines written at the top */
  comment?: string[];
  /**
   * the rest of the config after the jetstream block (e.g. the least-privilege `authorization`
   * of renderNatsConfig); omitted: none (anonymous access)
   */
  render?: (jetstream: JetStreamOptions) => string;
}

export interface NatsServerConfig {
  text: string;
  version: string;
  /** what CONCLAVE_NATS_SYNC should say to the services about this server */
  sync: NatsSyncAnnouncement;
  durability: NatsDurability;
}

/**
 * The config a nats-server binary accepts, with the strongest durability it offers: detects the
 * version (`<bin> --version`), writes `sync_interval: always` from 2.10 on and leaves it out on
 * 2.9 (which refuses it), and says which durability that gives.
 */
export function natsServerConfig(o: NatsServerConfigOptions): NatsServerConfig {
  const version = o.version ?? natsServerVersion(o.bin);
  const syncAlways = supportsSyncAlways(version);
  const jetstream: JetStreamOptions = { storeDir: o.storeDir, syncAlways, maxFileStore: o.maxFileStore, maxMemoryStore: o.maxMemoryStore };
  const sync: NatsSyncAnnouncement = syncAlways ? 'always' : 'interval';
  const durabilityLine = `# Durability (nats-server ${version}): ${syncAlways ? DURABILITY_DETAIL.fsync : `no sync_interval (2.9 refuses it): ${DURABILITY_DETAIL.interval}`}.`;
  const text = o.render
    ? `${durabilityLine}\n${o.render(jetstream)}`
    : [
        ...(o.comment ?? []).map((c) => (c ? `# ${c}` : '#')),
        durabilityLine,
        ...(o.host ? [`host: ${JSON.stringify(o.host)}`] : []),
        `port: ${o.port}`,
        '',
        ...renderJetStreamBlock(jetstream),
        '',
      ].join('\n');
  return { text, version, sync, durability: natsDurability({ serverVersion: version, announced: sync }) };
}

/**
 * Replicas of every stream and object store setup creates (`num_replicas`): CONCLAVE_STREAM_REPLICAS,
 * default 1 (a single server). docker compose's three-node cluster sets 3: a write is acknowledged
 * once a majority of the replicas has it. Every process that may create a stream must see the same
 * value, or an update would change the replica count back.
 */
export function streamReplicas(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.CONCLAVE_STREAM_REPLICAS;
  if (raw === undefined || raw === '') return 1;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 5) throw new Error(`CONCLAVE_STREAM_REPLICAS must be an integer from 1 to 5 (JetStream's limit), not "${raw}"`);
  return n;
}
