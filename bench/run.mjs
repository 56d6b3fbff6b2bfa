// `npm run bench [-- --sequential N --levels 1,8,32,64 --warmup N --workers N --separate --apart S[,S] --threads S[,S] --json-out FILE]`
// (issue 12): what a user compares with an in-process workflow library, measured through the
// whole stack (the services in one process as `npm start` runs them, or five with --separate;
// NATS, Postgres) on a 3-phase × (2 candidates + judge)
// template with the simulated provider at 0 ms. After a warm-up it measures:
//   - overhead per phase, one run at a time: run wall-time (POST /runs → RunCompleted on the
//     socket) / 3, p50 and p99 over --sequential runs (default 100);
//   - phases/s at each concurrency level, closed loop (C runs kept in flight until
//     --runs-per-level runs, default max(3·C, 50), have finished);
//   - CPU ms per run of every process involved: each service (with its children), the bench's own
//     nats-server, the Postgres cluster (the bench database's backends and the shared processes);
//     the bench client and its own Postgres backend are shown apart and not in the total;
//   - resident memory (VmRSS) of each service process idle and under the highest level;
//   - per run: events (socket and read model), JetStream writes (last_seq deltas of the prefix's
//     streams) and NATS messages (in + out of /varz);
//   - event→socket latency and projector lag (events behind the socket, age of the oldest
//     unprojected event, catch-up after the last run) at every level; the issue reads them at 32.
// Nothing here reads event sequence numbers: completion is RunCompleted / RunFailed on the socket,
// events are counted on the socket and in the read model's timeline.
// The NATS is the bench's own nats-server (monitoring port, durability as its config gives it,
// ADR 011); Postgres is the machine's, on a private database. Both are removed afterwards.
// Prints one table, then `BENCH_JSON {...}`. Needs `npm run build` first.
import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { io } from 'socket.io-client';
import { openBenchEnv } from '../scripts/lib/bench-env.mjs';
import { ROOT, SERVICES, spawnService, stopChildren, waitForHttp } from '../scripts/lib/stack.mjs';
import { freePort, jetStreamWrites, natsMessages, startBenchNats } from './lib/nats-stats.mjs';
import { CLK_TCK, CpuTracker, postgresProcesses, procStat, rssBytes, withDescendants } from './lib/proc-stats.mjs';

