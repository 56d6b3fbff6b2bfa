import { randomUUID } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { ErrorEnvelope, runWorkspaceOf, type NewEvent } from '@conclave/contracts';
import { createTestEnv, type TestEnv } from '@conclave/testing';
import { appendMeta as meta, draftThenGate, fold, http, startFakeOrchestrator, startGateway, type FakeOrchestrator, type RunningGateway } from '../__tests__/harness';
import { WorkersService } from '../fleet/workers.service';

const GIT_ENV = {
  ...process.env,
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_AUTHOR_NAME: 'Test',
  GIT_AUTHOR_EMAIL: 'test@example.com',
  GIT_COMMITTER_NAME: 'Test',
  GIT_COMMITTER_EMAIL: 'test@example.com',
};
const git = (cwd: string, ...args: string[]) => execFileSync('git', ['-c', 'init.defaultBranch=main', ...args], { cwd, env: GIT_ENV, encoding: 'utf8' }).trim();
function repo(dir: string): string {
  mkdirSync(dir, { recursive: true });
  git(dir, 'init', '-q');
  return dir;
}
function commit(dir: string, files: Record<string, string | null>, message: string): string {
  for (const [file, content] of Object.entries(files)) {
    if (content === null) git(dir, 'rm', '-q', file);
    else {
      mkdirSync(join(dir, file, '..'), { recursive: true });
      writeFileSync(join(dir, file), content);
      git(dir, 'add', file);
    }
  }
  git(dir, 'commit', '-q', '-m', message);
  return git(dir, 'rev-parse', 'HEAD');
}

