import { lstat, mkdir, realpath } from 'node:fs/promises';
import path from 'node:path';

/** A path the agent may not touch: the tool call is refused (and audited as such). */
export class ToolRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ToolRefused';
  }
}

/** A workspace that is a git worktree of a run's repository (detached at `base` for candidates and tools). */
export interface WorkspaceGit {
  /** the repository's top level */
  repo: string;
  /** the run branch (never checked out in a candidate's worktree) */
  branch: string;
  /** the worktree's top level */
  worktree: string;
  /** the worktree's admin folder (`<repo>/.git/worktrees/<name>`) and the repository's .git */
  gitDir?: string;
  commonDir?: string;
  /** the commit the worktree was checked out at */
  base?: string;
}

/** Run ids become directory names: the same characters as the contracts' ids, nothing else. */
const SAFE_ID = /^[A-Za-z0-9_-]{1,128}$/;

/**
 * The run's workspace directory (`<root>/<runId>`). Every path an agent names is checked here.
 * Guarantees: a path is relative (no absolute, no drive, no NUL); after lexical resolution it stays
 * inside the workspace; the canonical path (realpath) of the deepest existing ancestor stays inside
 * the canonical workspace, so symlinks pointing out are refused whether they are the target or a
 * parent. Containment compares with `path.relative`, never a string prefix (`<ws>-evil` is out).
 * Caveat: a symlink created between the check and the use (TOCTOU) is not covered; the agent has
 * no tool that creates symlinks, and `bash` runs allow-listed programs only.
 */
export class Workspace {
  private constructor(
    readonly root: string,
    /** set when the run works in its own worktree of a user-named repository */
    readonly git?: WorkspaceGit,
  ) {}

  /** A workspace at an existing canonical directory (see run-workspace.ts for the policy). */
  static at(canonicalDir: string, git?: WorkspaceGit): Workspace {
    return new Workspace(canonicalDir, git);
  }

  static async open(workspacesRoot: string, runId: string): Promise<Workspace> {
    if (!SAFE_ID.test(runId)) throw new ToolRefused(`run id "${runId}" cannot name a workspace`);
    const dir = path.resolve(workspacesRoot, runId);
    await mkdir(dir, { recursive: true });
    return new Workspace(await realpath(dir));
  }

  /** The canonical absolute path of `rel`, refused when it is (or leads) outside the workspace. */
  async resolve(rel: unknown, what = 'path'): Promise<string> {
    if (typeof rel !== 'string' || rel.length === 0) throw new ToolRefused(`${what} must be a non-empty relative path`);
    if (rel.includes('\0')) throw new ToolRefused(`${what} contains a NUL byte`);
    if (path.isAbsolute(rel) || /^[A-Za-z]:/.test(rel) || rel.startsWith('~')) throw new ToolRefused(`${what} "${rel}" is absolute: use a path relative to the workspace`);
    const lexical = path.resolve(this.root, rel);
    if (!this.contains(lexical)) throw new ToolRefused(`${what} "${rel}" leaves the workspace`);
    // Canonicalise the deepest existing ancestor (the path itself when it exists).
    let probe = lexical;
    const rest: string[] = [];
    for (;;) {
      try {
        await lstat(probe);
        break;
      } catch {
        rest.unshift(path.basename(probe));
        probe = path.dirname(probe);
      }
    }
    const canonical = path.join(await realpath(probe), ...rest);
    if (!this.contains(canonical)) throw new ToolRefused(`${what} "${rel}" resolves outside the workspace (symlink)`);
    return canonical;
  }

  contains(abs: string): boolean {
    const rel = path.relative(this.root, abs);
    return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
  }

  relative(abs: string): string {
    return path.relative(this.root, abs) || '.';
  }
}
