import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { appendFileSync, chmodSync, chownSync, createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, type WriteStream } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { jetstream, jetstreamManager, type JetStreamClient } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Client } from 'pg';
import { natsNames, type NatsNames, type NatsUser } from '@conclave/contracts';
import { generateNatsPasswords, natsCredentials, natsServerEnv, renderNatsConfig } from '@conclave/event-log';
import { anthropic, FakeLlmServer, openai, type FakeReply, type RecordedRequest } from './fake-llm';
import { NATS_SERVER_BIN } from './nats-server';
import { freePort, REPO_ROOT, waitForOk } from './stack';

/**
 * The chaos suite (issue 11, item 11): the whole stack with 3 llm-workers on a NATS server and a
 * Postgres cluster of its own, driven through the REST API with many runs while faults are
 * injected on a seeded schedule — SIGKILL (then a fresh process) and SIGSTOP/SIGCONT of
 * llm-workers, the judge, the orchestrator and the projector, a NATS restart, a Postgres restart
 * (`pg_ctl restart -m immediate`), poison events and poison commands. Then it verifies what the
 * system left behind and returns the figures of the table `formatChaosTable` prints.
 * `npm run chaos` (scripts/chaos.mjs) and e2e/chaos.e2e.spec.ts both run this.
 * Everything it starts is its own and is ended by PID (Postgres through pg_ctl on its data dir).
 */

export type ChaosService = 'orchestrator' | 'projector' | 'llm-worker' | 'judge' | 'gateway';
export type FaultKind = 'kill' | 'stop' | 'nats-restart' | 'pg-restart' | 'poison-event' | 'poison-command';

export interface FaultPlanEntry {
  kind: FaultKind;
  /** kill / stop: which service (llm-workers: a seeded one of the three) */
  service?: Exclude<ChaosService, 'gateway'>;
  /** stop: how long the process stays stopped, [min, max] ms */
  stopMs?: [number, number];
  count: number;
}

export interface ChaosOptions {
  runs: number;
  seed: number;
  /** runs in flight at once */
  concurrency: number;
  /** faults are spread over this window (ms from the first run); they stop early when every run is done */
  faultWindowMs: number;
  faults: FaultPlanEntry[];
  /** after the last fault, how long a run may still take to settle before it counts as stuck */
  settleMs: number;
  /** how long the verification waits for the projector to reach the log's last sequence */
  catchUpMs: number;
  /** share of runs on the fake OpenAI/Anthropic servers (the rest on the simulated provider) */
  fakeShare: number;
  llmWorkers: number;
  /** ORCHESTRATOR_STALL_MS of the stack (a SIGSTOPped llm-worker longer than this is an injected stall) */
  stallMs: number;
  label: string;
  log: (message: string) => void;
  /** keep the data dirs (NATS store, Postgres cluster) instead of removing them */
  keepData?: boolean;
}

const FULL_FAULTS: FaultPlanEntry[] = [
  { kind: 'kill', service: 'llm-worker', count: 4 },
  { kind: 'stop', service: 'llm-worker', stopMs: [13_000, 16_000], count: 3 },
  { kind: 'stop', service: 'llm-worker', stopMs: [2_000, 5_000], count: 1 },
  { kind: 'kill', service: 'judge', count: 2 },
  { kind: 'stop', service: 'judge', stopMs: [3_000, 8_000], count: 1 },
  { kind: 'kill', service: 'orchestrator', count: 2 },
  { kind: 'stop', service: 'orchestrator', stopMs: [3_000, 6_000], count: 1 },
  { kind: 'kill', service: 'projector', count: 2 },
  { kind: 'stop', service: 'projector', stopMs: [3_000, 6_000], count: 1 },
  { kind: 'nats-restart', count: 1 },
  { kind: 'pg-restart', count: 1 },
  { kind: 'poison-event', count: 3 },
  { kind: 'poison-command', count: 3 },
];

const SHORT_FAULTS: FaultPlanEntry[] = [
  { kind: 'kill', service: 'llm-worker', count: 1 },
  { kind: 'stop', service: 'llm-worker', stopMs: [13_000, 14_000], count: 1 },
  { kind: 'kill', service: 'projector', count: 1 },
  { kind: 'poison-command', count: 1 },
  { kind: 'poison-event', count: 1 },
  { kind: 'nats-restart', count: 1 },
];

/** `npm run chaos`'s defaults (`short`: the ≤ 3 minute variant of `npm test`). */
export function chaosDefaults(short = false): Omit<ChaosOptions, 'label' | 'log'> {
  return short
    ? { runs: 30, seed: 11, concurrency: 8, faultWindowMs: 30_000, faults: SHORT_FAULTS, settleMs: 45_000, catchUpMs: 20_000, fakeShare: 0.2, llmWorkers: 3, stallMs: 10_000 }
    : { runs: 200, seed: 11, concurrency: 12, faultWindowMs: 480_000, faults: FULL_FAULTS, settleMs: 120_000, catchUpMs: 60_000, fakeShare: 0.2, llmWorkers: 3, stallMs: 10_000 };
}

export interface InjectedFault {
  at: number;
  kind: FaultKind;
  target: string;
  detail: string;
  durationMs: number;
  error?: string;
}

export interface RunOutcome {
  id: string;
  index: number;
  fake: boolean;
  status: string;
  lastEvents: string[];
  failure?: string;
  poisoned: boolean;
  /** the terminal event the log holds when the read model does not show it (the projector is behind) */
  logTerminal?: string;
}

export interface ChaosReport {
  id: string;
  seed: number;
  machine: string;
  durability: string;
  elapsedMs: number;
  runsRequested: number;
  runsStarted: number;
  notStarted: { index: number; reason: string }[];
  completed: number;
  failed: number;
  failedReasons: Record<string, number>;
  cancelled: number;
  stuck: RunOutcome[];
  duplicates: { key: string; count: number }[];
  providerCalls: { candidates: number; calls: number; max: number; overExpected: number; extraCalls: number; unattributed: number; examples: string[] };
  staleRefused: number;
  staleRefusedByReason: Record<string, number>;
  stallsInjected: number;
  deadLetters: { count: number; byReason: Record<string, number> } | null;
  deadLettersNote: string;
  parkedAlerts: number | null;
  /** runs whose read model is parked (poison in their stream) and whose log says how they ended */
  parkedRuns: number;
  alertKinds: Record<string, number>;
  poisonInjected: { events: number; commands: number };
  replay: { differences: number | null; output: string };
  http: {
    total: number;
    byStatus: Record<string, number>;
    non503_5xx: { method: string; path: string; status: number; body: string }[];
    /** the first few 4xx answers other than 404 and 409, for diagnosis */
    samples4xx: { method: string; path: string; status: number; body: string }[];
    networkErrors: number;
  };
  eventsReadVia: { rest: number; direct: number };
  faults: InjectedFault[];
  /** services that exited without being killed: restarted after 1 s, as a supervisor (compose `restart: unless-stopped`) would */
  unexpectedExits: { at: number; slot: string; pid: number; code: number | null; signal: string | null }[];
  logDir: string;
}