const require = createRequire(import.meta.url);
const { values } = parseArgs({
  options: {
    sequential: { type: 'string', default: '100' },
    levels: { type: 'string', default: '1,8,32,64' },
    'runs-per-level': { type: 'string' },
    // a long-lived service is measured warm: 300 runs let V8 optimise the hot paths (30 measured the
    // first seconds after boot: ~2 ms more per phase one at a time)
    warmup: { type: 'string', default: '300' },
    workers: { type: 'string' },
    single: { type: 'boolean', default: false },
    separate: { type: 'boolean', default: false },
    // services the single process does not host: each runs in its own process beside it
    apart: { type: 'string' },
    // services the single process runs in worker threads of its own (CONCLAVE_THREADS)
    threads: { type: 'string' },
    port: { type: 'string' },
    'run-timeout': { type: 'string', default: '60' },
    'json-out': { type: 'string' },
  },
});
const SEQUENTIAL = Number(values.sequential);
const LEVELS = values.levels.split(',').map(Number).filter((n) => n > 0);
const runsAt = (c) => (values['runs-per-level'] ? Number(values['runs-per-level']) : Math.max(3 * c, 50));
const WARMUP = Number(values.warmup);
// every service in one process (services/stack, ADR 015) as `npm start` runs it, plus WORKERS − 1
// llm-worker replicas beside it; --separate: one process per service, as docker compose runs them
// (--single is still accepted: it is the default)
if (values.single && values.separate) {
  console.error('bench: --single and --separate exclude each other');
  process.exit(2);
}
const SINGLE = !values.separate;
const APART = (values.apart ?? '').split(',').filter(Boolean);
const unknownApart = APART.filter((s) => !SERVICES.includes(s) || s === 'llm-worker');
if (unknownApart.length > 0 || (APART.length > 0 && !SINGLE)) {
  console.error(`bench: --apart takes services the single process need not host (${SERVICES.filter((s) => s !== 'llm-worker').join(', ')}; llm-workers beside it: --workers), and not with --separate`);
  process.exit(2);
}
// unset: the stack's default (the projector in a thread of its own, if hosted); `none`: one thread
const THREADS = (values.threads ?? '').split(',').filter(Boolean);
if (THREADS.some((s) => s !== 'none' && (!SERVICES.includes(s) || APART.includes(s))) || (THREADS.length > 0 && !SINGLE)) {
  console.error(`bench: --threads takes services the single process hosts (${SERVICES.join(', ')}; not one --apart) or none, and not with --separate`);
  process.exit(2);
}
const THREADED = values.threads === undefined ? (APART.includes('projector') ? [] : ['projector']) : THREADS.filter((s) => s !== 'none');
const WORKERS = Number(values.workers ?? (SINGLE ? 1 : 2));
const RUN_TIMEOUT_MS = Number(values['run-timeout']) * 1000;
const PHASES = 3;
const LAG_LEVEL = LEVELS.includes(32) ? 32 : LEVELS[LEVELS.length - 1];
const MEM_LEVEL = Math.max(...LEVELS);
if (!existsSync(join(ROOT, 'services', SINGLE ? 'stack' : 'gateway', 'dist', 'main.js'))) {
  console.error(`bench: build first (npm run build)${SINGLE ? '; --single needs services/stack' : ''}`);
  process.exit(1);
}
if (!existsSync('/proc/self/stat')) {
  console.error('bench: CPU and memory are read from /proc (Linux only)');
  process.exit(1);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const pct = (xs, p) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] : NaN;
};
const say = (m) => console.error(`[bench] ${m}`);
const git = (...args) => {
  try {
    return execFileSync('git', ['-C', ROOT, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return '';
  }
};

const loadBefore = loadavg();
const nats = await startBenchNats();
say(`own nats-server ${nats.version} (pid ${nats.pid}) at ${nats.url}, monitoring ${nats.monitorUrl}`);
// openBenchEnv keeps a NATS that answers at NATS_URL: ours
process.env.NATS_URL = nats.url;
process.env.CONCLAVE_NATS_SYNC = nats.sync;
let bench;
const children = [];
let socket;
let nc;
let cleaning = null;
const cleanup = () =>
  (cleaning ??= (async () => {
    socket?.close();
    await stopChildren(children);
    await nc?.close().catch(() => undefined);
    await bench?.close();
    await nats.stop();
  })());
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    say(`${signal}: stopping`);
    cleanup().finally(() => process.exit(130));
  });
}
// never leave the services, the nats-server or the database behind
process.once('unhandledRejection', (err) => {
  console.error('bench: unhandled rejection', err);
  cleanup().finally(() => process.exit(1));
});
// a free port unless --port: a gateway of another stack on a fixed port would take our runs
const PORT = values.port ? Number(values.port) : await freePort();

