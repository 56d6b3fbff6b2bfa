// `npm run bench:projector [-- --runs K --rate R --seconds S --port P --results-apart]`: the read-model
// figures of issue 5. Writes K completed runs (3 phases × 2 candidates + judge, verdict, artifact,
// checkpoint: 32 events in 7 commits each, grouped as the orchestrator appends them; 10 commits
// with --results-apart, the log's shape before ADR 014 §12; default K = 6,500 → 208,000 events)
// straight into the log of a private stream prefix, then
//   (a) starts the projector on an empty database and times it from the first applied event to
//       caught up (events/s),
//   (b) replays the whole log with `replay` from libs/read-models (fold rate, and total with the swap),
//   (c) appends 200 runs of 10 phases (the projector follows them live), starts the gateway on that
//       database and sends `GET /api/v1/runs/:id` at R requests/s (default 200) for S seconds
//       (default 10; open loop, plain fetch), once over the 3-phase runs and once over the 10-phase
//       ones, printing p50 / p95 / p99 of each.
// Loopback only; the stream prefix and the database are removed afterwards. Needs `npm run build`.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openBenchEnv } from '../scripts/lib/bench-env.mjs';
import { writeCompletedRuns } from './lib/run-log.mjs';
import { ROOT, spawnService, stopChildren, waitForHttp } from '../scripts/lib/stack.mjs';

const require = createRequire(import.meta.url);
const { values } = parseArgs({ options: { runs: { type: 'string', default: '6500' }, port: { type: 'string', default: '3918' }, rate: { type: 'string', default: '200' }, seconds: { type: 'string', default: '10' }, 'results-apart': { type: 'boolean', default: false } } });
const K = Number(values.runs);
const PORT = Number(values.port);
const RATE = Number(values.rate);
const SECONDS = Number(values.seconds);
const BIG_RUNS = 200;
for (const name of ['gateway', 'projector']) {
  if (!existsSync(join(ROOT, 'services', name, 'dist', 'main.js'))) {
    console.error('bench: build first (npm run build)');
    process.exit(1);
  }
}

const bench = await openBenchEnv('benchproj');
const env = { ...bench.env, PORT: String(PORT), HOST: '127.0.0.1', LOG_LEVEL: 'warn', RATE_LIMIT_PER_MINUTE: '1000000' };
const { id, eventLog, db } = bench;
const children = [];
const { createDataSource, replay } = require('@conclave/read-models');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const pct = (xs, p) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : NaN;
};
const onError = (name) => (line) => line.includes('"level":"error"') && console.error(`${name}: ${line}`);

