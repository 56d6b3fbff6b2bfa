import { GenerateCandidate, JudgeCandidates, RunTool, WorkspaceTask, type Recorded, type RunWorkspace } from '@conclave/contracts';
import { ack, term, type EventLog, type RunningConsumer } from '@conclave/event-log';
import type { Logger } from '@conclave/service-kit';
import type { RunEventHandler } from './redrive';
import { consumeRunEvents } from './run-events';

/**
 * The log is the outbox: every CandidateRequested / JudgeRequested / ToolRunRequested /
 * IntegrationRequested event becomes a work command; in runs with a workspace, a rollback resets
 * the run branch and a settled run (completed, failed, cancelled) has its worktrees removed.
 * The command id is the attempt token, which is also its Nats-Msg-Id, so re-publishing after a
 * crash is harmless; workers' results are idempotent by the same key.
 */
export function startDispatcher(log: EventLog, logger: Logger, handlers?: Map<string, RunEventHandler>): Promise<RunningConsumer> {
  const { consumers, subjects } = log.names;
  return consumeRunEvents(log, logger, { durable: consumers.dispatcher, concurrency: 32, what: 'dispatch', handlers }, async (event, runId) => {
    if (event.type === 'CandidateRequested') {
      const command = GenerateCandidate.parse({ type: 'GenerateCandidate', commandId: event.data.attemptToken, runId, ...event.data });
      await log.publish(subjects.generate, command, command.commandId);
    } else if (event.type === 'CandidateRedispatched') {
      // the original request carries the prompt: re-publish it under the new token
      const history = await log.read('run', runId);
      const requested = history.find((e) => e.type === 'CandidateRequested' && e.data.candidateId === event.data.candidateId);
      if (!requested || requested.type !== 'CandidateRequested') return term(`no request found for ${event.data.candidateId}`);
      const command = GenerateCandidate.parse({
        type: 'GenerateCandidate',
        ...requested.data,
        commandId: event.data.attemptToken,
        runId,
        attemptToken: event.data.attemptToken,
      });
      await log.publish(subjects.generate, command, command.commandId);
    } else if (event.type === 'ToolRunRequested') {
      const command = RunTool.parse({ type: 'RunTool', commandId: event.data.attemptToken, runId, provider: 'tool', model: event.data.command, ...event.data });
      await log.publish(subjects.tool, command, command.commandId);
    } else if (event.type === 'IntegrationRequested') {
      const { candidateId, commit, base, onto, message, at, ...rest } = event.data;
      const command = WorkspaceTask.parse({
        type: 'WorkspaceTask',
        commandId: event.data.attemptToken,
        runId,
        provider: 'git',
        model: 'integrate',
        phaseId: rest.phaseId,
        attempt: rest.attempt,
        attemptToken: rest.attemptToken,
        repo: rest.repo,
        branch: rest.branch,
        task: { kind: 'integrate', candidateId, commit, base, onto, message, at },
      });
      await log.publish(subjects.workspace, command, command.commandId);
    } else if ((event.type === 'RolledBack' && event.data.commit) || event.type === 'RunCompleted' || event.type === 'RunFailed' || event.type === 'RunCancelled') {
      // the run branch follows a rollback; a settled run's worktrees are removed (the branch stays)
      const workspace = await runWorkspace(log, runId);
      if (workspace) {
        const commandId = `${event.id}.workspace`;
        const task =
          event.type === 'RolledBack'
            ? { kind: 'reset' as const, commit: event.data.commit! }
            : event.type === 'RunCancelled'
              ? { kind: 'cleanup' as const, notBefore: new Date(Date.parse(event.occurredAt) + CANCEL_SALVAGE_GRACE_MS).toISOString() }
              : { kind: 'cleanup' as const };
        const command = WorkspaceTask.parse({
          type: 'WorkspaceTask',
          commandId,
          runId,
          provider: 'git',
          model: task.kind,
          phaseId: '',
          attempt: 1,
          attemptToken: commandId,
          repo: workspace.repo,
          branch: workspace.branch,
          task,
        });
        await log.publish(subjects.workspace, command, command.commandId);
      }
    } else if (event.type === 'JudgeRequested') {
      const command = JudgeCandidates.parse({ type: 'JudgeCandidates', commandId: event.data.attemptToken, runId, ...event.data });
      await log.publish(subjects.judge, command, command.commandId);
    }
    return ack();
  });
}

/** how long a cancelled run's worktrees are kept for its aborted agents to save their partial work */
const CANCEL_SALVAGE_GRACE_MS = 10_000;

/** The run's workspace as its RunStarted recorded it (null for runs without one). */
async function runWorkspace(log: EventLog, runId: string): Promise<RunWorkspace | null> {
  const history: Recorded[] = await log.read('run', runId);
  const started = history.find((e) => e.type === 'RunStarted');
  return started?.type === 'RunStarted' ? (started.data.workspace ?? null) : null;
}