let report;
try {
  bench = await openBenchEnv('bench');
  const { id, prefix, db } = bench;
  const dbName = new URL(bench.env.DATABASE_URL).pathname.slice(1);
  // the bench drives hundreds of requests per second from one address: lift the per-IP rate limit
  const env = { ...bench.env, CONCLAVE_NATS_SYNC: nats.sync, PORT: String(PORT), LOG_LEVEL: 'warn', RATE_LIMIT_PER_MINUTE: '1000000' };
  const errors = [];
  const plan = SINGLE ? [['stack', 1], ...APART.map((name) => [name, 1]), ['llm-worker', WORKERS - 1]] : SERVICES.map((name) => [name, name === 'llm-worker' ? WORKERS : 1]);
  // the single process hosts what is not --apart
  const hosted = { ...(APART.length > 0 ? { CONCLAVE_SERVICES: SERVICES.filter((s) => !APART.includes(s)).join(',') } : {}), CONCLAVE_THREADS: THREADS.join(',') };
  for (const [name, copies] of plan) {
    for (let i = 0; i < copies; i++) {
      const child = spawnService(name, { ...env, ...(name === 'stack' ? hosted : {}), INSTANCE_ID: `${name}-${i}-${id}` }, (line) => {
        if (!line.includes('"level":"error"') && !line.includes('"level":50')) return;
        errors.push(`${name}: ${line}`);
        console.error(`${name}: ${line}`);
      });
      child.label = copies > 1 ? `${name}#${i + 1}` : name;
      child.once('exit', (code, signal) => cleaning || errors.push(`${child.label} exited (${signal ?? code})`));
      children.push(child);
    }
  }

  // what every figure was measured with
  const setting = async (name) => (await db.query(`SHOW ${name}`)).rows[0][name];
  const pgSettings = { version: await setting('server_version'), fsync: await setting('fsync'), synchronous_commit: await setting('synchronous_commit') };
  const ownBackendPid = (await db.query('select pg_backend_pid() as pid')).rows[0].pid;
  const postmasterPid = procStat(ownBackendPid)?.ppid;
  if (!postmasterPid) throw new Error(`cannot see the Postgres backend ${ownBackendPid} in /proc (is Postgres on another machine or in a container?)`);
  const { connect } = require('@nats-io/transport-node');
  const { jetstreamManager } = require('@nats-io/jetstream');
  nc = await connect({ servers: nats.url, name: 'bench-stats' });
  const jsm = await jetstreamManager(nc);

  const SERVICE_GROUPS = [...new Set(children.map((c) => c.serviceName))];
  const groupsOf = (all) => {
    const m = new Map();
    for (const c of children) for (const pid of withDescendants(c.pid, all)) m.set(pid, c.serviceName);
    m.set(nats.pid, 'nats-server');
    const pgp = postgresProcesses(postmasterPid, all, { dbName, ownBackendPid });
    for (const pid of pgp.bench) m.set(pid, 'postgres');
    for (const pid of pgp.other) m.set(pid, 'postgres, other databases');
    for (const pid of pgp.own) m.set(pid, 'bench client');
    m.set(process.pid, 'bench client');
    return m;
  };
  const tracker = new CpuTracker(groupsOf);
  const IN_TOTAL = ['nats-server', 'postgres', ...SERVICE_GROUPS];
  const rssNow = () => {
    const all = tracker.sample();
    const out = {};
    for (const c of children) out[c.label] = withDescendants(c.pid, all).reduce((a, pid) => a + (rssBytes(pid) ?? 0), 0);
    out['nats-server'] = rssBytes(nats.pid) ?? 0;
    out.postgres = postgresProcesses(postmasterPid, all, { dbName, ownBackendPid }).bench.reduce((a, pid) => a + (rssBytes(pid) ?? 0), 0);
    out.services = children.reduce((a, c) => a + out[c.label], 0);
    return out;
  };

  const base = `http://127.0.0.1:${PORT}`;
  await waitForHttp(`${base}/api/v1/health`, 90_000);
  const checkAlive = () => {
    const dead = children.filter((c) => c.exitCode !== null || c.signalCode !== null);
    if (dead.length) throw new Error(`${dead.map((c) => c.label).join(', ')} exited: ${errors.slice(-3).join(' | ')}`);
  };
  checkAlive();
  const post = async (path, body) => {
    const res = await fetch(`${base}/api/v1${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    if (res.status !== 201) throw new Error(`POST ${path} → ${res.status} ${(await res.text()).slice(0, 300)}`);
    return res.json();
  };
  const sim = (model) => ({ provider: 'simulated', model, options: { latencyMs: 0 } });
  const phase = (pid, dependsOn) => ({ id: pid, kind: 'llm', dependsOn, prompt: { user: `${pid} for {{inputs.n}}` }, candidates: [sim('a'), sim('b')], judge: { provider: 'simulated', model: 'j' } });
  const template = await post('/templates', {
    name: 'bench-3x2',
    inputs: { type: 'object', properties: { n: { type: 'integer' } } },
    phases: [phase('one', []), phase('two', ['one']), phase('three', ['two'])],
  });

  // ---- the socket: completion, events per run, event→socket latency
  socket = io(base, { transports: ['websocket'] });
  await new Promise((resolve, reject) => (socket.once('connect', resolve), socket.once('connect_error', reject)));
  await socket.timeout(5000).emitWithAck('subscribe', { room: 'runs' });
  let disconnects = 0;
  socket.on('disconnect', () => (disconnects += 1));
  const runs = new Map();
  const runEntry = (runId) => {
    let r = runs.get(runId);
    if (!r) runs.set(runId, (r = { events: 0, doneAt: null, failed: null, waiter: null }));
    return r;
  };
  /** the level being measured: runs seen, events received (and when), latencies */
  let level = null;
  socket.on('event', (e) => {
    if (!e.runId) return;
    const now = performance.now();
    const r = runEntry(e.runId);
    r.events += 1;
    if (level) {
      level.runIds.add(e.runId);
      level.recv.push(now);
      level.latency.push(Date.now() - Date.parse(e.occurredAt));
    }
    if ((e.type === 'RunCompleted' || e.type === 'RunFailed') && r.doneAt === null) {
      r.doneAt = now;
      if (e.type === 'RunFailed') r.failed = e.data ?? {};
      r.waiter?.();
    }
  });

  let n = 0;
  const oneRun = async () => {
    const t0 = performance.now();
    let runId;
    try {
      runId = (await post('/runs', { templateId: template.id, inputs: { n: n++ } })).id;
    } catch (err) {
      return { ok: false, error: err.message };
    }
    level?.runIds.add(runId);
    const r = runEntry(runId);
    if (r.doneAt === null) {
      let timer;
      await new Promise((resolve) => {
        r.waiter = resolve;
        timer = setTimeout(resolve, RUN_TIMEOUT_MS);
      });
      clearTimeout(timer);
    }
    if (r.doneAt === null) return { ok: false, runId, error: `no RunCompleted within ${RUN_TIMEOUT_MS / 1000} s` };
    if (r.failed) return { ok: false, runId, wallMs: r.doneAt - t0, doneAt: r.doneAt, error: `RunFailed ${JSON.stringify(r.failed).slice(0, 300)}` };
    return { ok: true, runId, wallMs: r.doneAt - t0, doneAt: r.doneAt };
  };
  /** closed loop: `concurrency` runs in flight until `total` have been started and finished */
  const closedLoop = async (concurrency, total) => {
    const results = [];
    let started = 0;
    const lane = async () => {
      while (started < total) {
        started += 1;
        results.push(await oneRun());
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, total) }, lane));
    return results;
  };
  const projected = async (runIds) => (await db.query('select count(*)::int as n from timeline_events where run_id = any($1::text[])', [[...runIds]])).rows[0].n;

  /** one measured window: CPU, JetStream writes, NATS messages, lag and (memory) RSS around a closed loop */
  const measure = async (label, concurrency, total, { memory = false } = {}) => {
    checkAlive();
    say(`${label}: ${total} runs, ${concurrency} in flight`);
    await sleep(500); // let the previous window's stragglers (acks, checkpoints) settle
    const cpuMark = tracker.mark();
    const [js0, msgs0] = await Promise.all([jetStreamWrites(jsm, prefix), natsMessages(nats.monitorUrl)]);
    level = { runIds: new Set(), recv: [], latency: [] };
    const lv = level;
    const lag = { events: [], ms: [] };
    const rss = { peak: {}, peakTotal: 0 };
    let sampling = true;
    const lagSampler = (async () => {
      while (sampling) {
        const ids = [...lv.runIds];
        const received = lv.recv.length;
        const rows = ids.length ? await projected(ids).catch(() => null) : 0;
        const now = performance.now();
        if (rows !== null) {
          lag.events.push(Math.max(0, received - rows));
          // the age of the oldest event the socket has shown and the read model does not hold yet
          // (both follow the log's order, so the projected events are a prefix of the received ones)
          lag.ms.push(rows < received ? now - lv.recv[rows] : 0);
        }
        await sleep(100);
      }
    })();
    const procSampler = (async () => {
      while (sampling) {
        if (memory) {
          const now = rssNow();
          for (const [k, v] of Object.entries(now)) rss.peak[k] = Math.max(rss.peak[k] ?? 0, v);
          rss.peakTotal = Math.max(rss.peakTotal, now.services);
        } else tracker.sample();
        await sleep(500);
      }
    })();
    const t0 = performance.now();
    const results = await closedLoop(concurrency, total);
    const finished = results.filter((r) => r.doneAt);
    const lastDone = finished.length ? Math.max(...finished.map((r) => r.doneAt)) : performance.now();
    const elapsedS = (lastDone - t0) / 1000;
    // the read model catches up: timeline rows of the level's runs reach the events the socket saw
    let caughtUp = false;
    const catchDeadline = performance.now() + 30_000;
    while (performance.now() < catchDeadline) {
      if ((await projected(lv.runIds)) >= lv.recv.length) {
        caughtUp = true;
        break;
      }
      await sleep(5);
    }
    const catchUpMs = performance.now() - lastDone;
    sampling = false;
    await Promise.all([lagSampler, procSampler]);
    level = null;
    const atEnd = memory ? rssNow() : null;
    const cpu = tracker.since(cpuMark);
    const [js1, msgs1] = await Promise.all([jetStreamWrites(jsm, prefix), natsMessages(nats.monitorUrl)]);
    const rmEvents = await projected(lv.runIds);

    const ok = results.filter((r) => r.ok);
    const failed = results.filter((r) => !r.ok);
    const counted = finished.length || 1; // runs that reached RunCompleted / RunFailed
    const wall = ok.map((r) => r.wallMs);
    const cpuPerRun = Object.fromEntries(Object.entries(cpu).map(([g, ms]) => [g, ms / counted]));
    const streams = {};
    for (const [name, seq] of Object.entries(js1.streams)) streams[name] = (seq - (js0.streams[name] ?? 0)) / counted;
    return {
      label,
      concurrency,
      runs: results.length,
      ok: ok.length,
      failed: failed.length,
      failures: failed.slice(0, 5).map((r) => `${r.runId ?? '(no run)'}: ${r.error}`),
      elapsedS,
      phasesPerS: (PHASES * ok.length) / elapsedS,
      runsPerS: ok.length / elapsedS,
      wallMs: { p50: pct(wall, 50), p99: pct(wall, 99) },
      phaseOverheadMs: { p50: pct(wall, 50) / PHASES, p99: pct(wall, 99) / PHASES },
      cpuMsPerRun: { total: IN_TOTAL.reduce((a, g) => a + (cpuPerRun[g] ?? 0), 0), ...cpuPerRun },
      eventsPerRun: { socket: lv.recv.length / counted, readModel: rmEvents / counted },
      jetStreamWritesPerRun: { total: (js1.total - js0.total) / counted, streams },
      natsMessagesPerRun: { total: (msgs1.total - msgs0.total) / counted, in: (msgs1.in - msgs0.in) / counted, out: (msgs1.out - msgs0.out) / counted },
      eventToSocketMs: { p50: pct(lv.latency, 50), p99: pct(lv.latency, 99), events: lv.latency.length },
      projectorLag: { maxEvents: Math.max(0, ...lag.events), p50Events: pct(lag.events, 50), p99Ms: pct(lag.ms, 99), maxMs: Math.max(0, ...lag.ms), catchUpMs, caughtUp, samples: lag.events.length },
      ...(memory ? { rss: { peak: rss.peak, peakServicesTotal: rss.peakTotal, atEnd } } : {}),
      otherStreams: js1.others,
    };
  };

  // ---- idle memory, warm-up, then the measured windows
  await sleep(2000);
  const idle = rssNow();
  if (WARMUP > 0) {
    say(`warm-up: ${WARMUP} runs, 8 in flight`);
    const warm = await closedLoop(8, WARMUP);
    const bad = warm.filter((r) => !r.ok);
    if (bad.length) say(`warm-up: ${bad.length} run(s) did not complete: ${bad.slice(0, 3).map((r) => r.error).join('; ')}`);
  }
  const windows = [];
  if (SEQUENTIAL > 0) windows.push(await measure(`sequential`, 1, SEQUENTIAL));
  for (const c of LEVELS) windows.push(await measure(`c=${c}`, c, runsAt(c), { memory: c === MEM_LEVEL }));
  const loadAfter = loadavg();

  // ---- the report
  const commit = git('rev-parse', '--short', 'HEAD');
  const dirty = git('status', '--porcelain', '--', 'services', 'libs', 'scripts') !== '';
  const header = {
    date: new Date().toISOString(),
    commit: `${commit}${dirty ? ' + uncommitted changes' : ''}`,
    node: process.version,
    cpus: `${cpus().length} × ${cpus()[0]?.model ?? '?'}`,
    load: { before: loadBefore.map((x) => x.toFixed(2)).join(' '), after: loadAfter.map((x) => x.toFixed(2)).join(' ') },
    nats: { version: nats.version, sync: nats.sync, durability: nats.durability.mode, detail: nats.durability.detail },
    postgres: pgSettings,
    workload: `${PHASES} phases × (2 candidates + judge), simulated provider 0 ms; ${SERVICES.length} services as ${children.length} process${children.length > 1 ? 'es' : ''} (${SINGLE ? `${APART.length > 0 ? `all but ${APART.join(', ')} in one` : 'all in one, as npm start runs them'}${THREADED.length > 0 ? `, ${THREADED.join(', ')} in a thread of its own` : ', one thread'}${WORKERS > 1 ? ` + ${WORKERS - 1} llm-worker replica(s)` : ''}` : `--separate, ${WORKERS} llm-worker`})`,
    clkTck: CLK_TCK,
  };
  const syncText = nats.sync === 'always' ? 'sync_interval: always (fsync per message)' : "no sync_interval (2.9 refuses it): flushed on the server's default interval, not per message";
  const w = (label) => windows.find((x) => x.label === label);
  const cols = windows.map((x) => x.label);
  const f1 = (x) => (Number.isFinite(x) ? x.toFixed(1) : '–');
  const f0 = (x) => (Number.isFinite(x) ? x.toFixed(0) : '–');
  const lines = [];
  const row = (label, cells) => lines.push(`  ${label.padEnd(40)}${cells.map((c) => String(c).padStart(19)).join('')}`);
  const each = (fn) => windows.map(fn);
  lines.push('');
  lines.push(`Conclave bench — ${header.date} · commit ${header.commit} · node ${header.node} · ${header.cpus}`);
  lines.push(`  load average before ${header.load.before} · after ${header.load.after} (1/5/15 min)`);
  lines.push(`  NATS: the bench's own nats-server ${nats.version}, JetStream file storage, ${syncText}`);
  lines.push(`  Postgres ${pgSettings.version}: fsync=${pgSettings.fsync}, synchronous_commit=${pgSettings.synchronous_commit} (the machine's cluster, private database)`);
  lines.push(`  workload: ${header.workload}; warm-up ${WARMUP} runs; closed loop per level`);
  lines.push('');
  row('', cols);
  row('runs ok / failed', each((x) => `${x.ok} / ${x.failed}`));
  row('phases/s', each((x) => f0(x.phasesPerS)));
  row('run wall-time p50 / p99 ms', each((x) => `${f1(x.wallMs.p50)} / ${f1(x.wallMs.p99)}`));
  row('overhead per phase p50 / p99 ms', each((x) => `${f1(x.phaseOverheadMs.p50)} / ${f1(x.phaseOverheadMs.p99)}`));
  row('CPU ms per run, all processes', each((x) => f1(x.cpuMsPerRun.total)));
  for (const g of ['nats-server', 'postgres', ...SERVICE_GROUPS]) row(`  ${g === 'stack' ? 'stack (all services)' : g === 'llm-worker' && WORKERS > 1 && !SINGLE ? `llm-worker ×${WORKERS}` : g}`, each((x) => f1(x.cpuMsPerRun[g] ?? 0)));
  row('  bench client (not in the total)', each((x) => f1(x.cpuMsPerRun['bench client'] ?? 0)));
  if (windows.some((x) => x.cpuMsPerRun['postgres, other databases'])) row('  postgres, other databases (not in it)', each((x) => f1(x.cpuMsPerRun['postgres, other databases'] ?? 0)));
  row('events per run (socket / read model)', each((x) => `${f1(x.eventsPerRun.socket)} / ${f1(x.eventsPerRun.readModel)}`));
  row('JetStream writes per run', each((x) => f1(x.jetStreamWritesPerRun.total)));
  const streamNames = [...new Set(windows.flatMap((x) => Object.keys(x.jetStreamWritesPerRun.streams)))].sort();
  for (const s of streamNames) row(`  ${s.replace(`${prefix.toUpperCase()}_`, '')}`, each((x) => f1(x.jetStreamWritesPerRun.streams[s] ?? 0)));
  row('NATS messages per run (in + out)', each((x) => `${f0(x.natsMessagesPerRun.in)} + ${f0(x.natsMessagesPerRun.out)}`));
  row('event→socket p50 / p99 ms', each((x) => `${f0(x.eventToSocketMs.p50)} / ${f0(x.eventToSocketMs.p99)}`));
  row('projector lag max / p50 events', each((x) => `${x.projectorLag.maxEvents} / ${f0(x.projectorLag.p50Events)}`));
  row('projector lag p99 / max ms', each((x) => `${f0(x.projectorLag.p99Ms)} / ${f0(x.projectorLag.maxMs)}`));
  row('projector catch-up after last run ms', each((x) => `${f0(x.projectorLag.catchUpMs)}${x.projectorLag.caughtUp ? '' : ' (not)'}`));
  const mem = w(`c=${MEM_LEVEL}`);
  if (mem) {
    const mib = (b) => (b / 2 ** 20).toFixed(0);
    lines.push('');
    lines.push(`  resident memory (VmRSS, MiB)        idle    peak c=${MEM_LEVEL}     end c=${MEM_LEVEL}`);
    const memRow = (label, key) => lines.push(`  ${label.padEnd(30)}${mib(idle[key]).padStart(10)}${mib(mem.rss.peak[key]).padStart(13)}${mib(mem.rss.atEnd[key]).padStart(13)}`);
    for (const c of children) memRow(c.label, c.label);
    lines.push(`  ${'services total'.padEnd(30)}${mib(idle.services).padStart(10)}${mib(mem.rss.peakServicesTotal).padStart(13)}${mib(mem.rss.atEnd.services).padStart(13)}`);
    memRow('nats-server (not in the total)', 'nats-server');
    memRow('postgres, summed (not in it)', 'postgres');
  }
  const failures = windows.flatMap((x) => x.failures.map((f) => `${x.label}: ${f}`));
  if (failures.length || disconnects || errors.length) {
    lines.push('');
    for (const f of failures) lines.push(`  FAILED ${f}`);
    if (disconnects) lines.push(`  the bench's socket disconnected ${disconnects} time(s): events may be missing`);
    if (errors.length) lines.push(`  ${errors.length} error line(s) from the services (printed above)`);
  }
  const others = [...new Set(windows.flatMap((x) => x.otherStreams))];
  if (others.length) lines.push(`  streams on the bench's NATS outside the prefix (not counted): ${others.join(', ')}`);
  lines.push('');
  lines.push(`  CPU: utime+stime from /proc/<pid>/stat (CLK_TCK ${CLK_TCK}) over each window, divided by the runs that finished in it;`);
  lines.push(`  postgres = the bench database's backends + the cluster's shared processes. Lag/latency read at c=${LAG_LEVEL} in the issue.`);
  console.log(lines.join('\n'));
  report = { header, windows, idleRss: idle, disconnects, serviceErrors: errors.length };
} finally {
  await cleanup();
}
if (report) {
  console.log(`BENCH_JSON ${JSON.stringify(report)}`);
  if (values['json-out']) writeFileSync(values['json-out'], `${JSON.stringify(report, null, 2)}\n`);
  const bad = report.windows.some((x) => x.failed > 0);
  if (bad) process.exitCode = 1;
}
