// `npm run bench:projector:steady [-- --runs N --writers W --gap MS --turns T --results-apart]`: what the live
// projector and Postgres spend per run while following a log appended at a steady pace, the
// projector's share of `npm run bench`'s CPU per run without the rest of the stack around it.
// W writers (default 32, as `npm run bench` at 32 in flight) append N completed 3-phase runs
// (default 1,000) committed as the orchestrator groups them (ADR 014; 10 commits a run instead of 7
// with --results-apart), waiting MS ms (default 30) after each commit,
// while the projector service follows; each of T turns (default 2) starts a fresh projector on a
// fresh database. Prints runs/s, and per run the CPU of the projector process, of Postgres (every
// `postgres` process on this machine: run it on a quiet cluster) and of nats-server (which the
// appends load too). Loopback only; needs `npm run build`. Compare builds by running it in each
// build's worktree in turn: this machine's speed drifts, so only alternated turns compare.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { openBenchEnv } from '../scripts/lib/bench-env.mjs';
import { benchTemplate, completedRunEvents, decisionsOf } from './lib/run-log.mjs';
import { CLK_TCK, procStat } from './lib/proc-stats.mjs';
import { ROOT, spawnService, stopChildren } from '../scripts/lib/stack.mjs';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '1000' }, writers: { type: 'string', default: '32' }, gap: { type: 'string', default: '30' }, turns: { type: 'string', default: '2' }, 'results-apart': { type: 'boolean', default: false } } });
const [RUNS, WRITERS, GAP_MS, TURNS] = [values.runs, values.writers, values.gap, values.turns].map(Number);
if (!existsSync(join(ROOT, 'services', 'projector', 'dist', 'main.js'))) {
  console.error('bench: build first (npm run build)');
  process.exit(1);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** CPU ms of every process whose name starts with `comm` */
const cpuOf = (comm) => {
  let ticks = 0;
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const stat = procStat(pid);
    if (stat?.comm.startsWith(comm)) ticks += stat.ticks;
  }
  return (ticks * 1000) / CLK_TCK;
};
const cpuOfPid = (pid) => ((procStat(pid)?.ticks ?? 0) * 1000) / CLK_TCK;

const bench = await openBenchEnv('benchsteady');
const children = [];
const admin = new pg.Client({ connectionString: bench.env.DATABASE_URL.replace(/\/[^/]+$/, '/postgres') });
await admin.connect();
const template = new URL(bench.env.DATABASE_URL).pathname.slice(1);
const databases = [];
try {
  const runTemplate = benchTemplate(3);
  const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  console.log(`bench: ${RUNS} runs by ${WRITERS} writers, ${GAP_MS} ms after each commit; load average ${load}`);
  await bench.db.end(); // the template database must have no connection
  for (let turn = 1; turn <= TURNS; turn++) {
    // a fresh database per turn (a copy of the migrated, empty one), following from the log's end
    const name = `${template}_t${turn}`;
    await admin.query(`CREATE DATABASE "${name}" TEMPLATE "${template}"`);
    databases.push(name);
    const url = bench.env.DATABASE_URL.replace(/\/[^/]+$/, `/${name}`);
    const db = new pg.Client({ connectionString: url });
    await db.connect();
    try {
      const from = await bench.eventLog.lastSequence();
      await db.query(`INSERT INTO projection_checkpoints (name, sequence, updated_at) VALUES ('main', $1, now())`, [from]);
      let following;
      const started = new Promise((resolve) => (following = resolve));
      const projector = spawnService('projector', { ...bench.env, DATABASE_URL: url, LOG_LEVEL: 'info', INSTANCE_ID: `projector-steady-${turn}` }, (line) => {
        if (line.includes('projector following the log')) following();
        if (line.includes('"level":"error"')) console.error(`projector: ${line}`);
      });
      children.push(projector);
      await Promise.race([started, sleep(30_000).then(() => Promise.reject(new Error('the projector did not start within 30 s')))]);

      const [cpu0, pg0, nats0, t0] = [cpuOfPid(projector.pid), cpuOf('postgres'), cpuOf('nats-server'), performance.now()];
      let next = 0;
      const meta = () => ({ occurredAt: new Date().toISOString(), correlationId: randomUUID(), causationId: null, actor: { kind: 'system', id: 'bench' } });
      await Promise.all(
        Array.from({ length: WRITERS }, async () => {
          while (next < RUNS) {
            const n = next++;
            const runId = randomUUID();
            for (const commit of decisionsOf(completedRunEvents(runId, n, runTemplate), { resultsApart: values['results-apart'] })) {
              await bench.eventLog.append('run', runId, commit, 'any', meta());
              await sleep(GAP_MS);
            }
          }
        }),
      );
      const last = await bench.eventLog.lastSequence();
      const appended = performance.now();
      const applied = async () => Number((await db.query(`SELECT sequence FROM projection_checkpoints WHERE name = 'main'`)).rows[0].sequence);
      while ((await applied()) < last) await sleep(10);
      const seconds = (performance.now() - t0) / 1000;
      const perRun = (ms) => (ms / RUNS).toFixed(2);
      console.log(
        `  turn ${turn}: ${(RUNS / seconds).toFixed(0)} runs/s over ${seconds.toFixed(1)} s, caught up ${(performance.now() - appended).toFixed(0)} ms after the last append; ` +
          `CPU per run: projector ${perRun(cpuOfPid(projector.pid) - cpu0)} ms, Postgres ${perRun(cpuOf('postgres') - pg0)} ms, nats-server ${perRun(cpuOf('nats-server') - nats0)} ms`,
      );
      await stopChildren([projector]);
      children.splice(children.indexOf(projector), 1);
    } finally {
      await db.end();
    }
  }
} finally {
  await stopChildren(children);
  for (const name of databases) await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`).catch(() => undefined);
  await admin.end();
  await bench.close();
}
