// `node bench/web.mjs`: the dashboard's budget figures, on the built files (`cd web && npx vite build` first).
// - initial JS: the entry script and its modulepreloads from dist/index.html, gzipped (budget 300 KB);
// - the largest lazy chunks (they load with their page only);
// - a 200-phase DAG: dagre layout alone (node), and in headless Chromium (/usr/bin/chromium or
//   CHROMIUM_PATH) the run page's time from navigation to 200 rendered nodes, API mocked by routes.
// Every page is also opened once against a mocked API to check none renders blank (prints a table).
import { createServer } from 'node:http';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { extname, join, normalize } from 'node:path';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DIST = join(ROOT, 'web', 'dist');
const BUDGET_KB = 300;
const PHASES = 200;

if (!existsSync(join(DIST, 'index.html'))) {
  console.error('bench/web: build first (cd web && npx vite build)');
  process.exit(1);
}

/* ------------------------------------------------------------------ bundle */
const html = readFileSync(join(DIST, 'index.html'), 'utf8');
const initial = [...html.matchAll(/<script[^>]+src="([^"]+\.js)"|<link[^>]+rel="modulepreload"[^>]+href="([^"]+)"/g)].map((m) => m[1] ?? m[2]);
const css = [...html.matchAll(/<link[^>]+rel="stylesheet"[^>]+href="([^"]+)"/g)].map((m) => m[1]);
const gz = (path) => gzipSync(readFileSync(join(DIST, path))).length;
const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
const initialJs = initial.reduce((s, p) => s + gz(p), 0);
const initialCss = css.reduce((s, p) => s + gz(p), 0);
console.log(`initial JS (gzip): ${kb(initialJs)} in ${initial.length} files (budget ${BUDGET_KB} KB) ${initialJs <= BUDGET_KB * 1024 ? 'OK' : 'OVER BUDGET'}`);
for (const p of initial) console.log(`  ${p}  ${kb(gz(p))}`);
console.log(`initial CSS (gzip): ${kb(initialCss)}`);
const { readdirSync } = await import('node:fs');
const lazy = readdirSync(join(DIST, 'assets'))
  .filter((f) => f.endsWith('.js') && !initial.includes(`/assets/${f}`))
  .map((f) => [f, gz(`assets/${f}`)])
  .sort((a, b) => b[1] - a[1])
  .slice(0, 6);
console.log('largest lazy chunks (gzip):');
for (const [f, size] of lazy) console.log(`  ${f}  ${kb(size)}`);

