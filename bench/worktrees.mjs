// `npm run bench:worktrees [-- --files 10000 --candidates 20]`: what a run's git work costs per
// candidate on a repository of `--files` files (issue 10: worktree set-up ≤ 200 ms per candidate
// on 10,000 files). Builds a throwaway repository in the temp folder (files of ~200 bytes in
// folders of 100, one commit), then times with the worker's own code (services/llm-worker/dist):
//   - worktree set-up: openWorktree for each candidate (git worktree add --detach at the base),
//     one after another, and two at a time (two candidates of a phase);
//   - candidate commit: one modified file staged and committed (commitCandidate);
//   - integration: the winner put on the run branch (integrate, no merge needed);
//   - clean-up: every worktree of the run removed (removeWorktrees).
// Prints median and p95 per step, twice: with the worktrees on disk (the default, under
// WORKSPACES_ROOT) and on a tmpfs (/dev/shm, what WORKTREES_ROOT=/dev/shm/… gives), when there is one.
// Needs a build first (`npm run build`). Touches only its temp folders.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createRequire } from 'node:module';

const ROOT = join(import.meta.dirname, '..');
const require = createRequire(import.meta.url);
const { values } = parseArgs({ options: { files: { type: 'string', default: '10000' }, candidates: { type: 'string', default: '20' } } });
const FILES = Number(values.files);
const N = Number(values.candidates);
const built = join(ROOT, 'services', 'llm-worker', 'dist', 'domain', 'tools', 'run-workspace.js');
if (!existsSync(built)) {
  console.error('bench:worktrees: build first (npm run build)');
  process.exit(1);
}
const { openWorktree, commitCandidate, integrate, removeWorktrees } = require(built);

const base = await realpath(await mkdtemp(join(tmpdir(), 'conclave-bench-wt-')));
const roots = join(base, 'roots');
const repo = join(roots, 'repo');
const shm = existsSync('/dev/shm') ? await mkdtemp('/dev/shm/conclave-bench-wt-') : null;
const placements = [
  ['on disk', { workspacesRoot: join(base, 'ws'), workspaceRoots: [roots] }],
  ...(shm ? [['on tmpfs', { workspacesRoot: join(base, 'ws'), workspaceRoots: [roots], worktreesRoot: shm }]] : []),
];
const git = (cwd, ...args) => execFileSync('git', ['-c', 'user.name=b', '-c', 'user.email=b@b', '-c', 'init.defaultBranch=main', ...args], { cwd, encoding: 'utf8', env: { PATH: process.env.PATH, HOME: cwd, GIT_CONFIG_NOSYSTEM: '1' } }).trim();
const ms = (t0) => Number(process.hrtime.bigint() - t0) / 1e6;
const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q) => s[Math.min(s.length - 1, Math.floor(q * s.length))];
  return `median ${at(0.5).toFixed(1)} ms, p95 ${at(0.95).toFixed(1)} ms, max ${s[s.length - 1].toFixed(1)} ms (n = ${s.length})`;
};

try {
  const t0 = process.hrtime.bigint();
  await mkdir(repo, { recursive: true });
  git(repo, 'init', '--quiet');
  const line = 'export const value = "a line of about sixty characters of source";\n';
  for (let i = 0; i < FILES; i++) {
    const dir = join(repo, 'src', `d${Math.floor(i / 100)}`);
    if (i % 100 === 0) await mkdir(dir, { recursive: true });
    await writeFile(join(dir, `f${i}.ts`), `// file ${i}\n${line.repeat(3)}`);
  }
  git(repo, 'add', '--all');
  git(repo, 'commit', '--quiet', '-m', 'bench base');
  const head = git(repo, 'rev-parse', 'HEAD');
  console.log(`bench:worktrees: repository of ${FILES} files ready in ${(ms(t0) / 1000).toFixed(1)} s; git ${git(repo, '--version').replace('git version ', '')}, ${N} candidates`);

  for (const [n, [where, policy]] of placements.entries()) {
    const checkout = { repo, branch: `conclave/bench${n}`, commit: head, fresh: false };
    await openWorktree(policy, checkout, 'warmup', 'warmup.c0'); // the run branch, the page cache
    await removeWorktrees(policy, repo, 'warmup');

    const serial = [];
    const workspaces = [];
    for (let i = 0; i < N; i++) {
      const t = process.hrtime.bigint();
      workspaces.push(await openWorktree(policy, checkout, `bench${n}`, `bench${n}.impl.1.c${i}`));
      serial.push(ms(t));
    }
    const paired = [];
    for (let i = 0; i < N; i += 2) {
      const t = process.hrtime.bigint();
      await Promise.all([openWorktree(policy, checkout, `bench2${n}`, `bench2${n}.impl.1.c${i}`), openWorktree(policy, checkout, `bench2${n}`, `bench2${n}.impl.1.c${i + 1}`)]);
      const each = ms(t) / 2;
      paired.push(each, each);
    }
    const commits = [];
    let winner;
    for (const [i, ws] of workspaces.entries()) {
      await writeFile(join(ws.root, 'src', 'd0', 'f0.ts'), `// candidate ${i}\n`);
      const t = process.hrtime.bigint();
      winner = await commitCandidate(ws, { runId: `bench${n}`, phaseId: 'impl', candidateId: `bench${n}.impl.1.c${i}`, model: 'sim', summary: `candidate ${i}` });
      commits.push(ms(t));
    }
    const t = process.hrtime.bigint();
    const integrated = await integrate(repo, { branch: `conclave/bench${n}`, commit: winner.sha, base: head, onto: head, message: 'bench', at: new Date().toISOString() });
    const integrateMs = ms(t);
    const c = process.hrtime.bigint();
    const removed = (await removeWorktrees(policy, repo, `bench${n}`)) + (await removeWorktrees(policy, repo, `bench2${n}`));
    const cleanupMs = ms(c);

    console.log(`— worktrees ${where}`);
    console.log(`worktree set-up per candidate, one at a time: ${stats(serial)}   (goal ≤ 200 ms)`);
    console.log(`worktree set-up per candidate, two at a time: ${stats(paired)}`);
    console.log(`candidate commit (one file changed):          ${stats(commits)}`);
    console.log(`integration onto the run branch:              ${integrateMs.toFixed(1)} ms (${integrated.status})`);
    console.log(`clean-up of ${removed} worktrees:                   ${cleanupMs.toFixed(0)} ms`);
  }
} finally {
  await rm(base, { recursive: true, force: true });
  if (shm) await rm(shm, { recursive: true, force: true });
}
