import { commitPhase } from '../tools/run-workspace';
import type { ToolExecutor } from '../tools/tools';

/**
 * The `code-change` artifact of an agent's work: its summary, the files it touched, the diff.
 * In a run worktree the phase's changes are committed first and the diff and the created /
 * modified / deleted files come from that commit (the files only read come from the audit);
 * elsewhere they come from the tools' own tracking and the workspace's `git diff`, if any.
 */
export async function codeChangeOf(
  summary: string,
  tools: ToolExecutor,
  phase?: { runId: string; phaseId: string; model: string },
): Promise<{ summary: string; files: { path: string; change: string }[]; diff: string }> {
  const text = summary.trim() || 'No summary given.';
  if (phase && tools.workspace.git) {
    const commit = await commitPhase(tools.workspace, { ...phase, summary: text });
    const changed = new Map<string, string>(commit.files.map((f) => [f.path, f.change]));
    for (const [path, change] of tools.files) if (change === 'read' && !changed.has(path)) changed.set(path, 'read');
    const files = [...changed.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([path, change]) => ({ path, change }));
    return { summary: text, files, diff: commit.diff };
  }
  const files = [...tools.files.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([path, change]) => ({ path, change }));
  return { summary: text, files, diff: await tools.diff() };
}

/** A short, provider-neutral account of the work, for a final structured-output call. */
export function workLog(tools: ToolExecutor, finalText: string): string {
  const calls = tools.records.map((r) => `- ${r.tool} ${JSON.stringify(r.input)} → ${r.refused ? 'REFUSED ' : ''}${r.outputSummary.slice(0, 200)}`).join('\n');
  return `Tool calls made:\n${calls || '(none)'}\n\nYour final notes:\n${finalText || '(none)'}`;
}
