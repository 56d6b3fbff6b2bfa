import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { io, type Socket } from 'socket.io-client';
import type { ArtifactView, CheckpointView, ClientToServerEvents, LiveMessage, RunView, ServerToClientEvents } from '@conclave/contracts';
import { createTestEnv, eventually, startStack, type Stack, type TestEnv } from '@conclave/testing';
import { git } from './support/git';
import { phaseOf, restClient } from './support/rest';

/**
 * Agents on the user's own repository, end to end against the running stack (issue 10): a run
 * branch per run, a worktree per candidate, the winner as one commit, the loser's diff kept, a
 * tool phase at the branch tip, rollback / fork / rerun moving the branch, the patch download,
 * cancel keeping partial work, and the user's checkout byte-identical throughout.
 */
const sim = (model: string, latencyMs = 20) => ({ provider: 'simulated', model, options: { latencyMs } });
const agent = (id: string, dependsOn: string[], models: string[], extra: Record<string, unknown> = {}) => ({
  id,
  kind: 'agent' as const,
  dependsOn,
  prompt: { user: `Improve the app (${id}). file: app.txt` },
  candidates: models.map((m) => sim(m)),
  judge: { provider: 'simulated', model: 'sim-judge' },
  tools: ['read_file', 'write_file', 'list_files'] as ('read_file' | 'write_file' | 'list_files')[],
  ...extra,
});


/** Every byte of the user's checkout that a run must not touch: files (.git internals but refs/conclave and the worktrees' admin), HEAD, index. */
async function fingerprint(repo: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (dir: string) => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const abs = path.join(dir, entry.name);
      const rel = path.relative(repo, abs);
      if (rel === '.git') continue;
      if (entry.isDirectory()) await walk(abs);
      else out[rel] = createHash('sha256').update(await readFile(abs)).digest('hex');
    }
  };
  await walk(repo);
  out['.git/HEAD'] = await readFile(path.join(repo, '.git', 'HEAD'), 'utf8');
  out['.git/index'] = createHash('sha256').update(await readFile(path.join(repo, '.git', 'index'))).digest('hex');
  out['refs/heads/main'] = git(repo, 'rev-parse', 'refs/heads/main');
  out.status = git(repo, 'status', '--porcelain', '--untracked-files=all');
  return out;
}

