import { ConcurrencyError, EventLog, type AppendMeta, type UnreadableEvent } from '@conclave/event-log';
import { messageSequenceOf, POSITIONS_PER_MESSAGE, positionOf, type EventData, type Recorded } from '@conclave/contracts';
import { decide, evolve, foldRun, initialRunState, type DecidedEvent, type DeciderContext, type DeciderInput, type RunState } from '../domain';
import { KeyedSerialiser } from '../app/serialiser';
import { noteRunTrace, traceAppended } from './run-tracing';

interface Cached {
  state: RunState;
  /** position of the run's last event: the next append expects it; a client waits for it with min_sequence */
  position: number;
  /** CandidateRequested data by candidate id: what a re-dispatch sends again (app/outbox.ts) */
  requests: Map<string, EventData<'CandidateRequested'>>;
  /** the first message of the stream that does not decode, if any */
  unreadable?: UnreadableEvent;
}

/** a run that still acts on inputs: an unreadable event must fail it first */
const stillActs = (state: RunState) => state.status !== 'empty' && state.status !== 'failed' && state.status !== 'completed' && state.status !== 'cancelled';

const empty = (): Cached => ({ state: initialRunState(), position: 0, requests: new Map() });

/** an input waiting for its run's turn, and its caller */
interface Queued {
  input: DeciderInput;
  meta: AppendMeta;
  resolve: (outcome: HandleOutcome) => void;
  reject: (err: unknown) => void;
}

/** a decided event and, in a commit of several inputs, the meta of the input that caused it */
type DecidedWithMeta = DecidedEvent & { meta?: AppendMeta };

export interface HandleOutcome {
  /** what this call appended (empty when the input decided nothing) */
  appended: Recorded[];
  /** the position of the run's last event after the call */
  sequence: number;
}

/** Called after every append, with the run as it now is (the outbox publishes the commands, ADR 014). */
export type OnAppended = (runId: string, appended: readonly Recorded[], run: { state: RunState; requests: ReadonlyMap<string, EventData<'CandidateRequested'>> }) => void;

/**
 * Told before each append, and then how it ended (after `onAppended`): the outbox's watermark
 * (ADR 025). 'unknown': the append failed without a refusal, so its commit may be in the log.
 */
export type BeginAppend = (runId: string) => (outcome: 'appended' | 'refused' | 'unknown') => void;

/**
 * Read → decide → append with the expected last subject sequence (STYLE.md: the command handler).
 * Inputs for one run are serialised inside this process; across replicas, optimistic concurrency
 * decides, and the loser re-reads the log and decides again. A decision is one commit (ADR 014).
 */
export class RunRepository {
  private readonly cache = new Map<string, Cached>();
  private readonly turns = new KeyedSerialiser();
  /** inputs waiting for their run's next turn, in arrival order (taken all at once: a group commit) */
  private readonly queued = new Map<string, Queued[]>();

  constructor(
    private readonly log: EventLog,
    private readonly validate: DeciderContext['validate'],
    private readonly options: { maxConflicts: number; cacheSize: number; estimateUsd?: DeciderContext['estimateUsd']; onAppended?: OnAppended; beginAppend?: BeginAppend },
  ) {}

  /** Read what the log holds past the cache (direct gets, no consumer), fold it and remember it. */
  async load(runId: string): Promise<Cached> {
    const cached = this.cache.get(runId) ?? empty();
    const poison: UnreadableEvent[] = [];
    // everything after the cached message (its own events are all folded)
    const after = cached.position > 0 ? positionOf(messageSequenceOf(cached.position), POSITIONS_PER_MESSAGE - 1) : 0;
    const fresh = await this.log.read('run', runId, after, { poison });
    const requests = new Map(cached.requests);
    recordRequests(requests, fresh);
    const position = Math.max(cached.position, fresh[fresh.length - 1]?.sequence ?? 0, ...poison.map((p) => p.sequence));
    const unreadable = cached.unreadable ?? poison[0];
    const next: Cached = { state: fresh.length === 0 ? cached.state : foldRun(fresh, cached.state), position, requests, ...(unreadable ? { unreadable } : {}) };
    this.remember(runId, next);
    return next;
  }

  /**
   * The run as this process knows it, at least up to the message at stream sequence `atLeast`
   * (read from the log when the cache is older or missing), serialised with decisions.
   */
  snapshot(runId: string, atLeast = 0): Promise<Cached> {
    return this.turns.run(runId, async () => {
      const cached = this.cache.get(runId);
      return cached && messageSequenceOf(cached.position) >= atLeast ? cached : this.load(runId);
    });
  }

  /**
   * Decide an input for a run and append what it decided. Inputs for one run are taken in order;
   * those that arrive while the run's last decision is being appended (or in the same event-loop
   * turn, such as two candidates' results read from one socket chunk) are decided together, one
   * after the other on the evolving state, and appended as one commit: a group commit per run.
   * Each caller gets the events its own input caused, with its own meta in their envelopes.
   *
   * The cached state is used without a read first: if another replica appended meanwhile, the
   * expected-sequence check refuses the append and the run is re-read. A decision that appends
   * nothing is trusted only on a fresh read, since a stale cache could ignore a result for work
   * that another replica requested. A new run (StartRun: its id was just made) is not read at all:
   * the append expects an empty stream.
   */
  handle(runId: string, input: DeciderInput, meta: AppendMeta): Promise<HandleOutcome> {
    return new Promise<HandleOutcome>((resolve, reject) => {
      const queued = this.queued.get(runId);
      if (queued) return void queued.push({ input, meta, resolve, reject });
      this.queued.set(runId, [{ input, meta, resolve, reject }]);
      void this.turns.run(runId, () => {
        const inputs = this.queued.get(runId)!;
        this.queued.delete(runId); // what arrives from now on waits for the next turn
        return this.decideAll(runId, inputs);
      });
    });
  }

