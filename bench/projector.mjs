// `npm run bench:projector [-- --runs K --port P]`: the read-model figures of issue 5.
// Writes K completed runs (3 phases × 2 candidates + judge, verdict, artifact, checkpoint: 32 events
// each; default K = 6,500 → ≥ 200,000 events) straight into the log of a private stream prefix, then
//   (a) starts the projector on an empty database and times it from the first applied event to
//       caught up (events/s),
//   (b) replays the whole log with `replay` from libs/read-models (fold rate, and total with the swap),
//   (c) starts the gateway on that database and sends `GET /api/v1/runs/:id` at 200 requests/s for
//       10 s (open loop), printing p50 / p95 / p99.
// Loopback only; the stream prefix and the database are removed afterwards. Needs `npm run build`.
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { ensureInfra } from '../scripts/infra.mjs';
import { setup } from '../scripts/setup.mjs';
import { ROOT, spawnService, stopChildren, waitForHttp } from '../scripts/lib/stack.mjs';

const require = createRequire(import.meta.url);
const { values } = parseArgs({ options: { runs: { type: 'string', default: '6500' }, port: { type: 'string', default: '3918' }, rate: { type: 'string', default: '200' }, seconds: { type: 'string', default: '10' } } });
const K = Number(values.runs);
const PORT = Number(values.port);
const RATE = Number(values.rate);
const SECONDS = Number(values.seconds);
for (const name of ['gateway', 'projector']) {
  if (!existsSync(join(ROOT, 'services', name, 'dist', 'main.js'))) {
    console.error('bench: build first (npm run build)');
    process.exit(1);
  }
}

const id = randomBytes(3).toString('hex');
const prefix = `benchproj_${id}`;
const server = await ensureInfra({
  natsUrl: process.env.NATS_URL ?? 'nats://127.0.0.1:4222',
  databaseUrl: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/conclave',
  dataDir: join(ROOT, '.conclave'),
  log: () => {},
});
const dbName = `conclave_benchproj_${id}`;
const adminUrl = new URL(server.databaseUrl);
adminUrl.pathname = '/postgres';
const dbUrl = new URL(server.databaseUrl);
dbUrl.pathname = `/${dbName}`;
const admin = new pg.Client({ connectionString: adminUrl.toString() });
await admin.connect();
await admin.query(`CREATE DATABASE "${dbName}"`);

const env = { NATS_URL: server.natsUrl, DATABASE_URL: dbUrl.toString(), CONCLAVE_PREFIX: prefix, PORT: String(PORT), HOST: '127.0.0.1', LOG_LEVEL: 'warn', RATE_LIMIT_PER_MINUTE: '1000000' };
const children = [];
const { EventLog } = require('@conclave/event-log');
const { Template } = require('@conclave/contracts');
const { createDataSource, replay } = require('@conclave/read-models');
let eventLog;
const db = new pg.Client({ connectionString: env.DATABASE_URL });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const pct = (xs, p) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : NaN;
};
const onError = (name) => (line) => line.includes('"level":"error"') && console.error(`${name}: ${line}`);

