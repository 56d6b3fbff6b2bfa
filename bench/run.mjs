// `npm run bench [-- --runs K --workers N]`: K concurrent runs of a 3-phase, 2-candidate template
// on the simulated provider at 0 ms latency, through the whole stack (processes, NATS, Postgres).
// Prints runs/s and phases/s, orchestration overhead per phase (PhaseStarted → PhaseCompleted),
// event-to-socket latency (event occurredAt → socket.io receipt) and projector lag.
// Runs on its own stream prefix and database, removed afterwards. Needs `npm run build` first.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { io } from 'socket.io-client';
import { openBenchEnv } from '../scripts/lib/bench-env.mjs';
import { ROOT, SERVICES, spawnService, stopChildren, waitForHttp } from '../scripts/lib/stack.mjs';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '50' }, workers: { type: 'string', default: '2' }, port: { type: 'string', default: '3917' } } });
const K = Number(values.runs);
const WORKERS = Number(values.workers);
const PORT = Number(values.port);
if (!existsSync(join(ROOT, 'services', 'gateway', 'dist', 'main.js'))) {
  console.error('bench: build first (npm run build)');
  process.exit(1);
}

const bench = await openBenchEnv('bench');
// the bench drives hundreds of requests per second from one address: lift the per-IP rate limit
const env = { ...bench.env, PORT: String(PORT), LOG_LEVEL: 'warn', RATE_LIMIT_PER_MINUTE: '1000000' };
const { id, eventLog, db } = bench;
const children = [];
for (const name of SERVICES) {
  const copies = name === 'llm-worker' ? WORKERS : 1;
  for (let i = 0; i < copies; i++) children.push(spawnService(name, { ...env, INSTANCE_ID: `${name}-${i}-${id}` }, (line) => line.includes('"level":"error"') && console.error(`${name}: ${line}`)));
}
const base = `http://127.0.0.1:${PORT}`;
let socket;
try {
  await waitForHttp(`${base}/api/v1/health`, 60_000);
  const post = async (path, body) => {
    const res = await fetch(`${base}/api/v1${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    if (res.status !== 201) throw new Error(`POST ${path} → ${res.status} ${await res.text()}`);
    return res.json();
  };
  const sim = (model) => ({ provider: 'simulated', model, options: { latencyMs: 0 } });
  const phase = (id, dependsOn) => ({ id, kind: 'llm', dependsOn, prompt: { user: `${id} for {{inputs.n}}` }, candidates: [sim('a'), sim('b')], judge: { provider: 'simulated', model: 'j' } });
  const template = await post('/templates', {
    name: 'bench-3x2',
    inputs: { type: 'object', properties: { n: { type: 'integer' } } },
    phases: [phase('one', []), phase('two', ['one']), phase('three', ['two'])],
  });

  socket = io(base, { transports: ['websocket'] });
  await new Promise((resolve, reject) => (socket.once('connect', resolve), socket.once('connect_error', reject)));
  await socket.timeout(5000).emitWithAck('subscribe', { room: 'runs' });
  const socketLatency = [];
  const phaseStart = new Map();
  const phaseOverhead = [];
  const finished = new Set();
  const ourRuns = new Set();
  let allDone;
  const done = new Promise((resolve) => (allDone = resolve));
  socket.on('event', (e) => {
    socketLatency.push(Date.now() - Date.parse(e.occurredAt));
    const key = `${e.runId}/${e.data?.phaseId}`;
    if (e.type === 'PhaseStarted') phaseStart.set(key, Date.parse(e.occurredAt));
    if (e.type === 'PhaseCompleted' && phaseStart.has(key)) phaseOverhead.push(Date.parse(e.occurredAt) - phaseStart.get(key));
    if (e.type === 'RunCompleted' || e.type === 'RunFailed') {
      finished.add(e.runId);
      if (e.type === 'RunFailed') console.error(`run ${e.runId} failed: ${JSON.stringify(e.data)}`);
      if (finished.size >= K && [...ourRuns].every((r) => finished.has(r))) allDone();
    }
  });

  // projector lag sampled while the runs go: log's last sequence − applied sequence
  const lagSamples = [];
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const [last, applied] = await Promise.all([eventLog.lastSequence(), db.query(`select coalesce(max(sequence),0)::int as s from projection_checkpoints`).then((r) => r.rows[0].s)]);
      lagSamples.push(last - applied);
      await new Promise((r) => setTimeout(r, 50));
    }
  })();

  const t0 = Date.now();
  const started = await Promise.all(Array.from({ length: K }, (_, n) => post('/runs', { templateId: template.id, inputs: { n } })));
  for (const s of started) ourRuns.add(s.id);
  if ([...ourRuns].every((r) => finished.has(r))) allDone();
  let timer;
  // cleared once the runs are done: a pending timer would keep the bench alive for 180 s after it printed
  await Promise.race([done, new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`only ${finished.size}/${K} runs finished in 180 s`)), 180_000)))]).finally(() => clearTimeout(timer));
  const elapsed = (Date.now() - t0) / 1000;
  const lastSeq = await eventLog.lastSequence();
  const tCatch = Date.now();
  for (;;) {
    const { rows } = await db.query(`select coalesce(max(sequence),0)::int as s from projection_checkpoints`);
    if (rows[0].s >= lastSeq) break;
    await new Promise((r) => setTimeout(r, 5));
  }
  const catchUpMs = Date.now() - tCatch;
  sampling = false;
  await sampler;

  const pct = (xs, p) => {
    const sorted = [...xs].sort((a, b) => a - b);
    return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : NaN;
  };
  console.log(`\nConclave bench — ${K} concurrent runs × 3 phases × 2 candidates (+ judge), simulated 0 ms, ${WORKERS} llm-worker(s), 1 judge`);
  console.log(`  runs/s                     ${(K / elapsed).toFixed(1)}   (${K} runs in ${elapsed.toFixed(2)} s)`);
  console.log(`  phases/s                   ${((3 * K) / elapsed).toFixed(1)}`);
  console.log(`  phase overhead p50 / p99   ${pct(phaseOverhead, 50)} ms / ${pct(phaseOverhead, 99)} ms   (PhaseStarted → PhaseCompleted, ${phaseOverhead.length} phases)`);
  console.log(`  event→socket p50 / p99     ${pct(socketLatency, 50)} ms / ${pct(socketLatency, 99)} ms   (${socketLatency.length} events)`);
  console.log(`  projector lag              max ${Math.max(...lagSamples)} events, p50 ${pct(lagSamples, 50)} events; caught up ${catchUpMs} ms after the last run finished`);
  console.log(`  events in the log          ${lastSeq}`);
} finally {
  socket?.close();
  await stopChildren(children);
  await bench.close();
}
