import type { ToolCallRecord } from '@conclave/contracts';
import { ProviderError } from '../provider';
import { openRunWorkspace, type WorkspacePolicy } from '../tools/run-workspace';
import { ToolExecutor, type ToolSettings } from '../tools/tools';
import { ToolRefused } from '../tools/workspace';

export interface AgentSettings extends ToolSettings, WorkspacePolicy {
  /** characters kept of each transcript message */
  transcriptCap: number;
}

/**
 * The agent's tools in the run's workspace (fresh, or the run's worktree of a named repository).
 * A refused workspace (a name outside WORKSPACE_ROOTS, a bad run id) is a non-retryable
 * `workspace_refused` failure: retrying cannot make it acceptable.
 */
export async function openToolExecutor(
  settings: AgentSettings,
  run: { runId: string; workspace?: string },
  tools: readonly string[],
  onRecord?: (r: ToolCallRecord) => void,
): Promise<ToolExecutor> {
  const workspace = await openRunWorkspace(settings, run.runId, run.workspace).catch((err: unknown) => {
    throw err instanceof ToolRefused ? new ProviderError('workspace_refused', err.message, false) : err;
  });
  return new ToolExecutor(workspace, tools, settings, onRecord);
}
