import { mkdir, readdir, readFile, realpath, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { FRESH_REPOSITORY, type ChangedFile, type Checkout } from '@conclave/contracts';
import { runProcess, type ProcessResult } from './process';
import { ToolRefused, Workspace, type WorkspaceGit } from './workspace';

/**
 * A run's git work (ADR 009). The run branch `conclave/<runId>` lives in the user's repository
 * (or a fresh one of the run's own); the user's checkout, index and current branch are never
 * touched: candidates and tools work in their own worktrees under
 * `<workspacesRoot>/worktrees/<runId>/<key>`, detached at the commit the orchestrator named, and
 * the branch only ever moves by `update-ref` (integrate, reset).
 */
export interface WorkspacePolicy {
  /** fresh run directories, fresh repositories (`repos/<runId>`) and worktrees (`worktrees/<runId>/…`) live here */
  workspacesRoot: string;
  /** the roots a user's repository must be inside (WORKSPACE_ROOTS) */
  workspaceRoots: readonly string[];
  /**
   * candidates' and tools' worktrees (WORKTREES_ROOT); default `<workspacesRoot>/worktrees`. They
   * are scratch space (a redelivered command recreates its worktree, the work is kept as commits
   * in the repository), so a tmpfs is a good place for them when memory allows.
   */
  worktreesRoot?: string;
}

const GIT_TIMEOUT_MS = 60_000;
const IDENTITY = { name: 'Conclave', email: 'conclave@localhost' };

/** git with none of the machine's or user's global config, no hooks, no fsmonitor, no pager, no prompts. */
function gitEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: '/nonexistent',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_TERMINAL_PROMPT: '0',
    LANG: 'C.UTF-8',
    GIT_AUTHOR_NAME: IDENTITY.name,
    GIT_AUTHOR_EMAIL: IDENTITY.email,
    GIT_COMMITTER_NAME: IDENTITY.name,
    GIT_COMMITTER_EMAIL: IDENTITY.email,
    ...extra,
  };
}

/** The worker's own git (outside the sandbox: fixed arguments only, never the model's). */
export function git(cwd: string, args: string[], options: { outputCap?: number; env?: NodeJS.ProcessEnv } = {}): Promise<ProcessResult> {
  return runProcess('git', ['-c', 'core.quotepath=off', '-c', 'core.fsmonitor=false', '-c', 'core.hooksPath=/dev/null', '-c', 'commit.gpgsign=false', ...args], {
    cwd,
    timeoutMs: GIT_TIMEOUT_MS,
    outputCap: options.outputCap ?? 20_000_000,
    env: gitEnv(options.env),
  });
}

async function gitOk(cwd: string, args: string[], what: string, env?: NodeJS.ProcessEnv): Promise<string> {
  const r = await git(cwd, args, env ? { env } : {});
  if (r.exitCode !== 0) throw new Error(`git ${what} failed: ${(r.stderr || r.stdout).trim().slice(0, 2000)}`);
  return r.stdout;
}

function contains(root: string, abs: string): boolean {
  const rel = path.relative(root, abs);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/** Ids become folder names: candidate ids have dots, never a leading one, never a slash. */
const SAFE_KEY = /^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,200}$/;
function safeKey(key: string, what: string): string {
  if (!SAFE_KEY.test(key) || key.includes('..')) throw new ToolRefused(`${what} "${key}" cannot name a folder`);
  return key;
}

const ZERO = '0'.repeat(40);

/**
 * The repository a command names, refused unless its canonical path is inside one of the roots
 * or is a fresh run repository under `<workspacesRoot>/repos` (a forged command cannot point the
 * worker at any other folder). A fresh repository is created when missing, with the fixed empty
 * first commit (the same id everywhere), so `git` always has a repository to work on.
 */
export async function openRepository(policy: WorkspacePolicy, checkout: Pick<Checkout, 'repo' | 'fresh'>): Promise<string> {
  if (!path.isAbsolute(checkout.repo) || checkout.repo.includes('\0')) throw new ToolRefused(`repository "${checkout.repo}" must be an absolute path`);
  const reposRoot = path.resolve(policy.workspacesRoot, 'repos');
  if (checkout.fresh) {
    await mkdir(reposRoot, { recursive: true });
    const canonicalRoot = await realpath(reposRoot);
    const target = path.resolve(checkout.repo);
    if (path.dirname(target) !== canonicalRoot && path.dirname(target) !== reposRoot) {
      throw new ToolRefused(`fresh repository "${checkout.repo}" is not under this worker's ${reposRoot}`);
    }
    const fresh = path.join(canonicalRoot, path.basename(target));
    await serialised(fresh, () => initFresh(fresh));
  }
  const canonical = await realpath(checkout.repo).catch(() => null);
  if (!canonical || !(await stat(canonical)).isDirectory()) throw new ToolRefused(`repository "${checkout.repo}" does not exist on this worker`);
  const roots = [...policy.workspaceRoots, reposRoot];
  for (const root of roots) {
    const canonicalRoot = await realpath(path.resolve(root)).catch(() => null);
    if (canonicalRoot && contains(canonicalRoot, canonical)) return canonical;
  }
  throw new ToolRefused(`repository "${checkout.repo}" is outside the workspace roots (${policy.workspaceRoots.join(':') || 'none configured'})`);
}