describe('gateway workspaces (GET /workspaces, POST /runs workspace checks, GET /runs/:id/patch)', () => {
  let env: TestEnv;
  let gw: RunningGateway;
  let fake: FakeOrchestrator;
  let api: string;
  let root: string; // canonical
  let outside: string;
  const sha: Record<string, string> = {};

  beforeAll(async () => {
    root = realpathSync(mkdtempSync(join(tmpdir(), 'gw-ws-root-')));
    outside = realpathSync(mkdtempSync(join(tmpdir(), 'gw-ws-outside-')));
    // alpha: on main, dirty (an untracked file); a repository nested inside it is not listed
    repo(join(root, 'alpha'));
    sha.alpha = commit(join(root, 'alpha'), { 'README.md': 'alpha\n' }, 'alpha 1');
    writeFileSync(join(root, 'alpha', 'notes.txt'), 'uncommitted\n');
    repo(join(root, 'alpha', 'vendor', 'nested'));
    // team/beta: two commits, HEAD detached at the first
    repo(join(root, 'team', 'beta'));
    sha.beta1 = commit(join(root, 'team', 'beta'), { 'a.txt': 'one\n' }, 'beta 1');
    sha.beta2 = commit(join(root, 'team', 'beta'), { 'a.txt': 'two\n' }, 'beta 2');
    git(join(root, 'team', 'beta'), 'checkout', '-q', '--detach', sha.beta1);
    // empty: no commit yet
    repo(join(root, 'empty'));
    // not repositories, or not listed
    mkdirSync(join(root, 'plain', 'deep'), { recursive: true });
    repo(join(root, 'node_modules', 'pkg'));
    repo(join(root, '.hidden', 'secret'));
    // a repository outside the root, and a symbolic link to it inside
    repo(join(outside, 'elsewhere'));
    commit(join(outside, 'elsewhere'), { 'x.txt': 'x\n' }, 'elsewhere');
    symlinkSync(join(outside, 'elsewhere'), join(root, 'link-out'));

    env = await createTestEnv('gwws');
    fake = await startFakeOrchestrator(env);
    gw = await startGateway(env, { WORKSPACE_ROOTS: root });
    api = `${gw.url}/api/v1`;
  });
  afterAll(async () => {
    await gw?.close();
    await fake?.close();
    await env?.dispose();
    rmSync(root, { recursive: true, force: true });
    rmSync(outside, { recursive: true, force: true });
  });
  beforeEach(() => {
    fake.requests.length = 0;
    fake.behave(() => ({ ok: true, id: 'run-x', sequence: 7 }));
  });

  it('GET /workspaces lists the repositories under the roots: branch, HEAD, dirty; not nested, hidden, node_modules or linked ones', async () => {
    const res = await http(`${api}/workspaces`);
    expect(res.status).toBe(200);
    expect(res.body.roots).toEqual([root]);
    expect(res.body.items).toEqual([
      { name: 'alpha', root, path: 'alpha', branch: 'main', head: sha.alpha, dirty: true },
      { name: 'empty', root, path: 'empty', branch: 'main', head: null, dirty: false },
      { name: 'beta', root, path: 'team/beta', branch: null, head: sha.beta1, dirty: false },
    ]);
  });

  it('without WORKSPACE_ROOTS lists nothing and takes no repository (fresh repositories only)', async () => {
    const bare = await startGateway(env);
    try {
      expect((await http(`${bare.url}/api/v1/workspaces`)).body).toEqual({ roots: [], items: [] });
      const res = await http(`${bare.url}/api/v1/runs`, { method: 'POST', json: { templateId: 'tpl-none', workspace: { path: join(root, 'alpha') } } });
      expect(res.status).toBe(422);
      expect(res.body.error).toMatchObject({ code: 'validation', message: expect.stringMatching(/WORKSPACE_ROOTS/), details: { problem: 'outside_roots', roots: [] } });
      expect(fake.requests).toHaveLength(0);
    } finally {
      await bare.close();
    }
  });

  describe('POST /runs refuses a bad workspace with a 422 naming the problem and the roots, and sends nothing', () => {
    const cases = [
      { what: 'a `..` path out of the root', workspace: () => ({ path: `../${basename(outside)}/elsewhere` }), problem: 'outside_roots' },
      { what: 'a symbolic link out of the root', workspace: () => ({ path: 'link-out' }), problem: 'outside_roots' },
      { what: 'an absolute path outside the root', workspace: () => ({ path: join(outside, 'elsewhere') }), problem: 'outside_roots' },
      { what: 'a folder that is not a repository', workspace: () => ({ path: 'plain' }), problem: 'not_a_repository' },
      { what: 'a folder inside a repository (not its top level)', workspace: () => ({ path: 'alpha/vendor' }), problem: 'not_a_repository' },
      { what: 'a missing folder', workspace: () => ({ path: 'nope' }), problem: 'not_found' },
      { what: 'an unknown baseRef', workspace: () => ({ path: 'alpha', baseRef: 'no-such-branch' }), problem: 'unknown_base_ref' },
      { what: 'a baseRef that is an option (-x)', workspace: () => ({ path: 'alpha', baseRef: '-x' }), problem: 'bad_base_ref' },
      { what: 'a baseRef that is an option (--output=…)', workspace: () => ({ path: 'alpha', baseRef: `--output=${join(outside, 'owned')}` }), problem: 'bad_base_ref' },
      { what: 'a baseRef with a NUL character', workspace: () => ({ path: 'alpha', baseRef: 'main\u0000x' }), problem: 'bad_base_ref' },
      { what: 'a path with a NUL character', workspace: () => ({ path: 'alpha\u0000/x' }), problem: 'not_found' },
      { what: 'an empty repository', workspace: () => ({ path: 'empty' }), problem: 'empty_repository' },
    ];
    it.each(cases)('$what → 422 $problem', async ({ workspace, problem }) => {
      const before = await env.log.lastSequence();
      const res = await http(`${api}/runs`, { method: 'POST', json: { templateId: 'tpl-none', inputs: {}, workspace: workspace() } });
      expect(res.status).toBe(422);
      const { error } = ErrorEnvelope.parse(res.body);
      expect(error.code).toBe('validation');
      expect(error.details).toEqual({ problem, roots: [root] });
      expect(error.message.length).toBeGreaterThan(10);
      expect(fake.requests).toHaveLength(0);
      expect(await env.log.lastSequence()).toBe(before);
    });
  });

  it('a valid workspace reaches the orchestrator as StartRun.workspace (dirty recorded, baseRef resolved)', async () => {
    let res = await http(`${api}/runs`, { method: 'POST', json: { templateId: 'tpl-none', workspace: { path: 'alpha' } } });
    expect(res.status).toBe(201);
    res = await http(`${api}/runs`, { method: 'POST', json: { templateId: 'tpl-none', workspace: { path: join(root, 'team', 'beta'), baseRef: 'main' } } });
    expect(res.status).toBe(201);
    expect(fake.requests.map((r) => r.command.type === 'StartRun' && r.command.workspace)).toEqual([
      { kind: 'repository', repo: join(root, 'alpha'), root, path: 'alpha', baseRef: 'HEAD', baseCommit: sha.alpha, dirty: true },
      { kind: 'repository', repo: join(root, 'team', 'beta'), root, path: 'team/beta', baseRef: 'main', baseCommit: sha.beta2, dirty: false },
    ]);
  });

  it("a template's default workspace applies when the body names none; agent/tool templates are refused when the fleet has no sandbox", async () => {
    const agentTemplate = {
      name: 'with-tool',
      description: '',
      inputs: { type: 'object' },
      workspace: { path: 'team/beta', baseRef: 'main' },
      phases: [{ id: 'check', kind: 'tool', tool: { command: 'true' } }],
    };
    const llmTemplate = { ...draftThenGate('plain-llm'), workspace: { path: 'alpha' } };
    const recorded = [
      ...(await env.log.append('template', 'tpl-tool', [{ type: 'TemplateCreated', data: { templateId: 'tpl-tool', version: 1, template: agentTemplate as never } }], 0, meta())),
      ...(await env.log.append('template', 'tpl-llm', [{ type: 'TemplateCreated', data: { templateId: 'tpl-llm', version: 1, template: llmTemplate as never } }], 0, meta())),
    ];
    await fold(env, recorded);

    let res = await http(`${api}/runs`, { method: 'POST', json: { templateId: 'tpl-tool' } });
    expect(res.status).toBe(201);
    expect(fake.requests[0]!.command).toEqual(expect.objectContaining({ workspace: expect.objectContaining({ kind: 'repository', path: 'team/beta', baseCommit: sha.beta2 }) }));

    // a template default that no longer resolves says so
    const stale = { ...llmTemplate, name: 'stale', workspace: { path: 'gone' } };
    await fold(env, await env.log.append('template', 'tpl-stale', [{ type: 'TemplateCreated', data: { templateId: 'tpl-stale', version: 1, template: stale as never } }], 0, meta()));
    res = await http(`${api}/runs`, { method: 'POST', json: { templateId: 'tpl-stale' } });
    expect(res.status).toBe(422);
    expect(res.body.error).toMatchObject({ code: 'validation', message: expect.stringMatching(/^the template's default workspace: /), details: { problem: 'not_found', roots: [root] } });
    expect(fake.requests).toHaveLength(1);

    // the body's workspace wins over the template's
    res = await http(`${api}/runs`, { method: 'POST', json: { templateId: 'tpl-tool', workspace: { path: 'alpha' } } });
    expect(res.status).toBe(201);
    expect(fake.requests[1]!.command).toEqual(expect.objectContaining({ workspace: expect.objectContaining({ path: 'alpha' }) }));

    // every live llm-worker says it cannot sandbox
    await gw.app.get(WorkersService).record({
      kind: 'heartbeat', workerId: 'w-nosandbox', role: 'llm-worker', host: 'h', status: 'idle', inFlight: 0, done: 0, failed: 0, at: new Date().toISOString(), sandbox: 'unavailable',
    });
    fake.requests.length = 0;
    res = await http(`${api}/runs`, { method: 'POST', json: { templateId: 'tpl-tool' } });
    expect(res.status).toBe(422);
    expect(res.body.error.details.problem).toBe('sandbox_unavailable');
    expect(res.body.error.message).toMatch(/sandbox/);
    expect(fake.requests).toHaveLength(0);
    // plain llm runs still start
    res = await http(`${api}/runs`, { method: 'POST', json: { templateId: 'tpl-llm' } });
    expect(res.status).toBe(201);
    expect(fake.requests[0]!.command).toEqual(expect.objectContaining({ workspace: expect.objectContaining({ path: 'alpha', dirty: true }) }));
  });

  describe('GET /runs/:id/patch', () => {
    const template = draftThenGate('patch');
    const runStarted = (runId: string, workspace: unknown): NewEvent => ({
      type: 'RunStarted',
      data: { runId, templateId: 'tpl', templateVersion: 1, template: template as never, name: 'r', inputs: {}, autoMode: true, budgetUsd: 1, origin: null, ...(workspace ? { workspace: workspace as never } : {}) },
    });

    it('is the run branch against its base as a format-patch series that `git am` applies on a fresh clone of the base', async () => {
      const gamma = repo(join(root, 'gamma'));
      const base = commit(gamma, { 'src/app.txt': 'line 1\nline 2\nline 3\n', 'old.txt': 'bye\n' }, 'base');
      const runId = randomUUID();
      const branch = `conclave/${runId}`;
      // the run branch, as workers would make it; the user's checkout stays on main
      git(gamma, 'checkout', '-q', '-b', branch);
      const first = commit(gamma, { 'src/app.txt': 'line 1\nline two\nline 3\n', 'new/file.md': '# new\n' }, 'conclave: draft');
      const second = commit(gamma, { 'old.txt': null, 'src/app.txt': 'line 1\nline two\nline 3\nline 4\n' }, 'conclave: review');
      git(gamma, 'checkout', '-q', 'main');
      const workspace = runWorkspaceOf({ kind: 'repository', repo: gamma, root, path: 'gamma', baseRef: 'main', baseCommit: base, dirty: false }, runId);
      const events: NewEvent[] = [
        runStarted(runId, workspace),
        { type: 'PhaseStarted', data: { phaseId: 'draft', attempt: 1 } },
        { type: 'ChangesIntegrated', data: { phaseId: 'draft', attempt: 1, candidateId: `${runId}.c0`, commit: first, parent: base, files: [{ path: 'src/app.txt', change: 'modified' }, { path: 'new/file.md', change: 'created' }], workerId: 'w' } },
        { type: 'ChangesIntegrated', data: { phaseId: 'draft', attempt: 1, candidateId: `${runId}.c0`, commit: second, parent: first, files: [{ path: 'old.txt', change: 'deleted' }, { path: 'src/app.txt', change: 'modified' }], workerId: 'w' } },
      ];
      await fold(env, await env.log.append('run', runId, events, 0, meta()));

      const view = await http(`${api}/runs/${runId}`);
      expect(view.body.workspace).toEqual({ ...workspace, head: second });

      const res = await http(`${api}/runs/${runId}/patch`, { headers: { accept: '*/*' } });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/x-patch; charset=utf-8');
      expect(res.headers.get('content-disposition')).toBe(`attachment; filename="conclave-${runId}.patch"`);
      expect(res.text).toMatch(/^From [0-9a-f]{40} /);
      expect(res.text.match(/^Subject: /gm)).toHaveLength(2);

      const scratch = mkdtempSync(join(tmpdir(), 'gw-ws-clone-'));
      try {
        const clone = join(scratch, 'clone');
        git(scratch, 'clone', '-q', gamma, clone);
        git(clone, 'checkout', '-q', '-b', 'apply', base);
        const patchFile = join(scratch, 'run.patch');
        writeFileSync(patchFile, res.text);
        git(clone, 'am', '-q', patchFile);
        expect(git(clone, 'rev-parse', 'HEAD^{tree}')).toBe(git(gamma, 'rev-parse', `${second}^{tree}`));
        expect(git(clone, 'rev-list', '--count', `${base}..HEAD`)).toBe('2');
        expect(readFileSync(join(clone, 'src', 'app.txt'), 'utf8')).toBe('line 1\nline two\nline 3\nline 4\n');
      } finally {
        rmSync(scratch, { recursive: true, force: true });
      }
    });

    it('is empty (200) before anything was committed; 409 for a run without a workspace; 404 for an unknown run', async () => {
      const fresh = randomUUID();
      const workspace = runWorkspaceOf({ kind: 'fresh', reposRoot: join(root, 'no-such-repos') }, fresh);
      await fold(env, await env.log.append('run', fresh, [runStarted(fresh, workspace)], 0, meta()));
      let res = await http(`${api}/runs/${fresh}/patch`, { headers: { accept: '*/*' } });
      expect(res.status).toBe(200);
      expect(res.text).toBe('');
      expect(res.headers.get('content-type')).toBe('text/x-patch; charset=utf-8');

      const legacy = randomUUID();
      await fold(env, await env.log.append('run', legacy, [runStarted(legacy, null)], 0, meta()));
      res = await http(`${api}/runs/${legacy}/patch`);
      expect(res.status).toBe(409);
      expect(res.body.error.code).toBe('illegal_state');

      res = await http(`${api}/runs/${randomUUID()}/patch`);
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe('not_found');
    });
  });
});
