// Lints virtual files with the workspace's eslint.config.mjs through the ESLint Node API.
// stdin: JSON [{ filePath, code }] (paths relative to the repo root); stdout: JSON
// [{ filePath, messages: [{ ruleId, severity, message, fatal }] }] on the last line (a plugin may
// print warnings to stdout before it).
//
// Why a separate process: ESLint loads its flat config with a native `import()`, which jest's
// module sandbox refuses unless node runs with --experimental-vm-modules (see boundaries.unit.spec.ts).
import { readFileSync } from 'node:fs';
import { resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const files = JSON.parse(readFileSync(0, 'utf8'));
const eslint = new ESLint({ cwd: root });
const out = [];
for (const { filePath, code } of files) {
  const [result] = await eslint.lintText(code, { filePath: resolve(root, filePath) });
  out.push({
    filePath,
    messages: result.messages.map(({ ruleId, severity, message, fatal }) => ({ ruleId, severity, message, fatal: !!fatal })),
  });
}
process.stdout.write(`\n${JSON.stringify(out)}\n`);
