import { spawn } from 'node:child_process';
import { accessSync, constants as fsConstants, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, realpathSync, rmdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, readFile, realpath, rm, rmdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runProcess, type ProcessResult } from './process';
import { ToolRefused, type Workspace } from './workspace';

/** What a worker reports in its heartbeat (see the live heartbeat's `sandbox`). */
export type SandboxStatus = 'bwrap' | 'unavailable' | 'disabled';

/** Per-call limits. 0 = no limit of that kind. */
export interface SandboxLimits {
  /**
   * RLIMIT_DATA of every process in the sandbox, MiB: its private writable memory (heap,
   * anonymous mappings). Not RLIMIT_AS: V8 reserves far more address space than it uses
   * (WebAssembly memories reserve ~10 GB of guard pages each) and would fail to start.
   */
  memoryMb: number;
  /** RLIMIT_CPU of every process (SIGXCPU, then SIGKILL), seconds */
  cpuSeconds: number;
  /** processes (and threads) alive at once in the sandbox: a pids cgroup, else RLIMIT_NPROC */
  maxProcesses: number;
  /** RLIMIT_FSIZE: largest file a process may write (SIGXFSZ beyond), MiB; also the size of the sandbox's /tmp */
  maxFileMb: number;
}

export const DEFAULT_SANDBOX_LIMITS: SandboxLimits = { memoryMb: 4096, cpuSeconds: 600, maxProcesses: 256, maxFileMb: 512 };

export interface SandboxRunOptions {
  /** the workspace: bound read-write at its own path, and the working directory */
  cwd: string;
  /** further paths bound read-write at their own path (must exist) */
  writable: string[];
  /** paths bound read-only at their own path (skipped when missing); a deeper path wins over a shallower one */
  readable?: string[];
  timeoutMs: number;
  /** characters of stdout + stderr kept; the rest is dropped, and a process writing far beyond it is killed */
  outputCap: number;
  /** variables added to the sandbox's scrubbed environment (PATH, HOME, LANG) */
  env?: Record<string, string>;
  signal?: AbortSignal;
}

export interface SandboxResult extends ProcessResult {
  /** the limit that ended the process, if one did */
  limit?: 'timeout' | 'output' | 'cpu' | 'file_size' | 'processes';
}

export interface Sandbox {
  readonly status: SandboxStatus;
  /** why the sandbox is unavailable (the fix included), or what it enforces */
  readonly description: string;
  /**
   * Run `program` (a bare name looked up on the sandbox's PATH, or an absolute path) without a
   * shell. Rejects with a `SandboxUnavailable` (a ToolRefused) when there is no sandbox and no
   * opt-out, with an ENOENT error when the program does not exist, and with the signal's reason
   * when `signal` is aborted (everything in the sandbox is killed first).
   */
  run(program: string, args: string[], options: SandboxRunOptions): Promise<SandboxResult>;
}

/** Tool processes are refused: no sandbox here and no explicit opt-out. Not retryable. */
export class SandboxUnavailable extends ToolRefused {
  constructor(message: string) {
    super(message);
    this.name = 'SandboxUnavailable';
  }
}

export const SANDBOX_FIX = 'install bubblewrap (apt-get install -y bubblewrap) and allow user namespaces, or set AGENT_SANDBOX=none to run tools unconfined (unsafe)';

/* ------------------------------------------------------------------ paths of a workspace */

export interface SandboxPaths {
  cwd: string;
  writable: string[];
  readable: string[];
}

/**
 * What a workspace's tool processes may touch: the workspace (the worktree) read-write. For a git
 * worktree (`git.gitDir` = its admin dir `<repo>/.git/worktrees/<name>`, `git.commonDir` = the
 * repository's .git): the repository's .git read-only, its `objects` and the worktree's admin dir
 * writable, so status/diff/add/commit on the (detached) worktree work while the user's refs,
 * config, hooks and packs stay read-only. The files that tell git where the repository is (the worktree's
 * `.git` file, the admin dir's `commondir` and `gitdir`) stay read-only too: the worker runs git
 * on this worktree outside the sandbox later, and a rewritten pointer would hand it a repository
 * (and a config) of the agent's choosing.
 */
