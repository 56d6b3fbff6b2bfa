import type { PartialWork } from '@conclave/contracts';
import { commitCandidate } from '../tools/run-workspace';
import type { ToolExecutor } from '../tools/tools';

export interface CandidateInfo {
  runId: string;
  phaseId: string;
  candidateId: string;
  provider?: string;
  model: string;
}

/**
 * The `code-change` artifact of an agent's work: its summary, the files it touched, the diff.
 * In a candidate worktree (runs with a workspace) everything the agent changed becomes one
 * candidate commit on top of the worktree's base, kept under refs/conclave/<runId>/candidates/;
 * the diff and the created / modified / deleted files come from it (the files only read come
 * from the audit), and `commit` + `base` tell the orchestrator what to integrate. Elsewhere they
 * come from the tools' own tracking and the workspace's `git diff`, if any.
 */
export async function codeChangeOf(
  summary: string,
  tools: ToolExecutor,
  candidate?: CandidateInfo,
): Promise<{ summary: string; files: { path: string; change: string }[]; diff: string; commit?: string; base?: string }> {
  const text = summary.trim() || 'No summary given.';
  if (candidate && tools.workspace.git?.base) {
    const commit = await commitCandidate(tools.workspace, { ...candidate, summary: text });
    const changed = new Map<string, string>(commit.files.map((f) => [f.path, f.change]));
    for (const [path, change] of tools.files) if (change === 'read' && !changed.has(path)) changed.set(path, 'read');
    const files = [...changed.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([path, change]) => ({ path, change }));
    return { summary: text, files, diff: commit.diff, ...(commit.sha ? { commit: commit.sha } : {}), base: commit.base };
  }
  const files = [...tools.files.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([path, change]) => ({ path, change }));
  return { summary: text, files, diff: await tools.diff() };
}

const PARTIAL_DIFF_CAP = 200_000;

/**
 * What a cancelled or timed-out agent had done: its uncommitted changes, saved as a commit under
 * refs/conclave/<runId>/partial/<candidateId> (never on the run branch) with the diff against the
 * worktree's base. Without a worktree only the files the tools tracked are known.
 */
export async function partialWorkOf(tools: ToolExecutor, candidate: CandidateInfo, reason: PartialWork['reason']): Promise<PartialWork> {
  if (tools.workspace.git?.base) {
    const saved = await commitCandidate(tools.workspace, { ...candidate, summary: `partial work (${reason})`, kind: 'partial' });
    const diff = saved.diff.length > PARTIAL_DIFF_CAP ? `${saved.diff.slice(0, PARTIAL_DIFF_CAP)}\n… (diff capped at ${PARTIAL_DIFF_CAP} characters)` : saved.diff;
    return { reason, diff, files: saved.files, ...(saved.sha ? { commit: saved.sha } : {}) };
  }
  const files = [...tools.files.entries()]
    .filter(([, change]) => change !== 'read')
    .map(([path, change]) => ({ path, change: change as 'created' | 'modified' | 'deleted' }));
  return { reason, diff: (await tools.diff()).slice(0, PARTIAL_DIFF_CAP), files };
}

/** A short, provider-neutral account of the work, for a final structured-output call. */
export function workLog(tools: ToolExecutor, finalText: string): string {
  const calls = tools.records.map((r) => `- ${r.tool} ${JSON.stringify(r.input)} → ${r.refused ? 'REFUSED ' : ''}${r.outputSummary.slice(0, 200)}`).join('\n');
  return `Tool calls made:\n${calls || '(none)'}\n\nYour final notes:\n${finalText || '(none)'}`;
}
