import { existsSync } from 'node:fs';
import { WorkspaceResult, WorkspaceTask, type NatsNames } from '@conclave/contracts';
import type { EventLog } from '@conclave/event-log';
import { failedOutcome, WorkerRuntime, type FailedOutcome, type WorkerLogger, type WorkerSpec } from '@conclave/worker-kit';
import { integrate, openRepository, removeWorktrees, resetBranch, type WorkspacePolicy } from '../domain/tools/run-workspace';
import { ToolRefused } from '../domain/tools/workspace';
import { sideRuntimeOptions, type SideRuntimeSettings } from './side-runtime';

type Outcome = Exclude<WorkspaceResult['outcome'], { status: 'failed' }> | FailedOutcome;
export type WorkspaceRuntime = WorkerRuntime<WorkspaceTask, Outcome, WorkspaceResult>;

/**
 * WorkspaceTask → WorkspaceResult on the shared `workspace-tasks` consumer: the run branch's git
 * work (ADR 009). Every task is idempotent, so at-least-once delivery is safe: an integration
 * makes the same commit again (dates come from the task) and sets the branch to it; a reset sets
 * the branch again; a clean-up of removed worktrees removes nothing.
 */
export function workspaceWorkerSpec(policy: WorkspacePolicy, names: NatsNames): WorkerSpec<WorkspaceTask, Outcome, WorkspaceResult> {
  return {
    role: 'llm-worker',
    durable: names.consumers.workspaceTasks,
    command: WorkspaceTask,
    result: WorkspaceResult,
    timeoutMs: () => 120_000,
    execute: async (command) => {
      // a run that never made a worktree (no agent or tool phase) may have no fresh repository
      if (command.task.kind === 'cleanup' && !existsSync(command.repo)) return { status: 'done' };
      let repo: string;
      try {
        // a fresh repository exists by now: its candidates were made in it
        repo = await openRepository(policy, { repo: command.repo, fresh: false });
      } catch (err) {
        if (err instanceof ToolRefused) return failedOutcome('workspace_refused', err.message, false);
        throw err;
      }
      const task = command.task;
      switch (task.kind) {
        case 'integrate': {
          const outcome = await integrate(repo, { branch: command.branch, ...task });
          return outcome.status === 'integrated'
            ? { status: 'integrated', candidateId: task.candidateId, commit: outcome.commit, parent: outcome.parent, files: outcome.files }
            : { status: 'conflict', candidateId: task.candidateId, conflicts: outcome.conflicts, message: outcome.message };
        }
        case 'reset':
          await resetBranch(repo, command.branch, task.commit);
          return { status: 'done' };
        case 'cleanup': {
          const wait = task.notBefore ? Date.parse(task.notBefore) - Date.now() : 0;
          if (wait > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(wait, 30_000)));
          await removeWorktrees(policy, repo, command.runId);
          return { status: 'done' };
        }
      }
    },
    toResult: (command, outcome, meta) => ({
      type: 'WorkspaceResult',
      commandId: command.commandId,
      runId: command.runId,
      phaseId: command.phaseId,
      attempt: command.attempt,
      attemptToken: command.attemptToken,
      workerId: meta.workerId,
      provider: 'git',
      model: command.model,
      durationMs: meta.durationMs,
      kind: command.task.kind,
      outcome,
    }),
  };
}

export function createWorkspaceRuntime(
  settings: WorkspacePolicy & SideRuntimeSettings,
  log: EventLog,
  logger: WorkerLogger,
): WorkspaceRuntime {
  return new WorkerRuntime(workspaceWorkerSpec(settings, log.names), sideRuntimeOptions(settings, log, logger));
}
