import { z } from 'zod';
import { GenerateCandidate, JudgeCandidates, messageSequenceOf, RunTool, WorkspaceTask, type EventData, type NatsNames, type Recorded } from '@conclave/contracts';
import { contractsHeaders, type EventLog } from '@conclave/event-log';
import type { Logger } from '@conclave/service-kit';
import { isActive, type RunState } from '../domain';

/** What the outbox needs of a run: its state and the requests of its candidates (a re-dispatch repeats one). */
export interface RunSnapshot {
  state: RunState;
  /** CandidateRequested data by candidate id (the prompt a re-dispatch sends again) */
  requests: ReadonlyMap<string, EventData<'CandidateRequested'>>;
}

/** A message the log's events call for: a work command, a workspace task or a due time. */
export interface Outgoing {
  subject: string;
  payload: unknown;
  msgId: string;
  /** a command for work that may already be done (the repair path publishes it only while outstanding) */
  outstanding?: (run: RunState) => boolean;
}

/** A due time on `commands.timer`: the `timers` consumer holds it until `due`, then ticks the run. */
export const TimerDue = z.object({ runId: z.string().min(1), due: z.string().datetime({ offset: true }), eventId: z.string().min(1) });
export type TimerDue = z.infer<typeof TimerDue>;

/** how long a cancelled run's worktrees are kept for its aborted agents to save their partial work */
const CANCEL_SALVAGE_GRACE_MS = 10_000;

/**
 * The messages one event calls for (ADR 014). The command id is the attempt token, which is also
 * its Nats-Msg-Id, so publishing it twice (the direct path and the repair path) is harmless;
 * workers' results are idempotent by the same key.
 */