  /** One turn: the queued inputs decided together and appended as one commit (each caller settled). */
  private async decideAll(runId: string, inputs: Queued[]): Promise<void> {
    try {
      const outcomes = await this.decideTogether(runId, inputs);
      inputs.forEach((queued, i) => {
        const outcome = outcomes[i]!;
        if ('error' in outcome) queued.reject(outcome.error);
        else queued.resolve(outcome);
      });
    } catch (err) {
      if (inputs.length === 1) return inputs[0]!.reject(err);
      // the commit failed as a whole (not a refusal): each input alone, so one input's fault is its own
      for (const queued of inputs) await this.decideAll(runId, [queued]);
    }
  }

  private async decideTogether(runId: string, inputs: readonly Queued[]): Promise<(HandleOutcome | { error: unknown })[]> {
    let cached = this.cache.get(runId) ?? (inputs[0]!.input.type === 'StartRun' ? empty() : undefined);
    for (let conflicts = 0; ; ) {
      const current = cached ?? (await this.load(runId));
      const fromCache = cached !== undefined;
      cached = undefined;
      // poison in the run's own stream (issue 11 §3/§4): the run fails with it before anything else
      const failFirst = current.unreadable && stillActs(current.state) ? ({ type: 'Unreadable', sequence: current.unreadable.sequence, reason: current.unreadable.reason } as const) : null;
      const failing = failFirst ? decide(current.state, failFirst, this.context(inputs[0]!.meta)) : [];
      const decided = failing.length > 0 ? { events: failing, state: failing.reduce((s, e) => evolve(s, e), current.state), outcomes: [] } : this.decideInOrder(current.state, inputs, fromCache);
      if (decided === 'stale') continue; // re-read: a decision of nothing is trusted only on a fresh read
      if (decided.events.length === 0) return decided.outcomes.map((o) => ('error' in o ? o : { appended: [], sequence: current.position }));
      const ended = this.options.beginAppend?.(runId);
      try {
        const appended = await this.log.append('run', runId, decided.events, current.position, inputs[0]!.meta);
        const last = appended[appended.length - 1]!.sequence;
        const requests = new Map(current.requests);
        recordRequests(requests, appended);
        const next: Cached = { state: decided.state, position: last, requests, ...(current.unreadable ? { unreadable: current.unreadable } : {}) };
        this.remember(runId, next);
        this.options.onAppended?.(runId, appended, next);
        ended?.('appended');
        traceAppended(runId, appended, next.state);
        if (failing.length > 0) {
          cached = this.cache.get(runId); // then the inputs themselves, on the failed run
          continue;
        }
        return decided.outcomes.map((o) => ('error' in o ? o : { appended: appended.slice(o.from, o.to), sequence: last }));
      } catch (err) {
        ended?.(err instanceof ConcurrencyError ? 'refused' : 'unknown');
        // the cache may be behind the log: the next load reads the rest
        if (!(err instanceof ConcurrencyError) || ++conflicts >= this.options.maxConflicts) throw err;
      }
    }
  }

  /**
   * Each input decided on the state the ones before it left: the events of all, and which of them
   * are whose. An input whose decision throws (a command the run does not allow) gets its error and
   * leaves the state as it was. 'stale': an input decided nothing on a cached state. A lone input's
   * events carry no meta of their own: the append's is theirs.
   */
  private decideInOrder(state: RunState, inputs: readonly Queued[], fromCache: boolean): { events: DecidedWithMeta[]; state: RunState; outcomes: ({ from: number; to: number } | { error: unknown })[] } | 'stale' {
    const events: DecidedWithMeta[] = [];
    const outcomes: ({ from: number; to: number } | { error: unknown })[] = [];
    for (const { input, meta } of inputs) {
      let decided: DecidedEvent[];
      try {
        decided = decide(state, input, this.context(meta));
      } catch (error) {
        outcomes.push({ error });
        continue;
      }
      if (decided.length === 0 && fromCache) return 'stale';
      outcomes.push({ from: events.length, to: events.length + decided.length });
      for (const e of decided) {
        events.push(inputs.length === 1 ? e : { ...e, meta });
        state = evolve(state, e);
      }
    }
    return { events, state, outcomes };
  }

  private context(meta: AppendMeta): DeciderContext {
    return { validate: this.validate, now: meta.occurredAt, estimateUsd: this.options.estimateUsd };
  }

  private remember(runId: string, value: Cached) {
    noteRunTrace(runId, value.state);
    this.cache.delete(runId);
    this.cache.set(runId, value);
    while (this.cache.size > this.options.cacheSize) this.cache.delete(this.cache.keys().next().value!);
  }
}

function recordRequests(requests: Map<string, EventData<'CandidateRequested'>>, events: readonly Recorded[]): void {
  for (const e of events) if (e.type === 'CandidateRequested') requests.set(e.data.candidateId, e.data);
}
