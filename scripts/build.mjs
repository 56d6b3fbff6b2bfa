#!/usr/bin/env node
// Builds everything `npm start` and the Docker image run:
//   1. `tsc -b tsconfig.build.json`: the libs and node services, in reference order (incremental)
//   2. `vite build` in web/ (skipped, with a message, while web/index.html does not exist)
// Usable as `npm run build` / `node scripts/build.mjs`, or imported: `await build()` throws on failure.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const defaultLog = (message) => console.log(`[build] ${message}`);

/**
 * @param {{ log?: (message: string) => void, web?: boolean }} [options] web: false skips the web app
 * @returns {Promise<{ steps: Array<{ name: string, ms: number, skipped?: string }> }>}
 */
export async function build({ log = defaultLog, web = true } = {}) {
  const steps = [];
  const t0 = performance.now();

  const tsc = resolveBin(root, 'typescript', 'bin/tsc');
  steps.push(await step('tsc -b tsconfig.build.json', log, () => run(process.execPath, [tsc, '-b', 'tsconfig.build.json'], root)));

  const webDir = join(root, 'web');
  if (!web) {
    steps.push({ name: 'vite build (web)', ms: 0, skipped: 'not requested' });
  } else if (!existsSync(join(webDir, 'index.html'))) {
    log('web/index.html does not exist yet: skipping the web build');
    steps.push({ name: 'vite build (web)', ms: 0, skipped: 'no web/index.html' });
  } else {
    const vite = resolveBin(webDir, 'vite', 'bin/vite.js');
    steps.push(await step('vite build (web)', log, () => run(process.execPath, [vite, 'build'], webDir)));
  }

  log(`done in ${seconds(performance.now() - t0)}`);
  return { steps };
}

async function step(name, log, fn) {
  log(`${name} …`);
  const t = performance.now();
  await fn();
  const ms = performance.now() - t;
  log(`${name}: ${seconds(ms)}`);
  return { name, ms };
}

/** The package's own JS entry (no npx: no registry look-up, no npm warnings). */
function resolveBin(fromDir, pkg, bin) {
  const req = createRequire(join(fromDir, 'package.json'));
  try {
    return join(dirname(req.resolve(`${pkg}/package.json`)), bin);
  } catch {
    throw new Error(`${pkg} is not installed (looked from ${fromDir}); run npm install`);
  }
}

function run(cmd, args, cwd) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, { cwd, stdio: 'inherit', env: process.env });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (code === 0) resolvePromise();
      else reject(new Error(`${[cmd, ...args].join(' ')} failed in ${cwd} (${signal ?? `exit ${code}`})`));
    });
  });
}

const seconds = (ms) => `${(ms / 1000).toFixed(1)}s`;

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  build({ web: !process.argv.includes('--no-web') }).catch((err) => {
    console.error(`[build] ${err.message}`);
    process.exit(1);
  });
}
