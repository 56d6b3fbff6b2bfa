import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { artifactJsonSchema, FRESH_REPOSITORY, type Checkout } from '@conclave/contracts';
import { AjvOutputValidator } from '../../adapters/ajv-validator';
import { codeChangeOf, partialWorkOf } from '../agent/code-change';
import { SimulatedProvider } from '../simulated/simulated-provider';
import { integrate, openRepository, openWorktree, removeWorktrees, resetBranch, type WorkspacePolicy } from './run-workspace';
import { ToolExecutor } from './tools';
import { ToolRefused } from './workspace';

const gitIn = (cwd: string, ...args: string[]) =>
  execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', '-c', 'init.defaultBranch=main', ...args], { cwd, encoding: 'utf8', env: { PATH: process.env.PATH, HOME: cwd, GIT_CONFIG_NOSYSTEM: '1' } }).trim();

/** Everything of the user's checkout a run must leave alone: HEAD, index, status, files. */
const checkoutState = async (repo: string) => ({
  head: gitIn(repo, 'rev-parse', 'HEAD'),
  branch: gitIn(repo, 'symbolic-ref', '--short', 'HEAD'),
  status: gitIn(repo, 'status', '--porcelain'),
  index: gitIn(repo, 'ls-files', '--stage'),
  app: await readFile(path.join(repo, 'app.txt'), 'utf8'),
});

// dozens of git processes per test: seconds on a loaded 2-core CI machine
jest.setTimeout(30_000);

