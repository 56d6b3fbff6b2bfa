// `npm test`: everything CI checks, from a fresh clone.
//   install (when node_modules is missing) → build → type-check (sources, specs, web) → lint →
//   NATS + Postgres (NATS_URL / DATABASE_URL, else the local services, else start local ones) →
//   jest unit → int → e2e. Ends with one line "N passed, N failed" over all tiers.
// Options: --tier unit|int|e2e (repeatable) runs only those tiers; --skip-build reuses dist/.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..');
const OUT = join(ROOT, 'test-output');
const args = process.argv.slice(2);
const tiers = args.flatMap((a, i) => (a === '--tier' ? [args[i + 1]] : [])).filter(Boolean);
const runTiers = tiers.length ? tiers : ['unit', 'int', 'e2e'];
const say = (m) => console.log(`\n\x1b[1m[test]\x1b[0m ${m}`);
const started = Date.now();

function step(name, cmd, cmdArgs, env = {}) {
  say(`${name}: ${cmd} ${cmdArgs.join(' ')}`);
  const t0 = Date.now();
  const r = spawnSync(cmd, cmdArgs, { cwd: ROOT, stdio: 'inherit', env: { ...process.env, ...env } });
  console.log(`[test] ${name} ${r.status === 0 ? 'ok' : `FAILED (exit ${r.status})`} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return r.status === 0;
}
const npx = (bin) => join(ROOT, 'node_modules', '.bin', bin);

if (!existsSync(join(ROOT, 'node_modules', '.package-lock.json'))) {
  if (!step('install', 'npm', ['install', '--no-audit', '--no-fund'])) process.exit(1);
}
if (!args.includes('--skip-build') && !step('build', process.execPath, [join(ROOT, 'scripts', 'build.mjs')])) process.exit(1);
const checks = [
  step('type-check specs', npx('tsc'), ['-p', 'tsconfig.spec.json']),
  step('type-check web', npx('tsc'), ['-p', 'web/tsconfig.json']),
  step('lint', npx('eslint'), ['.', '--max-warnings=0']),
];

const { ensureInfra } = await import('./infra.mjs');
const infra = await ensureInfra({
  natsUrl: process.env.NATS_URL ?? 'nats://127.0.0.1:4222',
  databaseUrl: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/conclave',
  dataDir: join(ROOT, '.conclave'),
});
// Tests create their own databases and stream prefixes on these servers; what this run
// started (if anything) is left running for the next run, like the machine's own services.
const env = { NATS_URL: infra.natsUrl, DATABASE_URL: infra.databaseUrl, FORCE_COLOR: '0' };

mkdirSync(OUT, { recursive: true });
let passed = 0;
let failed = 0;
let ok = checks.every(Boolean);
for (const tier of runTiers) {
  const report = join(OUT, `jest-${tier}.json`);
  const workers = tier === 'e2e' ? ['--runInBand'] : ['--maxWorkers=2'];
  const tierOk = step(`${tier} tests`, npx('jest'), ['--ci', '--selectProjects', tier, ...workers, '--json', `--outputFile=${report}`], env);
  ok &&= tierOk;
  if (existsSync(report)) {
    const result = JSON.parse(readFileSync(report, 'utf8'));
    passed += result.numPassedTests;
    failed += result.numFailedTests + (result.numRuntimeErrorTestSuites ?? 0);
    if (result.numTotalTests === 0) {
      console.log(`[test] the ${tier} tier ran no test`);
      ok = false;
    }
  } else {
    failed += 1;
  }
}
say(`done in ${((Date.now() - started) / 1000).toFixed(0)} s${ok ? '' : ' — FAILURES above'}`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(ok && failed === 0 ? 0 : 1);