try {
  await setup({ natsUrl: env.NATS_URL, databaseUrl: env.DATABASE_URL, prefix, log: () => {} });
  eventLog = await EventLog.connect({ servers: env.NATS_URL, prefix, name: 'bench-projector' });
  await db.connect();

  /* ---------------------------------------------------------------- the log */
  const phaseIds = ['discover', 'spec', 'build'];
  const output = { artifact: 'text', schema: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] } };
  const template = Template.parse({
    name: 'bench-3x2',
    phases: phaseIds.map((pid, i) => ({
      id: pid,
      kind: 'llm',
      dependsOn: i === 0 ? [] : [phaseIds[i - 1]],
      prompt: { user: `${pid} for {{inputs.topic}}` },
      candidates: [
        { provider: 'simulated', model: 'sim-a' },
        { provider: 'simulated', model: 'sim-b' },
      ],
      judge: { provider: 'simulated', model: 'sim-judge' },
    })),
  });
  const text = (n) => `lorem ipsum dolor sit amet `.repeat(n);
  const runEvents = (runId, n) => {
    const events = [{ type: 'RunStarted', data: { runId, templateId: 'tpl-bench', templateVersion: 1, template, name: `bench run ${n}`, inputs: { topic: `topic ${n}` }, autoMode: true, budgetUsd: 10, origin: null } }];
    const done = [];
    for (const phaseId of phaseIds) {
      const c = (slot) => `${runId}.${phaseId}.1.c${slot}`;
      events.push({ type: 'PhaseStarted', data: { phaseId, attempt: 1 } });
      for (const slot of [0, 1]) {
        events.push({
          type: 'CandidateRequested',
          data: { phaseId, attempt: 1, round: 0, candidateId: c(slot), slot, provider: 'simulated', model: slot ? 'sim-b' : 'sim-a', prompt: { user: `${phaseId} for topic ${n}` }, output, attemptToken: randomUUID(), timeoutSeconds: 60 },
        });
      }
      for (const slot of [0, 1]) {
        events.push({
          type: 'CandidateGenerated',
          data: { phaseId, attempt: 1, candidateId: c(slot), output: { text: text(8 + slot) }, tokens: { input: 120 + slot, output: 300 + slot }, costUsd: 0.001953125 * (slot + 1), durationMs: 800 + slot, workerId: 'w-1' },
        });
      }
      events.push({ type: 'JudgeRequested', data: { phaseId, attempt: 1, round: 0, judgeId: `${runId}.${phaseId}.1.judge`, purpose: 'select', provider: 'simulated', model: 'sim-judge', criteria: ['quality'], task: phaseId, candidates: [0, 1].map((slot) => ({ candidateId: c(slot), output: { text: text(8 + slot) } })), attemptToken: randomUUID() } });
      events.push({
        type: 'VerdictRecorded',
        data: {
          phaseId, attempt: 1, round: 0, judgeId: `${runId}.${phaseId}.1.judge`, purpose: 'select', winnerId: c(1),
          scores: { [c(0)]: { overall: 0.25, criteria: { quality: 0.25 } }, [c(1)]: { overall: 0.75, criteria: { quality: 0.75 } } },
          rationale: 'the second is clearer', order: [c(0), c(1)], provider: 'simulated', model: 'sim-judge', tokens: { input: 400, output: 40 }, costUsd: 0.0009765625,
        },
      });
      const artifactId = `${runId}.${phaseId}.1.artifact`;
      events.push({ type: 'ArtifactRecorded', data: { artifactId, phaseId, attempt: 1, candidateId: c(1), artifactType: 'text', content: { text: text(9) } } });
      events.push({ type: 'PhaseCompleted', data: { phaseId, attempt: 1, artifactId } });
      done.push(phaseId);
      events.push({ type: 'CheckpointCreated', data: { checkpointId: `${runId}.cp.${phaseId}`, phaseId, completedPhaseIds: [...done] } });
    }
    events.push({ type: 'RunCompleted', data: {} });
    return events;
  };

  const runIds = Array.from({ length: K }, () => randomUUID());
  const t0 = Date.now();
  let next = 0;
  const meta = () => ({ occurredAt: new Date().toISOString(), correlationId: randomUUID(), causationId: null, actor: { kind: 'system', id: 'bench' } });
  // 64 writers, each appending whole runs in a few appends: runs interleave in the log as live ones do
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      while (next < runIds.length) {
        const n = next++;
        const events = runEvents(runIds[n], n);
        for (let i = 0; i < events.length; i += 11) await eventLog.append('run', runIds[n], events.slice(i, i + 11), 'any', meta());
      }
    }),
  );
  const lastSeq = await eventLog.lastSequence();
  console.log(`bench: wrote ${K} runs, ${lastSeq} events in the log, in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

  /* ---------------------------------------------------------------- (a) live projection */
  const applied = async () => Number((await db.query(`SELECT coalesce(max(sequence), 0) AS s FROM projection_checkpoints WHERE name = 'main'`)).rows[0].s);
  const tSpawn = Date.now();
  const projector = spawnService('projector', { ...env, INSTANCE_ID: `projector-${id}` }, onError('projector'));
  children.push(projector);
  let first = null;
  let firstSeq = 0;
  const deadline = Date.now() + 30 * 60_000;
  for (;;) {
    const s = await applied();
    if (first === null && s > 0) [first, firstSeq] = [Date.now(), s];
    if (s >= lastSeq) break;
    if (Date.now() > deadline) throw new Error(`the projector did not catch up within 30 min (at ${s} of ${lastSeq})`);
    if (projector.exitCode !== null) throw new Error(`the projector exited (${projector.exitCode}) at ${s} of ${lastSeq}`);
    await sleep(20);
  }
  const tCaught = Date.now();
  const liveRate = (lastSeq - firstSeq) / Math.max(0.001, (tCaught - first) / 1000);

  /* ---------------------------------------------------------------- (b) replay */
  const ds = await createDataSource(env.DATABASE_URL, { applicationName: 'bench-replay', poolSize: 3 }).initialize();
  let foldStart = null;
  let foldEnd = null;
  let folded = 0;
  const report = await replay({
    dataSource: ds,
    databaseUrl: env.DATABASE_URL,
    source: { lastSequence: () => eventLog.lastSequence(), read: (after, limit) => eventLog.readAll(after, limit) },
    verify: true,
    onProgress: ({ phase, processed }) => {
      if (phase === 'folding' && foldStart === null) foldStart = Date.now();
      if (phase === 'folding') folded = processed;
      if (phase !== 'folding' && phase !== 'preparing' && foldStart !== null && foldEnd === null) foldEnd = Date.now();
    },
  });
  await ds.destroy();
  foldEnd ??= Date.now();
  const replayFoldRate = folded / Math.max(0.001, (foldEnd - foldStart) / 1000);

  /* ---------------------------------------------------------------- (c) GET /runs/:id */
  const gateway = spawnService('gateway', { ...env, INSTANCE_ID: `gateway-${id}` }, onError('gateway'));
  children.push(gateway);
  const base = `http://127.0.0.1:${PORT}/api/v1`;
  await waitForHttp(`${base}/health`, 60_000);
  const get = async (runId) => {
    const t = performance.now();
    const res = await fetch(`${base}/runs/${runId}`);
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`GET /runs/${runId} → ${res.status}`);
    return performance.now() - t;
  };
  for (let i = 0; i < 50; i++) await get(runIds[i]); // warm-up
  const latencies = [];
  const inflight = [];
  const total = RATE * SECONDS;
  const tLoad = performance.now();
  for (let i = 0; i < total; i++) {
    // open loop: request i leaves at i / RATE s whatever the previous ones do
    const due = tLoad + (i * 1000) / RATE;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    inflight.push(get(runIds[(i * 7919) % runIds.length]).then((ms) => latencies.push(ms)));
  }
  await Promise.all(inflight);
  const loadSeconds = (performance.now() - tLoad) / 1000;

  const f = (x) => x.toFixed(1);
  console.log(`\nConclave read-model bench — ${K} runs × 3 phases × 2 candidates (+ judge, verdict, artifact, checkpoint), ${lastSeq} events`);
  console.log(`  live projection            ${Math.round(liveRate)} events/s   (${lastSeq - firstSeq} events from the first applied to caught up in ${((tCaught - first) / 1000).toFixed(2)} s; ${((tCaught - tSpawn) / 1000).toFixed(2)} s from spawn)`);
  console.log(`  replay (fold)              ${Math.round(replayFoldRate)} events/s   (${folded} events in ${((foldEnd - foldStart) / 1000).toFixed(2)} s)`);
  console.log(`  replay (total, with verify) ${Math.round((report.processed / report.durationMs) * 1000)} events/s   (${(report.durationMs / 1000).toFixed(2)} s; ${report.differenceCount} differences)`);
  console.log(`  GET /runs/:id              p50 ${f(pct(latencies, 50))} ms, p95 ${f(pct(latencies, 95))} ms, p99 ${f(pct(latencies, 99))} ms   (${latencies.length} requests at ${RATE}/s over ${loadSeconds.toFixed(1)} s)`);
} finally {
  await stopChildren(children);
  await db.end().catch(() => {});
  if (eventLog) {
    await eventLog.destroyTopology().catch(() => {});
    await eventLog.close();
  }
  await admin.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`).catch(() => {});
  await admin.end();
}