describe('run workspaces: a branch per run, a worktree per candidate, the winner integrated as one commit', () => {
  let base: string;
  let roots: string;
  let repo: string;
  let head: string;
  let policy: WorkspacePolicy;
  const toolSettings = { bashAllow: ['rm'], bashTimeoutMs: 5_000, outputCap: 10_000, now: Date.now };
  const checkout = (runId: string, commit = head): Checkout => ({ repo, branch: `conclave/${runId}`, commit, fresh: false });

  beforeAll(async () => {
    base = await realpath(await mkdtemp(path.join(tmpdir(), 'conclave-runws-')));
    roots = path.join(base, 'roots');
    repo = path.join(roots, 'repo');
    await mkdir(repo, { recursive: true });
    gitIn(repo, 'init', '--quiet');
    await writeFile(path.join(repo, 'app.txt'), 'one\ntwo\nthree\n');
    await writeFile(path.join(repo, 'old.txt'), 'to be removed\n');
    gitIn(repo, 'add', '--all');
    gitIn(repo, 'commit', '--quiet', '-m', 'initial');
    head = gitIn(repo, 'rev-parse', 'HEAD');
    await writeFile(path.join(repo, 'app.txt'), 'one\ntwo\nthree\nuncommitted\n'); // a dirty checkout
    policy = { workspacesRoot: path.join(base, 'ws'), workspaceRoots: [roots] };
  });
  afterAll(() => rm(base, { recursive: true, force: true }));

  it('gives each candidate its own detached worktree at the commit named; the run branch is created once and never checked out', async () => {
    const before = await checkoutState(repo);
    const [a, b] = await Promise.all([openWorktree(policy, checkout('runA'), 'runA', 'runA.impl.1.c0'), openWorktree(policy, checkout('runA'), 'runA', 'runA.impl.1.c1')]);
    expect(a.root).toBe(path.join(base, 'ws', 'worktrees', 'runA', 'runA.impl.1.c0'));
    expect(b.root).not.toBe(a.root);
    expect(a.git).toMatchObject({ repo, branch: 'conclave/runA', base: head, commonDir: path.join(repo, '.git') });
    expect(gitIn(a.root, 'rev-parse', 'HEAD')).toBe(head);
    expect(() => gitIn(a.root, 'symbolic-ref', 'HEAD')).toThrow(); // detached
    expect(gitIn(repo, 'rev-parse', 'conclave/runA')).toBe(head);
    // candidates never see each other's edits, and the user's checkout (dirty) is untouched
    await writeFile(path.join(a.root, 'app.txt'), 'ONE\ntwo\nthree\n');
    expect(await readFile(path.join(b.root, 'app.txt'), 'utf8')).toBe('one\ntwo\nthree\n');
    expect(await checkoutState(repo)).toEqual(before);
    // a redelivered candidate starts over clean at the same commit
    const again = await openWorktree(policy, checkout('runA'), 'runA', 'runA.impl.1.c0');
    expect(again.root).toBe(a.root);
    expect(await readFile(path.join(a.root, 'app.txt'), 'utf8')).toBe('one\ntwo\nthree\n');
  });

  it('commits a candidate under refs/conclave, integrates the winner as one commit on the run branch, merges a parallel phase and reports a conflict with its paths', async () => {
    const before = await checkoutState(repo);
    const c0 = await openWorktree(policy, checkout('runB'), 'runB', 'runB.impl.1.c0');
    const t0 = new ToolExecutor(c0, ['read_file', 'write_file', 'bash'], toolSettings);
    await t0.run('read_file', { path: 'old.txt' });
    await t0.run('write_file', { path: 'app.txt', content: 'ONE\ntwo\nthree\n' });
    await t0.run('write_file', { path: 'src/new.ts', content: 'export const x = 1;\n' });
    expect((await t0.run('bash', { program: 'rm', args: ['old.txt'] })).isError).toBe(false);
    const change = await codeChangeOf('Capitalised one.', t0, { runId: 'runB', phaseId: 'impl', candidateId: 'runB.impl.1.c0', provider: 'simulated', model: 'sim-a' });
    expect(change.files).toEqual([
      { path: 'app.txt', change: 'modified' },
      { path: 'old.txt', change: 'deleted' },
      { path: 'src/new.ts', change: 'created' },
    ]);
    expect(change.base).toBe(head);
    expect(change.diff).toContain('+ONE');
    expect(gitIn(repo, 'rev-parse', 'refs/conclave/runB/candidates/runB.impl.1.c0')).toBe(change.commit);
    expect(gitIn(repo, 'rev-parse', 'conclave/runB')).toBe(head); // not on the branch until it wins

    const at = '2026-12-04T12:00:00.000Z';
    const task = { branch: 'conclave/runB', commit: change.commit!, base: head, onto: head, message: 'conclave(impl): Capitalised one.\n\nRun: runB\n', at };
    const first = await integrate(repo, task);
    expect(first).toMatchObject({ status: 'integrated', parent: head });
    const tip = (first as { commit: string }).commit;
    expect(gitIn(repo, 'rev-parse', 'conclave/runB')).toBe(tip);
    expect(gitIn(repo, 'rev-list', '--count', `${head}..conclave/runB`)).toBe('1');
    expect(gitIn(repo, 'log', '-1', '--format=%s', 'conclave/runB')).toBe('conclave(impl): Capitalised one.');
    // at-least-once: the same task makes the same commit and leaves the branch where it is
    expect(await integrate(repo, task)).toEqual(first);

    // a parallel phase that started from the same base and edited another line merges cleanly
    const p = await openWorktree(policy, checkout('runB'), 'runB', 'runB.docs.1.c0');
    await writeFile(path.join(p.root, 'app.txt'), 'one\ntwo\nTHREE\n');
    const docs = await codeChangeOf('Capitalised three.', new ToolExecutor(p, [], toolSettings), { runId: 'runB', phaseId: 'docs', candidateId: 'runB.docs.1.c0', model: 'sim-b' });
    const merged = await integrate(repo, { ...task, commit: docs.commit!, base: head, onto: tip, message: 'conclave(docs): three' });
    expect(merged).toMatchObject({ status: 'integrated', parent: tip, files: [{ path: 'app.txt', change: 'modified' }] });
    expect(gitIn(repo, 'show', 'conclave/runB:app.txt')).toBe('ONE\ntwo\nTHREE');

    // one that edited the same line conflicts: nothing moves
    const q = await openWorktree(policy, checkout('runB'), 'runB', 'runB.other.1.c0');
    await writeFile(path.join(q.root, 'app.txt'), 'uno\ntwo\nthree\n');
    const other = await codeChangeOf('Translated one.', new ToolExecutor(q, [], toolSettings), { runId: 'runB', phaseId: 'other', candidateId: 'runB.other.1.c0', model: 'sim-c' });
    const tipBefore = gitIn(repo, 'rev-parse', 'conclave/runB');
    expect(await integrate(repo, { ...task, commit: other.commit!, base: head, onto: tipBefore, message: 'conclave(other): uno' })).toEqual({
      status: 'conflict',
      conflicts: ['app.txt'],
      message: 'conflicts in app.txt',
    });
    expect(gitIn(repo, 'rev-parse', 'conclave/runB')).toBe(tipBefore);

    // rollback: the branch goes back; the later commits stay reachable
    await resetBranch(repo, 'conclave/runB', tip);
    expect(gitIn(repo, 'rev-parse', 'conclave/runB')).toBe(tip);
    // the settled run's worktrees go, its branch stays
    expect(await removeWorktrees(policy, repo, 'runB')).toBe(3);
    expect(existsSync(path.join(base, 'ws', 'worktrees', 'runB'))).toBe(false);
    expect(gitIn(repo, 'worktree', 'list', '--porcelain').split('\n').filter((l) => l.startsWith('worktree ')).length).toBe(1 + 2); // the user's + runA's two
    expect(gitIn(repo, 'rev-parse', 'conclave/runB')).toBe(tip);
    expect(await checkoutState(repo)).toEqual(before);
  });

  it('commits into the run\'s repository even when the agent rewrote the worktree\'s .git file, its commondir and a worktree config', async () => {
    const decoy = path.join(roots, 'decoy');
    await mkdir(decoy, { recursive: true });
    gitIn(decoy, 'init', '--quiet');
    const ws = await openWorktree(policy, checkout('runT'), 'runT', 'runT.impl.1.c0');
    await writeFile(path.join(ws.root, 'app.txt'), 'tampered\n');
    await writeFile(path.join(ws.root, '.git'), `gitdir: ${path.join(decoy, '.git')}\n`);
    await writeFile(path.join(ws.git!.gitDir!, 'commondir'), path.join(decoy, '.git'));
    await writeFile(path.join(ws.git!.gitDir!, 'config.worktree'), '[core]\n\tfsmonitor = touch /tmp/conclave-pwned\n');
    const change = await codeChangeOf('x', new ToolExecutor(ws, [], toolSettings), { runId: 'runT', phaseId: 'impl', candidateId: 'runT.impl.1.c0', model: 'sim' });
    expect(change.commit).toMatch(/^[0-9a-f]{40}$/);
    expect(gitIn(repo, 'cat-file', '-t', change.commit!)).toBe('commit');
    expect(() => gitIn(decoy, 'cat-file', '-t', change.commit!)).toThrow();
    expect(existsSync(path.join(ws.git!.gitDir!, 'config.worktree'))).toBe(false);
  });

  it('keeps a cancelled candidate\'s uncommitted work as a partial commit, off the run branch', async () => {
    const ws = await openWorktree(policy, checkout('runP'), 'runP', 'runP.impl.1.c0');
    const tools = new ToolExecutor(ws, ['write_file'], toolSettings);
    await tools.run('write_file', { path: 'half.txt', content: 'half done\n' });
    const partial = await partialWorkOf(tools, { runId: 'runP', phaseId: 'impl', candidateId: 'runP.impl.1.c0', model: 'sim' }, 'cancelled');
    expect(partial).toMatchObject({ reason: 'cancelled', files: [{ path: 'half.txt', change: 'created' }] });
    expect(partial.diff).toContain('+half done');
    expect(gitIn(repo, 'rev-parse', 'refs/conclave/runP/partial/runP.impl.1.c0')).toBe(partial.commit);
    expect(gitIn(repo, 'rev-parse', 'conclave/runP')).toBe(head);
  });

  it('makes a fresh run repository with the fixed first commit, idempotently, only under the worker\'s repos folder', async () => {
    const fresh = path.join(base, 'ws', 'repos', 'runF');
    const [r1, r2] = await Promise.all([openRepository(policy, { repo: fresh, fresh: true }), openRepository(policy, { repo: fresh, fresh: true })]);
    expect(r1).toBe(fresh);
    expect(r2).toBe(fresh);
    expect(gitIn(fresh, 'rev-parse', 'main')).toBe(FRESH_REPOSITORY.commit);
    const ws = await openWorktree(policy, { repo: fresh, branch: 'conclave/runF', commit: FRESH_REPOSITORY.commit, fresh: true }, 'runF', 'runF.a.1.c0');
    expect(gitIn(ws.root, 'rev-parse', 'HEAD')).toBe(FRESH_REPOSITORY.commit);
    await expect(openRepository(policy, { repo: path.join(base, 'elsewhere', 'runF'), fresh: true })).rejects.toBeInstanceOf(ToolRefused);
  });

  it('a failed git step rejects its caller only: no unhandled rejection ends the worker, and the repository queue goes on', async () => {
    const unhandled: unknown[] = [];
    const listener = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', listener);
    try {
      await expect(openWorktree(policy, checkout('runX', '0'.repeat(40)), 'runX', 'runX.impl.1.c0')).rejects.toThrow();
      await new Promise((r) => setTimeout(r, 50));
      expect(unhandled).toEqual([]);
      const next = await openWorktree(policy, checkout('runX'), 'runX', 'runX.impl.1.c1');
      expect(existsSync(next.root)).toBe(true);
    } finally {
      process.off('unhandledRejection', listener);
    }
  });

  it('refuses a repository outside the roots (prefix trick and symlink included)', async () => {
    const outside = path.join(base, 'outside');
    const prefixTrick = `${roots}-evil`;
    await mkdir(outside, { recursive: true });
    await mkdir(prefixTrick, { recursive: true });
    await symlink(outside, path.join(roots, 'link-out'));
    for (const named of [outside, prefixTrick, path.join(roots, 'link-out'), path.join(roots, '..', 'outside'), 'roots/repo', path.join(roots, 'missing')]) {
      await expect(openRepository(policy, { repo: named, fresh: false })).rejects.toBeInstanceOf(ToolRefused);
    }
    await expect(openRepository({ ...policy, workspaceRoots: [] }, { repo, fresh: false })).rejects.toBeInstanceOf(ToolRefused);
    const provider = new SimulatedProvider({ check: new AjvOutputValidator().check, agent: { ...policy, ...toolSettings, transcriptCap: 1_000 } });
    await expect(
      provider.generate(
        {
          provider: 'simulated',
          model: 'sim',
          options: {},
          prompt: { user: 'x' },
          output: { artifact: 'code-change', schema: artifactJsonSchema('code-change') },
          slot: 0,
          runId: 'runE',
          phaseId: 'p',
          candidateId: 'runE.p.1.c0',
          checkout: { repo: outside, branch: 'conclave/runE', commit: head, fresh: false },
          agent: { tools: ['write_file'], maxIterations: 2 },
        },
        { signal: new AbortController().signal, onDelta: () => undefined },
      ),
    ).rejects.toMatchObject({ name: 'ProviderError', code: 'workspace_refused', retryable: false });
  });

  it('runs two simulated candidates that edit different lines of one file in their own worktrees', async () => {
    const provider = new SimulatedProvider({ check: new AjvOutputValidator().check, agent: { ...policy, ...toolSettings, transcriptCap: 1_000 } });
    const generate = (slot: number) =>
      provider.generate(
        {
          provider: 'simulated',
          model: `sim-${slot}`,
          options: {},
          prompt: { user: 'Improve the app. file: app.txt' },
          output: { artifact: 'code-change', schema: artifactJsonSchema('code-change') },
          slot,
          runId: 'runS',
          phaseId: 'impl',
          candidateId: `runS.impl.1.c${slot}`,
          checkout: checkout('runS'),
          agent: { tools: ['read_file', 'write_file'], maxIterations: 5 },
        },
        { signal: new AbortController().signal, onDelta: () => undefined },
      );
    const [g0, g1] = await Promise.all([generate(0), generate(1)]);
    const o0 = g0.output as { diff: string; commit: string; files: unknown[] };
    const o1 = g1.output as { diff: string; commit: string };
    expect(o0.files).toEqual([{ path: 'app.txt', change: 'modified' }]);
    expect(o0.diff).toContain('+one // edited by sim-0 (slot 0)');
    expect(o1.diff).toContain('+two // edited by sim-1 (slot 1)');
    expect(o0.diff).not.toContain('sim-1');
    expect(o0.commit).not.toBe(o1.commit);
  });
});
