import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, realpathSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BwrapSandbox, createSandbox, DEFAULT_SANDBOX_LIMITS, PidsCgroup, findBwrap, probeSandbox, sandboxPathsOf, UnavailableSandbox, SandboxUnavailable } from './sandbox';
import { ToolExecutor, type ToolSettings } from './tools';
import { Workspace } from './workspace';

/**
 * The sandbox doing ordinary work: programs run in the workspace, write there, and git works on a
 * detached worktree of a real repository (objects and the worktree's admin dir writable, the
 * repository's refs read-only). Needs bubblewrap (`.ci/run` installs it).
 */
const bwrap = findBwrap();
const settings = (sandbox: BwrapSandbox | UnavailableSandbox): ToolSettings => ({
  bashAllow: ['ls', 'cat', 'node', 'git', 'echo', 'touch'],
  bashTimeoutMs: 10_000,
  outputCap: 16_000,
  now: Date.now,
  sandbox,
});
const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1', HOME: cwd } }).trim();

describe('sandbox (bubblewrap) for tool processes', () => {
  let base: string;
  let sandbox: BwrapSandbox;

  beforeAll(() => {
    if (!bwrap) throw new Error('bubblewrap is not installed: apt-get install -y bubblewrap (.ci/run does)');
    base = realpathSync(mkdtempSync(path.join(tmpdir(), 'sandbox-int-')));
    sandbox = new BwrapSandbox(bwrap, { ...DEFAULT_SANDBOX_LIMITS, memoryMb: 2048 }, PidsCgroup.detect());
  });
  afterAll(() => rmSync(base, { recursive: true, force: true }));

  it('probes: namespaces available here', async () => {
    const probe = await probeSandbox();
    expect(probe).toMatchObject({ ok: true });
  });

  it('runs ls, cat and writes in the workspace through the bash tool', async () => {
    const dir = path.join(base, 'plain');
    execFileSync('mkdir', ['-p', dir]);
    writeFileSync(path.join(dir, 'hello.txt'), 'hello sandbox\n');
    const tools = new ToolExecutor(Workspace.at(dir), ['bash'], settings(sandbox));
    expect((await tools.run('bash', { program: 'ls' })).content).toContain('hello.txt');
    expect((await tools.run('bash', { program: 'cat', args: ['hello.txt'] })).content).toContain('hello sandbox');
    const w = await tools.run('bash', { program: 'node', args: ['-e', 'require("fs").writeFileSync("out.txt", "written inside")'] });
    expect(w.isError).toBe(false);
    expect(readFileSync(path.join(dir, 'out.txt'), 'utf8')).toBe('written inside');
  });

  it('node with WebAssembly and worker threads runs under the memory limit (RLIMIT_DATA, not RLIMIT_AS)', async () => {
    const dir = path.join(base, 'wasm');
    execFileSync('mkdir', ['-p', dir]);
    const tools = new ToolExecutor(Workspace.at(dir), ['bash'], settings(sandbox));
    const r = await tools.run('bash', {
      program: 'node',
      args: ['-e', "const m=[]; for (let i=0;i<8;i++) m.push(new WebAssembly.Memory({initial:1})); new (require('worker_threads').Worker)('1', {eval:true}).on('exit', () => console.log('ok', m.length))"],
    });
    expect(r).toMatchObject({ isError: false });
    expect(r.content).toContain('ok 8');
  });

  it('git status, commit and diff on a detached worktree of a real repository', async () => {
    const repo = path.join(base, 'repo');
    execFileSync('mkdir', ['-p', repo]);
    git(repo, 'init', '-q', '-b', 'main');
    writeFileSync(path.join(repo, 'a.txt'), 'one\n');
    git(repo, 'add', '.');
    git(repo, '-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '-m', 'first');
    const worktree = path.join(base, 'wt');
    git(repo, 'worktree', 'add', '-q', '--detach', worktree);
    const gitDir = realpathSync(path.join(repo, '.git', 'worktrees', 'wt'));
    const commonDir = realpathSync(path.join(repo, '.git'));
    const mainRef = readFileSync(path.join(commonDir, 'refs', 'heads', 'main'), 'utf8');
    const head = git(repo, 'rev-parse', 'HEAD');
    const workspace = Workspace.at(realpathSync(worktree), { repo, branch: 'conclave/r1', worktree, gitDir, commonDir, base: head });
    const paths = sandboxPathsOf(workspace);
    expect(paths.writable).toEqual([workspace.root, gitDir]);
    expect(paths.readable).toEqual(expect.arrayContaining([commonDir, path.join(workspace.root, '.git')]));

    const tools = new ToolExecutor(workspace, ['bash', 'git', 'write_file'], settings(sandbox));
    await tools.run('write_file', { path: 'a.txt', content: 'one\ntwo\n' });
    const status = await tools.run('git', { action: 'status' });
    expect(status).toMatchObject({ isError: false });
    expect(status.content).toContain('a.txt');
    expect(await tools.diff()).toContain('+two');
    // the repository is read-only to the agent: the git tool's commit says the worker commits for it,
    // and a commit through bash fails without writing an object
    const commit = await tools.run('git', { action: 'commit', message: 'agent edit' });
    expect(commit).toMatchObject({ isError: false, content: expect.stringContaining('commits all your changes') });
    const objects = git(repo, 'count-objects');
    const viaBash = await tools.run('bash', { program: 'git', args: ['-c', 'user.name=a', '-c', 'user.email=a@a', 'commit', '-qam', 'agent edit'] });
    expect(viaBash.isError).toBe(true);
    expect(git(worktree, 'rev-parse', 'HEAD')).toBe(head);
    expect(git(repo, 'count-objects')).toBe(objects);
    expect(readFileSync(path.join(commonDir, 'refs', 'heads', 'main'), 'utf8')).toBe(mainRef);
  });

  it('is killed at once when the call is aborted (cancel, shutdown)', async () => {
    const dir = path.join(base, 'abort');
    execFileSync('mkdir', ['-p', dir]);
    const controller = new AbortController();
    const started = Date.now();
    const run = sandbox.run('node', ['-e', 'setInterval(() => {}, 1000)'], { cwd: dir, writable: [], timeoutMs: 30_000, outputCap: 1_000, signal: controller.signal });
    setTimeout(() => controller.abort(new Error('cancelled by the test')), 300);
    await expect(run).rejects.toThrow('cancelled by the test');
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it('createSandbox: bwrap after a successful probe; AGENT_SANDBOX=none warns at boot and on every run', async () => {
    const warnings: string[] = [];
    const logger = { warn: (_: object, msg?: string) => void warnings.push(msg ?? ''), info: () => undefined };
    expect((await createSandbox({ mode: 'bwrap', limits: DEFAULT_SANDBOX_LIMITS }, logger)).status).toBe('bwrap');
    expect(warnings).toEqual([]);
    const none = await createSandbox({ mode: 'none', limits: DEFAULT_SANDBOX_LIMITS }, logger);
    expect(none.status).toBe('disabled');
    expect(warnings).toHaveLength(1);
    const dir = path.join(base, 'none-mode');
    execFileSync('mkdir', ['-p', dir]);
    await none.run('true', [], { cwd: dir, writable: [], timeoutMs: 5_000, outputCap: 100 });
    await none.run('true', [], { cwd: dir, writable: [], timeoutMs: 5_000, outputCap: 100 });
    expect(warnings).toHaveLength(3);
    expect(warnings[2]).toMatch(/WITHOUT a sandbox/);
  });

  it('probe without bwrap: not ok, naming the fix', async () => {
    const probe = await probeSandbox({ bwrapPath: null });
    expect(probe.ok).toBe(false);
    expect(probe.detail).toMatch(/apt-get install -y bubblewrap.*AGENT_SANDBOX=none/);
  });

  it('refuses every tool process with the fix when there is no sandbox', async () => {
    const dir = path.join(base, 'none');
    execFileSync('mkdir', ['-p', dir]);
    const tools = new ToolExecutor(Workspace.at(dir), ['bash'], settings(new UnavailableSandbox('bubblewrap (bwrap) is not installed')));
    const r = await tools.run('bash', { program: 'ls' });
    expect(r).toMatchObject({ isError: true, refused: true });
    expect(r.content).toMatch(/no sandbox.*bubblewrap/);
    await expect(new UnavailableSandbox('x').run()).rejects.toBeInstanceOf(SandboxUnavailable);
  });
});

describe('pids cgroups of other workers', () => {
  it("a worker starting up sweeps only a dead process's leftover cgroups, never a live one's fresh (still empty) cgroup", () => {
    const cgroup = PidsCgroup.detect();
    expect(cgroup).not.toBeNull(); // the machines this runs on (root, cgroup v1/v2 pids) give the worker one
    if (!cgroup) return;
    const live = path.join(cgroup.base, `${process.pid}-987654`);
    const liveProbe = path.join(cgroup.base, `probe-${process.ppid}`); // another live process's probe
    const dead = path.join(cgroup.base, '2147483646-1'); // no such pid
    for (const dir of [live, liveProbe, dead]) execFileSync('mkdir', ['-p', dir]);
    try {
      expect(PidsCgroup.detect()).not.toBeNull(); // detect() sweeps
      expect(readFileSync(path.join(live, 'pids.max'), 'utf8').trim()).toBeTruthy(); // still there
      expect(() => readFileSync(path.join(liveProbe, 'pids.max'), 'utf8')).not.toThrow();
      expect(() => readFileSync(path.join(dead, 'pids.max'), 'utf8')).toThrow(); // swept
    } finally {
      for (const dir of [live, liveProbe, dead]) {
        try {
          rmdirSync(dir);
        } catch {
          /* already swept */
        }
      }
    }
  });
});