async function initFresh(repo: string): Promise<void> {
  await mkdir(repo, { recursive: true });
  const has = await git(repo, ['rev-parse', '--verify', '--quiet', `${FRESH_REPOSITORY.commit}^{commit}`]);
  if (has.exitCode === 0 && (await stat(path.join(repo, '.git')).catch(() => null))) return;
  await gitOk(repo, ['init', '--quiet', '--initial-branch=main'], 'init');
  const tree = (await gitOk(repo, ['hash-object', '-t', 'tree', '-w', '--stdin'], 'mktree')).trim() || '4b825dc642cb6eb9a060e54bf8d69288fbee4904';
  const fixed = { GIT_AUTHOR_DATE: FRESH_REPOSITORY.date, GIT_COMMITTER_DATE: FRESH_REPOSITORY.date };
  const commit = (await gitOk(repo, ['commit-tree', tree, '-m', FRESH_REPOSITORY.message], 'commit-tree', fixed)).trim();
  if (commit !== FRESH_REPOSITORY.commit) throw new Error(`the fresh repository's first commit is ${commit}, expected ${FRESH_REPOSITORY.commit}`);
  await gitOk(repo, ['update-ref', 'refs/heads/main', commit], 'update-ref main');
}

/** Run branches this process has seen exist: a run branch is never deleted, so it is checked once. */
const knownBranches = new Set<string>();

/** Creates the run branch at `commit` unless it exists (a redelivery, a later phase). */
async function ensureBranch(repo: string, branch: string, commit: string): Promise<void> {
  const key = `${repo}\n${branch}`;
  if (knownBranches.has(key)) return;
  if ((await git(repo, ['rev-parse', '--verify', '--quiet', `refs/heads/${branch}`])).exitCode !== 0) {
    const made = await git(repo, ['update-ref', `refs/heads/${branch}`, commit, ZERO]); // refused if another worker just made it
    if (made.exitCode !== 0 && (await git(repo, ['rev-parse', '--verify', '--quiet', `refs/heads/${branch}`])).exitCode !== 0) {
      throw new Error(`git could not create ${branch}: ${made.stderr.trim()}`);
    }
  }
  knownBranches.add(key);
}

/** checking out a large tree is bound by file-creation latency: git's parallel checkout overlaps it */
const PARALLEL_CHECKOUT = ['-c', 'checkout.workers=0', '-c', 'checkout.thresholdForParallelism=200'];

/** Worktree operations of one repository are serialised within this process (`git worktree` locks). */
const repoQueues = new Map<string, Promise<unknown>>();
function serialised<T>(repo: string, work: () => Promise<T>): Promise<T> {
  const previous = repoQueues.get(repo) ?? Promise.resolve();
  const next = previous.catch(() => undefined).then(work);
  repoQueues.set(repo, next);
  // settles either way, never rejects: a `finally` chain would re-raise a failed step as an
  // unhandled rejection and end the worker (seen in the chaos suite: a worktree removed under it)
  const forget = () => {
    if (repoQueues.get(repo) === next) repoQueues.delete(repo);
  };
  void next.then(forget, forget);
  return next;
}

export function worktreesOf(policy: WorkspacePolicy, runId: string): string {
  return path.resolve(policy.worktreesRoot ?? path.join(policy.workspacesRoot, 'worktrees'), safeKey(runId, 'run id'));
}

/**
 * A worktree of its own for one candidate (or one tool run), detached at `checkout.commit`:
 * `<workspacesRoot>/worktrees/<runId>/<key>`. A redelivered command starts over in a new worktree
 * at the same commit (what a crashed attempt left is deleted, not reused).
 */