export function sandboxPathsOf(workspace: Pick<Workspace, 'root' | 'git'>): SandboxPaths {
  const root = workspace.root;
  const writable = [root];
  const readable = [path.join(root, '.git')].filter(isFile);
  const { gitDir, commonDir } = { ...gitDirsOf(root), ...definedOnly(workspace.git ?? {}) };
  if (commonDir) {
    // the whole repository, objects included, is read-only: an agent can neither delete the user's
    // objects nor plant ones; its index (in the admin dir) is its own. The worker commits the
    // candidate's changes itself when the agent is done (run-workspace.ts commitCandidate).
    readable.push(commonDir);
  }
  if (gitDir) {
    writable.push(gitDir);
    readable.push(path.join(gitDir, 'commondir'), path.join(gitDir, 'gitdir'));
  }
  return { cwd: root, writable, readable };
}

/** A worktree's admin dir and common dir as its `.git` file names them (when the workspace does not say). */
function gitDirsOf(root: string): { gitDir?: string; commonDir?: string } {
  try {
    const dotGit = path.join(root, '.git');
    if (!lstatSync(dotGit).isFile()) return {};
    const match = /^gitdir:\s*(.+)$/m.exec(readFileSync(dotGit, 'utf8'));
    if (!match) return {};
    const gitDir = realpathSync(path.resolve(root, match[1].trim()));
    const common = readFileSync(path.join(gitDir, 'commondir'), 'utf8').trim();
    return { gitDir, commonDir: realpathSync(path.resolve(gitDir, common)) };
  } catch {
    return {};
  }
}

function definedOnly(git: { gitDir?: string; commonDir?: string }): { gitDir?: string; commonDir?: string } {
  return { ...(git.gitDir ? { gitDir: git.gitDir } : {}), ...(git.commonDir ? { commonDir: git.commonDir } : {}) };
}

function isFile(p: string): boolean {
  try {
    return lstatSync(p).isFile();
  } catch {
    return false;
  }
}

/* ------------------------------------------------------------------ probe */

export interface SandboxProbe {
  ok: boolean;
  /** what failed (with the fix), or what the sandbox enforces here */
  detail: string;
  /** how the process limit is enforced here */
  processLimit: 'cgroup' | 'rlimit' | 'none';
  bwrapPath?: string;
}

const BWRAP_CANDIDATES = ['/usr/bin/bwrap', '/usr/local/bin/bwrap', '/bin/bwrap'];

export function findBwrap(envPath = process.env.PATH ?? ''): string | null {
  const dirs = [...envPath.split(':').filter(Boolean), ...BWRAP_CANDIDATES.map((p) => path.dirname(p))];
  for (const dir of dirs) {
    const candidate = path.join(dir, 'bwrap');
    if (isExecutable(candidate)) return candidate;
  }
  return null;
}

function isExecutable(p: string): boolean {
  try {
    accessSync(p, fsConstants.X_OK);
    return lstatSync(realpathSync(p)).isFile();
  } catch {
    return false;
  }
}

/**
 * Can bwrap create user, mount, network and pid namespaces here? Runs the real sandbox (same
 * arguments as every call) on `true` in a scratch directory and checks it is alone on its
 * network (only `lo`) and in its pid namespace.
 */
