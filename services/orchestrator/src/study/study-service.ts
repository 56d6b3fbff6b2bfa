import { JudgeCandidates, splitStreamId, studyWorkId, type EventData, type Recorded, type StudyEvent } from '@conclave/contracts';
import { ConcurrencyError, retryDelayMs, type AppendMeta, type EventLog } from '@conclave/event-log';
import type { Logger } from '@conclave/service-kit';
import { KeyedSerialiser } from '../app/serialiser';
import { decideStudy, foldStudy, type StudyInput, type StudyItemState, type StudyState } from './decide';

const MAX_CONFLICTS = 8;
/** running studies whose folded state this process keeps between decisions (the oldest goes first) */
const MAX_CACHED_STUDIES = 1_000;
/** backoff of a study's republish after `failures` failed republishes: the consumers' (1 s, 2 s, 4 s … at most 30 s, ±20 %) */
const republishDelayMs = (failures: number) => retryDelayMs(failures + 2);
/**
 * run id → its `select` judge requests by phase attempt (`requestKey`), the last of each (after
 * redispatches): its log read and scanned once in one pass (a decision's publish, the boot repair)
 */
type RunLogs = Map<string, Promise<Map<string, EventData<'JudgeRequested'>>>>;
const requestKey = (phaseId: string, attempt: number) => `${phaseId}\u0000${attempt}`;

export interface StudyOutcome {
  appended: Recorded[];
  /** the position of the study's last event after the decision */
  sequence: number;
}

/**
 * The shell of the study decider (ADR 023): the study's kept fold (else its subject read and
 * folded), decide, append as one commit with the fold's last position as the expected sequence (a
 * conflict reads what the fold lacks and decides again, as RunRepository does), then
 * publish the judge work the commit asks for on the normal judge queue. Decisions of one study are
 * serialised in this process; across replicas the expected sequence decides.
 *
 * At-least-once: the commands' Nats-Msg-Id is their attempt token, so a repeated publish inside the
 * server's window is dropped; a result arriving twice finds its item settled and decides nothing.
 * A publish that fails after its append (the decision stands) is retried in the background, with
 * backoff, until the study's requested work is out (`republishLater`); without that, the results
 * that would have driven the study on never come and it waits forever. A crash between the append
 * and the publish is repaired at boot (`repair`): every running study's requested items are
 * published again.
 */
export class StudyService {
  /** a study's decisions and publishes, one at a time in this process */
  private readonly turns = new KeyedSerialiser();
  /**
   * study id → its state as folded up to `sequence`: a decision starts from it without a read, and
   * a read (after a conflict, or a decision of nothing) reads only the events after it (another
   * replica's) instead of the whole study each time, which made a study's decisions quadratic in
   * its size. A completed study is dropped.
   */
  private readonly folded = new Map<string, { state: StudyState; sequence: number }>();
  /** studies whose requested work is to be published again, and the timer that will */
  private readonly republishing = new Map<string, NodeJS.Timeout>();
  private stopped = false;

  constructor(
    private readonly log: EventLog,
    private readonly logger: Logger,
  ) {}

  handle(studyId: string, input: StudyInput, meta: AppendMeta): Promise<StudyOutcome> {
    return this.turns.run(studyId, () => this.decideAndAppend(studyId, input, meta));
  }

  private async decideAndAppend(studyId: string, input: StudyInput, meta: AppendMeta): Promise<StudyOutcome> {
    let state: StudyState;
    let appended: Recorded[];
    // the kept fold is decided on without a read: if another replica appended meanwhile, the
    // expected sequence refuses the append and the study is read again. A decision of nothing is
    // trusted only on a fresh read (a stale fold may not know the request a result answers).
    let kept = this.folded.get(studyId);
    for (let conflicts = 0; ; ) {
      const current = kept ?? (await this.current(studyId));
      const fromKept = kept !== undefined;
      kept = undefined;
      state = current.state;
      const decided = decideStudy(state, input);
      if (decided.length === 0) {
        if (fromKept) continue;
        return { appended: [], sequence: current.sequence };
      }
      try {
        appended = await this.log.append('study', studyId, decided, current.sequence, meta);
        break;
      } catch (err) {
        if (!(err instanceof ConcurrencyError) || conflicts >= MAX_CONFLICTS) throw err;
        conflicts += 1;
      }
    }
    const after = foldStudy(appended as Recorded<StudyEvent>[], state);
    this.remember(studyId, after, appended[appended.length - 1]!.sequence);
    const unavailable = await this.publishRequested(after, appended).catch((err: unknown) => {
      this.logger.warn({ err, studyId }, 'study: the judge work just decided could not be published; publishing it again in the background');
      this.republishLater(studyId, meta);
      return [] as StudyInput[];
    });
    let outcome: StudyOutcome = { appended, sequence: appended[appended.length - 1]!.sequence };
    // decided here, inside this study's turn (handle would wait for the turn it is in)
    for (const next of unavailable) {
      const more = await this.decideAndAppend(studyId, next, meta);
      outcome = { appended: [...outcome.appended, ...more.appended], sequence: Math.max(outcome.sequence, more.sequence) };
    }
    return outcome;
  }

