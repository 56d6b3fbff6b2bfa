import { mkdir, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { runProcess, type ProcessResult } from './process';
import { ToolRefused, Workspace } from './workspace';

/** Where runs work: fresh directories under `workspacesRoot`, named ones only under `workspaceRoots`. */
export interface WorkspacePolicy {
  /** fresh workspaces (and the worktrees of named git workspaces) are `<workspacesRoot>/<runId>` */
  workspacesRoot: string;
  /** roots a named workspace must be (inside); empty = naming is refused */
  workspaceRoots: readonly string[];
}

/** A run's worktree: its own branch `conclave/<runId>` of the repository the user named. */
export interface RunWorktree {
  /** the canonical top level of the named repository */
  repo: string;
  branch: string;
  /** the worktree's top level (the workspace root may be a sub-folder of it) */
  worktree: string;
}

const GIT_TIMEOUT_MS = 30_000;
const GIT_ENV = (home: string): NodeJS.ProcessEnv => ({
  PATH: process.env.PATH ?? '/usr/bin:/bin',
  HOME: home,
  GIT_CONFIG_NOSYSTEM: '1',
  LANG: 'C.UTF-8',
  GIT_AUTHOR_NAME: 'Conclave',
  GIT_AUTHOR_EMAIL: 'conclave@localhost',
  GIT_COMMITTER_NAME: 'Conclave',
  GIT_COMMITTER_EMAIL: 'conclave@localhost',
});

export function git(cwd: string, args: string[], outputCap = 2_000_000): Promise<ProcessResult> {
  return runProcess('git', ['-c', 'core.quotepath=off', ...args], { cwd, timeoutMs: GIT_TIMEOUT_MS, outputCap, env: GIT_ENV(cwd) });
}

function contains(root: string, abs: string): boolean {
  const rel = path.relative(root, abs);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/**
 * The canonical path of a user-named workspace, refused unless it exists, is a directory and its
 * canonical path (symlinks resolved) is inside the canonical path of one of the roots. Containment
 * compares with `path.relative`, never a string prefix (`/roots/a-evil` is not under `/roots/a`).
 */
export async function acceptNamedWorkspace(named: string, roots: readonly string[]): Promise<string> {
  if (roots.length === 0) throw new ToolRefused(`workspace "${named}" refused: this worker accepts no named workspaces (WORKSPACE_ROOTS is empty)`);
  if (named.includes('\0') || !path.isAbsolute(named)) throw new ToolRefused(`workspace "${named}" must be an absolute path`);
  const canonical = await realpath(named).catch(() => null);
  if (!canonical || !(await stat(canonical)).isDirectory()) throw new ToolRefused(`workspace "${named}" is not an existing directory`);
  for (const root of roots) {
    const canonicalRoot = await realpath(path.resolve(root)).catch(() => null);
    if (canonicalRoot && contains(canonicalRoot, canonical)) return canonical;
  }
  throw new ToolRefused(`workspace "${named}" is outside the configured workspace roots`);
}

/** Serialises worktree creation per run within this process (candidates of one run may race). */
const opening = new Map<string, Promise<Workspace>>();

/**
 * The run's workspace. Without a name: a fresh `<workspacesRoot>/<runId>` (a plain directory; the
 * repository that may enclose workspacesRoot is not the user's and is never branched). With a
 * name inside a git repository: the run works in its own worktree `<workspacesRoot>/<runId>` on
 * the branch `conclave/<runId>`, created from the repository's HEAD the first time and reused after
 * (idempotent: redeliveries and later phases land in the same worktree). A named directory that is
 * not in a repository is used as it is.
 * Caveat: two worker processes opening the same run's worktree at the same instant may both try
 * `git worktree add`; the loser re-checks and reuses the winner's worktree.
 */
export function openRunWorkspace(policy: WorkspacePolicy, runId: string, named?: string): Promise<Workspace> {
  if (!named) return Workspace.open(policy.workspacesRoot, runId);
  const key = `${runId}\n${named}`;
  const pending = opening.get(key) ?? openNamed(policy, runId, named).finally(() => opening.delete(key));
  opening.set(key, pending);
  return pending;
}

async function openNamed(policy: WorkspacePolicy, runId: string, named: string): Promise<Workspace> {
  const dir = await acceptNamedWorkspace(named, policy.workspaceRoots);
  const top = await git(dir, ['rev-parse', '--show-toplevel']);
  if (top.exitCode !== 0) return Workspace.at(dir);
  const repo = await realpath(top.stdout.trim());
  const sub = path.relative(repo, dir);
  const probe = await Workspace.open(policy.workspacesRoot, runId); // validates the run id, creates the folder
  const worktree = probe.root;
  const branch = `conclave/${runId}`;
  if (!(await isWorktreeOf(repo, worktree))) {
    await git(repo, ['worktree', 'prune']);
    const hasBranch = (await git(repo, ['rev-parse', '--verify', '--quiet', `refs/heads/${branch}`])).exitCode === 0;
    const add = await git(repo, hasBranch ? ['worktree', 'add', worktree, branch] : ['worktree', 'add', '-b', branch, worktree]);
    if (add.exitCode !== 0 && !(await isWorktreeOf(repo, worktree))) throw new Error(`git worktree add failed: ${add.stderr || add.stdout}`);
  }
  const root = path.join(worktree, sub);
  await mkdir(root, { recursive: true });
  return Workspace.at(await realpath(root), { repo, branch, worktree });
}

async function isWorktreeOf(repo: string, dir: string): Promise<boolean> {
  const list = await git(repo, ['worktree', 'list', '--porcelain']);
  if (list.exitCode !== 0) return false;
  const paths = list.stdout.split('\n').filter((l) => l.startsWith('worktree ')).map((l) => l.slice('worktree '.length));
  for (const p of paths) if ((await realpath(p).catch(() => p)) === dir) return true;
  return false;
}

export interface PhaseCommit {
  /** '' when the phase changed nothing (no commit is made) */
  sha: string;
  diff: string;
  files: { path: string; change: 'created' | 'modified' | 'deleted' }[];
}

/**
 * Commits everything the agent phase changed in the run's worktree, with a generated message
 * (phase id, model, summary), and returns the diff and the files of that commit, relative to the
 * workspace root. At-least-once: a redelivered phase that changes nothing more commits nothing.
 */
export async function commitPhase(workspace: Workspace, info: { runId: string; phaseId: string; model: string; summary: string }): Promise<PhaseCommit> {
  const wt = workspace.git;
  if (!wt) throw new Error('the workspace is not a run worktree');
  const add = await git(wt.worktree, ['add', '--all']);
  if (add.exitCode !== 0) throw new Error(`git add failed: ${add.stderr}`);
  const status = await git(wt.worktree, ['diff', '--cached', '--name-status', '--no-renames', '-z']);
  const parts = status.stdout.split('\0').filter((p) => p.length > 0);
  const files: PhaseCommit['files'] = [];
  for (let i = 0; i + 1 < parts.length; i += 2) {
    const change = parts[i].startsWith('A') ? 'created' : parts[i].startsWith('D') ? 'deleted' : 'modified';
    const abs = path.join(wt.worktree, parts[i + 1]);
    if (workspace.contains(abs)) files.push({ path: workspace.relative(abs), change });
  }
  if (parts.length === 0) return { sha: '', diff: '', files: [] };
  const diff = await git(wt.worktree, ['diff', '--cached']);
  const summary = info.summary.trim().split('\n')[0].slice(0, 72) || 'agent changes';
  const message = `conclave(${info.phaseId}): ${summary}\n\nrun: ${info.runId}\nphase: ${info.phaseId}\nmodel: ${info.model}\n\n${info.summary.trim()}\n`;
  const commit = await git(wt.worktree, ['commit', '--no-verify', '--quiet', '-m', message]);
  if (commit.exitCode !== 0) throw new Error(`git commit failed: ${commit.stderr || commit.stdout}`);
  const sha = (await git(wt.worktree, ['rev-parse', 'HEAD'])).stdout.trim();
  return { sha, diff: diff.stdout, files };
}
