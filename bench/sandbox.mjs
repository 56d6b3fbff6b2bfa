// `npm run bench:sandbox [-- --runs 200]`: what the tool sandbox (bubblewrap, issue 10 §5) costs
// per tool call. Times, with the worker's own code (services/llm-worker/dist/domain/tools/sandbox.js),
// `true` and `git status` in a small repository: a plain spawn (runProcess, no sandbox) against
// BwrapSandbox.run (namespaces, minimal filesystem, prlimit, pids cgroup when one can be made),
// one call after another. Prints median and p95 of each and the sandbox's extra cost (goal
// ≤ 20 ms per call), and the sandbox without its pids cgroup for comparison. Needs bubblewrap and a build first (`npm run build`). Touches only its temp folder.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, realpath, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const ROOT = join(import.meta.dirname, '..');
const require = createRequire(import.meta.url);
const { values } = parseArgs({ options: { runs: { type: 'string', default: '200' } } });
const RUNS = Number(values.runs);
const dist = join(ROOT, 'services', 'llm-worker', 'dist', 'domain', 'tools');
if (!existsSync(join(dist, 'sandbox.js'))) {
  console.error('bench:sandbox: build first (npm run build)');
  process.exit(1);
}
const { BwrapSandbox, DEFAULT_SANDBOX_LIMITS, PidsCgroup, findBwrap, probeSandbox } = require(join(dist, 'sandbox.js'));
const { runProcess } = require(join(dist, 'process.js'));

const bwrap = findBwrap();
if (!bwrap) {
  console.error('bench:sandbox: bubblewrap is not installed (apt-get install -y bubblewrap)');
  process.exit(1);
}
const probe = await probeSandbox();
console.log(`sandbox: ${probe.ok ? probe.detail : `UNAVAILABLE: ${probe.detail}`}`);
if (!probe.ok) process.exit(1);

const base = await realpath(await mkdtemp(join(tmpdir(), 'conclave-bench-sandbox-')));
const git = (...args) => execFileSync('git', ['-c', 'user.name=b', '-c', 'user.email=b@b', '-c', 'init.defaultBranch=main', ...args], { cwd: base, encoding: 'utf8', env: { PATH: process.env.PATH, HOME: base, GIT_CONFIG_NOSYSTEM: '1' } });
git('init', '-q');
for (let i = 0; i < 50; i += 1) await writeFile(join(base, `f${i}.txt`), `file ${i}\n`);
git('add', '.');
git('commit', '-q', '-m', 'bench');

const cgroup = PidsCgroup.detect();
const sandbox = new BwrapSandbox(bwrap, DEFAULT_SANDBOX_LIMITS, cgroup);
// the same without the per-call pids cgroup: what moving each sandbox into one costs (the tail, mostly)
const noCgroup = new BwrapSandbox(bwrap, DEFAULT_SANDBOX_LIMITS, null);
const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: base, LANG: 'C.UTF-8', GIT_CONFIG_NOSYSTEM: '1' };
const options = { cwd: base, writable: [], timeoutMs: 10_000, outputCap: 16_000 };
const calls = {
  plain: (program, args) => runProcess(program, args, { ...options, env }),
  sandboxed: (program, args) => sandbox.run(program, args, { ...options, env: { GIT_CONFIG_NOSYSTEM: '1' } }),
  'no-cgroup': (program, args) => noCgroup.run(program, args, { ...options, env: { GIT_CONFIG_NOSYSTEM: '1' } }),
};

const ms = (t0) => Number(process.hrtime.bigint() - t0) / 1e6;
const quantile = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};
async function time(kind, program, args) {
  for (let i = 0; i < 10; i += 1) await calls[kind](program, args); // warm-up
  const xs = [];
  for (let i = 0; i < RUNS; i += 1) {
    const t0 = process.hrtime.bigint();
    const r = await calls[kind](program, args);
    xs.push(ms(t0));
    if (r.exitCode !== 0) throw new Error(`${kind} ${program} exited ${r.exitCode}: ${r.stderr}`);
  }
  return { median: quantile(xs, 0.5), p95: quantile(xs, 0.95) };
}

const f = (x) => `${x.toFixed(1)} ms`;
try {
  for (const [program, args] of [
    ['true', []],
    ['git', ['status', '--short']],
  ]) {
    const plain = await time('plain', program, args);
    const boxed = await time('sandboxed', program, args);
    const extra = boxed.median - plain.median;
    console.log(
      `${[program, ...args].join(' ').padEnd(18)} plain: median ${f(plain.median)}, p95 ${f(plain.p95)} | sandboxed: median ${f(boxed.median)}, p95 ${f(boxed.p95)} | ` +
        `extra: median ${f(extra)}, p95 ${f(boxed.p95 - plain.p95)} ${extra <= 20 ? '(goal ≤ 20 ms: met)' : '(goal ≤ 20 ms: MISSED)'} (n = ${RUNS})`,
    );
    if (cgroup) {
      const bare = await time('no-cgroup', program, args);
      console.log(`${''.padEnd(18)} sandboxed without the pids cgroup: median ${f(bare.median)}, p95 ${f(bare.p95)} (extra: median ${f(bare.median - plain.median)}, p95 ${f(bare.p95 - plain.p95)})`);
    }
  }
} finally {
  await rm(base, { recursive: true, force: true });
}