  /** The study as its log holds it now: the kept fold, brought up to date with the events after it. */
  private async current(studyId: string): Promise<{ state: StudyState; sequence: number }> {
    const kept = this.folded.get(studyId);
    const events = (await this.log.read('study', studyId, kept?.sequence ?? 0)) as Recorded<StudyEvent>[];
    if (kept && events.length === 0) return kept;
    const state = foldStudy(events, kept?.state);
    const sequence = events.length > 0 ? events[events.length - 1]!.sequence : 0;
    this.remember(studyId, state, sequence);
    return { state, sequence };
  }

  private remember(studyId: string, state: StudyState, sequence: number): void {
    this.folded.delete(studyId); // re-inserted last: the map's order is the order of use
    if (state.status !== 'running') return; // nothing more is decided for it here
    this.folded.set(studyId, { state, sequence });
    if (this.folded.size > MAX_CACHED_STUDIES) this.folded.delete(this.folded.keys().next().value!);
  }

  /** The judge work of every StudyJudgeRequested among `events`, with the stored candidates' outputs. */
  private async publishRequested(state: StudyState, events: readonly Recorded[]): Promise<StudyInput[]> {
    if (state.status === 'none') return [];
    const unavailable: StudyInput[] = [];
    const runLogs: RunLogs = new Map();
    for (const e of events) {
      if (e.type !== 'StudyJudgeRequested') continue;
      const item = state.items.get(e.data.itemId);
      const missing = item ? await this.publishItem(state, item, e.data, runLogs) : null;
      if (missing) unavailable.push(missing);
    }
    return unavailable;
  }

  private async publishItem(state: Exclude<StudyState, { status: 'none' }>, s: StudyItemState, request: EventData<'StudyJudgeRequested'>, runLogs: RunLogs): Promise<StudyInput | null> {
    const { item } = s;
    const stored = await this.storedRequest(runLogs, item.runId, item.phaseId, item.attempt);
    const wanted = new Set(item.candidates.map((c) => c.candidateId));
    const candidates = stored?.candidates.filter((c) => wanted.has(c.candidateId) && c.output !== undefined && c.output !== null) ?? [];
    if (!stored || candidates.length < 2) {
      // a new input for the decider: the item fails for good (its candidates are not in the run's log)
      return { type: 'ItemUnavailable', itemId: item.itemId, attempt: request.attempt, reason: `the stored candidates of run ${item.runId} phase ${item.phaseId} attempt ${item.attempt} were not found in its log` };
    }
    const { judge } = state.data;
    const command = JudgeCandidates.parse({
      type: 'JudgeCandidates',
      commandId: request.attemptToken,
      runId: studyWorkId(state.studyId),
      phaseId: item.phaseId,
      attempt: request.attempt,
      round: 0,
      judgeId: `${state.studyId}.${item.itemId}`,
      purpose: 'select',
      provider: judge.provider,
      model: judge.model,
      criteria: judge.criteria ?? stored.criteria,
      task: stored.task,
      candidates,
      attemptToken: request.attemptToken,
      missing: [],
      ...(judge.rubric ? { rubric: judge.rubric } : {}),
    });
    await this.log.publish(this.log.names.subjects.judge, command, command.commandId);
    return null;
  }

