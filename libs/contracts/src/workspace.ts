import { z } from 'zod';

/**
 * Where a run's agents work: a git repository of the user's (under one of the gateway's
 * WORKSPACE_ROOTS) or a fresh repository of the run's own. A run works on its own branch
 * `conclave/<runId>`; each candidate of an agent phase works in its own worktree, detached at the
 * run branch's tip; the winner's changes become one commit on the run branch (ADR 009).
 */
export const GitSha = z.string().regex(/^[0-9a-f]{40}$/, 'a full 40-character commit id');
export type GitSha = z.infer<typeof GitSha>;

/** What a user names in `POST /runs` or a template's default: a repository and the ref to branch from. */
export const WorkspaceRequest = z.strictObject({
  /** the repository's path: relative to one of WORKSPACE_ROOTS, or absolute inside one of them */
  path: z.string().min(1).max(4096),
  /** a branch, tag or commit of that repository; default its HEAD */
  baseRef: z.string().min(1).max(255).optional(),
});
export type WorkspaceRequest = z.infer<typeof WorkspaceRequest>;

/** The run branch of a run: the only ref Conclave moves in a user's repository. */
export const runBranch = (runId: string) => `conclave/${runId}`;

/**
 * A fresh run repository starts from one empty commit made with these fixed fields, so its id is
 * the same wherever and whenever it is made (any worker can create it, idempotently).
 */
export const FRESH_REPOSITORY = {
  authorName: 'Conclave',
  authorEmail: 'conclave@localhost',
  date: '1970-01-01T00:00:00Z',
  message: 'Conclave run workspace',
  commit: '8756efd0fe302334457a8e8f0abcb84ec4e47421',
} as const;

/** The run's workspace as the gateway resolved it, before the orchestrator names the run. */
export const WorkspaceSpec = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('repository'),
    /** canonical absolute top level of the repository */
    repo: z.string().min(1),
    /** the WORKSPACE_ROOTS entry (canonical) it lives under */
    root: z.string().min(1),
    /** the repository relative to that root ('' when it is the root itself) */
    path: z.string(),
    baseRef: z.string().min(1),
    baseCommit: GitSha,
    /** the user's checkout had uncommitted changes when the run started: they are not included */
    dirty: z.boolean(),
  }),
  z.object({
    kind: z.literal('fresh'),
    /** canonical absolute folder under which the run's repository `<reposRoot>/<runId>` is made */
    reposRoot: z.string().min(1),
  }),
]);
export type WorkspaceSpec = z.infer<typeof WorkspaceSpec>;

/** The run's workspace as RunStarted records it. */
export const RunWorkspace = z.object({
  kind: z.enum(['repository', 'fresh']),
  /** canonical absolute top level of the repository the run branch lives in */
  repo: z.string().min(1),
  /** the root it lives under (null for a fresh repository) and its path relative to that root */
  root: z.string().nullable(),
  path: z.string(),
  /** display name: the repository folder's name */
  name: z.string(),
  baseRef: z.string(),
  baseCommit: GitSha,
  branch: z.string(),
  dirty: z.boolean(),
});
export type RunWorkspace = z.infer<typeof RunWorkspace>;

export function runWorkspaceOf(spec: WorkspaceSpec, runId: string): RunWorkspace {
  if (spec.kind === 'fresh') {
    const repo = `${spec.reposRoot.replace(/\/+$/, '')}/${runId}`;
    return { kind: 'fresh', repo, root: null, path: '', name: runId, baseRef: 'HEAD', baseCommit: FRESH_REPOSITORY.commit, branch: runBranch(runId), dirty: false };
  }
  const name = spec.repo.split('/').filter(Boolean).pop() ?? spec.repo;
  return { kind: 'repository', repo: spec.repo, root: spec.root, path: spec.path, name, baseRef: spec.baseRef, baseCommit: spec.baseCommit, branch: runBranch(runId), dirty: spec.dirty };
}

/** Where a candidate's (or a tool phase's) worktree starts: detached at `commit` of `repo`. */
export const Checkout = z.object({
  repo: z.string().min(1),
  /** the run branch (created from the run's base the first time it is needed) */
  branch: z.string().min(1),
  /** the run branch's tip when the work was requested */
  commit: GitSha,
  /** a fresh run repository: the worker creates it when missing */
  fresh: z.boolean(),
});
export type Checkout = z.infer<typeof Checkout>;

/** A file a commit or a diff changed. */
export const ChangedFile = z.object({ path: z.string(), change: z.enum(['created', 'modified', 'deleted']) });
export type ChangedFile = z.infer<typeof ChangedFile>;

/** `GET /workspaces`: the git repositories under the gateway's WORKSPACE_ROOTS. */
export const WorkspaceListing = z.object({
  name: z.string(),
  /** the root (as configured) and the path relative to it: `POST /runs` takes `workspace.path` = this path */
  root: z.string(),
  path: z.string(),
  /** the current branch (null when HEAD is detached) and its commit (null in an empty repository) */
  branch: z.string().nullable(),
  head: GitSha.nullable(),
  dirty: z.boolean(),
});
export type WorkspaceListing = z.infer<typeof WorkspaceListing>;
export const WorkspaceList = z.object({ roots: z.array(z.string()), items: z.array(WorkspaceListing) });
export type WorkspaceList = z.infer<typeof WorkspaceList>;

/** Work left behind by a candidate that was cancelled or timed out: kept, never committed. */
export const PartialWork = z.object({
  reason: z.enum(['cancelled', 'timeout']),
  /** the uncommitted diff of the candidate's worktree against its base (capped) */
  diff: z.string(),
  files: z.array(ChangedFile),
  /** set when the work was saved as a commit under refs/conclave/<runId>/partial/<candidateId> */
  commit: GitSha.optional(),
});
export type PartialWork = z.infer<typeof PartialWork>;
