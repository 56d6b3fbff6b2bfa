import { RunTool, ToolResult, type NatsNames } from '@conclave/contracts';
import type { EventLog } from '@conclave/event-log';
import { failedOutcome, WorkerRuntime, type FailedOutcome, type WorkerLogger, type WorkerSpec } from '@conclave/worker-kit';
import { defaultSandbox, sandboxPathsOf, SandboxUnavailable, type Sandbox } from '../domain/tools/sandbox';
import { openPlainWorkspace, openWorktree, type WorkspacePolicy } from '../domain/tools/run-workspace';
import { ToolRefused, type Workspace } from '../domain/tools/workspace';
import { sideRuntimeOptions, type SideRuntimeSettings } from './side-runtime';

export type ToolOutcome = { status: 'completed'; exitCode: number; stdout: string; stderr: string } | FailedOutcome;
export type ToolRuntime = WorkerRuntime<RunTool, ToolOutcome, ToolResult>;

export interface ToolRunnerSettings extends Partial<Pick<WorkspacePolicy, 'workspaceRoots' | 'worktreesRoot'>> {
  /** programs a tool phase may run (no shell: arguments are passed as they are) */
  allow: string[];
  /** tool phases of runs with a workspace run in a worktree at the run branch's tip, others in `<workspacesRoot>/<runId>` */
  workspacesRoot: string;
  /** captured stdout + stderr, in characters */
  outputCap: number;
  /** where the program runs (the worker's, probed at boot); absent = bubblewrap if installed, else refused */
  sandbox?: Sandbox;
}

/**
 * RunTool → ToolResult on the shared `tool-runners` consumer: one allow-listed program in the
 * run's workspace. A non-zero exit code is a completed run (the phase's artifact records it and a
 * condition can route on it); a refused program, a missing binary or the timeout is a failure.
 */
export function toolWorkerSpec(settings: ToolRunnerSettings, names: NatsNames): WorkerSpec<RunTool, ToolOutcome, ToolResult> {
  return {
    role: 'llm-worker',
    durable: names.consumers.toolRunners,
    command: RunTool,
    result: ToolResult,
    timeoutMs: (command) => command.timeoutSeconds * 1000 + 5_000, // the process timeout fires first
    execute: async (command, ctx) => {
      if (!settings.allow.includes(command.command)) {
        return failedOutcome('tool_refused', `"${command.command}" is not an allowed tool (allowed: ${settings.allow.join(', ')})`, false);
      }
      let workspace: Workspace;
      try {
        // runs with a workspace: a worktree of its own at the run branch's tip (e.g. the test command after `implement`)
        const policy = { workspacesRoot: settings.workspacesRoot, workspaceRoots: settings.workspaceRoots ?? [], ...(settings.worktreesRoot ? { worktreesRoot: settings.worktreesRoot } : {}) };
        workspace = command.checkout
          ? await openWorktree(policy, command.checkout, command.runId, `${command.phaseId}.${command.attempt}.tool`)
          : await openPlainWorkspace(policy, command.runId);
      } catch (err) {
        if (err instanceof ToolRefused) return failedOutcome('tool_refused', err.message, false);
        throw err;
      }
      try {
        // in the sandbox: only the workspace writable, no network, PATH/HOME/LANG/CI only, the limits
        const { cwd, writable, readable } = sandboxPathsOf(workspace);
        const r = await (settings.sandbox ?? defaultSandbox()).run(command.command, command.args, {
          cwd,
          writable: writable.filter((p) => p !== cwd),
          readable,
          timeoutMs: command.timeoutSeconds * 1000,
          outputCap: settings.outputCap,
          env: { CI: 'true' },
          signal: ctx.signal,
        });
        if (r.timedOut) return failedOutcome('timeout', `${command.command} did not finish within ${command.timeoutSeconds} s`, true);
        const limit = r.limit && r.limit !== 'timeout' ? `\n[killed by the sandbox: ${r.limit} limit]` : '';
        const note = (r.truncated ? `\n[output truncated at ${settings.outputCap} characters]` : '') + limit;
        return { status: 'completed', exitCode: r.exitCode ?? (r.signal ? 128 : -1), stdout: r.stdout + note, stderr: r.stderr };
      } catch (err) {
        if (err instanceof SandboxUnavailable) return failedOutcome('sandbox_unavailable', err.message, false);
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return failedOutcome('tool_not_found', `"${command.command}" is not installed on the worker`, false);
        throw err; // aborts (cancel, shutdown) and the unexpected are the runtime's to handle
      }
    },
    toResult: (command, outcome, meta) => ({
      type: 'ToolResult',
      commandId: command.commandId,
      runId: command.runId,
      phaseId: command.phaseId,
      attempt: command.attempt,
      attemptToken: command.attemptToken,
      workerId: meta.workerId,
      provider: 'tool',
      model: command.command,
      durationMs: meta.durationMs,
      outcome,
    }),
  };
}

export function createToolRuntime(
  settings: ToolRunnerSettings & SideRuntimeSettings,
  log: EventLog,
  logger: WorkerLogger,
): ToolRuntime {
  return new WorkerRuntime(toolWorkerSpec(settings, log.names), {
    ...sideRuntimeOptions(settings, log, logger),
    ...(settings.sandbox ? { sandbox: settings.sandbox.status } : {}),
  });
}