export function outgoingOf(event: Recorded, runId: string, run: RunSnapshot, subjects: NatsNames['subjects']): Outgoing[] {
  const state = run.state;
  const candidateOutstanding = (phaseId: string, candidateId: string, token: string) => (s: RunState) =>
    isActive(s) && (s.phases[phaseId]?.candidates.some((c) => c.id === candidateId && c.attemptToken === token && c.status === 'requested') ?? false);
  switch (event.type) {
    case 'CandidateRequested': {
      const d = event.data;
      const command = GenerateCandidate.parse({ type: 'GenerateCandidate', commandId: d.attemptToken, runId, ...d });
      return [{ subject: subjects.generate, payload: command, msgId: command.commandId, outstanding: candidateOutstanding(d.phaseId, d.candidateId, d.attemptToken) }];
    }
    case 'CandidateRedispatched': {
      // the original request carries the prompt: publish it again under the new token
      const d = event.data;
      const requested = run.requests.get(d.candidateId);
      if (!requested) throw new Error(`no request found for candidate ${d.candidateId}`);
      const command = GenerateCandidate.parse({ type: 'GenerateCandidate', ...requested, commandId: d.attemptToken, runId, attemptToken: d.attemptToken });
      return [{ subject: subjects.generate, payload: command, msgId: command.commandId, outstanding: candidateOutstanding(d.phaseId, d.candidateId, d.attemptToken) }];
    }
    case 'JudgeRequested': {
      const d = event.data;
      const command = JudgeCandidates.parse({ type: 'JudgeCandidates', commandId: d.attemptToken, runId, ...d });
      const outstanding = (s: RunState) => isActive(s) && (s.phases[d.phaseId]?.judges.some((j) => j.attemptToken === d.attemptToken && j.status === 'requested') ?? false);
      return [{ subject: subjects.judge, payload: command, msgId: command.commandId, outstanding }];
    }
    case 'ToolRunRequested': {
      const d = event.data;
      const command = RunTool.parse({ type: 'RunTool', commandId: d.attemptToken, runId, provider: 'tool', model: d.command, ...d });
      const outstanding = (s: RunState) => isActive(s) && s.phases[d.phaseId]?.tool?.attemptToken === d.attemptToken && s.phases[d.phaseId]?.tool?.status === 'requested';
      return [{ subject: subjects.tool, payload: command, msgId: command.commandId, outstanding }];
    }
    case 'IntegrationRequested': {
      const { candidateId, commit, base, onto, message, at, ...rest } = event.data;
      const command = WorkspaceTask.parse({
        type: 'WorkspaceTask',
        commandId: rest.attemptToken,
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
      const outstanding = (s: RunState) => isActive(s) && s.phases[rest.phaseId]?.integration?.attemptToken === rest.attemptToken && s.phases[rest.phaseId]?.integration?.status === 'requested';
      return [{ subject: subjects.workspace, payload: command, msgId: command.commandId, outstanding }];
    }
    case 'RolledBack':
    case 'RunCompleted':
    case 'RunFailed':
    case 'RunCancelled': {
      // the run branch follows a rollback; a settled run's worktrees are removed (the branch stays)
      if (event.type === 'RolledBack' && !event.data.commit) return [];
      if (!isActive(state) || !state.workspace) return [];
      // only agent and tool phases check the repository out: a run without them has nothing to clean
      if (!state.template.phases.some((p) => p.kind === 'agent' || p.kind === 'tool')) return [];
      const workspace = state.workspace;
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
      return [{ subject: subjects.workspace, payload: command, msgId: command.commandId }];
    }
    default: {
      const due = dueOf(event);
      return due ? [{ subject: subjects.timer, payload: TimerDue.parse({ runId, due, eventId: event.id }), msgId: `${event.id}:timer` }] : [];
    }
  }
}

/** The due time an event sets: a phase's deadline, a phase's or a candidate's retry. */
export function dueOf(event: Recorded): string | undefined {
  switch (event.type) {
    case 'PhaseStarted':
      return event.data.deadline;
    case 'PhaseRetryScheduled':
      return event.data.notBefore;
    case 'CandidateFailed':
      return event.data.retry?.notBefore; // a candidate's own retry (issue 11 §6)
    default:
      return undefined;
  }
}

/** the commits whose messages this process sent or is sending (bounded) */
const REMEMBERED_COMMITS = 20_000;

/**
 * Commands without a detour (ADR 014): right after a decision's commit is appended, the
 * orchestrator publishes the commands and due times it calls for. The dispatcher consumer stays as
 * the repair path: for a commit this process sent it does nothing; for any other (this process
 * crashed between its append and its publish, or another replica appended) it publishes what is
 * still outstanding.
 */
export class Outbox {
  /** stream sequence of a commit → its publication (true once everything it calls for is out) */
  private readonly sent = new Map<number, Promise<boolean>>();

  constructor(
    private readonly log: EventLog,
    private readonly logger: Logger,
  ) {}

  /** After an append: publish what the commit calls for, now (not awaited by the decision). */
  send(runId: string, appended: readonly Recorded[], run: RunSnapshot): void {
    if (appended.length === 0) return;
    const commits = new Set(appended.map((e) => messageSequenceOf(e.sequence)));
    const publication = this.publishAll(appended.flatMap((e) => outgoingOf(e, runId, run, this.log.names.subjects)))
      .then(() => true)
      .catch((err: unknown) => {
        this.logger.warn({ err, runId }, 'commands not published after the append; the dispatcher will repair');
        return false;
      });
    for (const seq of commits) this.remember(seq, publication);
  }

  /** Whether this process published (or is publishing) everything the commit at `seq` calls for. */
  async sentHere(seq: number): Promise<boolean> {
    const publication = this.sent.get(seq);
    return publication ? publication : false;
  }

  /** The repair path: publish what `events` call for that is still outstanding in `run`. */
  async repair(runId: string, events: readonly Recorded[], run: RunSnapshot): Promise<number> {
    const due = events.flatMap((e) => outgoingOf(e, runId, run, this.log.names.subjects)).filter((o) => !o.outstanding || o.outstanding(run.state));
    await this.publishAll(due);
    return due.length;
  }

  private async publishAll(outgoing: readonly Outgoing[]): Promise<void> {
    // commands carry the contracts fingerprint: they are the output of their contract's parse
    await Promise.all(outgoing.map((o) => this.log.publish(o.subject, o.payload, o.msgId, o.subject === this.log.names.subjects.timer ? undefined : contractsHeaders())));
  }

  private remember(seq: number, publication: Promise<boolean>): void {
    this.sent.set(seq, publication);
    while (this.sent.size > REMEMBERED_COMMITS) this.sent.delete(this.sent.keys().next().value!);
  }
}
