/**
 * Proves that eslint.config.mjs really enforces the module boundaries (DESIGN.md "Services",
 * STYLE.md §4 and §10): virtual files are linted with the workspace config through the ESLint
 * Node API (`new ESLint({ cwd }).lintText(code, { filePath })`), so a config change that silently
 * drops a rule fails here.
 *
 * ESLint runs in a child process (tools/lint/lint-virtual.mjs): it loads its flat config with a
 * native `import()`, which jest's module sandbox refuses without --experimental-vm-modules. One
 * process lints every case (~3 s, most of it Nx computing the project graph).
 */
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';

const root = resolve(__dirname, '../..');
const BOUNDARY_RULES = new Set(['@nx/enforce-module-boundaries', 'no-restricted-imports']);

interface LintMessage {
  ruleId: string | null;
  severity: number;
  message: string;
  fatal: boolean;
}

const importing = (specifier: string) => `import * as m from '${specifier}';\nexport const used = m;\n`;

type Case = [label: string, filePath: string, code: string];

const refused: Array<[label: string, filePath: string, specifier: string, expected: RegExp]> = [
  ['a service importing another service', 'services/gateway/src/x.ts', '@conclave/orchestrator', /type:service.*can only depend on libs tagged with "type:lib"/],
  ['a service importing another service (projector -> judge)', 'services/projector/src/feature/x.ts', '@conclave/judge', /type:service/],
  ['contracts importing Nest', 'libs/contracts/src/x.ts', '@nestjs/common', /scope:contracts.*not allowed to import "@nestjs\/common"/],
  ['contracts importing pg', 'libs/contracts/src/x.ts', 'pg', /scope:contracts.*not allowed to import "pg"/],
  ['contracts importing a node builtin', 'libs/contracts/src/x.ts', 'node:crypto', /may import only zod/],
  ['contracts importing another project', 'libs/contracts/src/x.ts', '@conclave/event-log', /may import only zod/],
  ['orchestrator domain importing Nest', 'services/orchestrator/src/domain/x.ts', '@nestjs/common', /framework-free/],
  ['domain code in a feature folder importing Nest', 'services/orchestrator/src/runs/domain/decider.ts', '@nestjs/core', /framework-free/],
  ['domain code importing a database client', 'services/orchestrator/src/domain/x.ts', 'pg', /does no I\/O/],
  ['the web app importing a server lib', 'web/src/x.ts', '@conclave/event-log', /scope:web.*can only depend on libs tagged with "scope:contracts"/],
  ['the web app importing a service', 'web/src/pages/x.tsx', '@conclave/gateway', /scope:web/],
  ['production code importing the test harness', 'services/gateway/src/x.ts', '@conclave/testing', /scope:server.*can only depend on/],
  ['a server lib importing the test harness', 'libs/event-log/src/x.ts', '@conclave/testing', /scope:server.*can only depend on/],
];

const allowed: Array<[label: string, filePath: string, specifier: string]> = [
  ['contracts importing zod', 'libs/contracts/src/x.ts', 'zod'],
  ['contracts importing a sibling file', 'libs/contracts/src/x.ts', './events'],
  ['a service importing contracts', 'services/gateway/src/x.ts', '@conclave/contracts'],
  ['a service importing a server lib', 'services/orchestrator/src/x.ts', '@conclave/event-log'],
  ['a service adapter importing Nest', 'services/orchestrator/src/adapters/x.ts', '@nestjs/common'],
  ['domain code importing contracts', 'services/orchestrator/src/domain/x.ts', '@conclave/contracts'],
  ['the web app importing contracts', 'web/src/x.ts', '@conclave/contracts'],
  ['a unit test importing the test harness', 'services/gateway/src/x.unit.spec.ts', '@conclave/testing'],
  ['an integration test of a lib importing the harness', 'libs/event-log/src/x.int.spec.ts', '@conclave/testing'],
];

const extra: Case[] = [
  ['require() of another service', 'services/gateway/src/req.ts', "export const m = require('@conclave/orchestrator');\n"],
  ['Date.now() in domain code', 'services/orchestrator/src/domain/clock.ts', 'export const now = () => Date.now();\n'],
];

const cases: Case[] = [
  ...refused.map(([label, filePath, specifier]): Case => [label, filePath, importing(specifier)]),
  ...allowed.map(([label, filePath, specifier]): Case => [label, filePath, importing(specifier)]),
  ...extra,
];

let results: Map<string, LintMessage[]>;

beforeAll(() => {
  const input = JSON.stringify(cases.map(([, filePath, code]) => ({ filePath, code })));
  const stdout = execFileSync(process.execPath, [resolve(__dirname, 'lint-virtual.mjs')], {
    cwd: root,
    input,
    encoding: 'utf8',
    env: { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true' },
    maxBuffer: 16 * 1024 * 1024,
  });
  const lastLine = stdout.trim().split('\n').pop() ?? '[]';
  const parsed = JSON.parse(lastLine) as Array<{ filePath: string; messages: LintMessage[] }>;
  results = new Map(parsed.map((r, i) => [cases[i][0], r.messages]));
}, 60_000);

/** The boundary errors for one case; a file that does not parse fails the test. */
function boundaryErrors(label: string, rules = BOUNDARY_RULES): LintMessage[] {
  const messages = results.get(label);
  if (!messages) throw new Error(`no lint result for ${label}`);
  const fatal = messages.filter((m) => m.fatal);
  if (fatal.length > 0) throw new Error(`${label}: did not parse: ${fatal.map((m) => m.message).join('; ')}`);
  return messages.filter((m) => m.ruleId !== null && rules.has(m.ruleId) && m.severity === 2);
}

describe('module boundaries', () => {
  it.each(refused)('refuse %s', (label, _filePath, _specifier, expected) => {
    const errors = boundaryErrors(label);
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.map((e) => e.message).join('\n')).toMatch(expected);
  });

  it.each(allowed)('allow %s', (label) => {
    expect(boundaryErrors(label)).toEqual([]);
  });

  it('check require() like import', () => {
    expect(boundaryErrors('require() of another service').map((e) => e.ruleId)).toContain('@nx/enforce-module-boundaries');
  });

  it('keep domain code deterministic (no Date.now)', () => {
    const errors = boundaryErrors('Date.now() in domain code', new Set(['no-restricted-properties']));
    expect(errors.map((e) => e.message).join('\n')).toMatch(/Time arrives with the input/);
  });
});