export async function openWorktree(policy: WorkspacePolicy, checkout: Checkout, runId: string, key: string): Promise<Workspace> {
  const repo = await openRepository(policy, checkout);
  const dir = path.join(worktreesOf(policy, runId), safeKey(key, 'worktree key'));
  return serialised(repo, async () => {
    await ensureBranch(repo, checkout.branch, checkout.commit);
    // a redelivered command finds what an earlier attempt (an agent) left: nothing of it is trusted
    const leftover = await stat(dir).catch(() => null);
    if (leftover) await rm(dir, { recursive: true, force: true });
    await mkdir(path.dirname(dir), { recursive: true });
    const added = await git(repo, [...PARALLEL_CHECKOUT, 'worktree', 'add', '--quiet', '--detach', dir, checkout.commit]);
    if (added.exitCode !== 0) {
      // the folder's worktree entry outlived the folder: prune and try once more
      await git(repo, ['worktree', 'prune']);
      await rm(dir, { recursive: true, force: true });
      await gitOk(repo, [...PARALLEL_CHECKOUT, 'worktree', 'add', '--quiet', '--detach', dir, checkout.commit], 'worktree add');
    }
    // git has just written these two pointers (nothing else has run in the worktree yet): read, not spawned
    const worktree = await realpath(dir);
    const pointer = /^gitdir:\s*(.+)$/m.exec(await readFile(path.join(worktree, '.git'), 'utf8'))?.[1]?.trim();
    if (!pointer) throw new Error(`git worktree add left no .git pointer in ${worktree}`);
    const gitDir = await realpath(path.resolve(worktree, pointer));
    const commonDir = await realpath(path.resolve(gitDir, (await readFile(path.join(gitDir, 'commondir'), 'utf8')).trim()));
    return Workspace.at(worktree, { repo, branch: checkout.branch, worktree, gitDir, commonDir, base: checkout.commit });
  });
}

/** The fresh `<workspacesRoot>/<runId>` folder of a run started without a workspace (runs before ADR 009). */
export function openPlainWorkspace(policy: WorkspacePolicy, runId: string): Promise<Workspace> {
  return Workspace.open(policy.workspacesRoot, runId);
}

export interface CandidateCommit {
  /** '' when the candidate changed nothing (no commit is made) */
  sha: string;
  base: string;
  diff: string;
  files: ChangedFile[];
}

/**
 * The worker's git in a candidate's worktree, after the agent had it. Everything inside the worktree
 * and its admin folder was writable to the agent's sandbox, so nothing there is trusted to find the
 * repository: the admin folder, the common folder and the work tree are named explicitly (a `.git`
 * file or a `commondir` the agent rewrote cannot redirect it), and a worktree-level config the agent
 * may have written is removed first (hooks and fsmonitor are off for every call anyway).
 */
async function worktreeGit(wt: WorkspaceGit): Promise<(args: string[], what: string, options?: { outputCap?: number }) => Promise<ProcessResult>> {
  if (!wt.gitDir || !wt.commonDir) throw new Error('the worktree was opened without its git folders');
  await rm(path.join(wt.gitDir, 'config.worktree'), { force: true });
  const env = { GIT_DIR: wt.gitDir, GIT_COMMON_DIR: wt.commonDir, GIT_WORK_TREE: wt.worktree };
  return (args, what, options = {}) => git(wt.worktree, args, { env, ...options }).then((r) => {
    if (r.exitCode !== 0 && what !== '') throw new Error(`git ${what} failed: ${(r.stderr || r.stdout).trim().slice(0, 2000)}`);
    return r;
  });
}

/** Stages everything in the worktree and reports the diff against its base (new files included). */
async function stageAll(workspace: Workspace): Promise<{ diff: string; files: ChangedFile[] }> {
  const wt = workspace.git!;
  const run = await worktreeGit(wt);
  await run(['add', '--all'], 'add');
  const status = await run(['diff', '--cached', '--name-status', '--no-renames', '-z', wt.base!], 'diff');
  const parts = status.stdout.split('\0').filter((p) => p.length > 0);
  const files: ChangedFile[] = [];
  for (let i = 0; i + 1 < parts.length; i += 2) {
    const change = parts[i]!.startsWith('A') ? 'created' : parts[i]!.startsWith('D') ? 'deleted' : 'modified';
    files.push({ path: parts[i + 1]!, change });
  }
  const diff = files.length === 0 ? '' : (await run(['diff', '--cached', '--no-color', wt.base!], 'diff', { outputCap: 2_000_000 })).stdout;
  return { diff, files };
}

/**
 * Commits everything a candidate changed in its worktree (on top of whatever the agent itself
 * committed there) and keeps the commit reachable as `refs/conclave/<runId>/<kind>/<candidateId>`:
 * the worktree is removed when the run settles, the commit stays for integration and for the
 * user. The diff and files are against the worktree's base, so they are the candidate's whole work.
 */
