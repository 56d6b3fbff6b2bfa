import type { ToolExecutor } from '../tools/tools';

/** The `code-change` artifact of an agent's work: its summary, the files it touched, the workspace's diff. */
export async function codeChangeOf(summary: string, tools: ToolExecutor): Promise<{ summary: string; files: { path: string; change: string }[]; diff: string }> {
  const files = [...tools.files.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([path, change]) => ({ path, change }));
  return { summary: summary.trim() || 'No summary given.', files, diff: await tools.diff() };
}

/** A short, provider-neutral account of the work, for a final structured-output call. */
export function workLog(tools: ToolExecutor, finalText: string): string {
  const calls = tools.records.map((r) => `- ${r.tool} ${JSON.stringify(r.input)} → ${r.refused ? 'REFUSED ' : ''}${r.outputSummary.slice(0, 200)}`).join('\n');
  return `Tool calls made:\n${calls || '(none)'}\n\nYour final notes:\n${finalText || '(none)'}`;
}
