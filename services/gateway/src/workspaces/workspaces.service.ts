import { mkdir, readdir, realpath, stat } from 'node:fs/promises';
import { basename, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { Inject, Injectable } from '@nestjs/common';
import { ConclaveError, type RunView, type WorkspaceList, type WorkspaceListing, type WorkspaceRequest, type WorkspaceSpec } from '@conclave/contracts';
import type { GatewayConfig } from '../config';
import { CONFIG } from '../tokens';
import { currentBranch, git, GitOutputTooLargeError, isDirty, resolveCommit, topLevel, topLevelOrWhy } from './git';

/** A configured root: as written in WORKSPACE_ROOTS, and its canonical absolute path (null when it does not exist). */
interface Root {
  configured: string;
  canonical: string | null;
}

/** Why a workspace request is refused (`details.problem` of the 422). */
export type WorkspaceProblem = 'outside_roots' | 'not_found' | 'not_a_repository' | 'empty_repository' | 'unknown_base_ref' | 'bad_base_ref';

/** Bounds of the listing walk: depth below a root, repositories listed, folders read. */
export const LISTING_DEPTH = 4;
export const LISTING_MAX_REPOSITORIES = 200;
const LISTING_MAX_FOLDERS = 5_000;
const LISTING_CONCURRENCY = 8;
const PATCH_MAX_BYTES = 64 * 1024 * 1024;

/** `child` is `parent` or inside it (path arithmetic on canonical paths, not a string prefix). */
export function isInside(parent: string, child: string): boolean {
  const rel = relative(parent, child);
  return rel === '' || (!isAbsolute(rel) && rel !== '..' && !rel.startsWith(`..${sep}`));
}

/**
 * Users' repositories under WORKSPACE_ROOTS: the listing, the resolution and checks of a run's
 * workspace before StartRun (a refusal writes nothing), and a run branch as a patch series.
 */
@Injectable()
export class WorkspacesService {
  private reposRoot: Promise<string> | null = null;

  constructor(@Inject(CONFIG) private readonly config: GatewayConfig) {}

  /** The roots as configured (the 422s and the listing name them so). */
  get configuredRoots(): string[] {
    return this.config.WORKSPACE_ROOTS;
  }

  private async roots(): Promise<Root[]> {
    return Promise.all(
      this.config.WORKSPACE_ROOTS.map(async (configured) => {
        try {
          const canonical = await realpath(resolve(configured));
          return { configured, canonical: (await stat(canonical)).isDirectory() ? canonical : null };
        } catch {
          return { configured, canonical: null };
        }
      }),
    );
  }

  /** The canonical absolute `<WORKSPACES_ROOT>/repos`, created on first use. */
  freshReposRoot(): Promise<string> {
    this.reposRoot ??= (async () => {
      const dir = resolve(this.config.WORKSPACES_ROOT, 'repos');
      await mkdir(dir, { recursive: true });
      return realpath(dir);
    })().catch((err: unknown) => {
      this.reposRoot = null;
      throw err;
    });
    return this.reposRoot;
  }

  /* ------------------------------------------------------------------ GET /workspaces */

  /**
   * The git repositories under the roots, LISTING_DEPTH folders deep at most: node_modules,
   * dot-folders and symbolic links are not entered, nor are a repository's insides (nested
   * repositories and submodules are not listed). Bounded: LISTING_MAX_REPOSITORIES in all.
   */
  async list(): Promise<WorkspaceList> {
    const found: { root: Root & { canonical: string }; dir: string }[] = [];
    let folders = 0;
    for (const root of await this.roots()) {
      if (!root.canonical) continue;
      const canonicalRoot = { ...root, canonical: root.canonical };
      let level = [root.canonical];
      for (let depth = 0; depth <= LISTING_DEPTH && level.length > 0 && found.length < LISTING_MAX_REPOSITORIES; depth++) {
        const next: string[] = [];
        for (const dir of level) {
          if (found.length >= LISTING_MAX_REPOSITORIES || folders >= LISTING_MAX_FOLDERS) break;
          folders++;
          let entries;
          try {
            entries = await readdir(dir, { withFileTypes: true });
          } catch {
            continue; // unreadable: not listed
          }
          if (entries.some((e) => e.name === '.git' && (e.isDirectory() || e.isFile()))) {
            found.push({ root: canonicalRoot, dir });
            continue;
          }
          for (const e of entries) {
            if (e.isDirectory() && !e.name.startsWith('.') && e.name !== 'node_modules') next.push(join(dir, e.name));
          }
        }
        level = next.sort();
      }
    }
    const items: WorkspaceListing[] = [];
    for (let i = 0; i < found.length; i += LISTING_CONCURRENCY) {
      const batch = await Promise.all(found.slice(i, i + LISTING_CONCURRENCY).map(({ root, dir }) => this.describe(root, dir)));
      for (const item of batch) if (item) items.push(item);
    }
    return { roots: this.configuredRoots, items };
  }

  private async describe(root: Root & { canonical: string }, dir: string): Promise<WorkspaceListing | null> {
    try {
      // a `.git` that is not a repository (or a broken worktree link) is not listed
      const top = await topLevel(dir);
      if (!top || (await realpath(top)) !== dir) return null;
      const [branch, head, dirty] = await Promise.all([currentBranch(dir), resolveCommit(dir, 'HEAD'), isDirty(dir)]);
      return { name: basename(dir), root: root.configured, path: relative(root.canonical, dir), branch, head, dirty };
    } catch {
      return null;
    }
  }

  /* ------------------------------------------------------------------ POST /runs */

  /**
   * The run's workspace as StartRun carries it: the user's repository checked (inside a root,
   * its top level, a commit to branch from), or a fresh repository of the run's own when the
   * request names none. A refusal is a 422 `validation` naming the problem and the roots.
   */
  async resolve(request: WorkspaceRequest | undefined): Promise<WorkspaceSpec> {
    if (!request) return { kind: 'fresh', reposRoot: await this.freshReposRoot() };
    const baseRef = request.baseRef ?? 'HEAD';
    if (baseRef.startsWith('-')) throw this.refuse('bad_base_ref', `workspace.baseRef "${baseRef}" must not start with "-"`);
    // eslint-disable-next-line no-control-regex
    if (/[\u0000-\u001f\u007f]/.test(baseRef)) throw this.refuse('bad_base_ref', 'workspace.baseRef must not contain control characters');
    const roots = (await this.roots()).filter((r): r is Root & { canonical: string } => r.canonical !== null);
    if (roots.length === 0) {
      throw this.refuse('outside_roots', 'no workspace roots are configured (WORKSPACE_ROOTS): a run can only work on a fresh repository of its own; omit `workspace`');
    }
    const candidates = isAbsolute(request.path) ? [request.path] : roots.map((r) => resolve(r.canonical, request.path));
    let repo: string | null = null;
    let root: (Root & { canonical: string }) | undefined;
    for (const candidate of candidates) {
      let real: string;
      try {
        real = await realpath(candidate);
      } catch {
        continue;
      }
      root = roots.find((r) => isInside(r.canonical, real));
      if (root) {
        repo = real;
        break;
      }
      // the first existing candidate outside every root decides the refusal (`..`, a symbolic link out)
      throw this.refuse('outside_roots', `workspace.path "${request.path}" is outside every workspace root`);
    }
    if (!repo || !root) throw this.refuse('not_found', `workspace.path "${request.path}" does not exist under any workspace root`);
    if (!(await stat(repo)).isDirectory()) throw this.refuse('not_a_repository', `workspace.path "${request.path}" is not a folder`);
    const { top, why } = await topLevelOrWhy(repo);
    if (!top && /dubious ownership/.test(why)) {
      throw this.refuse('not_a_repository', `git refuses the repository "${request.path}": it belongs to another user than the gateway's (git's safe.directory)`);
    }
    if (!top || (await realpath(top).catch(() => null)) !== repo) {
      throw this.refuse('not_a_repository', `workspace.path "${request.path}" is not the top level of a git repository`);
    }
    const baseCommit = await resolveCommit(repo, baseRef);
    if (!baseCommit) {
      if (!(await resolveCommit(repo, 'HEAD'))) throw this.refuse('empty_repository', `the repository "${request.path}" has no commit to branch from`);
      throw this.refuse('unknown_base_ref', `workspace.baseRef "${baseRef}" does not name a commit of "${request.path}"`);
    }
    return { kind: 'repository', repo, root: root.canonical, path: relative(root.canonical, repo), baseRef, baseCommit, dirty: await isDirty(repo) };
  }

  refuse(problem: WorkspaceProblem | 'sandbox_unavailable', message: string): ConclaveError {
    return new ConclaveError('validation', message, { problem, roots: this.configuredRoots });
  }

  /* ------------------------------------------------------------------ GET /runs/:id/patch */

  /**
   * The run branch against its base as a `git format-patch` series: `baseCommit..head`, head being
   * the log's view of the branch tip, else the branch ref when that commit is not in the
   * repository. Empty when nothing was committed yet.
   */
  async patch(run: RunView): Promise<string> {
    const ws = run.workspace;
    if (!ws) throw new ConclaveError('illegal_state', `run "${run.id}" has no workspace`);
    if (ws.head === ws.baseCommit) return '';
    try {
      if (!(await stat(ws.repo)).isDirectory()) throw new Error('not a folder');
    } catch {
      throw new ConclaveError('illegal_state', `the repository of run "${run.id}" is no longer there`);
    }
    const head = (await resolveCommit(ws.repo, ws.head)) ?? (await resolveCommit(ws.repo, `refs/heads/${ws.branch}`));
    if (!head) throw new ConclaveError('illegal_state', `the run branch ${ws.branch} is not in the repository`);
    if (head === ws.baseCommit) return '';
    try {
      const r = await git(ws.repo, ['format-patch', '--stdout', '--no-ext-diff', `${ws.baseCommit}..${head}`], { timeoutMs: 60_000, maxBytes: PATCH_MAX_BYTES });
      if (r.code !== 0) throw new ConclaveError('illegal_state', `git format-patch failed: ${r.stderr.trim().slice(0, 500)}`);
      return r.stdout;
    } catch (err) {
      if (err instanceof GitOutputTooLargeError) throw new ConclaveError('payload_too_large', `the patch of run "${run.id}" is larger than ${PATCH_MAX_BYTES} bytes`);
      throw err;
    }
  }
}