/* ------------------------------------------------------------------ seeded PRNG */

/** mulberry32: a small seeded PRNG, enough for a reproducible schedule. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const between = (rand: () => number, [lo, hi]: [number, number]) => Math.round(lo + rand() * (hi - lo));

export interface ScheduledFault {
  at: number;
  kind: FaultKind;
  service?: Exclude<ChaosService, 'gateway'>;
  replica: number;
  stopMs: number;
  pick: number;
}

/** The fault schedule of a seed: the plan's faults shuffled, spread over the window with jitter. */
export function faultSchedule(seed: number, plan: FaultPlanEntry[], windowMs: number, llmWorkers: number): ScheduledFault[] {
  const rand = prng(seed);
  const list: Omit<ScheduledFault, 'at'>[] = [];
  for (const entry of plan) {
    for (let i = 0; i < entry.count; i++) {
      list.push({
        kind: entry.kind,
        ...(entry.service ? { service: entry.service } : {}),
        replica: entry.service === 'llm-worker' ? Math.floor(rand() * llmWorkers) : 0,
        stopMs: entry.stopMs ? between(rand, entry.stopMs) : 0,
        pick: rand(),
      });
    }
  }
  for (let i = list.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [list[i], list[j]] = [list[j]!, list[i]!];
  }
  const first = Math.min(5_000, windowMs / 4);
  const slot = (windowMs - first) / Math.max(1, list.length);
  return list.map((f, i) => ({ ...f, at: Math.round(first + slot * i + rand() * slot * 0.5) }));
}

/* ------------------------------------------------------------------ infrastructure of its own */

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function waitExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return true;
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/** nats-server with the generated least-privilege config; restartable on the same port and store. */
class OwnNats {
  child: ChildProcess | null = null;
  readonly passwords = generateNatsPasswords();
  url = '';
  private config = '';
  /** the binary's version; ≥ 2.10 gets `sync_interval: always` (2.9 refuses it) */
  readonly version = /v?(\d+\.\d+\.\d+)/.exec(spawnSync(NATS_SERVER_BIN, ['--version'], { encoding: 'utf8' }).stdout ?? '')?.[1] ?? 'unknown';
  get syncAlways(): boolean {
    const [major = 0, minor = 0] = this.version.split('.').map(Number);
    return major > 2 || (major === 2 && minor >= 10);
  }

  constructor(
    private readonly dir: string,
    private readonly prefix: string,
  ) {}

  async start(): Promise<void> {
    const port = await freePort();
    this.url = `nats://127.0.0.1:${port}`;
    this.config = join(this.dir, 'nats.conf');
    mkdirSync(join(this.dir, 'js'), { recursive: true });
    writeFileSync(this.config, renderNatsConfig({ prefix: this.prefix, host: '127.0.0.1', port, storeDir: join(this.dir, 'js'), syncAlways: this.syncAlways }), { mode: 0o600 });
    await this.spawn();
  }

  private async spawn(): Promise<void> {
    const child = spawn(NATS_SERVER_BIN, ['-c', this.config, '-l', join(this.dir, 'nats.log')], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...natsServerEnv(this.passwords) }, stdio: 'ignore' });
    this.child = child;
    const deadline = Date.now() + 15_000;
    for (;;) {
      try {
        const nc = await connect({ servers: this.url, ...natsCredentials({ user: 'admin', pass: this.passwords.admin }), timeout: 1000, reconnect: false });
        await nc.close();
        return;
      } catch (err) {
        if (child.exitCode !== null || Date.now() > deadline) throw new Error(`nats-server did not start on ${this.url}: ${(err as Error).message} (log ${join(this.dir, 'nats.log')})`);
        await sleep(100);
      }
    }
  }

  /** SIGTERM (a clean shutdown: JetStream flushes its store), then the same server again. */
  async restart(): Promise<void> {
    await this.stop();
    await this.spawn();
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child) return;
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      if (!(await waitExit(child, 10_000))) {
        child.kill('SIGKILL');
        await waitExit(child, 5_000);
      }
    }
    this.child = null;
  }

  env(user: NatsUser): Record<string, string> {
    return { NATS_URL: this.url, NATS_USER: user, NATS_PASSWORD: this.passwords[user] };
  }
}

/** A private Postgres cluster (initdb + pg_ctl) in a data dir of its own, restartable. */
class OwnPostgres {
  port = 0;
  private bin = '';
  private readonly asRoot = process.getuid?.() === 0;

  constructor(private readonly dir: string) {}

  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/conclave`;
  }

  private run(tool: string, args: string[]): { status: number | null; out: string } {
    const [cmd, argv] = this.asRoot ? ['runuser', ['-u', 'postgres', '--', join(this.bin, tool), ...args]] : [join(this.bin, tool), args];
    const r = spawnSync(cmd, argv, { encoding: 'utf8' });
    return { status: r.status, out: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? String(r.error) : ''}`.trim() };
  }

  async start(): Promise<void> {
    const versions = existsSync('/usr/lib/postgresql') ? readdirSync('/usr/lib/postgresql').sort((a, b) => Number.parseFloat(b) - Number.parseFloat(a)) : [];
    const version = versions.find((v) => existsSync(join('/usr/lib/postgresql', v, 'bin', 'initdb')));
    if (!version) throw new Error('chaos: no Postgres binaries in /usr/lib/postgresql/*/bin (install postgresql)');
    this.bin = join('/usr/lib/postgresql', version, 'bin');
    this.port = await freePort();
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const logFile = join(this.dir, '..', 'postgres.log');
    writeFileSync(logFile, '');
    if (this.asRoot) {
      const uid = Number(spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).stdout.trim());
      const gid = Number(spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).stdout.trim());
      chownSync(this.dir, uid, gid);
      chownSync(logFile, uid, gid);
    }
    const init = this.run('initdb', ['-D', this.dir, '-U', 'postgres', '--auth=trust', '--encoding=UTF8', '--locale=C.UTF-8', '--no-instructions', '--no-sync']);
    if (init.status !== 0) throw new Error(`chaos: initdb failed: ${init.out}`);
    // defaults kept for durability (fsync, synchronous_commit, full_page_writes on): a restart -m immediate is a crash + recovery
    appendFileSync(join(this.dir, 'postgresql.conf'), `\n# chaos suite\nlisten_addresses = '127.0.0.1'\nport = ${this.port}\nunix_socket_directories = ''\nmax_connections = 300\n`);
    const start = this.run('pg_ctl', ['-D', this.dir, '-l', logFile, '-w', '-t', '60', 'start']);
    if (start.status !== 0) throw new Error(`chaos: pg_ctl start failed: ${start.out}`);
    const admin = new Client({ connectionString: `postgres://postgres@127.0.0.1:${this.port}/postgres` });
    await admin.connect();
    await admin.query('CREATE DATABASE conclave');
    await admin.end();
  }

  /** `pg_ctl restart -m immediate`: every backend dies without a checkpoint; start-up replays the WAL. */
  async restart(): Promise<void> {
    const args = ['-D', this.dir, '-m', 'immediate', '-w', '-t', '60', 'restart'];
    const [cmd, argv] = this.asRoot ? ['runuser', ['-u', 'postgres', '--', join(this.bin, 'pg_ctl'), ...args]] : [join(this.bin, 'pg_ctl'), args];
    // not spawnSync: the driver keeps polling (and counting 503s) while Postgres is down
    const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    if (code !== 0) throw new Error(`pg_ctl restart failed: ${out.trim()}`);
  }

  stop(): void {
    if (!this.bin || !existsSync(join(this.dir, 'postmaster.pid'))) return;
    this.run('pg_ctl', ['-D', this.dir, '-m', 'fast', '-w', '-t', '30', 'stop']);
  }
}

