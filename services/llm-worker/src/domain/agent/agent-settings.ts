import type { Checkout, ToolCallRecord } from '@conclave/contracts';
import { ProviderError } from '../provider';
import { openPlainWorkspace, openWorktree, type WorkspacePolicy } from '../tools/run-workspace';
import { ToolExecutor, type ToolSettings } from '../tools/tools';
import { ToolRefused } from '../tools/workspace';

export interface AgentSettings extends ToolSettings, WorkspacePolicy {
  /** characters kept of each transcript message */
  transcriptCap: number;
}

/**
 * The agent's tools in the candidate's own worktree of the run's repository (detached at the run
 * branch's tip), or in the plain `<workspacesRoot>/<runId>` folder of a run without a workspace.
 * A refused workspace (a repository outside the roots, a bad id) is a non-retryable
 * `workspace_refused` failure: retrying cannot make it acceptable.
 */
export async function openToolExecutor(
  settings: AgentSettings,
  run: { runId: string; candidateId: string; checkout?: Checkout },
  tools: readonly string[],
  onRecord?: (r: ToolCallRecord) => void,
): Promise<ToolExecutor> {
  const opening = run.checkout ? openWorktree(settings, run.checkout, run.runId, run.candidateId) : openPlainWorkspace(settings, run.runId);
  const workspace = await opening.catch((err: unknown) => {
    throw err instanceof ToolRefused ? new ProviderError('workspace_refused', err.message, false) : err;
  });
  return new ToolExecutor(workspace, tools, settings, onRecord);
}
