import { execFile } from 'node:child_process';

/**
 * The gateway's git: read-only questions about users' repositories (and `format-patch` of a run
 * branch). Never a shell: `execFile` with an argument vector. A fixed environment — nothing the
 * gateway's own environment says about git (GIT_DIR, GIT_WORK_TREE, GIT_CONFIG_*, pagers) leaks
 * in; no system config; optional locks off, so `git status` never rewrites the user's index;
 * `core.fsmonitor` and hooks off, so a repository's config cannot make these reads run programs.
 */
export interface GitResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface GitOptions {
  timeoutMs?: number;
  /** bytes of stdout kept; more is an error (GitOutputTooLargeError) */
  maxBytes?: number;
}

export class GitOutputTooLargeError extends Error {
  constructor(readonly maxBytes: number) {
    super(`git output exceeds ${maxBytes} bytes`);
    this.name = 'GitOutputTooLargeError';
  }
}

const GIT_FLAGS = ['-c', 'core.fsmonitor=false', '-c', 'core.hooksPath=/dev/null', '-c', 'color.ui=false', '--no-pager'];

export function gitEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_TERMINAL_PROMPT: '0',
    GIT_OPTIONAL_LOCKS: '0',
    GIT_PAGER: 'cat',
    PAGER: 'cat',
    LC_ALL: 'C',
  };
  // the user's global config stays in play (safe.directory, identity); nothing else of ours does
  if (process.env.HOME) env.HOME = process.env.HOME;
  return env;
}

/** Run git in `cwd`; resolves with the exit code (a non-zero code is an answer, not an error). Spawn failures, timeouts and oversize output reject. */
export function git(cwd: string, args: readonly string[], options: GitOptions = {}): Promise<GitResult> {
  const maxBytes = options.maxBytes ?? 4 * 1024 * 1024;
  return new Promise((resolve, reject) => {
    execFile(
      'git',
      [...GIT_FLAGS, ...args],
      { cwd, env: gitEnv(), timeout: options.timeoutMs ?? 10_000, killSignal: 'SIGKILL', maxBuffer: maxBytes, encoding: 'utf8', windowsHide: true },
      (err, stdout, stderr) => {
        if (!err) return resolve({ code: 0, stdout, stderr });
        const e = err as NodeJS.ErrnoException & { code?: unknown; killed?: boolean; signal?: string | null };
        if (e.code === 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER') return reject(new GitOutputTooLargeError(maxBytes));
        if (typeof e.code === 'number' && !e.killed) return resolve({ code: e.code, stdout, stderr });
        reject(new Error(`git ${args[0] ?? ''} failed in ${cwd}: ${e.killed ? `timed out after ${options.timeoutMs ?? 10_000} ms` : e.message}`));
      },
    );
  });
}

const SHA = /^[0-9a-f]{40}$/;

/** The commit `ref` names (`ref^{commit}`), or null. `ref` must not start with '-' (checked by the caller too). */
export async function resolveCommit(repo: string, ref: string): Promise<string | null> {
  if (ref.startsWith('-')) return null;
  const r = await git(repo, ['rev-parse', '--verify', '--quiet', '--end-of-options', `${ref}^{commit}`]);
  const sha = r.stdout.trim();
  return r.code === 0 && SHA.test(sha) ? sha : null;
}

/** The top level of the work tree `dir` is in (as git prints it), or null when it is in none. */
export async function topLevel(dir: string): Promise<string | null> {
  return (await topLevelOrWhy(dir)).top;
}

/** Same, with git's reason when there is none (e.g. "dubious ownership": the repository belongs to another user). */
export async function topLevelOrWhy(dir: string): Promise<{ top: string | null; why: string }> {
  const r = await git(dir, ['rev-parse', '--show-toplevel']);
  const top = r.stdout.trim();
  return r.code === 0 && top !== '' ? { top, why: '' } : { top: null, why: r.stderr.trim() };
}

/** The current branch's short name, null when HEAD is detached. */
export async function currentBranch(repo: string): Promise<string | null> {
  const r = await git(repo, ['symbolic-ref', '--quiet', '--short', 'HEAD']);
  const name = r.stdout.trim();
  return r.code === 0 && name !== '' ? name : null;
}

/** Uncommitted changes, untracked files included (`git status --porcelain` says anything). */
export async function isDirty(repo: string): Promise<boolean> {
  const r = await git(repo, ['status', '--porcelain'], { timeoutMs: 30_000 });
  if (r.code !== 0) throw new Error(`git status failed in ${repo}: ${r.stderr.trim()}`);
  return r.stdout.length > 0;
}
