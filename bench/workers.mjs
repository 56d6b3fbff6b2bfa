// `npm run bench:workers [-- --calls-per-slot R --latency MS --concurrency C]`: the llm-worker's
// throughput on the simulated provider at a fixed model latency (500 ms by default), with one, two
// and four worker processes (`node services/llm-worker/dist/main.js`, WORKER_CONCURRENCY = C) on
// the shared `llm-workers` pull consumer. Each round publishes N = workers × C × R
// GenerateCandidate commands straight onto the COMMANDS stream and counts the CandidateResults
// (core subscription on the results subject) until all N are in, after an unmeasured warm-up
// batch of workers × C calls; calls/s = N / (last result − first
// publish). The scaling factor is calls/s(W) ÷ (W × calls/s(1)); the target is ≥ 0.9.
// Loopback NATS only (NATS_URL, default nats://127.0.0.1:4222), a private stream prefix removed at
// the end, every round bounded by a timeout. Needs a build first (`npm run build`).
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openBenchEnv } from '../scripts/lib/bench-env.mjs';
import { ROOT, spawnService, stopChildren } from '../scripts/lib/stack.mjs';

const require = createRequire(import.meta.url);
const { values } = parseArgs({
  options: {
    'calls-per-slot': { type: 'string', default: '10' },
    latency: { type: 'string', default: '500' },
    concurrency: { type: 'string', default: '8' },
    workers: { type: 'string', default: '1,2,4' },
  },
});
const R = Number(values['calls-per-slot']);
const LATENCY = Number(values.latency);
const C = Number(values.concurrency);
const STEPS = values.workers.split(',').map(Number);
if (!existsSync(join(ROOT, 'services', 'llm-worker', 'dist', 'main.js'))) {
  console.error('bench:workers: build first (npm run build)');
  process.exit(1);
}
const { GenerateCandidate, artifactJsonSchema, ids } = require('@conclave/contracts');
const bench = await openBenchEnv('benchw', { database: false, loopbackOnly: true }).catch((err) => {
  console.error(`bench:workers: ${err.message}`);
  process.exit(1);
});
const { id, prefix, eventLog: log } = bench;
const { NATS_URL } = bench.env;
const workspaces = await mkdtemp(join(tmpdir(), 'conclave-benchw-'));
const schema = artifactJsonSchema('spec');
const children = [];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function consumerInfo() {
  return log.jsm.consumers.info(log.names.streams.commands, log.names.consumers.generateWorkers);
}

async function round(workers) {
  const started = [];
  for (let i = 0; i < workers; i++) {
    started.push(
      spawnService('llm-worker', { NATS_URL, CONCLAVE_PREFIX: prefix, INSTANCE_ID: `benchw-${id}-${workers}-${i}`, WORKER_CONCURRENCY: String(C), LOG_LEVEL: 'warn', HEALTH_PORT: '0', WORKSPACES_ROOT: workspaces }, (line) =>
        line.includes('"level":"error"') || line.includes('"level":50') ? console.error(`llm-worker: ${line}`) : undefined,
      ),
    );
  }
  children.push(...started);
  // ready = every process has a pull request waiting on the consumer
  const readyBy = Date.now() + 30_000;
  while ((await consumerInfo()).num_waiting < workers) {
    if (Date.now() > readyBy) throw new Error(`${workers} worker(s) did not start pulling within 30 s`);
    await sleep(100);
  }
  await batch(workers, workers * C); // warm-up (JIT, schema compilation, connections): not measured
  const r = await batch(workers, workers * C * R);
  await stopChildren(started);
  children.splice(0, children.length, ...children.filter((c) => !started.includes(c)));
  await log.jsm.streams.purge(log.names.streams.results);
  return r;
}

async function batch(workers, n) {
  const runId = randomUUID();
  let received = 0;
  let last = 0;
  let done;
  const finished = new Promise((resolve) => (done = resolve));
  const sub = log.nc.subscribe(log.names.subjects.allResults, {
    callback: (err, msg) => {
      if (err) return;
      const r = msg.json();
      if (r.runId !== runId) return;
      received += 1;
      last = performance.now();
      if (r.outcome?.status !== 'generated') console.error(`unexpected outcome: ${JSON.stringify(r.outcome)}`);
      if (received === n) done();
    },
  });
  await log.nc.flush();
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: n }, (_, slot) => {
      const cmd = GenerateCandidate.parse({
        type: 'GenerateCandidate',
        commandId: randomUUID(),
        runId,
        phaseId: 'bench',
        attempt: 1,
        candidateId: ids.candidate(runId, 'bench', 1, slot),
        slot,
        provider: 'simulated',
        model: 'sim',
        options: { latencyMs: LATENCY },
        prompt: { user: `bench call ${slot}` },
        output: { artifact: 'spec', schema },
        attemptToken: randomUUID(),
        timeoutSeconds: 60,
      });
      return log.publish(log.names.subjects.generate, cmd, cmd.commandId);
    }),
  );
  const bound = (n / (workers * C)) * LATENCY * 4 + 30_000;
  const timer = setTimeout(() => done(), bound);
  await finished;
  clearTimeout(timer);
  sub.unsubscribe();
  if (received < n) throw new Error(`${workers} worker(s): only ${received}/${n} results within ${bound} ms`);
  const seconds = (last - t0) / 1000;
  return { workers, calls: n, seconds, perSecond: n / seconds, ideal: (workers * C * 1000) / LATENCY };
}

const rows = [];
try {
  console.log(`bench:workers — simulated provider, ${LATENCY} ms latency, WORKER_CONCURRENCY ${C}, ${R} calls per slot, prefix ${prefix}`);
  for (const workers of STEPS) {
    const r = await round(workers);
    rows.push(r);
    console.log(`  ${workers} worker(s): ${r.calls} calls in ${r.seconds.toFixed(2)} s → ${r.perSecond.toFixed(1)} calls/s (ideal ${r.ideal.toFixed(1)})`);
  }
  const base = rows.find((r) => r.workers === 1) ?? rows[0];
  console.log('\n| workers | calls | calls/s | vs ideal (C ÷ latency) | scaling vs linear (× 1 worker) |');
  console.log('| --- | --- | --- | --- | --- |');
  for (const r of rows) {
    const factor = r.perSecond / ((base.perSecond * r.workers) / base.workers);
    console.log(`| ${r.workers} | ${r.calls} | ${r.perSecond.toFixed(1)} | ${(r.perSecond / r.ideal).toFixed(2)} | ${factor.toFixed(2)}${factor >= 0.9 ? '' : ' (below the 0.9 target)'} |`);
  }
} finally {
  await stopChildren(children, 5_000);
  await bench.close();
  await rm(workspaces, { recursive: true, force: true });
}