interface ServiceProcess {
  service: ChaosService;
  slot: string;
  child: ChildProcess;
  stopped: boolean;
  /** killed by a fault or the teardown: not a crash */
  expectedExit: boolean;
}

/* ------------------------------------------------------------------ fake providers */

type Json = Record<string, unknown>;

function instanceOf(schema: Json | undefined): unknown {
  if (!schema) return { text: 'an answer from the fake provider' };
  if (Array.isArray(schema.enum)) return schema.enum[0];
  switch (schema.type) {
    case 'object':
      return Object.fromEntries(Object.entries((schema.properties ?? {}) as Record<string, Json>).map(([k, v]) => [k, instanceOf(v)]));
    case 'array':
      return Array.from({ length: Math.max(1, Number(schema.minItems ?? 1)) }, () => instanceOf((schema.items ?? {}) as Json));
    case 'number':
    case 'integer':
      return typeof schema.maximum === 'number' ? schema.maximum * 0.9 : 7;
    case 'boolean':
      return true;
    default:
      return 'an answer from the fake provider';
  }
}

const withDelay = (reply: FakeReply, delayMs: number): FakeReply => ('hang' in reply ? reply : { ...reply, delayMs });

function anthropicResponder(latency: () => number) {
  return (r: RecordedRequest): FakeReply => {
    const body = r.body as Json;
    const tools = body.tools as Json[] | undefined;
    const choice = body.tool_choice as Json | undefined;
    if (choice?.type === 'tool') {
      const tool = tools!.find((t) => t.name === choice.name)!;
      const answer = JSON.stringify(instanceOf(tool.input_schema as Json));
      return withDelay(body.stream ? anthropic.streamTool(String(tool.name), [answer.slice(0, 10), answer.slice(10)]) : anthropic.message([{ type: 'tool_use', id: 'toolu_json', name: String(tool.name), input: JSON.parse(answer) }]), latency());
    }
    const last = (body.messages as Json[] | undefined)?.at(-1);
    const toolResult = Array.isArray(last?.content) && (last.content as Json[]).some((b) => b.type === 'tool_result');
    if (tools?.length && !toolResult) {
      return withDelay(anthropic.streamTool('write_file', [JSON.stringify({ path: 'notes/chaos.md', content: '# written by the fake provider\n' })]), latency());
    }
    return withDelay(anthropic.stream(['Wrote notes/chaos.md ', 'as asked.']), latency());
  };
}

function openaiResponder(latency: () => number) {
  return (r: RecordedRequest): FakeReply => {
    const body = r.body as Json;
    const format = body.response_format as { json_schema?: { schema?: Json } } | undefined;
    const tools = body.tools as Json[] | undefined;
    const last = (body.messages as Json[] | undefined)?.at(-1);
    if (!format && tools?.length && last?.role !== 'tool') {
      return withDelay(openai.stream([], { toolCalls: [{ id: 'call_1', name: 'write_file', arguments: JSON.stringify({ path: 'notes/chaos.md', content: '# written by the fake provider\n' }) }] }), latency());
    }
    const answer = format ? JSON.stringify(instanceOf(format.json_schema?.schema)) : 'Wrote notes/chaos.md as asked.';
    return withDelay(body.stream ? openai.stream([answer.slice(0, 8), answer.slice(8)]) : openai.completion(answer), latency());
  };
}

/* ------------------------------------------------------------------ templates */

type Candidate = { provider: string; model: string; options?: { latencyMs: number } };
const SUMMARY = { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] };
/** a clean candidate's provider calls (the fake servers): one per llm/loop candidate, two per agent (a tool turn, then its summary) */
const EXPECTED_FAKE_CALLS: Record<string, number> = { brief: 1, build: 2, revise: 1 };

function chaosTemplate(name: string, c: { brief: Candidate[]; build: Candidate[]; revise: Candidate }): Json {
  const judge = { provider: 'simulated', model: 'sim-judge', criteria: ['focus', 'clarity'] };
  return {
    name,
    description: 'chaos suite: an llm phase, an agent phase and a loop',
    inputs: { type: 'object', properties: { topic: { type: 'string' } }, required: ['topic'] },
    defaults: { timeoutSeconds: 60, retry: { maxAttempts: 3, backoffSeconds: 1 }, autoProceed: true },
    phases: [
      { id: 'brief', kind: 'llm', dependsOn: [], prompt: { system: 'You are an editor.', user: 'A brief on {{inputs.topic}}' }, candidates: c.brief, judge, output: { schema: SUMMARY } },
      {
        id: 'build', kind: 'agent', dependsOn: ['brief'], prompt: { user: 'Put the brief into the repository: {{phases.brief.output.text}}' },
        tools: ['write_file', 'read_file', 'list_files'], maxIterations: 4, candidates: c.build, ...(c.build.length > 1 ? { judge } : {}),
      },
      {
        id: 'revise', kind: 'loop', dependsOn: ['build'], prompt: { system: 'You are a writer.', user: 'Revise the piece on {{inputs.topic}}' }, candidates: [c.revise],
        loop: { maxAttempts: 2, passThreshold: 0.8, evaluator: { provider: 'simulated', model: 'sim-critic', criteria: ['quality'] } },
        output: { schema: SUMMARY },
      },
    ],
  };
}

/* ------------------------------------------------------------------ the suite */

const TERMINAL = new Set(['completed', 'failed', 'cancelled']);
const NO_PROGRESS_MS = 30_000;