export async function commitCandidate(
  workspace: Workspace,
  info: { runId: string; candidateId: string; phaseId: string; provider?: string; model: string; summary: string; kind?: 'candidates' | 'partial' },
): Promise<CandidateCommit> {
  const wt = workspace.git;
  if (!wt?.base) throw new Error('the workspace is not a candidate worktree');
  const { diff, files } = await stageAll(workspace);
  if (files.length === 0) return { sha: '', base: wt.base, diff: '', files: [] };
  const summary = info.summary.trim().split('\n')[0]!.slice(0, 72) || 'agent changes';
  const message = `${summary}\n\nRun: ${info.runId}\nPhase: ${info.phaseId}\nCandidate: ${info.candidateId}\n${info.provider ? `Provider: ${info.provider}\n` : ''}Model: ${info.model}\n`;
  const run = await worktreeGit(wt);
  const tree = (await run(['write-tree'], 'write-tree')).stdout.trim();
  const sha = (await run(['commit-tree', tree, '-p', wt.base, '-m', message], 'commit-tree')).stdout.trim();
  await gitOk(wt.repo, ['update-ref', `refs/conclave/${info.runId}/${info.kind ?? 'candidates'}/${info.candidateId}`, sha], 'update-ref');
  return { sha, base: wt.base, diff, files };
}

export type IntegrationOutcome =
  | { status: 'integrated'; commit: string; parent: string; files: ChangedFile[] }
  | { status: 'conflict'; conflicts: string[]; message: string };

/**
 * Puts a candidate's commit on the run branch as one commit whose parent is `onto` (the branch tip
 * the orchestrator knows). When the candidate started from that tip its tree is taken as it is;
 * when a parallel phase went first, the change is merged three-way (`git merge-tree`) and a
 * conflict is reported with its paths, never resolved by overwriting. Dates come from the task, so
 * a redelivered integration makes the identical commit and the branch move is idempotent. The
 * log is the authority on the branch: it is set to the new commit whatever it pointed at.
 */
export async function integrate(
  repo: string,
  task: { branch: string; commit: string; base: string; onto: string; message: string; at: string },
): Promise<IntegrationOutcome> {
  return serialised(repo, async () => {
    let tree: string;
    if (task.base === task.onto) {
      tree = (await gitOk(repo, ['rev-parse', `${task.commit}^{tree}`], 'rev-parse')).trim();
    } else {
      // the candidate's commit has `base` as its parent and `onto` descends from it, so the merge base
      // git finds is `base` (git 2.39 has no --merge-base)
      const merged = await git(repo, ['merge-tree', '--write-tree', '--name-only', '--no-messages', task.onto, task.commit]);
      const lines = merged.stdout.split('\n').filter((l) => l.length > 0);
      if (merged.exitCode === 1) {
        const conflicts = [...new Set(lines.slice(1))].sort();
        return { status: 'conflict', conflicts, message: `conflicts in ${conflicts.join(', ')}` };
      }
      if (merged.exitCode !== 0 || !lines[0]) throw new Error(`git merge-tree failed: ${merged.stderr.trim()}`);
      tree = lines[0];
    }
    const dates = { GIT_AUTHOR_DATE: task.at, GIT_COMMITTER_DATE: task.at };
    const commit = (await gitOk(repo, ['commit-tree', tree, '-p', task.onto, '-m', task.message], 'commit-tree', dates)).trim();
    await gitOk(repo, ['update-ref', '-m', `conclave: integrate ${commit.slice(0, 12)}`, `refs/heads/${task.branch}`, commit], 'update-ref');
    return { status: 'integrated', commit, parent: task.onto, files: await changedFiles(repo, task.onto, commit) };
  });
}

export async function changedFiles(repo: string, from: string, to: string): Promise<ChangedFile[]> {
  const out = await gitOk(repo, ['diff-tree', '-r', '--no-commit-id', '--name-status', '--no-renames', '-z', from, to], 'diff-tree');
  const parts = out.split('\0').filter((p) => p.length > 0);
  const files: ChangedFile[] = [];
  for (let i = 0; i + 1 < parts.length; i += 2) {
    files.push({ path: parts[i + 1]!, change: parts[i]!.startsWith('A') ? 'created' : parts[i]!.startsWith('D') ? 'deleted' : 'modified' });
  }
  return files;
}

/** Rollback: the run branch points at the checkpoint's commit again (nothing is deleted: the later commits stay reachable by their refs). */
export async function resetBranch(repo: string, branch: string, commit: string): Promise<void> {
  await serialised(repo, () => gitOk(repo, ['update-ref', '-m', `conclave: reset to ${commit.slice(0, 12)}`, `refs/heads/${branch}`, commit], 'update-ref'));
}

/** A settled run: its worktrees go, its branch and kept refs stay. Idempotent. */
export async function removeWorktrees(policy: WorkspacePolicy, repo: string, runId: string): Promise<number> {
  const dir = worktreesOf(policy, runId);
  const entries = await readdir(dir).catch(() => [] as string[]);
  await serialised(repo, async () => {
    // deleting the folders and pruning once is what `worktree remove` does, without a git call each
    await rm(dir, { recursive: true, force: true });
    await git(repo, ['worktree', 'prune']);
  });
  return entries.length;
}