describe('agents on the user repository', () => {
  let env: TestEnv;
  let stack: Stack;
  let base: string;
  let roots: string;
  let repo: string;
  let baseCommit: string;
  let userCheckout: Record<string, string>;

  const { api, post, createTemplate, startRun, runView, until: untilFor } = restClient(() => stack.url);
  const until = (id: string, what: string, check: (run: RunView) => boolean, timeoutMs = 60_000) => untilFor(id, what, check, timeoutMs);
  const phase = phaseOf;

  beforeAll(async () => {
    base = await realpath(await mkdtemp(path.join(tmpdir(), 'conclave-ws-e2e-')));
    roots = path.join(base, 'roots');
    repo = path.join(roots, 'app');
    await mkdir(repo, { recursive: true });
    git(repo, 'init', '--quiet');
    await writeFile(path.join(repo, 'app.txt'), 'one\ntwo\nthree\n');
    // the check a tool phase runs at the run branch's tip: passes once an agent edited app.txt
    await writeFile(path.join(repo, 'check.js'), "const t = require('fs').readFileSync('app.txt', 'utf8');\nconsole.log(t.includes('edited by') ? 'app.txt edited' : 'app.txt untouched');\nprocess.exit(t.includes('edited by') ? 0 : 1);\n");
    git(repo, 'add', '--all');
    git(repo, 'commit', '--quiet', '-m', 'initial');
    baseCommit = git(repo, 'rev-parse', 'HEAD');
    await writeFile(path.join(repo, 'notes.txt'), 'uncommitted work of the user\n'); // a dirty base is allowed
    await writeFile(path.join(repo, 'app.txt'), 'one\ntwo\nthree\nuser edit in progress\n');
    userCheckout = await fingerprint(repo);
    env = await createTestEnv('workspace');
    stack = await startStack(env, {
      label: `e2e-workspace-${env.id}`,
      extraEnv: { WORKSPACE_ROOTS: roots, WORKSPACES_ROOT: path.join(base, 'conclave'), WORKER_HEARTBEAT_MS: '200' },
    });
  });
  afterAll(async () => {
    await stack?.stop();
    await env?.dispose();
    if (base) await rm(base, { recursive: true, force: true });
  });

  it('lists the repository and refuses workspaces outside the roots, non-repositories and unknown refs without writing an event', async () => {
    const list = await (await api('/workspaces')).json<{ roots: string[]; items: { name: string; path: string; head: string; dirty: boolean; branch: string }[] }>();
    expect(list.items).toEqual([expect.objectContaining({ name: 'app', path: 'app', head: baseCommit, dirty: true, branch: 'main' })]);
    const templateId = await createTemplate({ name: 'refused', phases: [agent('implement', [], ['sim-a'])] });
    const before = (await (await api('/runs')).json<{ items: unknown[] }>()).items.length;
    await mkdir(path.join(base, 'outside'), { recursive: true });
    await mkdir(path.join(roots, 'plain'), { recursive: true });
    for (const workspace of [{ path: path.join(base, 'outside') }, { path: '../outside' }, { path: 'plain' }, { path: 'app', baseRef: 'no-such-ref' }, { path: 'app', baseRef: '--output=/tmp/x' }]) {
      const res = await post('/runs', { templateId, inputs: {}, workspace });
      expect(res.status).toBe(422);
      const body = await res.json<{ error: { message: string; details: { roots: string[] } } }>();
      expect(body.error.details.roots).toEqual([roots]);
    }
    expect((await (await api('/runs')).json<{ items: unknown[] }>()).items.length).toBe(before);
  });

  let pipelineRun: string;
  let implementCommit: string;

  it('runs two candidates in their own worktrees; the winner becomes one commit on conclave/<runId>, the loser a diff artifact, the tool phase checks the tip', async () => {
    const templateId = await createTemplate({
      name: 'implement and check',
      phases: [
        agent('implement', [], ['sim-a', 'sim-b']),
        agent('polish', ['implement'], ['sim-c']),
        { id: 'check', kind: 'tool', dependsOn: ['polish'], tool: { command: 'node', args: ['check.js'] } },
      ],
    });
    pipelineRun = await startRun(templateId, { workspace: { path: 'app' } });
    const run = await until(pipelineRun, 'the run to complete', (r) => r.status === 'completed' || r.status === 'failed');
    expect(run.status).toBe('completed');
    const branch = `conclave/${pipelineRun}`;
    expect(run.workspace).toMatchObject({ kind: 'repository', name: 'app', path: 'app', baseCommit, branch, dirty: true });
    expect(run.workspace!.head).toBe(git(repo, 'rev-parse', branch));
    expect(git(repo, 'rev-list', '--count', `${baseCommit}..${branch}`)).toBe('2'); // one commit per agent phase
    const implement = phase(run, 'implement');
    implementCommit = implement.commit!.sha;
    expect(git(repo, 'rev-parse', `${branch}~1`)).toBe(implementCommit);
    expect(implement.commit!.files).toEqual([{ path: 'app.txt', change: 'modified' }]);
    const winner = implement.candidates.find((c) => c.id === implement.verdict!.winnerId)!;
    const loser = implement.candidates.find((c) => c.id !== winner.id)!;
    const message = git(repo, 'log', '-1', '--format=%B', implementCommit);
    for (const part of [pipelineRun, 'implement', winner.id, 'simulated', winner.model]) expect(message).toContain(part);
    // the winner's line is on the branch, the loser's is not; the loser's diff is an artifact
    const onBranch = git(repo, 'show', `${implementCommit}:app.txt`);
    expect(onBranch).toContain(`edited by ${winner.model}`);
    expect(onBranch).not.toContain(`edited by ${loser.model}`);
    const artifacts = await (await api(`/runs/${pipelineRun}/artifacts`)).json<{ items: ArtifactView[] }>();
    const loserDiff = artifacts.items.find((a) => a.artifactType === 'candidate-diff');
    expect(loserDiff).toMatchObject({ phaseId: 'implement', candidateId: loser.id });
    const loserArtifact = await (await api(`/runs/${pipelineRun}/artifacts/${loserDiff!.id}`)).json<ArtifactView>();
    expect((loserArtifact.content as { diff: string }).diff).toContain(`edited by ${loser.model}`);
    // the tool phase ran at the run branch's tip, in the sandbox
    const checkArtifact = artifacts.items.find((a) => a.phaseId === 'check' && a.artifactType !== 'candidate-diff')!;
    const check = await (await api(`/runs/${pipelineRun}/artifacts/${checkArtifact.id}`)).json<ArtifactView>();
    expect(check.content).toMatchObject({ exitCode: 0, stdout: expect.stringContaining('app.txt edited') });
    expect(run.filesChanged).toBe(1);
    // worktrees go when the run settles; the branch stays; the user's checkout is byte-identical
    await eventually(async () => !existsSync(path.join(base, 'conclave', 'worktrees', pipelineRun)), 'the worktrees to be removed');
    expect(await fingerprint(repo)).toEqual(userCheckout);
  });

  it('downloads the run branch as a patch series that git am applies cleanly on a fresh clone', async () => {
    const res = await api(`/runs/${pipelineRun}/patch`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/x-patch');
    const patch = await res.text();
    expect(patch.match(/^From [0-9a-f]{40} /gm)).toHaveLength(2);
    const clone = path.join(base, 'clone');
    git(base, 'clone', '--quiet', repo, clone);
    git(clone, 'checkout', '--quiet', '--detach', baseCommit);
    await writeFile(path.join(base, 'run.patch'), patch);
    git(clone, 'am', '--quiet', path.join(base, 'run.patch'));
    expect(git(clone, 'rev-parse', 'HEAD^{tree}')).toBe(git(repo, 'rev-parse', `conclave/${pipelineRun}^{tree}`));
  });

  it('rolls the branch back to a checkpoint, forks from the commit at the fork point and reruns from the base', async () => {
    const branch = `conclave/${pipelineRun}`;
    const oldTip = git(repo, 'rev-parse', branch);
    const checkpoints = await (await api(`/runs/${pipelineRun}/checkpoints`)).json<{ items: CheckpointView[] }>();
    const afterImplement = checkpoints.items.find((c) => c.phaseId === 'implement')!;
    expect(afterImplement.commit).toBe(implementCommit);
    expect((await post(`/runs/${pipelineRun}/rollback`, { checkpointId: afterImplement.id })).status).toBe(202);
    const again = await until(pipelineRun, 'the rolled-back run to complete again', (r) => r.status === 'completed' && r.workspace?.head !== oldTip);
    // polish ran again on top of implement's commit: the old polish commit is off the branch
    expect(git(repo, 'rev-parse', `${branch}~1`)).toBe(implementCommit);
    expect(git(repo, 'rev-list', '--count', `${baseCommit}..${branch}`)).toBe('2');
    expect(again.workspace!.head).toBe(git(repo, 'rev-parse', branch));
    expect(() => git(repo, 'merge-base', '--is-ancestor', oldTip, branch)).toThrow(); // exit 1: not an ancestor

    const forkRes = await post(`/runs/${pipelineRun}/fork`, { fromPhaseId: 'polish' });
    expect(forkRes.status).toBe(201);
    const fork = (await forkRes.json<{ id: string }>()).id;
    const forked = await until(fork, 'the fork to complete', (r) => r.status === 'completed' || r.status === 'failed');
    expect(forked.status).toBe('completed');
    expect(forked.workspace!.baseCommit).toBe(implementCommit);
    expect(git(repo, 'rev-parse', `conclave/${fork}~1`)).toBe(implementCommit);

    const rerunRes = await post(`/runs/${pipelineRun}/rerun`);
    expect(rerunRes.status).toBe(201);
    const rerun = (await rerunRes.json<{ id: string }>()).id;
    const rerunView = await until(rerun, 'the rerun to complete', (r) => r.status === 'completed' || r.status === 'failed');
    expect(rerunView.status).toBe('completed');
    expect(rerunView.workspace!.baseCommit).toBe(baseCommit);
    expect(git(repo, 'rev-list', '--count', `${baseCommit}..conclave/${rerun}`)).toBe('2');
    expect(await fingerprint(repo)).toEqual(userCheckout);
  });

  it('fails a parallel phase whose change conflicts with the branch, naming the path, and succeeds on retry', async () => {
    const templateId = await createTemplate({ name: 'parallel', phases: [agent('left', [], ['sim-left']), agent('right', [], ['sim-right'])] });
    const id = await startRun(templateId, { workspace: { path: 'app' } });
    const failed = await until(id, 'one phase to fail on the conflict', (r) => r.status === 'failed');
    const conflicted = failed.phases.find((p) => p.status === 'failed')!;
    expect(conflicted.error).toMatchObject({ code: 'merge_conflict', message: expect.stringContaining('app.txt') });
    const other = failed.phases.find((p) => p.id !== conflicted.id)!;
    expect(other.status).toBe('completed');
    const retry = await post(`/runs/${id}/phases/${conflicted.id}/retry`);
    expect(retry.status).toBe(202);
    // read our own write first: the read model showed the run failed a moment ago
    expect((await api(`/runs/${id}?min_sequence=${(await retry.json<{ sequence: number }>()).sequence}`)).status).toBe(200);
    const done = await until(id, 'the retried run to complete', (r) => r.status === 'completed' || r.status === 'failed');
    expect(done.status).toBe('completed');
    const text = git(repo, 'show', `conclave/${id}:app.txt`);
    expect(text).toContain('edited by sim-left');
    expect(text).toContain('edited by sim-right');
    expect(git(repo, 'rev-list', '--count', `${baseCommit}..conclave/${id}`)).toBe('2');
  });

  it('keeps a cancelled agent\'s partial work: its diff, tool calls and transcript', async () => {
    const templateId = await createTemplate({ name: 'slow agent', phases: [agent('implement', [], ['sim-slow'], { candidates: [sim('sim-slow', 30_000)] })] });
    const socket: Socket<ServerToClientEvents, ClientToServerEvents> = io(stack.url, { transports: ['websocket'] });
    const calls: string[] = [];
    socket.on('live', (m: LiveMessage) => {
      if (m.kind === 'tool_call') calls.push(m.tool);
    });
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    try {
      const id = await startRun(templateId, {}); // no workspace: a fresh repository of the run's own
      await socket.timeout(5_000).emitWithAck('subscribe', { room: `run:${id}` });
      const running = await runView(id);
      expect(running.workspace).toMatchObject({ kind: 'fresh', branch: `conclave/${id}` });
      await eventually(async () => calls.includes('write_file'), 'the agent to write');
      await cancelAndCheck(id);
    } finally {
      socket.close();
    }
  });

  async function cancelAndCheck(id: string): Promise<void> {
    expect((await post(`/runs/${id}/cancel`, { reason: 'changed my mind' })).status).toBe(202);
    const cancelled = await until(id, 'the partial work to be recorded', (r) => r.status === 'cancelled' && !!phase(r, 'implement').candidates[0]?.partial);
    const partial = phase(cancelled, 'implement').candidates[0]!.partial!;
    expect(partial).toMatchObject({ reason: 'cancelled', files: [{ path: 'app.txt', change: 'created' }] });
    expect(partial.diff).toContain('edited by sim-slow');
    expect(partial.toolCalls.map((c) => c.tool)).toContain('write_file');
    expect(phase(cancelled, 'implement').candidates[0]!.transcript).toBeTruthy();
    expect(await fingerprint(repo)).toEqual(userCheckout);
  }
});