export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const say = options.log;
  const id = `${options.label}-${randomBytes(3).toString('hex')}`;
  const prefix = `chaos_${id.replace(/[^a-z0-9]/g, '')}`.slice(0, 40);
  const names: NatsNames = natsNames(prefix);
  const dataDir = join(REPO_ROOT, '.conclave', 'chaos', id);
  const logDir = join(REPO_ROOT, 'test-output', id);
  mkdirSync(dataDir, { recursive: true });
  mkdirSync(logDir, { recursive: true });
  const callLog = join(logDir, 'simulated-calls.log');
  writeFileSync(callLog, '');
  const t0 = Date.now();
  // Ctrl-C / SIGTERM: stop driving and injecting, then tear down everything started here
  let aborted = false;
  const onSignal = () => {
    aborted = true;
    say('chaos: interrupted — stopping what it started');
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const nats = new OwnNats(join(dataDir, 'nats'), prefix);
  // as root, initdb and pg_ctl run as the postgres user, who must reach the data folder: a clone's
  // parents may be closed to it (`mktemp -d` makes them 0700), so the cluster lives under the
  // system temp folder then
  const pgRoot = process.getuid?.() === 0 ? mkdtempSync(join(tmpdir(), 'conclave-chaos-pg-')) : dataDir;
  if (pgRoot !== dataDir) chmodSync(pgRoot, 0o755);
  const pg = new OwnPostgres(join(pgRoot, 'pg'));
  const fakes: FakeLlmServer[] = [];
  const procs = new Map<string, ServiceProcess>();
  const logs = new Map<string, WriteStream>();
  let admin: NatsConnection | null = null;
  let counter = 0;
  const report: ChaosReport = {
    id,
    seed: options.seed,
    machine: `${cpus().length} cores (${cpus()[0]?.model ?? '?'}), ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`,
    durability: `NATS ${nats.version}: file storage, ${nats.syncAlways ? 'sync_interval: always (fsync per message)' : 'flushed on the server interval (no per-message fsync before 2.10)'}, restarted with SIGTERM; Postgres: fsync=on, synchronous_commit=on, full_page_writes=on, restarted with pg_ctl -m immediate`,
    elapsedMs: 0,
    runsRequested: options.runs,
    runsStarted: 0,
    notStarted: [],
    completed: 0,
    failed: 0,
    failedReasons: {},
    cancelled: 0,
    stuck: [],
    duplicates: [],
    providerCalls: { candidates: 0, calls: 0, max: 0, overExpected: 0, extraCalls: 0, unattributed: 0, examples: [] },
    staleRefused: 0,
    staleRefusedByReason: {},
    stallsInjected: 0,
    deadLetters: null,
    deadLettersNote: '',
    parkedAlerts: null,
    parkedRuns: 0,
    alertKinds: {},
    poisonInjected: { events: 0, commands: 0 },
    replay: { differences: null, output: '' },
    http: { total: 0, byStatus: {}, non503_5xx: [], samples4xx: [], networkErrors: 0 },
    eventsReadVia: { rest: 0, direct: 0 },
    faults: [],
    unexpectedExits: [],
    logDir,
  };
  let shuttingDown = false;

  try {
    await nats.start();
    await pg.start();
    say(`chaos ${id}: NATS ${nats.url} (pid ${nats.child?.pid}), Postgres 127.0.0.1:${pg.port} (${join(dataDir, 'pg')}), logs ${logDir}`);
    const port = await freePort();
    const base: Record<string, string> = {
      ...(process.env as Record<string, string>),
      DATABASE_URL: pg.url,
      CONCLAVE_PREFIX: prefix,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      RATE_LIMIT_PER_MINUTE: '1000000',
      CONCLAVE_MASTER_KEY: randomBytes(32).toString('base64'),
      WORKSPACES_ROOT: join(dataDir, 'workspaces'),
      ORCHESTRATOR_STALL_MS: String(options.stallMs),
    };
    delete base.NATS_USER;
    delete base.NATS_PASSWORD;
    const setup = spawnSync(process.execPath, [join(REPO_ROOT, 'scripts', 'setup.mjs')], { cwd: REPO_ROOT, env: { ...base, ...nats.env('admin') }, encoding: 'utf8' });
    if (setup.status !== 0) throw new Error(`setup failed (exit ${setup.status}):\n${setup.stdout}\n${setup.stderr}`);

    const spawnService = (service: ChaosService, slot: string): ServiceProcess => {
      const instance = `${slot}-${++counter}-${id}`;
      const child = spawn(process.execPath, [join(REPO_ROOT, 'services', service, 'dist', 'main.js')], {
        cwd: REPO_ROOT,
        env: { ...base, ...nats.env(service as NatsUser), INSTANCE_ID: instance, ...(service === 'llm-worker' ? { CONCLAVE_SIMULATED_CALL_LOG: callLog } : {}) },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let log = logs.get(slot);
      if (!log) logs.set(slot, (log = createWriteStream(join(logDir, `${slot}.log`), { flags: 'a' })));
      child.stdout!.pipe(log, { end: false });
      child.stderr!.pipe(log, { end: false });
      const proc: ServiceProcess = { service, slot, child, stopped: false, expectedExit: false };
      procs.set(slot, proc);
      child.once('exit', (code, signal) => {
        if (proc.expectedExit || shuttingDown) return;
        report.unexpectedExits.push({ at: Date.now() - t0, slot, pid: child.pid ?? 0, code, signal });
        say(`  ${slot} (pid ${child.pid}) exited on its own (${signal ?? `code ${code}`}); restarting it in 1 s (see ${slot}.log)`);
        setTimeout(() => {
          if (!shuttingDown && procs.get(slot) === proc) spawnService(service, slot);
        }, 1_000);
      });
      return proc;
    };
    for (const s of ['orchestrator', 'projector', 'judge', 'gateway'] as const) spawnService(s, s);
    for (let i = 0; i < options.llmWorkers; i++) spawnService('llm-worker', `llm-worker-${i}`);
    const url = `http://127.0.0.1:${port}`;
    await waitForOk(`${url}/api/v1/health`, 60_000);
    say(`chaos ${id}: stack up at ${url} after ${((Date.now() - t0) / 1000).toFixed(0)} s`);

    /* ---------------- REST client: every response counted */
    const http = report.http;
    const api = async <T = Json>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: T }> => {
      let res: Response;
      try {
        res = await fetch(`${url}/api/v1${path}`, { method, headers: { 'content-type': 'application/json', ...headers }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}), signal: AbortSignal.timeout(30_000) });
      } catch (err) {
        http.networkErrors++;
        return { status: 0, body: { error: String(err) } as T };
      }
      const text = await res.text().catch(() => '');
      http.total++;
      http.byStatus[res.status] = (http.byStatus[res.status] ?? 0) + 1;
      if (res.status >= 500 && res.status !== 503) http.non503_5xx.push({ method, path, status: res.status, body: text.slice(0, 300) });
      if (res.status >= 400 && res.status < 500 && res.status !== 404 && res.status !== 409 && http.samples4xx.length < 10) http.samples4xx.push({ method, path, status: res.status, body: text.slice(0, 300) });
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : null;
      } catch {
        /* keep the text */
      }
      return { status: res.status, body: parsed as T };
    };
    /** a write retried (same Idempotency-Key) while the system answers 503 / 409 in flight / not at all */
    const writeWithRetry = async (path: string, body: unknown, ok: number, tries = 40): Promise<{ status: number; body: Json }> => {
      const key = randomUUID();
      let last: { status: number; body: Json } = { status: 0, body: {} };
      for (let i = 0; i < tries; i++) {
        last = await api<Json>('POST', path, body, { 'idempotency-key': key });
        if (last.status === ok) return last;
        if (last.status !== 0 && last.status !== 503 && last.status !== 409 && last.status !== 504) return last;
        await sleep(1_000 + i * 250);
      }
      return last;
    };

    /* ---------------- fakes, providers, templates */
    const latencyRand = prng(options.seed ^ 0x5eed);
    const latency = () => between(latencyRand, [50, 500]);
    const fakeAnthropic = (await FakeLlmServer.start()).respond(anthropicResponder(latency));
    const fakeOpenai = (await FakeLlmServer.start()).respond(openaiResponder(latency));
    fakes.push(fakeAnthropic, fakeOpenai);
    for (const [name, kind, fake] of [['fake-anthropic', 'anthropic', fakeAnthropic], ['fake-openai', 'openai', fakeOpenai]] as const) {
      const created = await writeWithRetry('/providers', { name, kind, apiKey: `sk-chaos-${kind}-0000`, baseUrl: fake.url }, 201);
      if (created.status !== 201) throw new Error(`POST /providers ${name} → ${created.status} ${JSON.stringify(created.body)}`);
    }
    const rand = prng(options.seed);
    const sim = (model: string): Candidate => ({ provider: 'simulated', model, options: { latencyMs: between(rand, [50, 500]) } });
    const templates: { id: string; fake: boolean }[] = [];
    for (let i = 0; i < 4; i++) {
      const t = chaosTemplate(`chaos simulated ${i}`, { brief: [sim('sim-a'), sim('sim-b')], build: [sim('sim-coder-a'), sim('sim-coder-b')], revise: sim('sim-writer') });
      const created = await writeWithRetry('/templates', t, 201);
      if (created.status !== 201) throw new Error(`POST /templates → ${created.status} ${JSON.stringify(created.body)}`);
      templates.push({ id: String(created.body.id), fake: false });
    }
    const fakeTemplate = chaosTemplate('chaos fake providers', {
      brief: [{ provider: 'fake-anthropic', model: 'claude-sonnet-4-5' }, { provider: 'fake-openai', model: 'gpt-4.1' }],
      build: [{ provider: 'fake-anthropic', model: 'claude-sonnet-4-5' }],
      revise: { provider: 'fake-openai', model: 'gpt-4.1-mini' },
    });
    const createdFake = await writeWithRetry('/templates', fakeTemplate, 201);
    if (createdFake.status !== 201) throw new Error(`POST /templates (fake) → ${createdFake.status} ${JSON.stringify(createdFake.body)}`);
    const fakeTemplateId = String(createdFake.body.id);

    admin = await connect({ servers: nats.url, name: `chaos-admin-${id}`, maxReconnectAttempts: -1, ...natsCredentials({ user: 'admin', pass: nats.passwords.admin }) });
    const js: JetStreamClient = jetstream(admin);

    /* ---------------- the driver */
    const runs: (RunOutcome & { startedAt: number })[] = [];
    const inFlight = new Set<string>();
    let faultsEnd = Number.POSITIVE_INFINITY;
    let lastProgress = Date.now();
    let next = 0;
    // the system made no progress for NO_PROGRESS_MS after the settle time: stop following and starting runs
    const givingUp = () => aborted || (Date.now() > faultsEnd + options.settleMs && Date.now() - lastProgress > NO_PROGRESS_MS);
    const plan = Array.from({ length: options.runs }, () => rand() < options.fakeShare);
    say(`chaos ${id}: ${options.runs} runs (${plan.filter(Boolean).length} on the fake OpenAI/Anthropic servers), ${options.concurrency} at a time, seed ${options.seed}`);
    const driveStart = Date.now();
    const slot = async () => {
      while (next < options.runs) {
        const index = next++;
        if (givingUp()) {
          report.notStarted.push({ index, reason: aborted ? 'interrupted' : `abandoned: no run settled for ${NO_PROGRESS_MS / 1000} s after the settle time` });
          continue;
        }
        const fake = plan[index]!;
        const templateId = fake ? fakeTemplateId : templates[index % templates.length]!.id;
        const started = await writeWithRetry('/runs', { templateId, name: `chaos ${index}`, inputs: { topic: `chaos topic ${index}` } }, 201);
        if (started.status !== 201) {
          report.notStarted.push({ index, reason: `${started.status} ${JSON.stringify(started.body).slice(0, 200)}` });
          continue;
        }
        const run = { id: String(started.body.id), index, fake, status: 'not in the read model', lastEvents: [], poisoned: false, startedAt: Date.now() };
        runs.push(run);
        inFlight.add(run.id);
        // settled: terminal in the read model, or (every third poll) a terminal event in the log —
        // so a projector that lags or halts does not hold the driver; the read models are judged at the end
        let logReadable = true;
        for (let poll = 1; ; poll++) {
          await sleep(1_000);
          const got = await api<Json>('GET', `/runs/${run.id}`);
          if (got.status === 200) run.status = String(got.body.status);
          if (TERMINAL.has(run.status)) {
            lastProgress = Date.now();
            break;
          }
          if (logReadable && poll % 3 === 0) {
            const tail = await api<{ items: Json[] }>('GET', `/events?streamId=run:${run.id}&types=RunCompleted,RunFailed,RunCancelled&limit=1`);
            if (tail.status >= 500 && tail.status !== 503) logReadable = false; // counted once; the verification reads the log itself
            if (tail.status === 200 && tail.body.items.length > 0) {
              lastProgress = Date.now();
              break;
            }
          }
          if (Date.now() > Math.max(faultsEnd, run.startedAt) + options.settleMs || givingUp()) break;
        }
        inFlight.delete(run.id);
      }
    };
    const driving = Promise.all(Array.from({ length: options.concurrency }, slot));
    let drivingDone = false;
    void driving.then(() => (drivingDone = true));

    /* ---------------- the faults */
    const schedule = faultSchedule(options.seed, options.faults, options.faultWindowMs, options.llmWorkers);
    /** SIGCONTs still to come (a 'stop' fault resumes its process in the background) */
    const resumes: Promise<void>[] = [];
    for (const f of schedule) {
      while (!drivingDone && !aborted && Date.now() - driveStart < f.at) await sleep(200);
      if (drivingDone || aborted) break;
      const at = Date.now() - driveStart;
      const t = Date.now();
      const fault: InjectedFault = { at, kind: f.kind, target: '', detail: '', durationMs: 0 };
      try {
        await inject(f, fault);
      } catch (err) {
        fault.error = (err as Error).message;
      }
      fault.durationMs = Date.now() - t;
      report.faults.push(fault);
      say(`  ${(at / 1000).toFixed(1).padStart(6)} s  ${fault.kind.padEnd(14)} ${fault.target.padEnd(16)} ${fault.detail}${fault.error ? `  ERROR ${fault.error}` : ''}`);
    }
    await Promise.all(resumes); // every stopped process running again before the runs are waited for
    faultsEnd = Date.now();
    say(`chaos ${id}: faults done at ${((faultsEnd - driveStart) / 1000).toFixed(0)} s; waiting for the runs (settle ${options.settleMs / 1000} s)`);
    await driving;

    async function inject(f: ScheduledFault, out: InjectedFault): Promise<void> {
      switch (f.kind) {
        case 'kill': {
          const slotName = f.service === 'llm-worker' ? `llm-worker-${f.replica}` : f.service!;
          const proc = procs.get(slotName)!;
          out.target = slotName;
          while (proc.stopped) await sleep(200);
          const pid = proc.child.pid;
          proc.expectedExit = true;
          proc.child.kill('SIGKILL');
          await waitExit(proc.child, 10_000);
          await sleep(1_000);
          const fresh = spawnService(proc.service, slotName);
          out.detail = `SIGKILL pid ${pid}; restarted as pid ${fresh.child.pid}`;
          return;
        }
        case 'stop': {
          const slotName = f.service === 'llm-worker' ? `llm-worker-${f.replica}` : f.service!;
          const proc = procs.get(slotName)!;
          out.target = slotName;
          while (proc.stopped) await sleep(200); // one stop at a time per process
          const stall = f.service === 'llm-worker' && f.stopMs > options.stallMs;
          if (stall) report.stallsInjected++;
          proc.stopped = true;
          proc.child.kill('SIGSTOP');
          out.detail = `SIGSTOP pid ${proc.child.pid} for ${(f.stopMs / 1000).toFixed(1)} s${stall ? ' (a stall: longer than the stall detector)' : ''}`;
          // resumed in the background: the next faults keep to their schedule while this one lasts
          resumes.push(
            sleep(f.stopMs).then(() => {
              proc.child.kill('SIGCONT');
              proc.stopped = false;
            }),
          );
          return;
        }
        case 'nats-restart': {
          out.target = 'nats-server';
          const pid = nats.child?.pid;
          await nats.restart();
          out.detail = `SIGTERM pid ${pid}, restarted as pid ${nats.child?.pid} on the same port and store`;
          return;
        }
        case 'pg-restart': {
          out.target = 'postgres';
          await pg.restart();
          out.detail = 'pg_ctl restart -m immediate';
          return;
        }
        case 'poison-event': {
          const live = [...inFlight].sort();
          const runId = live.length > 0 ? live[Math.floor(f.pick * live.length)]! : (runs.at(-1)?.id ?? 'none');
          const subject = names.subjects.aggregateEvents('run', runId);
          const undecodable = report.poisonInjected.events % 2 === 0;
          const data = undecodable ? Buffer.from([0xff, 0xfe, 0x00, 0x7b, 0x6e, 0x6f, 0x74]) : Buffer.from(JSON.stringify({ type: 'RunCompleted', schemaVersion: 1, data: 'poison' }));
          await js.publish(subject, data, { msgID: randomUUID() });
          report.poisonInjected.events++;
          const run = runs.find((r) => r.id === runId);
          if (run) run.poisoned = true;
          out.target = `run ${runId}`;
          out.detail = `${undecodable ? 'undecodable bytes' : 'JSON that is no event'} on ${subject}`;
          return;
        }
        case 'poison-command': {
          const subject = report.poisonInjected.commands % 2 === 0 ? names.subjects.generate : names.subjects.judge;
          const undecodable = report.poisonInjected.commands % 2 === 1;
          const data = undecodable ? Buffer.from([0x00, 0xc3, 0x28, 0x7b]) : Buffer.from(JSON.stringify({ type: 'GenerateCandidate', commandId: `poison-${randomUUID()}`, runId: [...inFlight][0] ?? 'none' }));
          await js.publish(subject, data, { msgID: randomUUID() });
          report.poisonInjected.commands++;
          out.target = subject;
          out.detail = undecodable ? 'undecodable bytes' : 'a GenerateCandidate missing its fields';
          return;
        }
      }
    }

    /* ---------------- verification */
    report.runsStarted = runs.length;
    say(`chaos ${id}: all runs settled or given up; waiting for the projector to catch up (≤ ${options.catchUpMs / 1000} s)`);
    const caughtUp = await projectorCaughtUp(options.catchUpMs);
    say(`chaos ${id}: ${caughtUp ? 'projector caught up' : 'the projector did NOT catch up'}; verifying ${runs.length} runs`);
    const candidateKind = new Map<string, { phase: string; run: string }>();
    for (const run of runs) {
      const got = await api<Json>('GET', `/runs/${run.id}`);
      if (got.status === 200) run.status = String(got.body.status);
      // a run whose stream holds poison: its read model is parked before the poison (issue 11 §4),
      // while the log says how it ended (the orchestrator fails it with internal_error)
      const parked = got.status === 200 && got.body.parked ? (got.body.parked as Json) : null;
      let events = await eventsViaRest(run.id);
      if (events) report.eventsReadVia.rest++;
      else {
        events = await eventsDirect(run.id);
        report.eventsReadVia.direct++;
      }
      run.lastEvents = events.slice(-6).map((e) => `${e.sequence ?? '?'}:${e.type}`);
      const keyOf = new Map<string, string>();
      const generated = new Map<string, number>();
      for (const e of events) {
        const d = (e.data ?? {}) as Json;
        if (e.type === 'CandidateRequested') {
          keyOf.set(String(d.candidateId), `${run.id}/${String(d.phaseId)}/${String(d.attempt)}/${String(d.round ?? 0)}/${String(d.slot)}`);
          candidateKind.set(String(d.candidateId), { phase: String(d.phaseId), run: run.id });
        }
        if (e.type === 'CandidateGenerated') {
          const key = keyOf.get(String(d.candidateId)) ?? `${run.id}/${String(d.phaseId)}/${String(d.attempt)}/?/${String(d.candidateId)}`;
          generated.set(key, (generated.get(key) ?? 0) + 1);
        }
        if (e.type === 'ResultRefused') {
          report.staleRefused++;
          report.staleRefusedByReason[String(d.reason)] = (report.staleRefusedByReason[String(d.reason)] ?? 0) + 1;
        }
        if (e.type === 'RunFailed') run.failure = JSON.stringify(d).slice(0, 400);
        if (e.type === 'RunCompleted' || e.type === 'RunFailed' || e.type === 'RunCancelled') run.logTerminal = String(e.type);
      }
      for (const [key, count] of generated) if (count > 1) report.duplicates.push({ key, count });
      if (parked && run.logTerminal) {
        report.parkedRuns++;
        run.status = run.logTerminal === 'RunCompleted' ? 'completed' : run.logTerminal === 'RunCancelled' ? 'cancelled' : 'failed';
        run.failure = `parked at event ${String(parked.sequence)} (${String(parked.type)}); the log: ${run.failure ?? run.logTerminal}`.slice(0, 400);
      }
      if (run.status === 'completed') report.completed++;
      else if (run.status === 'cancelled') report.cancelled++;
      else if (run.status === 'failed') {
        report.failed++;
        const reason = run.failure ?? 'unknown';
        report.failedReasons[reason] = (report.failedReasons[reason] ?? 0) + 1;
      } else {
        report.stuck.push({ id: run.id, index: run.index, fake: run.fake, status: run.status, lastEvents: run.lastEvents, poisoned: run.poisoned, ...(run.failure ? { failure: run.failure } : {}), ...(run.logTerminal ? { logTerminal: run.logTerminal } : {}) });
      }
    }

    // provider calls per candidate: the fake servers see each request's x-conclave-candidate; the simulated provider logs its calls
    const calls = new Map<string, { n: number; expected: number }>();
    const count = (candidate: string, expected: number) => {
      const c = calls.get(candidate) ?? { n: 0, expected };
      c.n++;
      calls.set(candidate, c);
    };
    for (const fake of fakes) {
      for (const r of fake.requests) {
        const candidate = r.headers['x-conclave-candidate'];
        const known = typeof candidate === 'string' ? candidateKind.get(candidate) : undefined;
        if (!known) report.providerCalls.unattributed++;
        else count(candidate as string, EXPECTED_FAKE_CALLS[known.phase] ?? 1);
      }
    }
    for (const line of readFileSync(callLog, 'utf8').split('\n')) {
      const candidate = line.split(' ')[0];
      if (!candidate) continue;
      if (!candidateKind.has(candidate)) report.providerCalls.unattributed++;
      else count(candidate, 1);
    }
    const pc = report.providerCalls;
    for (const [candidate, c] of calls) {
      pc.candidates++;
      pc.calls += c.n;
      pc.max = Math.max(pc.max, c.n);
      if (c.n > c.expected) {
        pc.overExpected++;
        pc.extraCalls += c.n - c.expected;
        if (pc.examples.length < 5) pc.examples.push(`${candidateKind.get(candidate)!.run}/${candidateKind.get(candidate)!.phase}/${candidate}: ${c.n} calls (clean: ${c.expected})`);
      }
    }

    // dead letters (GET /dead-letters) and parked projections (GET /alerts)
    const dl = await api<Json>('GET', '/dead-letters?limit=100');
    if (dl.status === 200 && Array.isArray(dl.body.items)) {
      const byReason: Record<string, number> = {};
      let total = 0;
      let page = dl;
      for (let i = 0; i < 50; i++) {
        for (const item of page.body.items as Json[]) {
          total++;
          byReason[String(item.reason)] = (byReason[String(item.reason)] ?? 0) + 1;
        }
        if (!page.body.nextCursor) break;
        page = await api<Json>('GET', `/dead-letters?limit=100&cursor=${encodeURIComponent(String(page.body.nextCursor))}`);
        if (page.status !== 200 || !Array.isArray(page.body.items)) break;
      }
      report.deadLetters = { count: total, byReason };
    } else report.deadLettersNote = `GET /dead-letters → ${dl.status}`;
    const alerts = await api<Json>('GET', '/alerts?limit=100');
    if (alerts.status === 200) {
      const items = (Array.isArray(alerts.body) ? alerts.body : ((alerts.body.items as Json[] | undefined) ?? [])) as Json[];
      for (const a of items) {
        const kind = String(a.kind ?? a.type ?? 'unknown');
        report.alertKinds[kind] = (report.alertKinds[kind] ?? 0) + 1;
      }
      report.parkedAlerts = Object.entries(report.alertKinds).filter(([k]) => k.includes('park')).reduce((s, [, n]) => s + n, 0);
    }

    // replay --verify against the live read models (the projector caught up above, or never will)
    const verify = spawnSync(process.execPath, [join(REPO_ROOT, 'scripts', 'replay.mjs'), '--verify'], { cwd: REPO_ROOT, env: { ...base, ...nats.env('admin') }, encoding: 'utf8', timeout: 180_000 });
    const output = `${verify.stdout ?? ''}${verify.stderr ?? ''}`.trim();
    report.replay.output = output.split('\n').slice(-15).join('\n');
    if (verify.status === 0) report.replay.differences = 0;
    else if (verify.status === 3) report.replay.differences = Number(/(\d+) differing rows/.exec(output)?.[1] ?? NaN);
    writeFileSync(join(logDir, 'replay-verify.txt'), output);

    async function eventsViaRest(runId: string): Promise<Json[] | null> {
      const out: Json[] = [];
      let after = 0;
      for (let i = 0; i < 100; i++) {
        const page = await api<{ items: Json[]; nextAfter: number }>('GET', `/events?streamId=run:${runId}&after=${after}&limit=1000`);
        if (page.status !== 200) return null;
        out.push(...page.body.items);
        if (page.body.items.length === 0 || page.body.nextAfter === after) return out;
        after = page.body.nextAfter;
      }
      return out;
    }

    /** the run's subject read as the admin, skipping what does not parse (the REST read refused it) */
    async function eventsDirect(runId: string): Promise<Json[]> {
      const consumer = await js.consumers.get(names.streams.events, { filter_subjects: names.subjects.aggregateEvents('run', runId) });
      const pending = (await consumer.info()).num_pending;
      const out: Json[] = [];
      while (out.length < pending) {
        const before = out.length;
        const messages = await consumer.fetch({ max_messages: pending - out.length, expires: 2_000 });
        for await (const m of messages) {
          try {
            out.push({ ...(m.json<Json>() ?? {}), sequence: m.seq });
          } catch {
            out.push({ type: '(undecodable)', sequence: m.seq });
          }
        }
        if (out.length === before) break;
      }
      return out;
    }

    async function projectorCaughtUp(timeoutMs: number): Promise<boolean> {
      const db = new Client({ connectionString: pg.url });
      await db.connect();
      try {
        const deadline = Date.now() + timeoutMs;
        while (Date.now() < deadline) {
          const last = (await (await jetstreamManager(admin!)).streams.info(names.streams.events)).state.last_seq;
          const { rows } = await db.query<{ s: number }>('select coalesce(max(sequence),0)::int as s from projection_checkpoints');
          if ((rows[0]?.s ?? 0) >= last) return true;
          await sleep(500);
        }
        return false;
      } finally {
        await db.end();
      }
    }
  } finally {
    shuttingDown = true;
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    report.elapsedMs = Date.now() - t0;
    // SIGCONT first: a stopped process cannot handle SIGTERM
    for (const p of procs.values()) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGCONT');
    await Promise.all(
      [...procs.values()].map(async (p) => {
        if (p.child.exitCode !== null || p.child.signalCode !== null) return;
        p.child.kill('SIGTERM');
        if (!(await waitExit(p.child, 15_000))) {
          p.child.kill('SIGKILL');
          await waitExit(p.child, 5_000);
        }
      }),
    );
    for (const l of logs.values()) l.end();
    await admin?.close().catch(() => undefined);
    for (const f of fakes) await f.close();
    await nats.stop();
    pg.stop();
    for (const p of procs.values()) if (p.child.pid && isAlive(p.child.pid)) say(`chaos: pid ${p.child.pid} (${p.slot}) still alive`);
    if (!options.keepData) {
      rmSync(dataDir, { recursive: true, force: true });
      if (pgRoot !== dataDir) rmSync(pgRoot, { recursive: true, force: true });
    }
  }
  return report;
}