/* ------------------------------------------------------------------ 200-phase DAG */
function phases(n) {
  const out = [];
  for (let i = 0; i < n; i++) {
    const deps = i === 0 ? [] : [`p${Math.floor((i - 1) / 2)}`, ...(i > 3 && i % 3 === 0 ? [`p${i - 3}`] : [])];
    out.push({ id: `p${i}`, dependsOn: [...new Set(deps)] });
  }
  return out;
}
const dagre = require(require.resolve('@dagrejs/dagre', { paths: [join(ROOT, 'web')] }));
{
  const shape = phases(PHASES);
  const t0 = performance.now();
  const g = new dagre.graphlib.Graph();
  g.setGraph({ rankdir: 'LR', ranksep: 70, nodesep: 28 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const n of shape) g.setNode(n.id, { width: 200, height: 84 });
  for (const n of shape) for (const d of n.dependsOn) g.setEdge(d, n.id);
  dagre.layout(g);
  console.log(`dagre layout of ${PHASES} phases (node): ${(performance.now() - t0).toFixed(0)} ms`);
}

const statuses = ['completed', 'running', 'pending', 'failed', 'waiting'];
const runView = {
  id: 'bench200',
  name: `bench ${PHASES} phases`,
  templateId: 'tpl',
  templateVersion: 1,
  templateName: 'bench',
  status: 'running',
  inputs: {},
  phases: phases(PHASES).map((p, i) => ({
    ...p,
    name: null,
    kind: 'llm',
    status: statuses[i % statuses.length],
    attempt: 1,
    startedAt: null,
    completedAt: null,
    candidates: [],
    verdict: null,
    artifactId: null,
    costUsd: 0,
    tokens: { input: 0, output: 0 },
    error: null,
  })),
  currentPhases: [],
  costUsd: 0,
  tokens: { input: 0, output: 0 },
  startedAt: new Date().toISOString(),
  completedAt: null,
  sequence: 1,
  error: null,
  pending: { gates: [], questions: [], continue: [] },
  pauseReason: null,
  budgetUsd: null,
};

/* ------------------------------------------------------------------ static server (SPA fallback) */
const TYPES = { '.js': 'text/javascript', '.css': 'text/css', '.html': 'text/html', '.map': 'application/json', '.svg': 'image/svg+xml' };
const server = createServer((req, res) => {
  const path = normalize(decodeURIComponent(new URL(req.url, 'http://x').pathname)).replace(/^(\.\.[/\\])+/, '');
  const file = join(DIST, path);
  const target = path !== '/' && existsSync(file) && file.startsWith(DIST) ? file : join(DIST, 'index.html');
  res.writeHead(200, { 'content-type': TYPES[extname(target)] ?? 'application/octet-stream' });
  res.end(readFileSync(target));
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const base = `http://127.0.0.1:${server.address().port}`;

const { chromium } = require('playwright-core');
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--no-sandbox'] });
try {
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  await page.route('**/socket.io/**', (r) => r.abort());
  await page.route('**/api/v1/**', (route) => {
    const url = new URL(route.request().url());
    const json = (body, status = 200) => route.fulfill({ status, contentType: 'application/json', body: JSON.stringify(body) });
    if (url.pathname === '/api/v1/runs/bench200') return json(runView);
    if (url.pathname.endsWith('/timeline')) return json({ items: [] });
    if (url.pathname === '/api/v1/runs') return json({ items: [], nextCursor: null });
    if (url.pathname === '/api/v1/templates') return json({ items: [] });
    if (url.pathname === '/api/v1/templates/validate') return json({ valid: true, errors: [], levels: [['draft']] });
    return json({ error: { code: 'not_found', message: `Cannot ${route.request().method()} ${url.pathname}` } }, 404);
  });

  const samples = [];
  for (let i = 0; i < 3; i++) {
    await page.goto('about:blank');
    await page.goto(`${base}/runs/bench200`);
    await page.waitForFunction(`document.querySelectorAll('[data-testid="phase-node"]').length >= ${PHASES}`, undefined, { timeout: 60_000 });
    samples.push(await page.evaluate(() => performance.now()));
  }
  samples.sort((a, b) => a - b);
  console.log(`run page, ${PHASES}-phase DAG, navigation → all nodes rendered: median ${samples[1].toFixed(0)} ms (runs: ${samples.map((s) => s.toFixed(0)).join(', ')})`);

  // Every route renders something (mocked API; missing endpoints answer 404).
  const routes = ['/runs', '/templates', '/templates/new', '/providers', '/costs', '/fleet', '/events'];
  for (const route of routes) {
    const errors = [];
    page.removeAllListeners('pageerror');
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${base}${route}`);
    await page.waitForSelector('h1', { timeout: 15_000 });
    await page.waitForTimeout(600);
    const h1 = await page.textContent('h1');
    const text = (await page.textContent('main')).length;
    console.log(`  ${route.padEnd(16)} h1="${h1?.trim()}" main text ${text} chars${errors.length ? ` ERRORS: ${errors.join('; ')}` : ''}`);
    if (process.env.SCREENSHOTS) await page.screenshot({ path: join(process.env.SCREENSHOTS, `${route.replace(/\//g, '_') || 'root'}.png`), fullPage: true });
  }
} finally {
  await browser.close();
  server.close();
}