try {
  /* ---------------------------------------------------------------- the log */
  const t0 = Date.now();
  const runIds = await writeCompletedRuns(eventLog, K, 3, { resultsApart: values['results-apart'] });
  // positions (ADR 014: stream sequence × 1000 + index) are not event counts: events are counted
  const events = runIds.events;
  const lastSeq = await eventLog.lastSequence();
  const commits = Math.floor(lastSeq / 1000);
  console.log(`bench: wrote ${K} runs, ${events} events in ${commits} commits, in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

  /* ---------------------------------------------------------------- (a) live projection */
  const applied = async () => Number((await db.query(`SELECT coalesce(max(sequence), 0) AS s FROM projection_checkpoints WHERE name = 'main'`)).rows[0].s);
  // the checkpoint and the events applied by then, in one snapshot (every bench event is a run event: one timeline row each)
  const appliedEvents = async () => {
    const { rows } = await db.query(`SELECT coalesce((SELECT sequence FROM projection_checkpoints WHERE name = 'main'), 0) AS s, (SELECT count(*) FROM timeline_events) AS n`);
    return { s: Number(rows[0].s), n: Number(rows[0].n) };
  };
  const tSpawn = Date.now();
  const projector = spawnService('projector', { ...env, INSTANCE_ID: `projector-${id}` }, onError('projector'));
  children.push(projector);
  let first = null;
  let firstEvents = 0;
  const deadline = Date.now() + 30 * 60_000;
  for (;;) {
    let s;
    if (first === null) {
      const at = await appliedEvents();
      s = at.s;
      if (s > 0) [first, firstEvents] = [Date.now(), at.n];
    } else {
      s = await applied();
    }
    if (s >= lastSeq) break;
    if (Date.now() > deadline) throw new Error(`the projector did not catch up within 30 min (at ${s} of ${lastSeq})`);
    if (projector.exitCode !== null) throw new Error(`the projector exited (${projector.exitCode}) at ${s} of ${lastSeq}`);
    await sleep(20);
  }
  const tCaught = Date.now();
  const liveRate = (events - firstEvents) / Math.max(0.001, (tCaught - first) / 1000);

  /* ---------------------------------------------------------------- (b) replay */
  const ds = await createDataSource(env.DATABASE_URL, { applicationName: 'bench-replay', poolSize: 3 }).initialize();
  let foldStart = null;
  let foldEnd = null;
  const report = await replay({
    dataSource: ds,
    databaseUrl: env.DATABASE_URL,
    source: { lastSequence: () => eventLog.lastSequence(), read: (after, limit) => eventLog.readAll(after, limit) },
    verify: true,
    onProgress: ({ phase }) => {
      if (phase === 'folding' && foldStart === null) foldStart = Date.now();
      if (phase !== 'folding' && phase !== 'preparing' && foldStart !== null && foldEnd === null) foldEnd = Date.now();
    },
  });
  await ds.destroy();
  foldEnd ??= Date.now();
  // events (progress reports positions); the live projection was caught up: nothing was caught up after the fold
  const folded = report.processed;
  const replayFoldRate = folded / Math.max(0.001, (foldEnd - foldStart) / 1000);

  /* ---------------------------------------------------------------- (c) GET /runs/:id */
  const gateway = spawnService('gateway', { ...env, INSTANCE_ID: `gateway-${id}` }, onError('gateway'));
  children.push(gateway);
  const base = `http://127.0.0.1:${PORT}/api/v1`;
  await waitForHttp(`${base}/health`, 60_000);
  const f = (x) => x.toFixed(1);
  const get = async (runId) => {
    const t = performance.now();
    const res = await fetch(`${base}/runs/${runId}`);
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`GET /runs/${runId} → ${res.status}`);
    return performance.now() - t;
  };
  // open loop: request i leaves at i / RATE s whatever the previous ones do
  const load = async (ids) => {
    const latencies = [];
    const inflight = [];
    const total = RATE * SECONDS;
    const tLoad = performance.now();
    for (let i = 0; i < total; i++) {
      const wait = tLoad + (i * 1000) / RATE - performance.now();
      if (wait > 0) await sleep(wait);
      inflight.push(get(ids[(i * 7919) % ids.length]).then((ms) => latencies.push(ms)));
    }
    await Promise.all(inflight);
    return { latencies, seconds: (performance.now() - tLoad) / 1000 };
  };
  // larger runs too: 10 phases with 2 candidates, a verdict and an artifact each (followed live)
  const bigRunIds = await writeCompletedRuns(eventLog, BIG_RUNS, 10, { resultsApart: values['results-apart'] });
  const bigLast = await eventLog.lastSequence();
  while ((await applied()) < bigLast) await sleep(20);
  // steady state: the bulk load above would otherwise start autovacuum and a checkpoint mid-measurement
  await db.query('VACUUM ANALYZE');
  await db.query('CHECKPOINT');
  for (let i = 0; i < 200; i++) await get((i % 2 ? runIds : bigRunIds)[i % BIG_RUNS]); // warm-up (JIT, pool connections): not measured
  const small = await load(runIds);
  const big = await load(bigRunIds);
  const latency = (r) => `p50 ${f(pct(r.latencies, 50))} ms, p95 ${f(pct(r.latencies, 95))} ms, p99 ${f(pct(r.latencies, 99))} ms   (${r.latencies.length} requests at ${RATE}/s over ${r.seconds.toFixed(1)} s)`;

  console.log(`\nConclave read-model bench — ${K} runs × 3 phases × 2 candidates (+ judge, verdict, artifact, checkpoint), ${events} events in ${commits} commits`);
  console.log(`  live projection            ${Math.round(liveRate)} events/s   (${events - firstEvents} events from the first applied to caught up in ${((tCaught - first) / 1000).toFixed(2)} s; ${((tCaught - tSpawn) / 1000).toFixed(2)} s from spawn)`);
  console.log(`  replay (fold)              ${Math.round(replayFoldRate)} events/s   (${folded} events in ${((foldEnd - foldStart) / 1000).toFixed(2)} s)`);
  console.log(`  replay (total, with verify) ${Math.round((report.processed / report.durationMs) * 1000)} events/s   (${(report.durationMs / 1000).toFixed(2)} s; ${report.differenceCount} differences)`);
  console.log(`  GET /runs/:id (3 phases)   ${latency(small)}`);
  console.log(`  GET /runs/:id (10 phases)  ${latency(big)}   (${BIG_RUNS} such runs)`);
  if (events < 200_000) console.log(`  (the targets are set on ≥ 200,000 events; this log had ${events})`);
} finally {
  await stopChildren(children);
  await bench.close();
}
