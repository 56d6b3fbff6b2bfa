// ESLint 9 flat config. The module boundaries of DESIGN.md / STYLE.md §10 are enforced here:
//
//   scope:contracts  imports only `zod` and no other project (the web app and every service load it)
//   type:service     depends only on type:lib projects: services never import each other
//   scope:web        depends only on scope:contracts
//   scope:testing    only from test files (*.spec.ts, __tests__/, e2e/)
//   services/*/src/**/domain/**  framework-free: no @nestjs/*, no broker or database clients
//
// The tags live in each package.json's `nx.tags`. `@nx/enforce-module-boundaries` needs Nx's
// project graph; it silently skips itself when none is cached (a fresh clone), so this file
// computes it first (in-process, no daemon, no Nx Cloud; ~2 s, incremental afterwards).
import { defineConfig, globalIgnores } from 'eslint/config';
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';
import nxPlugin from '@nx/eslint-plugin/nx';

process.env.NX_DAEMON ??= 'false';
process.env.NX_NO_CLOUD ??= 'true';
{
  const { createProjectGraphAsync } = await import('@nx/devkit');
  await createProjectGraphAsync({ exitOnError: false });
}

const TS = ['**/*.ts', '**/*.tsx', '**/*.mts', '**/*.cts'];
const TEST_FILES = ['**/*.spec.ts', '**/*.spec.tsx', '**/__tests__/**', 'e2e/**'];

/**
 * Tag constraints. `testing` adds scope:testing to what every project may depend on; it is used
 * for test files only, so production code can never pull in the test harness.
 */
function depConstraints({ testing }) {
  const t = testing ? ['scope:testing'] : [];
  return [
    // contracts: zod only. In tests, any dev package (jest helpers, fast-check, …) is fine.
    testing
      ? { sourceTag: 'scope:contracts', onlyDependOnLibsWithTags: ['scope:contracts', ...t] }
      : { sourceTag: 'scope:contracts', onlyDependOnLibsWithTags: ['scope:contracts'], allowedExternalImports: ['zod'] },
    { sourceTag: 'scope:server', onlyDependOnLibsWithTags: ['scope:contracts', 'scope:server', ...t] },
    { sourceTag: 'scope:testing', onlyDependOnLibsWithTags: ['scope:contracts', 'scope:server', 'scope:testing'] },
    { sourceTag: 'scope:web', onlyDependOnLibsWithTags: ['scope:contracts', ...t] },
    { sourceTag: 'type:lib', onlyDependOnLibsWithTags: ['type:lib'] },
    { sourceTag: 'type:service', onlyDependOnLibsWithTags: ['type:lib'] },
    { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:lib'] },
  ];
}

const boundaries = (testing) => ({
  '@nx/enforce-module-boundaries': [
    'error',
    {
      allow: [],
      enforceBuildableLibDependency: false,
      // A test may import its own package by name, to exercise the public entry point.
      allowCircularSelfDependency: testing,
      // The harness depends on the libs whose tests use it (event-log -> testing -> event-log).
      // Only test files may import scope:testing (below), so a cycle through it is test-only.
      ignoredCircularDependencies: [['tag:scope:testing', '*']],
      depConstraints: depConstraints({ testing }),
    },
  ],
});

/** Domain code: pure deciders and state machines (STYLE.md §3–4). */
const DOMAIN_BANNED_IMPORTS = {
  patterns: [
    { regex: '^@nestjs(/|$)', message: 'Domain code is framework-free: keep Nest in the adapters (STYLE.md §4).' },
    {
      regex: '^(@nats-io/|pg$|typeorm$|@conclave/(event-log|read-models|service-kit)$)',
      message: 'Domain code does no I/O: the shell reads, calls decide/evolve and appends (STYLE.md §3).',
    },
  ],
};

export default defineConfig([
  globalIgnores([
    '**/dist/**',
    '**/node_modules/**',
    '.conclave/**',
    '.nx/**',
    'web/dist/**',
    'coverage/**',
    'test-output/**',
  ]),

  js.configs.recommended,
  tseslint.configs.recommended,

  {
    languageOptions: { ecmaVersion: 2023, sourceType: 'module', globals: { ...globals.node } },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },
  { files: ['**/*.js', '**/*.cjs'], languageOptions: { sourceType: 'commonjs' } },
  { files: ['web/**/*.js'], languageOptions: { sourceType: 'module' } }, // web/package.json: "type": "module"
  { files: ['web/**'], languageOptions: { globals: { ...globals.browser } } },

  // Project boundaries.
  { files: [...TS, '**/*.js', '**/*.mjs', '**/*.cjs'], plugins: { '@nx': nxPlugin }, rules: boundaries(false) },
  { files: TEST_FILES, rules: boundaries(true) },

  // Contracts run in the browser too: zod and relative imports only (node builtins included).
  // Complements the Nx rule, which cannot see packages that are missing from the lock file.
  {
    files: ['libs/contracts/src/**'],
    ignores: TEST_FILES,
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { regex: '^(?!zod(/|$)|\\.{1,2}(/|$))', message: 'libs/contracts may import only zod (it is loaded by every service and by the web app).' },
          ],
        },
      ],
    },
  },

  // Domain code is framework-free and deterministic.
  {
    files: ['services/*/src/**/domain/**'],
    rules: { 'no-restricted-imports': ['error', DOMAIN_BANNED_IMPORTS] },
  },
  {
    files: ['services/*/src/**/domain/**'],
    ignores: TEST_FILES,
    rules: {
      'no-restricted-properties': [
        'error',
        { object: 'Date', property: 'now', message: 'Time arrives with the input (STYLE.md §3).' },
        { object: 'Math', property: 'random', message: 'Ids and randomness arrive with the input (STYLE.md §3).' },
      ],
    },
  },

  // Tests and tooling.
  // Test code may use `any` for fixtures and loosely typed responses; production code may not.
  { files: TEST_FILES, languageOptions: { globals: { ...globals.jest } }, rules: { '@typescript-eslint/no-explicit-any': 'off' } },
  { files: ['**/*.js', '**/*.cjs'], rules: { '@typescript-eslint/no-require-imports': 'off' } },
]);
