import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RunView, TemplateInput } from '@conclave/contracts';
import { ALL_SERVICES, createTestEnv, eventually, freePort, REPO_ROOT, waitForOk, type TestEnv } from '@conclave/testing';

/**
 * `npm start`'s default shape (ADR 015): every service hosted by one process
 * (services/stack/dist/main.js), each connecting as its own NATS user (the e2e tier's private
 * nats-server has no anonymous access), completes a judged run, serves every service's metrics,
 * stays within the memory budget (issue 12: ≤ 400 MB idle for the whole stack) and drains and
 * exits 0 on SIGTERM — with the projector in a worker thread of its own (the default), and with
 * every service on the main thread (CONCLAVE_THREADS=none).
 */
const IDLE_BUDGET_KIB = 400 * 1024;
const sim = (model: string) => ({ provider: 'simulated', model, options: { latencyMs: 20 } });
const template: TemplateInput = {
  name: 'single-process run',
  description: 'two candidates and a judge, then one more phase',
  inputs: { type: 'object', properties: { idea: { type: 'string' } }, required: ['idea'] },
  phases: [
    { id: 'draft', kind: 'llm', prompt: { user: 'Idea: {{inputs.idea}}' }, candidates: [sim('a'), sim('b')], judge: { provider: 'simulated', model: 'judge' }, output: { artifact: 'spec' } },
    { id: 'notes', kind: 'llm', dependsOn: ['draft'], prompt: { user: 'Notes on {{phases.draft.output.title}}' }, candidates: [sim('c')] },
  ],
};

async function residentKiB(pid: number): Promise<number> {
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(await readFile(`/proc/${pid}/status`, 'utf8'));
  if (!match) throw new Error(`no VmRSS for ${pid}`);
  return Number(match[1]);
}

describe.each([
  { shape: 'the projector in its own thread (the default)', threads: '' },
  { shape: 'every service on one thread', threads: 'none' },
])('single-process stack, $shape', ({ threads }) => {
  let env: TestEnv;
  let child: ChildProcess | undefined;
  let url = '';
  const exited = () => new Promise<number | null>((resolve) => (child!.exitCode !== null || child!.signalCode !== null ? resolve(child!.exitCode) : child!.once('exit', (code) => resolve(code))));
  const api = async (path: string, body?: unknown) => {
    const res = await fetch(`${url}/api/v1${path}`, body === undefined ? {} : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: res.status, json: <T = any>() => res.json() as Promise<T> };
  };

  beforeAll(async () => {
    env = await createTestEnv('single');
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    const shared: NodeJS.ProcessEnv = { ...process.env, ...env.serviceEnv, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'info', RATE_LIMIT_PER_MINUTE: '1000000', CONCLAVE_THREADS: threads };
    const setup = spawnSync(process.execPath, [join(REPO_ROOT, 'scripts', 'setup.mjs')], { cwd: REPO_ROOT, env: shared, encoding: 'utf8' });
    if (setup.status !== 0) throw new Error(`setup failed (exit ${setup.status}):\n${setup.stdout}\n${setup.stderr}`);
    // the services' own users: `<SERVICE>__<VAR>` reaches one hosted service only (hosted-env.ts)
    const perService: Record<string, string> = { GATEWAY__CONCLAVE_MASTER_KEY: randomBytes(32).toString('base64') };
    for (const service of ALL_SERVICES) {
      const user = env.nats?.serviceEnv(service);
      const prefix = `${service.toUpperCase().replace(/-/g, '_')}__`;
      if (user) Object.assign(perService, { [`${prefix}NATS_USER`]: user.NATS_USER, [`${prefix}NATS_PASSWORD`]: user.NATS_PASSWORD });
    }
    const { NATS_USER: _u, NATS_PASSWORD: _p, ...withoutAdmin } = shared; // no service connects as the admin
    const logDir = join(REPO_ROOT, 'test-output', `single-${env.id}`);
    mkdirSync(logDir, { recursive: true });
    child = spawn(process.execPath, [join(REPO_ROOT, 'services', 'stack', 'dist', 'main.js')], { cwd: REPO_ROOT, env: { ...withoutAdmin, ...perService }, stdio: ['ignore', 'pipe', 'pipe'] });
    const log = createWriteStream(join(logDir, 'stack.log'));
    child.stdout!.pipe(log);
    child.stderr!.pipe(log);
    try {
      await waitForOk(`${url}/api/v1/health`, 60_000);
    } catch (err) {
      child.kill('SIGKILL');
      throw new Error(`${(err as Error).message}; see ${logDir}/stack.log`);
    }
  });

  afterAll(async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      const timer = setTimeout(() => child!.kill('SIGKILL'), 20_000);
      child.kill('SIGTERM');
      await exited();
      clearTimeout(timer);
    }
    await env?.dispose();
  });

  it('boots every service in one process within the idle memory budget', async () => {
    await eventually(async () => (await api('/ready')).status === 200, 'the stack to be ready', 30_000);
    await new Promise((r) => setTimeout(r, 2_000)); // settle: boot garbage collected
    const kib = await residentKiB(child!.pid!);
    process.stdout.write(`single-process stack idle: ${Math.round(kib / 1024)} MiB resident\n`);
    expect(kib).toBeLessThan(IDLE_BUDGET_KIB);
  });

  it('completes a judged run with every service as its own NATS user', async () => {
    const created = await api('/templates', template);
    expect(created.status).toBe(201);
    const { id: templateId } = await created.json<{ id: string }>();
    const started = await api('/runs', { templateId, inputs: { idea: 'one process' } });
    expect(started.status).toBe(201);
    const { id } = await started.json<{ id: string }>();
    const run = await eventually(async () => {
      const view = await (await api(`/runs/${id}`)).json<RunView>();
      return view.status === 'completed' && view;
    }, 'the run to complete', 60_000);
    expect(run.phases.map((p) => [p.id, p.status])).toEqual([
      ['draft', 'completed'],
      ['notes', 'completed'],
    ]);
  });

  it("serves every service's metrics on the gateway's /metrics, the process's own once", async () => {
    const res = await fetch(`${url}/metrics`);
    expect(res.status).toBe(200);
    const body = await res.text();
    for (const service of ['orchestrator', 'projector']) expect(body).toMatch(new RegExp(`^conclave_consumer_pending_messages\\{[^}]*service="${service}"`, 'm'));
    expect(body).toMatch(/^conclave_projector_lag_events\{[^}]*service="projector"[^}]*\} \d/m);
    expect(body.match(/^# TYPE process_cpu_user_seconds_total /gm)).toHaveLength(1);
  });

  it('drains every service and exits 0 on SIGTERM', async () => {
    child!.kill('SIGTERM');
    expect(await exited()).toBe(0);
  });
});
