import type { ToolCallRecord } from '@conclave/contracts';
import { ToolExecutor, type ToolSettings } from '../tools/tools';
import { Workspace } from '../tools/workspace';

export interface AgentSettings extends ToolSettings {
  /** agent phases work in `<workspacesRoot>/<runId>` */
  workspacesRoot: string;
  /** characters kept of each transcript message */
  transcriptCap: number;
}

export async function openToolExecutor(settings: AgentSettings, runId: string, tools: readonly string[], onRecord?: (r: ToolCallRecord) => void): Promise<ToolExecutor> {
  const workspace = await Workspace.open(settings.workspacesRoot, runId);
  return new ToolExecutor(workspace, tools, settings, onRecord);
}
