// `npm run chaos [-- --runs N --seed S --duration SECONDS --concurrency C --short --keep-data]`
// The chaos suite (issue 11, item 11): the whole stack with 3 llm-workers on a NATS server and a
// Postgres cluster of its own, N runs driven over REST (20 % through the fake OpenAI/Anthropic
// servers, the rest on the simulated provider at 50–500 ms; llm, agent and loop phases) while
// faults are injected on a schedule drawn from the seed; then it verifies and prints the table.
// --duration: the window the faults are spread over. --short: the ≤ 3 minute variant of `npm test`.
// Exit code 1 when a goal is missed (stuck runs, duplicate candidates, replay differences,
// gateway 5xx other than 503, runs that could not be started). The code: libs/testing/src/chaos.ts.
import { existsSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ROOT } from './lib/stack.mjs';

const { values } = parseArgs({
  options: {
    runs: { type: 'string' },
    seed: { type: 'string' },
    duration: { type: 'string' },
    concurrency: { type: 'string' },
    short: { type: 'boolean', default: false },
    'keep-data': { type: 'boolean', default: false },
  },
});

const built = ['gateway', 'orchestrator', 'projector', 'llm-worker', 'judge'].every((s) => existsSync(join(ROOT, 'services', s, 'dist', 'main.js'))) && existsSync(join(ROOT, 'libs', 'testing', 'dist', 'chaos.js'));
if (!built) {
  const { build } = await import('./build.mjs');
  await build({ web: false });
}
(await import('./lib/sandbox-check.mjs')).ensureSandbox({ say: (m) => console.log(`[chaos] ${m}`) });

const require = createRequire(import.meta.url);
const { runChaos, chaosDefaults, chaosVerdict, formatChaosTable } = require('@conclave/testing');
const options = {
  ...chaosDefaults(values.short),
  label: values.short ? 'chaos-short' : 'chaos',
  log: (m) => console.log(`[chaos] ${m}`),
  keepData: values['keep-data'],
};
if (values.runs) options.runs = Number(values.runs);
if (values.seed) options.seed = Number(values.seed);
if (values.duration) options.faultWindowMs = Number(values.duration) * 1000;
if (values.concurrency) options.concurrency = Number(values.concurrency);

const report = await runChaos(options);
writeFileSync(join(report.logDir, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
console.log(`\n${formatChaosTable(report)}\n`);
const verdict = chaosVerdict(report);
console.log(verdict.ok ? 'every goal met' : `goals missed: ${verdict.missed.join('; ')}`);
process.exit(verdict.ok ? 0 : 1);
