import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ToolCallRecord } from '@conclave/contracts';
import { runProcess } from './process';
import { AGENT_TOOLS, DEFAULT_BASH_ALLOW, ToolExecutor } from './tools';
import { Workspace } from './workspace';

describe('agent tools confined to the run workspace', () => {
  let base: string;
  let tools: ToolExecutor;
  const live: ToolCallRecord[] = [];

  beforeEach(async () => {
    base = await mkdtemp(path.join(tmpdir(), 'conclave-tools-'));
    const workspace = await Workspace.open(path.join(base, 'ws'), 'run1');
    live.length = 0;
    tools = new ToolExecutor(workspace, AGENT_TOOLS, { bashAllow: DEFAULT_BASH_ALLOW, bashTimeoutMs: 5_000, outputCap: 2_000, now: Date.now }, (r) => live.push(r));
    // siblings that prefix tricks and symlinks aim at
    await mkdir(path.join(base, 'ws', 'run1-evil'), { recursive: true });
    await writeFile(path.join(base, 'ws', 'run1-evil', 'secret.txt'), 'EVIL');
    await writeFile(path.join(base, 'outside.txt'), 'OUTSIDE');
  });
  afterEach(() => rm(base, { recursive: true, force: true }));

  it('writes, reads, edits (exact unique replace), lists and searches inside the workspace', async () => {
    expect(await tools.run('write_file', { path: 'src/a.ts', content: 'const a = 1;\nconst b = 2;\n' })).toMatchObject({ isError: false });
    expect((await tools.run('read_file', { path: 'src/a.ts' })).content).toBe('const a = 1;\nconst b = 2;\n');
    expect(await tools.run('edit_file', { path: 'src/a.ts', old_text: 'const b = 2;', new_text: 'const b = 3;' })).toMatchObject({ isError: false });
    expect(await readFile(path.join(tools.workspace.root, 'src/a.ts'), 'utf8')).toContain('const b = 3;');
    expect((await tools.run('edit_file', { path: 'src/a.ts', old_text: 'const', new_text: 'let' })).content).toMatch(/more than once/);
    expect((await tools.run('edit_file', { path: 'src/a.ts', old_text: 'nope', new_text: 'x' })).content).toMatch(/does not occur/);
    expect((await tools.run('list_files', {})).content).toBe('src/a.ts');
    expect((await tools.run('search', { pattern: 'b = 3' })).content).toBe('src/a.ts:2: const b = 3;');
    expect((await tools.run('search', { pattern: '^const [ab]', regex: true })).content.split('\n')).toHaveLength(2);
    expect(tools.files.get('src/a.ts')).toBe('created');
    expect(live).toHaveLength(tools.records.length);
    expect(tools.records[0]).toMatchObject({ tool: 'write_file', refused: false, durationMs: expect.any(Number), at: expect.any(String) });
  });

  it.each([
    ['../', '../outside.txt'],
    ['deep ../', 'a/../../outside.txt'],
    ['absolute', '/etc/passwd'],
    ['prefix trick', '../run1-evil/secret.txt'],
  ])('refuses a %s path', async (_label, p) => {
    const read = await tools.run('read_file', { path: p });
    expect(read).toMatchObject({ isError: true, refused: true });
    expect(read.content).not.toContain('EVIL');
    expect(read.content).not.toContain('OUTSIDE');
    const write = await tools.run('write_file', { path: p, content: 'x' });
    expect(write.refused).toBe(true);
    expect(tools.records.at(-1)).toMatchObject({ refused: true });
  });

  it('refuses symlinks pointing out (as the file and as a parent folder) but follows one pointing in', async () => {
    await symlink(path.join(base, 'outside.txt'), path.join(tools.workspace.root, 'link.txt'));
    await symlink(path.join(base, 'ws', 'run1-evil'), path.join(tools.workspace.root, 'evil-dir'));
    await writeFile(path.join(tools.workspace.root, 'inside.txt'), 'IN');
    await symlink(path.join(tools.workspace.root, 'inside.txt'), path.join(tools.workspace.root, 'ok-link.txt'));
    expect(await tools.run('read_file', { path: 'link.txt' })).toMatchObject({ refused: true });
    expect(await tools.run('read_file', { path: 'evil-dir/secret.txt' })).toMatchObject({ refused: true });
    expect(await tools.run('write_file', { path: 'evil-dir/new.txt', content: 'x' })).toMatchObject({ refused: true });
    expect(await tools.run('write_file', { path: 'link.txt', content: 'x' })).toMatchObject({ refused: true });
    expect(await readFile(path.join(base, 'outside.txt'), 'utf8')).toBe('OUTSIDE');
    expect((await tools.run('read_file', { path: 'ok-link.txt' })).content).toBe('IN');
    expect((await tools.run('list_files', {})).content).not.toContain('evil-dir');
  });

  it('runs allow-listed programs without a shell and refuses the rest', async () => {
    await tools.run('write_file', { path: 'x.txt', content: 'one\ntwo\n' });
    expect((await tools.run('bash', { program: 'wc', args: ['-l', 'x.txt'] })).content).toMatch(/2 x\.txt/);
    expect((await tools.run('bash', { program: 'echo', args: ['$HOME', '&&', 'rm', '-rf', '*', ';', '`id`'] })).content).toContain('$HOME && rm -rf * ; `id`');
    const refused = await tools.run('bash', { program: 'rm', args: ['-rf', '.'] });
    expect(refused).toMatchObject({ refused: true, isError: true });
    expect(refused.content).toMatch(/not allowed/);
    expect(await tools.run('bash', { program: '/bin/ls' })).toMatchObject({ refused: true });
    expect(await tools.run('bash', { program: 'cat', args: ['../outside.txt'] })).toMatchObject({ refused: true });
    expect(await tools.run('bash', { program: 'cat', args: ['/etc/passwd'] })).toMatchObject({ refused: true });
    expect(await tools.run('bash', { program: 'node', args: ['-e', 'process.exit(3)'] })).toMatchObject({ isError: true, refused: false });
  });

  it('kills a program at its timeout and caps its output', async () => {
    const quick = new ToolExecutor(tools.workspace, AGENT_TOOLS, { bashAllow: ['node'], bashTimeoutMs: 300, outputCap: 100, now: Date.now });
    const slow = await quick.run('bash', { program: 'node', args: ['-e', 'setTimeout(() => {}, 10000)'] });
    expect(slow.content).toMatch(/timed out after 300 ms/);
    const loud = await quick.run('bash', { program: 'node', args: ['-e', 'console.log("x".repeat(5000))'] });
    expect(loud.content.length).toBeLessThan(200);
  });

  it('refuses tools the phase did not enable', async () => {
    const readOnly = new ToolExecutor(tools.workspace, ['read_file'], { bashAllow: DEFAULT_BASH_ALLOW, bashTimeoutMs: 1_000, outputCap: 1_000, now: Date.now });
    expect(await readOnly.run('write_file', { path: 'a', content: 'b' })).toMatchObject({ refused: true });
    expect(readOnly.specs().map((s) => s.name)).toEqual(['read_file']);
  });

  it('git status / diff / commit in a repository workspace, and diff() includes new files', async () => {
    expect((await tools.run('git', { action: 'status' })).content).toMatch(/not a git repository/);
    await runProcess('git', ['init', '-q'], { cwd: tools.workspace.root, timeoutMs: 5_000, outputCap: 1_000 });
    await tools.run('write_file', { path: 'README.md', content: 'hello\n' });
    expect((await tools.run('git', { action: 'status' })).content).toContain('README.md');
    expect((await tools.run('git', { action: 'commit', message: 'first' })).isError).toBe(false);
    await tools.run('edit_file', { path: 'README.md', old_text: 'hello', new_text: 'bye' });
    await tools.run('write_file', { path: 'NEW.md', content: 'new\n' });
    expect((await tools.run('git', { action: 'diff' })).content).toContain('+bye');
    const diff = await tools.diff();
    expect(diff).toContain('+bye');
    expect(diff).toContain('NEW.md');
    expect(await tools.run('git', { action: 'push' })).toMatchObject({ refused: true });
  });

  it('refuses run ids that are not safe directory names', async () => {
    await expect(Workspace.open(base, '../x')).rejects.toThrow(/cannot name a workspace/);
  });
});
