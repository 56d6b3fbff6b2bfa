// The bench's own nats-server, with a monitoring port, so that every figure is measured on a
// server whose version, durability, CPU, memory and message counts are known.
//
// The config is the project's (natsServerConfig of @conclave/event-log, ADR 011): JetStream file
// storage in a temporary folder, `sync_interval: always` where the binary's version accepts it
// (2.10+), the server's default flush interval on Debian's 2.9.10, plus `http: 127.0.0.1:<port>`
// for /varz. Anonymous access on loopback only. stop() ends it by its PID and removes the folder.
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const require = createRequire(import.meta.url);
// the project's test helpers (built): a free port, the nats-server binary, stopping a spawned server
const { freePort, NATS_SERVER_BIN, stopServer } = require('@conclave/testing');
export { freePort };

/**
 * @returns {Promise<{ url: string, monitorUrl: string, pid: number, version: string, sync: 'always' | 'interval', durability: { mode: string, detail: string }, config: string, stop: () => Promise<void> }>}
 */
export async function startBenchNats({ bin = NATS_SERVER_BIN } = {}) {
  const { natsServerConfig } = require('@conclave/event-log');
  const dir = mkdtempSync(join(tmpdir(), 'conclave-bench-nats-'));
  const [port, httpPort] = [await freePort(), await freePort()];
  const rendered = natsServerConfig({
    bin,
    host: '127.0.0.1',
    port,
    storeDir: join(dir, 'js'),
    comment: ['nats-server of `npm run bench` (bench/lib/nats-stats.mjs): anonymous, loopback only, monitoring on /varz.'],
  });
  const config = `${rendered.text}\nhttp: "127.0.0.1:${httpPort}"\n`;
  const file = join(dir, 'nats.conf');
  writeFileSync(file, config, { mode: 0o600 });
  const child = spawn(bin, ['-c', file], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr = (stderr + d.toString()).slice(-4000)));
  const url = `nats://127.0.0.1:${port}`;
  const monitorUrl = `http://127.0.0.1:${httpPort}`;
  const stop = () => stopServer(child, dir);
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      await varz(monitorUrl);
      break;
    } catch (err) {
      if (child.exitCode !== null || Date.now() > deadline) {
        await stop();
        throw new Error(`the bench's nats-server did not start on ${url}: ${err.message}\n${stderr}`);
      }
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { url, monitorUrl, pid: child.pid, version: rendered.version, sync: rendered.sync, durability: rendered.durability, config, stop };
}

export async function varz(monitorUrl) {
  const res = await fetch(`${monitorUrl}/varz`);
  if (!res.ok) throw new Error(`/varz → HTTP ${res.status}`);
  return res.json();
}

/** NATS messages the server handled so far: in_msgs (published to it) + out_msgs (delivered by it) */
export async function natsMessages(monitorUrl) {
  const v = await varz(monitorUrl);
  return { in: v.in_msgs, out: v.out_msgs, total: v.in_msgs + v.out_msgs };
}

/**
 * JetStream writes so far: last_seq of every stream of the prefix (its own streams `<PREFIX>_…`
 * and the object/KV stores' `OBJ_<PREFIX>_…` / `KV_<PREFIX>_…`). A stream's last_seq counts every
 * message ever stored in it, including ones since deleted or rolled up, so deltas count writes.
 * @returns {Promise<{ total: number, streams: Record<string, number>, others: string[] }>}
 *   others: streams on the server that do not belong to the prefix (not counted)
 */
export async function jetStreamWrites(jsm, prefix) {
  const s = `${prefix.toUpperCase().replace(/-/g, '_')}_`;
  const ours = (name) => name.startsWith(s) || name.startsWith(`OBJ_${s}`) || name.startsWith(`KV_${s}`);
  const streams = {};
  const others = [];
  for await (const si of jsm.streams.list()) {
    if (ours(si.config.name)) streams[si.config.name] = si.state.last_seq;
    else others.push(si.config.name);
  }
  return { total: Object.values(streams).reduce((a, b) => a + b, 0), streams, others };
}