export async function probeSandbox(options: { bwrapPath?: string | null; limits?: SandboxLimits } = {}): Promise<SandboxProbe> {
  const bwrapPath = options.bwrapPath === undefined ? findBwrap() : options.bwrapPath;
  const cgroup = PidsCgroup.detect();
  const processLimit = cgroup ? 'cgroup' : 'rlimit';
  if (!bwrapPath) return { ok: false, processLimit, detail: `bubblewrap (bwrap) is not installed: ${SANDBOX_FIX}` };
  if (!isExecutable('/usr/bin/prlimit') && !isExecutable('/bin/prlimit')) {
    return { ok: false, processLimit, detail: `prlimit (util-linux) is missing, so the sandbox cannot set its limits: install util-linux or set AGENT_SANDBOX=none (unsafe)` };
  }
  const scratch = await mkdtemp(path.join(tmpdir(), 'conclave-sandbox-probe-'));
  try {
    const sandbox = new BwrapSandbox(bwrapPath, options.limits ?? DEFAULT_SANDBOX_LIMITS, cgroup);
    const r = await sandbox.run('cat', ['/proc/self/stat', '/proc/net/dev'], { cwd: scratch, writable: [], timeoutMs: 10_000, outputCap: 10_000 });
    if (r.exitCode !== 0) {
      return { ok: false, processLimit, bwrapPath, detail: `bubblewrap cannot create its namespaces here (exit ${r.exitCode ?? r.signal}: ${(r.stderr || r.stdout).trim().slice(0, 300)}): ${SANDBOX_FIX}` };
    }
    // /proc/self/stat: "<pid> (cat) …" — pid 2 under bwrap's own pid 1 when the pid namespace is new
    const pid = Number(r.stdout.split(' ')[0]);
    const interfaces = r.stdout.split('\n').filter((l) => /^\s*[\w.-]+:/.test(l)).map((l) => l.trim().split(':')[0]);
    if (!(pid > 0 && pid < 10) || interfaces.some((i) => i !== 'lo')) {
      return { ok: false, processLimit, bwrapPath, detail: `bubblewrap ran but without its own pid/network namespace (pid ${pid}, interfaces ${interfaces.join(',')}): ${SANDBOX_FIX}` };
    }
    const weak = processLimit === 'rlimit' && process.getuid?.() === 0;
    const limitBy = processLimit === 'cgroup' ? 'a pids cgroup' : `RLIMIT_NPROC${weak ? ' only (WEAK: measured as root here, a fork bomb is not held by it; make /sys/fs/cgroup/pids writable)' : ''}`;
    return { ok: true, processLimit, bwrapPath, detail: `bwrap ${bwrapPath}: no network, own pid/mount/user namespaces, process limit by ${limitBy}` };
  } catch (err) {
    return { ok: false, processLimit, bwrapPath, detail: `bubblewrap failed to start (${err instanceof Error ? err.message : String(err)}): ${SANDBOX_FIX}` };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/* ------------------------------------------------------------------ pids cgroup */

/**
 * A pids cgroup per call (cgroup v1 `pids` hierarchy, or cgroup v2 with the pids controller
 * delegated at the root), when this process may create one (root, typically). The sandbox is
 * moved in before bwrap starts (`sh -c 'echo $$ > cgroup.procs; exec bwrap …'`), so every
 * process it forks counts. This is what contains a fork bomb: measured here (root, kernel 6.x),
 * RLIMIT_NPROC alone did not — `f(){ f|f& };f` ran to thousands of processes and took ~9 s to
 * tear down after its 2.5 s timeout, while with the cgroup it stayed at its limit and ended on
 * time. RLIMIT_NPROC is still set (it holds for a worker that does not run as root).
 */
export class PidsCgroup {
  private static counter = 0;
  private constructor(readonly base: string) {}

  static detect(): PidsCgroup | null {
    const candidates: string[] = [];
    if (existsSync('/sys/fs/cgroup/pids/cgroup.procs')) candidates.push('/sys/fs/cgroup/pids');
    try {
      if (readFileSync('/sys/fs/cgroup/cgroup.subtree_control', 'utf8').split(/\s+/).includes('pids')) candidates.push('/sys/fs/cgroup');
    } catch {
      /* no cgroup v2 root here */
    }
    for (const root of candidates) {
      const base = path.join(root, 'conclave-sandbox');
      try {
        mkdirSync(base, { recursive: true });
        const probe = path.join(base, `probe-${process.pid}`);
        mkdirSync(probe, { recursive: true });
        writeFileSync(path.join(probe, 'pids.max'), '16');
        rmdirSync(probe);
        PidsCgroup.sweep(base);
        return new PidsCgroup(base);
      } catch {
        /* not ours to create: try the next, or fall back to RLIMIT_NPROC */
      }
    }
    return null;
  }

  /**
   * Empty per-call cgroups a crashed worker left behind (a cgroup still in use is not removable).
   * Only those of processes that are gone: another live worker's cgroup is empty for a moment
   * between its creation and the sandbox moving in, and removing it then fails that call.
   */
  private static sweep(base: string): void {
    try {
      for (const entry of readdirSync(base, { withFileTypes: true })) {
        if (!entry.isDirectory()) continue;
        const owner = Number(/^(?:probe-)?(\d+)(?:-|$)/.exec(entry.name)?.[1]);
        if (Number.isInteger(owner) && owner > 0 && isAlive(owner)) continue;
        try {
          rmdirSync(path.join(base, entry.name));
        } catch {
          /* in use (another worker's call) */
        }
      }
    } catch {
      /* nothing to sweep */
    }
  }

  /** A fresh cgroup for one call, limited to `max` processes. */
  create(max: number): string {
    PidsCgroup.counter += 1;
    const dir = path.join(this.base, `${process.pid}-${PidsCgroup.counter}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'pids.max'), String(max));
    return dir;
  }

  /**
   * Whether the limit refused a fork; the cgroup is then removed in the background (retried
   * while the kernel reaps its last processes), so the call does not wait for it.
   */
  static async release(dir: string): Promise<boolean> {
    let hit = false;
    try {
      hit = /^max\s+[1-9]/m.test(await readFile(path.join(dir, 'pids.events'), 'utf8'));
    } catch {
      /* gone */
    }
    void PidsCgroup.remove(dir);
    return hit;
  }

  private static async remove(dir: string): Promise<void> {
    for (let i = 0; i < 100; i += 1) {
      try {
        await rmdir(dir);
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') break;
        await new Promise((r) => setTimeout(r, 10 * Math.min(i + 1, 20)));
      }
    }
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/* ------------------------------------------------------------------ bwrap */

/** The only parts of /etc a tool sees: users, name resolution, certificates, git's system config, the loader cache. */
const ETC_FILES = ['passwd', 'group', 'hosts', 'nsswitch.conf', 'gitconfig', 'alternatives', 'ssl', 'ld.so.cache'];
const SYSTEM_DIRS = ['/usr', '/bin', '/lib', '/lib64', '/lib32', '/libx32', '/sbin'];
export const SANDBOX_HOME = '/tmp/home';

function nodePrefix(): string | null {
  try {
    const prefix = path.dirname(path.dirname(realpathSync(process.execPath)));
    return prefix === '/usr' || prefix.startsWith('/usr/') || prefix === '/' ? null : prefix;
  } catch {
    return null;
  }
}

/**
 * bubblewrap: own user, mount, network, pid, ipc, uts and cgroup namespaces (`--unshare-all`; no
 * network at all), no capabilities, no nested user namespaces, a new session (no TIOCSTI), killed
 * with the worker (`--die-with-parent`), a cleared environment. The filesystem is built from
 * nothing: system directories and a few /etc files read-only, a fresh read-only /proc (the
 * worker's /proc/<pid>/environ is not there; no sysctl can be written), a minimal /dev, tmpfs /tmp and HOME, the workspace read-write;
 * everything else (the repository's .conclave, /work, /root, /home, other runs' worktrees) absent.
 * Limits: prlimit inside (data memory, CPU, file size, processes, open files), a pids cgroup
 * when one can be made, the wall-clock timeout (SIGKILL to bwrap's process group: when the
 * sandbox's pid 1 dies the kernel kills every process in it) and the output cap.
 */
export class BwrapSandbox implements Sandbox {
  readonly status = 'bwrap' as const;
  readonly description: string;
  private readonly baseArgs: string[];
  private readonly sandboxPath: string;

  constructor(
    private readonly bwrapPath: string,
    private readonly limits: SandboxLimits,
    private readonly cgroup: PidsCgroup | null,
  ) {
    const prefix = nodePrefix();
    this.sandboxPath = [...(prefix ? [path.join(prefix, 'bin')] : []), '/usr/local/bin', '/usr/bin', '/bin', '/usr/local/sbin', '/usr/sbin', '/sbin'].join(':');
    const args = ['--unshare-all', '--unshare-user', '--disable-userns', '--die-with-parent', '--new-session', '--cap-drop', 'ALL', '--hostname', 'sandbox', '--clearenv'];
    for (const dir of SYSTEM_DIRS) {
      let info;
      try {
        info = lstatSync(dir);
      } catch {
        continue;
      }
      if (info.isSymbolicLink()) args.push('--symlink', readlinkSafe(dir), dir);
      else args.push('--ro-bind', dir, dir);
    }
    if (prefix) args.push('--ro-bind', prefix, prefix);
    for (const f of ETC_FILES) args.push('--ro-bind-try', `/etc/${f}`, `/etc/${f}`);
    // /proc read-only: the sandbox runs as the worker's uid, and for a root worker that is the
    // kernel's root, which may write sysctls (kernel.core_pattern = "|/path" would run a program
    // of the agent's as root on the host). bwrap covers /proc/sys only for unprivileged callers.
    args.push('--proc', '/proc', '--remount-ro', '/proc', '--dev', '/dev');
    if (limits.maxFileMb > 0) args.push('--size', String(limits.maxFileMb * 1024 * 1024));
    args.push('--tmpfs', '/tmp', '--dir', SANDBOX_HOME);
    this.baseArgs = args;
    this.description = `bwrap (${bwrapPath}); limits: memory ${limits.memoryMb || '∞'} MiB/process, cpu ${limits.cpuSeconds || '∞'} s, ${limits.maxProcesses || '∞'} processes (${cgroup ? 'pids cgroup' : 'RLIMIT_NPROC'}), files ${limits.maxFileMb || '∞'} MiB`;
  }

  async run(program: string, args: string[], options: SandboxRunOptions): Promise<SandboxResult> {
    const cwd = await realpath(options.cwd);
    const resolved = resolveProgram(program, this.sandboxPath, cwd);
    if (!resolved) throw Object.assign(new Error(`spawn ${program} ENOENT`), { code: 'ENOENT', path: program });

    const mounts = new Map<string, 'ro' | 'rw'>();
    for (const p of options.readable ?? []) {
      const real = await realpath(p).catch(() => null);
      if (real) mounts.set(real, 'ro');
    }
    for (const p of [cwd, ...options.writable]) mounts.set(await realpath(p), 'rw');
    // Parents before children, so a deeper bind (objects/ rw inside .git ro) lands on top.
    const ordered = [...mounts].sort(([a], [b]) => depth(a) - depth(b) || a.localeCompare(b));
    // the workspace stays read-write even when a readable parent (a repository's .git) covers it
    const bind: string[] = [];
    for (const [p, mode] of ordered) bind.push(mode === 'rw' ? '--bind' : '--ro-bind', p, p);

    const env: Record<string, string> = { PATH: this.sandboxPath, HOME: SANDBOX_HOME, LANG: 'C.UTF-8', ...(options.env ?? {}) };
    const envArgs = Object.entries(env).flatMap(([k, v]) => ['--setenv', k, v]);
    const rlimits = ['--core=0', '--nofile=4096'];
    if (this.limits.memoryMb > 0) rlimits.push(`--data=${this.limits.memoryMb * 1024 * 1024}`);
    if (this.limits.cpuSeconds > 0) rlimits.push(`--cpu=${this.limits.cpuSeconds}:${this.limits.cpuSeconds + 1}`);
    if (this.limits.maxFileMb > 0) rlimits.push(`--fsize=${this.limits.maxFileMb * 1024 * 1024}`);
    if (this.limits.maxProcesses > 0) rlimits.push(`--nproc=${this.limits.maxProcesses}`);
    const bwrapArgs = [...this.baseArgs, ...bind, ...envArgs, '--chdir', cwd, '--', 'prlimit', ...rlimits, '--', resolved, ...args];

    const cgroupDir = this.cgroup && this.limits.maxProcesses > 0 ? this.cgroup.create(this.limits.maxProcesses) : null;
    let forksRefused = false;
    const [cmd, cmdArgs] = cgroupDir
      ? ['/bin/sh', ['-c', 'echo $$ > "$0" && exec "$@"', path.join(cgroupDir, 'cgroup.procs'), this.bwrapPath, ...bwrapArgs]]
      : [this.bwrapPath, bwrapArgs];
    let result: SandboxResult;
    try {
      result = withLimit(await spawnCapped(cmd, cmdArgs, { timeoutMs: options.timeoutMs, outputCap: options.outputCap, signal: options.signal }));
    } finally {
      if (cgroupDir) forksRefused = await PidsCgroup.release(cgroupDir);
    }
    return forksRefused && !result.limit ? { ...result, limit: 'processes' } : result;
  }
}

function withLimit(r: SandboxResult): SandboxResult {
  if (r.limit) return r;
  // bwrap exits 128 + n when its command dies of signal n
  if (r.exitCode === 128 + 24) return { ...r, limit: 'cpu' };
  if (r.exitCode === 128 + 25) return { ...r, limit: 'file_size' };
  return r;
}

function depth(p: string): number {
  return p.split('/').filter(Boolean).length;
}

function readlinkSafe(p: string): string {
  try {
    return path.relative(path.dirname(p), realpathSync(p)) || '.';
  } catch {
    return p;
  }
}

/**
 * `program` as the sandbox's PATH finds it (the same directories are mounted inside), a path with
 * a slash taken from the working directory (`./gradlew`), or null.
 */
function resolveProgram(program: string, sandboxPath: string, cwd: string): string | null {
  if (program.includes('/')) {
    const abs = path.resolve(cwd, program);
    return isExecutable(abs) ? abs : null;
  }
  for (const dir of sandboxPath.split(':')) {
    const candidate = path.join(dir, program);
    if (isExecutable(candidate)) return candidate;
  }
  return null;
}

/**
 * Spawn in a process group of its own; SIGKILL the group on timeout, abort, or when the output
 * runs on far beyond the cap (`outputCap` characters kept, 8× that plus 1 MiB read at most).
 */
function spawnCapped(cmd: string, args: string[], options: { timeoutMs: number; outputCap: number; signal?: AbortSignal }): Promise<SandboxResult> {
  return new Promise((resolve, reject) => {
    if (options.signal?.aborted) {
      reject(options.signal.reason);
      return;
    }
    const child = spawn(cmd, args, { env: {}, shell: false, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let bytes = 0;
    let truncated = false;
    let limit: SandboxResult['limit'];
    let aborted = false;
    const killAfter = options.outputCap * 8 + 1024 * 1024;
    const killGroup = () => {
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    };
    const take = (current: string, chunk: Buffer): string => {
      bytes += chunk.length;
      if (bytes > killAfter && !limit) {
        limit = 'output';
        killGroup();
      }
      const room = options.outputCap - stdout.length - stderr.length;
      if (room <= 0) {
        truncated = true;
        return current;
      }
      const text = chunk.toString('utf8');
      if (text.length > room) truncated = true;
      return current + text.slice(0, room);
    };
    child.stdout.on('data', (c: Buffer) => (stdout = take(stdout, c)));
    child.stderr.on('data', (c: Buffer) => (stderr = take(stderr, c)));
    const timer = setTimeout(() => {
      limit ??= 'timeout';
      killGroup();
    }, options.timeoutMs);
    const onAbort = () => {
      aborted = true;
      killGroup();
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const done = () => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
    };
    child.on('error', (err) => {
      done();
      reject(err);
    });
    child.on('close', (exitCode, signal) => {
      done();
      if (aborted) {
        reject(options.signal?.reason ?? new Error('aborted'));
        return;
      }
      resolve({ exitCode, signal, stdout, stderr, timedOut: limit === 'timeout', truncated: truncated || limit === 'output', ...(limit ? { limit } : {}) });
    });
  });
}

/* ------------------------------------------------------------------ opt-out and unavailable */

/** AGENT_SANDBOX=none: the operator's explicit opt-out. Every call is logged at warn level. */
export class UnconfinedSandbox implements Sandbox {
  readonly status = 'disabled' as const;
  readonly description = 'AGENT_SANDBOX=none: tool processes run UNCONFINED, as the worker, with its network (only the environment is scrubbed)';

  constructor(private readonly warn: (message: string, details: object) => void) {}

  async run(program: string, args: string[], options: SandboxRunOptions): Promise<SandboxResult> {
    this.warn('tool process runs WITHOUT a sandbox (AGENT_SANDBOX=none)', { program, cwd: options.cwd });
    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: options.cwd, LANG: 'C.UTF-8', ...(options.env ?? {}) };
    const r = await runProcess(program, args, { cwd: options.cwd, timeoutMs: options.timeoutMs, outputCap: options.outputCap, env, signal: options.signal });
    return r.timedOut ? { ...r, limit: 'timeout' } : r;
  }
}

/** No sandbox and no opt-out: every tool process is refused with the reason and the fix. */
export class UnavailableSandbox implements Sandbox {
  readonly status = 'unavailable' as const;
  constructor(readonly description: string) {}

  run(): Promise<SandboxResult> {
    return Promise.reject(new SandboxUnavailable(`tool processes are refused on this worker: there is no sandbox (${this.description})`));
  }
}

let fallback: Sandbox | null = null;
/**
 * The sandbox of code that was handed none (tests, tools built outside the worker's wiring):
 * bubblewrap with the default limits when installed (not probed), else refusal. Never unconfined.
 */
export function defaultSandbox(): Sandbox {
  if (!fallback) {
    const bwrapPath = findBwrap();
    fallback = bwrapPath ? new BwrapSandbox(bwrapPath, DEFAULT_SANDBOX_LIMITS, PidsCgroup.detect()) : new UnavailableSandbox(`bubblewrap (bwrap) is not installed: ${SANDBOX_FIX}`);
  }
  return fallback;
}

export interface SandboxConfig {
  mode: 'bwrap' | 'none';
  limits: SandboxLimits;
}

/** At boot: the sandbox the worker's tool processes run in, after probing bwrap. */
export async function createSandbox(config: SandboxConfig, logger: { warn(obj: object, msg?: string): void; info(obj: object, msg?: string): void }): Promise<Sandbox> {
  if (config.mode === 'none') {
    const sandbox = new UnconfinedSandbox((msg, details) => logger.warn({ ...details, sandbox: 'disabled' }, msg));
    logger.warn({ sandbox: 'disabled' }, `AGENT_SANDBOX=none: agent bash/git calls and tool phases run UNCONFINED on this worker (no namespaces, the worker's network and files in reach)`);
    return sandbox;
  }
  const probe = await probeSandbox({ limits: config.limits });
  if (!probe.ok || !probe.bwrapPath) {
    logger.warn({ sandbox: 'unavailable', detail: probe.detail }, `no sandbox: agent bash/git calls and tool phases will be refused (${probe.detail})`);
    return new UnavailableSandbox(probe.detail);
  }
  const sandbox = new BwrapSandbox(probe.bwrapPath, config.limits, probe.processLimit === 'cgroup' ? PidsCgroup.detect() : null);
  if (probe.detail.includes('WEAK')) logger.warn({ sandbox: 'bwrap', detail: probe.detail, limits: config.limits }, 'tool processes run in bubblewrap, but without a pids cgroup');
  else logger.info({ sandbox: 'bwrap', detail: probe.detail, limits: config.limits }, 'tool processes run in bubblewrap');
  return sandbox;
}