  /**
   * The phase attempt's `select` judge request as the run's log recorded it (its last, after
   * redispatches). A run's log is read and scanned once per pass (`runLogs`): a study's items share runs.
   */
  private async storedRequest(runLogs: RunLogs, runId: string, phaseId: string, attempt: number): Promise<EventData<'JudgeRequested'> | null> {
    let requests = runLogs.get(runId);
    if (!requests) {
      // a read that fails throws (the publish is tried again later): an empty log here would fail
      // the item for good as if its candidates were gone
      requests = this.log.read('run', runId).then((events) => {
        const byAttempt = new Map<string, EventData<'JudgeRequested'>>();
        for (const e of events) {
          if (e.type === 'JudgeRequested' && e.data.purpose === 'select') byAttempt.set(requestKey(e.data.phaseId, e.data.attempt), e.data);
        }
        return byAttempt;
      });
      runLogs.set(runId, requests);
    }
    return (await requests).get(requestKey(phaseId, attempt)) ?? null;
  }

  /**
   * Publish the study's requested work again after a failed publish: in its turn (after the
   * decisions queued before it), from the study's log, with backoff until it succeeds, the study is
   * no longer running, or the service stops. Duplicates are dropped by the server (Nats-Msg-Id).
   */
  private republishLater(studyId: string, meta: AppendMeta, failures = 0): void {
    if (this.stopped || this.republishing.has(studyId)) return;
    const delay = republishDelayMs(failures);
    const timer = setTimeout(() => {
      this.republishing.delete(studyId);
      const republished = this.turns.run(studyId, async () => this.publishStudy(studyId, (await this.current(studyId)).state, meta, new Map()));
      republished.then(
        (published) => this.logger.info({ studyId, published }, 'study: requested judge work published again'),
        (err: unknown) => {
          this.logger.warn({ err, studyId, failures: failures + 1 }, 'study: publishing its requested work failed again; retrying');
          this.republishLater(studyId, meta, failures + 1);
        },
      );
    }, delay);
    timer.unref();
    this.republishing.set(studyId, timer);
  }

  /** No more background republishing (at shutdown). */
  stop(): void {
    this.stopped = true;
    for (const timer of this.republishing.values()) clearTimeout(timer);
    this.republishing.clear();
  }

  /**
   * The requested work of a running study, published (again); an item whose candidates are gone
   * fails through the decider, in this turn. The number published.
   */
  private async publishStudy(studyId: string, state: StudyState, meta: AppendMeta, runLogs: RunLogs): Promise<number> {
    if (state.status !== 'running') return 0;
    let published = 0;
    for (const s of state.items.values()) {
      if (s.status !== 'requested' || !s.token) continue;
      const missing = await this.publishItem(state, s, { itemId: s.item.itemId, attempt: s.attempt, attemptToken: s.token }, runLogs);
      if (missing) await this.decideAndAppend(studyId, missing, meta);
      else published += 1;
    }
    return published;
  }

  /**
   * At boot: publish again the requested work of every running study (a crash may have come
   * between an append and its publish). Duplicates are dropped by the server inside its window;
   * after it, a second verdict of the same attempt decides nothing.
   */
  async repair(meta: AppendMeta): Promise<number> {
    const byStudy = new Map<string, Recorded<StudyEvent>[]>();
    let after = 0;
    for (;;) {
      const batch = await this.log.readAll(after, 1000, this.log.names.subjects.aggregateEvents('study', '*'));
      if (batch.length === 0) break;
      for (const e of batch) {
        const { id } = splitStreamId(e.streamId);
        const events = byStudy.get(id);
        if (events) events.push(e as Recorded<StudyEvent>);
        else byStudy.set(id, [e as Recorded<StudyEvent>]);
      }
      after = batch[batch.length - 1]!.sequence;
    }
    let published = 0;
    const runLogs: RunLogs = new Map();
    for (const [studyId, events] of byStudy) {
      const state = foldStudy(events);
      if (state.status !== 'running') continue;
      this.remember(studyId, state, events[events.length - 1]!.sequence);
      const studyMeta = { ...meta, correlationId: studyId };
      // in the study's turn, brought up to date: results may have come since the scan
      const republished = this.turns.run(studyId, async () => this.publishStudy(studyId, (await this.current(studyId)).state, studyMeta, runLogs));
      published += await republished.catch((err: unknown) => {
        this.logger.warn({ err, studyId }, 'study: its requested work could not be published at boot; publishing it again in the background');
        this.republishLater(studyId, studyMeta);
        return 0;
      });
    }
    return published;
  }
}
