import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { artifactJsonSchema } from '@conclave/contracts';
import { AjvOutputValidator } from '../../adapters/ajv-validator';
import { codeChangeOf } from '../agent/code-change';
import { SimulatedProvider } from '../simulated/simulated-provider';
import { openRunWorkspace, type WorkspacePolicy } from './run-workspace';
import { ToolExecutor } from './tools';
import { ToolRefused } from './workspace';

const gitIn = (cwd: string, ...args: string[]) =>
  execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', '-c', 'init.defaultBranch=main', ...args], { cwd, encoding: 'utf8', env: { PATH: process.env.PATH, HOME: cwd, GIT_CONFIG_NOSYSTEM: '1' } }).trim();

describe('run workspaces: named directories under the roots, a branch and worktree per run, a commit per agent phase', () => {
  let base: string;
  let roots: string;
  let repo: string;
  let policy: WorkspacePolicy;
  const toolSettings = { bashAllow: ['rm'], bashTimeoutMs: 5_000, outputCap: 10_000, now: Date.now };

  beforeAll(async () => {
    base = await realpath(await mkdtemp(path.join(tmpdir(), 'conclave-runws-')));
    roots = path.join(base, 'roots');
    repo = path.join(roots, 'repo');
    await mkdir(repo, { recursive: true });
    gitIn(repo, 'init', '--quiet');
    await writeFile(path.join(repo, 'README.md'), '# app\n');
    await writeFile(path.join(repo, 'old.txt'), 'to be removed\n');
    gitIn(repo, 'add', '--all');
    gitIn(repo, 'commit', '--quiet', '-m', 'initial');
    policy = { workspacesRoot: path.join(base, 'ws'), workspaceRoots: [roots] };
  });
  afterAll(() => rm(base, { recursive: true, force: true }));

  it('gives two runs two branches and two worktrees, created once per run (idempotent, even when opened concurrently)', async () => {
    const [a1, a2] = await Promise.all([openRunWorkspace(policy, 'runA', repo), openRunWorkspace(policy, 'runA', repo)]);
    const b = await openRunWorkspace(policy, 'runB', repo);
    const again = await openRunWorkspace(policy, 'runA', repo);
    expect(a1.root).toBe(path.join(base, 'ws', 'runA'));
    expect([a2.root, again.root]).toEqual([a1.root, a1.root]);
    expect(b.root).toBe(path.join(base, 'ws', 'runB'));
    expect(a1.git).toEqual({ repo, branch: 'conclave/runA', worktree: a1.root });
    expect(gitIn(repo, 'branch', '--list', 'conclave/*', '--format=%(refname:short)').split('\n')).toEqual(['conclave/runA', 'conclave/runB']);
    const worktrees = gitIn(repo, 'worktree', 'list', '--porcelain').split('\n').filter((l) => l.startsWith('worktree '));
    expect(worktrees).toHaveLength(3);
    expect(gitIn(a1.root, 'rev-parse', '--abbrev-ref', 'HEAD')).toBe('conclave/runA');
    expect(gitIn(b.root, 'rev-parse', '--abbrev-ref', 'HEAD')).toBe('conclave/runB');
  });

  it('commits each agent phase on the run branch with a generated message; the artifact carries that diff and its files', async () => {
    const ws = await openRunWorkspace(policy, 'runC', repo);
    const build = new ToolExecutor(ws, ['read_file', 'write_file', 'edit_file', 'bash'], toolSettings);
    await build.run('read_file', { path: 'README.md' });
    await build.run('write_file', { path: 'src/app.ts', content: 'export const x = 1;\n' });
    await build.run('edit_file', { path: 'README.md', old_text: '# app', new_text: '# app\n\nNow with src/app.ts' });
    expect((await build.run('bash', { program: 'rm', args: ['old.txt'] })).isError).toBe(false);
    const first = await codeChangeOf('Added the app module.', build, { runId: 'runC', phaseId: 'build', model: 'sim-1' });
    expect(first.files).toEqual([
      { path: 'old.txt', change: 'deleted' },
      { path: 'README.md', change: 'modified' },
      { path: 'src/app.ts', change: 'created' },
    ]);
    expect(first.diff).toContain('+export const x = 1;');
    expect(first.diff).toContain('-to be removed');

    const review = new ToolExecutor(ws, ['read_file', 'write_file'], toolSettings);
    await review.run('read_file', { path: 'src/app.ts' });
    await review.run('write_file', { path: 'REVIEW.md', content: 'ok\n' });
    const second = await codeChangeOf('Reviewed.', review, { runId: 'runC', phaseId: 'review', model: 'sim-2' });
    expect(second.files).toEqual([
      { path: 'REVIEW.md', change: 'created' },
      { path: 'src/app.ts', change: 'read' },
    ]);
    expect(second.diff).toContain('REVIEW.md');
    expect(second.diff).not.toContain('app.ts');

    expect(gitIn(repo, 'rev-list', '--count', 'main..conclave/runC')).toBe('2');
    const messages = gitIn(repo, 'log', '--format=%s', 'main..conclave/runC').split('\n');
    expect(messages).toEqual(['conclave(review): Reviewed.', 'conclave(build): Added the app module.']);
    const body = gitIn(repo, 'log', '-1', '--format=%B', 'conclave/runC~1');
    expect(body).toContain('phase: build');
    expect(body).toContain('model: sim-1');
    expect(gitIn(repo, 'status', '--porcelain')).toBe(''); // the user's checkout is untouched
    // a phase that changes nothing commits nothing
    const idle = await codeChangeOf('Nothing to do.', new ToolExecutor(ws, ['read_file'], toolSettings), { runId: 'runC', phaseId: 'noop', model: 'sim' });
    expect(idle).toEqual({ summary: 'Nothing to do.', files: [], diff: '' });
    expect(gitIn(repo, 'rev-list', '--count', 'main..conclave/runC')).toBe('2');
  });

  it('runs the agent of a GenerateCandidate that names the workspace in the run worktree and commits its phase', async () => {
    const validator = new AjvOutputValidator();
    const provider = new SimulatedProvider({ check: validator.check, agent: { ...policy, ...toolSettings, transcriptCap: 1_000 } });
    const gen = await provider.generate(
      {
        provider: 'simulated',
        model: 'sim',
        options: {},
        prompt: { user: 'Add notes' },
        output: { artifact: 'code-change', schema: artifactJsonSchema('code-change') },
        slot: 0,
        runId: 'runD',
        phaseId: 'implement',
        candidateId: 'runD.implement.1.c0',
        workspace: repo,
        agent: { tools: ['list_files', 'write_file', 'read_file'], maxIterations: 5 },
      },
      { signal: new AbortController().signal, onDelta: () => undefined },
    );
    const output = gen.output as { files: { path: string; change: string }[]; diff: string };
    expect(output.files).toEqual([{ path: expect.stringMatching(/^conclave\/0-[0-9a-f]{8}\.md$/), change: 'created' }]);
    expect(output.diff).toContain('Add notes');
    expect(gitIn(repo, 'log', '-1', '--format=%s', 'conclave/runD')).toMatch(/^conclave\(implement\): /);
  });

  it('refuses a named workspace outside the roots (prefix trick and symlink included) and any name when no roots are configured', async () => {
    const outside = path.join(base, 'outside');
    const prefixTrick = `${roots}-evil`;
    await mkdir(outside, { recursive: true });
    await mkdir(prefixTrick, { recursive: true });
    await symlink(outside, path.join(roots, 'link-out'));
    for (const named of [outside, prefixTrick, path.join(roots, 'link-out'), path.join(roots, '..', 'outside'), 'roots/repo', path.join(roots, 'missing')]) {
      await expect(openRunWorkspace(policy, 'runE', named)).rejects.toBeInstanceOf(ToolRefused);
    }
    await expect(openRunWorkspace({ ...policy, workspaceRoots: [] }, 'runE', repo)).rejects.toThrow(/accepts no named workspaces/);
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
          workspace: outside,
          agent: { tools: ['write_file'], maxIterations: 2 },
        },
        { signal: new AbortController().signal, onDelta: () => undefined },
      ),
    ).rejects.toMatchObject({ name: 'ProviderError', code: 'workspace_refused', retryable: false });
  });
});
