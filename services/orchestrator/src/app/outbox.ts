import { z } from 'zod';
import { GenerateCandidate, JudgeCandidates, messageSequenceOf, RunTool, WorkspaceTask, type EventData, type NatsNames, type Recorded } from '@conclave/contracts';
import type { EventLog } from '@conclave/event-log';
import type { Logger } from '@conclave/service-kit';
import { isActive, type RunState } from '../domain';
import { commandHeaders } from '../adapters/run-tracing';

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
  /** a phase's deadline: the outbox may hold it while the phase is short-lived (Outbox.send) */
  deadline?: string;
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
 *
 * A work command that is its event's data plus its id and run (GenerateCandidate, JudgeCandidates,
 * RunTool) is built, not parsed again: the data was validated as the event was appended, or as it
 * was read from a writer of another catalog (issue 12 §4: nothing validated twice on the hot path).
 * The compiler holds the command's shape to the event's.
 */
export function outgoingOf(event: Recorded, runId: string, run: RunSnapshot, subjects: NatsNames['subjects']): Outgoing[] {
  const state = run.state;
  const candidateOutstanding = (phaseId: string, candidateId: string, token: string) => (s: RunState) =>
    isActive(s) && (s.phases[phaseId]?.candidates.some((c) => c.id === candidateId && c.attemptToken === token && c.status === 'requested') ?? false);
  switch (event.type) {
    case 'CandidateRequested': {
      const d = event.data;
      const command: GenerateCandidate = { type: 'GenerateCandidate', commandId: d.attemptToken, runId, ...d };
      return [{ subject: subjects.generate, payload: command, msgId: command.commandId, outstanding: candidateOutstanding(d.phaseId, d.candidateId, d.attemptToken) }];
    }
    case 'CandidateRedispatched': {
      // the original request carries the prompt: publish it again under the new token
      const d = event.data;
      const requested = run.requests.get(d.candidateId);
      if (!requested) throw new Error(`no request found for candidate ${d.candidateId}`);
      const command: GenerateCandidate = { type: 'GenerateCandidate', ...requested, commandId: d.attemptToken, runId, attemptToken: d.attemptToken };
      return [{ subject: subjects.generate, payload: command, msgId: command.commandId, outstanding: candidateOutstanding(d.phaseId, d.candidateId, d.attemptToken) }];
    }
    case 'JudgeRequested': {
      const d = event.data;
      const command: JudgeCandidates = { type: 'JudgeCandidates', commandId: d.attemptToken, runId, ...d };
      const outstanding = (s: RunState) => isActive(s) && (s.phases[d.phaseId]?.judges.some((j) => j.attemptToken === d.attemptToken && j.status === 'requested') ?? false);
      return [{ subject: subjects.judge, payload: command, msgId: command.commandId, outstanding }];
    }
    case 'ToolRunRequested': {
      const d = event.data;
      const command: RunTool = { type: 'RunTool', commandId: d.attemptToken, runId, provider: 'tool', model: d.command, ...d };
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
    case 'PhaseStarted': {
      // the deadline matters only while the phase runs at this attempt (a retry sets its own)
      const { phaseId, deadline } = event.data;
      if (!deadline) return [];
      const outstanding = (s: RunState) => isActive(s) && s.phases[phaseId]?.status === 'running' && s.phases[phaseId]?.deadline === deadline;
      return [{ ...dueTime(runId, deadline, event.id, subjects), outstanding, deadline }];
    }
    default: {
      const due = dueOf(event);
      return due ? [dueTime(runId, due, event.id, subjects)] : [];
    }
  }
}

const dueTime = (runId: string, due: string, eventId: string, subjects: NatsNames['subjects']): Outgoing => ({
  subject: subjects.timer,
  payload: TimerDue.parse({ runId, due, eventId }),
  msgId: `${eventId}:timer`,
});

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

/**
 * How long a phase deadline may wait in this process before it goes to the timers consumer. Most
 * phases of a fast pipeline end well within it, and their deadline is then never published (on a
 * 3-phase run that is 3 of its 12 command-stream writes and ~20 NATS messages).
 */
export const DEADLINE_HOLD_MS = 2_000;

/** a phase deadline this process holds (see Outbox.send) */
interface Held {
  outgoing: Outgoing;
  timer: NodeJS.Timeout;
  /** the hold is over: published, or no longer needed */
  done: (published: Promise<void> | null) => void;
}

/**
 * What the outbox cannot finish alone (ADR 025; app/outbox-lease.ts does it): a publication that
 * failed, and an append whose outcome is unknown (it may be in the log). Each resolves once what
 * the commit calls for is out, retrying meanwhile.
 */
export interface OutboxRepairs {
  /** true once out; false when this process stopped first (the commit then stays below the watermark) */
  unsent(runId: string, appended: readonly Recorded[]): Promise<boolean>;
  uncertain(runId: string, from: number): Promise<boolean>;
}

/** How an append ended, for the watermark: in the log, refused by the server, or not known. */
export type AppendOutcome = 'appended' | 'refused' | 'unknown';

/**
 * Commands without a detour (ADR 014): right after a decision's commit is appended, the
 * orchestrator publishes the commands and due times it calls for.
 *
 * The repair path (ADR 025) needs no consumer: the outbox keeps a watermark, the stream sequence
 * below which every commit this process appended has had its messages published, and the process
 * renews it as its lease (app/outbox-lease.ts). A process that dies between an append and its
 * publish stops renewing; a live one then publishes what the commits from that watermark on still
 * call for. Commits under way hold the watermark back from the moment their append starts (the
 * commit will land after the log's end as this process last knew it) until what they call for is out.
 *
 * Phase deadlines are held (ADR 020): a PhaseStarted's due time is published only if the phase is
 * still running at that attempt after `holdMs` (or right away when the deadline is nearer). The
 * commit holds the watermark back until the hold ends, so if this process dies meanwhile the sweep
 * publishes the deadline of a phase that still runs.
 */
export class Outbox {
  /** run id → its held deadlines by message id */
  private readonly held = new Map<string, Map<string, Held>>();
  /** the latest state of each run with held deadlines, as this process's decisions left it */
  private readonly latest = new Map<string, RunState>();
  /** appends under way (or of unknown outcome), each with the lowest stream sequence its commit can have */
  private readonly appending = new Set<{ floor: number }>();
  /** stream sequence of a commit this process appended → its publications not yet out */
  private readonly unsent = new Map<number, number>();
  /** the highest stream sequence this process knows the log has reached (its appends, the log's end) */
  private known = 0;
  /** counts appends begun, so a reading of the log's end taken meanwhile is not trusted */
  private epoch = 0;
  private repairs: OutboxRepairs | null = null;

  constructor(
    private readonly log: EventLog,
    private readonly logger: Logger,
    private readonly holdMs = DEADLINE_HOLD_MS,
    private readonly now: () => number = Date.now,
  ) {}

  /** Who finishes what this outbox cannot (the lease; until attached a failed publication is only logged). */
  attach(repairs: OutboxRepairs): void {
    this.repairs = repairs;
  }

  /**
   * Before an append: the commit it makes will sit above the log's end as known now, so the
   * watermark stays at or below that until the returned function is told how the append ended
   * (call it after `send`). An append whose outcome is unknown keeps it there until the repairs
   * have looked for the commit in the run's log and published what it calls for.
   */
  beginAppend(runId: string): (outcome: AppendOutcome) => void {
    const entry = { floor: this.known + 1 };
    this.appending.add(entry);
    this.epoch += 1;
    let ended = false;
    return (outcome) => {
      if (ended) return;
      ended = true;
      if (outcome !== 'unknown' || !this.repairs) return void this.appending.delete(entry);
      void this.repairs.uncertain(runId, entry.floor).then((done) => done && this.appending.delete(entry));
    };
  }

  /** After an append: publish what the commit calls for, now (not awaited by the decision). */
  send(runId: string, appended: readonly Recorded[], run: RunSnapshot): void {
    if (appended.length === 0) return;
    this.release(runId, run.state);
    const commits = [...new Set(appended.map((e) => messageSequenceOf(e.sequence)))];
    for (const seq of commits) {
      this.known = Math.max(this.known, seq);
      this.unsent.set(seq, (this.unsent.get(seq) ?? 0) + 1);
    }
    void this.publishNow(runId, appended, run)
      .then(
        () => true,
        (err: unknown) => {
          this.logger.warn({ err, runId }, 'commands not published after the append; publishing them again');
          return this.repairs ? this.repairs.unsent(runId, appended) : true;
        },
      )
      .then((out) => {
        if (!out) return; // stays below the watermark: a live process sweeps it
        for (const seq of commits) {
          const left = (this.unsent.get(seq) ?? 1) - 1;
          if (left > 0) this.unsent.set(seq, left);
          else this.unsent.delete(seq);
        }
      });
  }

  /** What the commit calls for goes out now, or is held (a phase deadline); fails as a whole, never throws. */
  private publishNow(runId: string, appended: readonly Recorded[], run: RunSnapshot): Promise<unknown> {
    try {
      const now = this.now();
      const immediate: Outgoing[] = [];
      const holds: Promise<void>[] = [];
      for (const o of appended.flatMap((e) => outgoingOf(e, runId, run, this.log.names.subjects))) {
        const hold = o.deadline ? Math.min(this.holdMs, Date.parse(o.deadline) - now - this.holdMs) : 0;
        if (hold > 0) holds.push(this.hold(runId, o, hold, run.state));
        else immediate.push(o);
      }
      return Promise.all([this.publishAll(immediate), ...holds]);
    } catch (err) {
      return Promise.reject(err); // e.g. a re-dispatch whose request is not known: the repair path deals with it
    }
  }

  /**
   * The stream sequence below which every commit this process appended has had what it calls for
   * published (its lease's watermark).
   */
  watermark(): number {
    let mark = this.known + 1;
    for (const { floor } of this.appending) mark = Math.min(mark, floor);
    for (const seq of this.unsent.keys()) mark = Math.min(mark, seq);
    return mark;
  }

  /** Commits of this process whose messages are not all out yet (a metric). */
  unpublished(): number {
    return this.unsent.size;
  }

  /** Nothing under way: no append, no publication, no held deadline. */
  idle(): boolean {
    return this.appending.size === 0 && this.unsent.size === 0;
  }

  /** A mark for `advance`: appends begun after it make a reading of the log's end stale. */
  mark(): number {
    return this.epoch;
  }

  /** The log reached `seq` (read while idle, at `mark`): the watermark may move up to it. */
  advance(seq: number, mark = this.epoch): void {
    if (mark === this.epoch && this.appending.size === 0) this.known = Math.max(this.known, seq);
  }

  /** The repair path: publish what `events` call for that is still outstanding in `run`. */
  async repair(runId: string, events: readonly Recorded[], run: RunSnapshot): Promise<number> {
    const due = events.flatMap((e) => outgoingOf(e, runId, run, this.log.names.subjects)).filter((o) => !o.outstanding || o.outstanding(run.state));
    await this.publishAll(due);
    return due.length;
  }

  /** Publish every held deadline still needed now (shutdown: nothing waits for a hold to end). */
  async flush(): Promise<void> {
    const runs = [...this.held.keys()];
    await Promise.all(runs.flatMap((runId) => [...(this.held.get(runId)?.keys() ?? [])].map((msgId) => this.end(runId, msgId, true))));
  }

  /** Holds a deadline; resolves when it is published or no longer needed. */
  private hold(runId: string, outgoing: Outgoing, ms: number, state: RunState): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => void this.end(runId, outgoing.msgId, true), ms);
      timer.unref();
      const done = (published: Promise<void> | null) => (published ? published.then(resolve, reject) : resolve());
      const forRun = this.held.get(runId) ?? new Map<string, Held>();
      forRun.set(outgoing.msgId, { outgoing, timer, done });
      this.held.set(runId, forRun);
      this.latest.set(runId, state);
    });
  }

  /** A later decision of the run: the held deadlines its phases no longer need are dropped. */
  private release(runId: string, state: RunState): void {
    const forRun = this.held.get(runId);
    if (!forRun) return;
    this.latest.set(runId, state);
    for (const [msgId, held] of forRun) if (held.outgoing.outstanding && !held.outgoing.outstanding(state)) void this.end(runId, msgId, false);
  }

  /** Ends a hold: publishes the deadline when `publish` and the phase still needs it. */
  private end(runId: string, msgId: string, publish: boolean): Promise<void> {
    const forRun = this.held.get(runId);
    const held = forRun?.get(msgId);
    if (!forRun || !held) return Promise.resolve();
    clearTimeout(held.timer);
    forRun.delete(msgId);
    const state = this.latest.get(runId);
    if (forRun.size === 0) {
      this.held.delete(runId);
      this.latest.delete(runId);
    }
    const needed = publish && (!state || !held.outgoing.outstanding || held.outgoing.outstanding(state));
    const published = needed ? this.publishAll([held.outgoing]) : null;
    held.done(published);
    return published ?? Promise.resolve();
  }

  private async publishAll(outgoing: readonly Outgoing[]): Promise<void> {
    if (outgoing.length === 0) return;
    // commands carry the contracts fingerprint: they are the output of their contract's parse
    await Promise.all(outgoing.map((o) => this.log.publish(o.subject, o.payload, o.msgId, o.subject === this.log.names.subjects.timer ? undefined : commandHeaders(o.payload))));
  }
}