/* ------------------------------------------------------------------ the table */

export interface ChaosVerdict {
  ok: boolean;
  missed: string[];
}

/** The goals of issue 11 item 11: 0 stuck, 0 duplicates, 0 replay differences, 0 gateway 5xx other than 503 (and every run started). */
export function chaosVerdict(r: ChaosReport): ChaosVerdict {
  const missed: string[] = [];
  if (r.notStarted.length > 0) missed.push(`${r.notStarted.length} runs could not be started`);
  if (r.stuck.length > 0) missed.push(`${r.stuck.length} runs stuck`);
  if (r.duplicates.length > 0) missed.push(`${r.duplicates.length} duplicate CandidateGenerated keys`);
  if (r.replay.differences !== 0) missed.push(r.replay.differences === null ? 'replay --verify did not complete' : `replay --verify: ${r.replay.differences} differences`);
  if (r.http.non503_5xx.length > 0) missed.push(`${r.http.non503_5xx.length} gateway 5xx other than 503`);
  return { ok: missed.length === 0, missed };
}

export function formatChaosTable(r: ChaosReport): string {
  const mark = (ok: boolean) => (ok ? 'ok' : 'MISSED');
  const kinds = (k: FaultKind) => r.faults.filter((f) => f.kind === k && !f.error).length;
  const reasons = Object.entries(r.failedReasons).map(([reason, n]) => `${n}× ${reason}`).join('; ');
  const pc = r.providerCalls;
  const dl = r.deadLetters ? `${r.deadLetters.count} (${Object.entries(r.deadLetters.byReason).map(([k, n]) => `${k} ${n}`).join(', ') || 'none'})` : `n/a (${r.deadLettersNote})`;
  const rows: [string, string, string][] = [
    ['runs requested / started', `${r.runsRequested} / ${r.runsStarted}`, r.notStarted.length ? mark(false) : ''],
    ['completed', String(r.completed), ''],
    ['failed (with a reason)', `${r.failed}${reasons ? ` — ${reasons}` : ''}`, ''],
    ['cancelled', String(r.cancelled), ''],
    [
      'stuck (goal 0)',
      `${r.stuck.length}${r.stuck.length ? ` (${r.stuck.filter((s) => s.logTerminal).length} of them terminal in the log but not in the read model; ${r.stuck.filter((s) => s.poisoned).length} received a poison event)` : ''}`,
      mark(r.stuck.length === 0),
    ],
    ['duplicate CandidateGenerated per (run, phase, attempt, round, slot) (goal 0)', String(r.duplicates.length), mark(r.duplicates.length === 0)],
    ['provider calls per candidate', `${pc.calls} calls for ${pc.candidates} candidates, max ${pc.max}; ${pc.overExpected} candidates with more calls than a clean run (${pc.extraCalls} extra); ${pc.unattributed} unattributed`, ''],
    ['stale results refused vs stalls injected', `${r.staleRefused} refused (${Object.entries(r.staleRefusedByReason).map(([k, n]) => `${k} ${n}`).join(', ') || 'none'}) vs ${r.stallsInjected} stalls`, ''],
    ['dead letters vs poison injected', `${dl} vs ${r.poisonInjected.events + r.poisonInjected.commands} (${r.poisonInjected.events} events, ${r.poisonInjected.commands} commands)`, ''],
    ['projections parked (alerts)', r.parkedAlerts === null ? 'n/a' : `${r.parkedAlerts} (alerts: ${Object.entries(r.alertKinds).map(([k, n]) => `${k} ${n}`).join(', ') || 'none'}); runs parked, ended in the log: ${r.parkedRuns}`, ''],
    ['replay --verify differences (goal 0)', r.replay.differences === null ? 'did not complete' : String(r.replay.differences), mark(r.replay.differences === 0)],
    [
      'gateway 5xx other than 503 (goal 0)',
      `${r.http.non503_5xx.length} of ${r.http.total} responses (${Object.entries(r.http.byStatus).map(([k, n]) => `${k}: ${n}`).join(', ')}; network errors ${r.http.networkErrors})`,
      mark(r.http.non503_5xx.length === 0),
    ],
    [
      'faults injected',
      `${kinds('kill')} SIGKILL, ${kinds('stop')} SIGSTOP/SIGCONT, ${kinds('nats-restart')} NATS restart, ${kinds('pg-restart')} Postgres restart, ${kinds('poison-event')} poison events, ${kinds('poison-command')} poison commands${r.faults.some((f) => f.error) ? `; ${r.faults.filter((f) => f.error).length} failed to inject` : ''}`,
      '',
    ],
  ];
  const w0 = Math.max(...rows.map((x) => x[0].length));
  rows.push([
    'services that exited on their own (restarted after 1 s)',
    r.unexpectedExits.length ? r.unexpectedExits.map((e) => `${e.slot} at ${(e.at / 1000).toFixed(0)} s (${e.signal ?? `code ${e.code}`})`).join('; ') : '0',
    '',
  ]);
  const lines = [
    `Conclave chaos ${r.id} — seed ${r.seed}, ${(r.elapsedMs / 1000).toFixed(0)} s, ${r.machine}`,
    `durability: ${r.durability}`,
    '',
    ...rows.map(([a, b, c]) => `  ${a.padEnd(w0)}  ${b}${c ? `  [${c}]` : ''}`),
  ];
  if (r.stuck.length) {
    lines.push('', 'stuck runs (id, status, last events):');
    for (const s of r.stuck.slice(0, 30)) lines.push(`  ${s.id} #${s.index}${s.fake ? ' (fake providers)' : ''}${s.poisoned ? ' (poison event)' : ''} read model ${s.status}${s.logTerminal ? `, log ${s.logTerminal}` : ''}: ${s.lastEvents.join(' ')}`);
  }
  if (r.duplicates.length) {
    lines.push('', 'duplicates:');
    for (const d of r.duplicates.slice(0, 20)) lines.push(`  ${d.key}: ${d.count}`);
  }
  if (pc.examples.length) lines.push('', 'candidates called more than once:', ...pc.examples.map((e) => `  ${e}`));
  if (r.http.non503_5xx.length) {
    lines.push('', 'gateway 5xx other than 503:');
    for (const e of r.http.non503_5xx.slice(0, 10)) lines.push(`  ${e.method} ${e.path} → ${e.status} ${e.body}`);
  }
  if (r.http.samples4xx.length) lines.push('', '4xx answers other than 404/409 (first ones):', ...r.http.samples4xx.map((e) => `  ${e.method} ${e.path} → ${e.status} ${e.body}`));
  if (r.notStarted.length) lines.push('', 'not started:', ...r.notStarted.slice(0, 10).map((n) => `  #${n.index}: ${n.reason}`));
  if (r.replay.differences !== 0) lines.push('', 'replay --verify said:', ...r.replay.output.split('\n').map((l) => `  ${l}`));
  lines.push('', `logs: ${r.logDir}`);
  return lines.join('\n');
}
