import { ConcurrencyError, EventLog, type AppendMeta, type UnreadableEvent } from '@conclave/event-log';
import type { Recorded } from '@conclave/contracts';
import { decide, evolve, foldRun, initialRunState, type DeciderContext, type DeciderInput, type RunState } from '../domain';

interface Cached {
  state: RunState;
  /** the run stream's last sequence (an unreadable message included) */
  sequence: number;
  /** the first message of the stream that does not decode, if any */
  unreadable?: UnreadableEvent;
}

/** a run that still acts on inputs: an unreadable event must fail it first */
const stillActs = (state: RunState) => state.status !== 'empty' && state.status !== 'failed' && state.status !== 'completed' && state.status !== 'cancelled';

export interface HandleOutcome {
  /** what this call appended (empty when the input decided nothing) */
  appended: Recorded[];
  /** the run stream's last sequence after the call */
  sequence: number;
}

/**
 * Read → decide → append with the expected last subject sequence (STYLE.md: the command handler).
 * Inputs for one run are serialised inside this process; across replicas, optimistic concurrency
 * decides, and the loser re-reads the log and decides again.
 */
export class RunRepository {
  private readonly cache = new Map<string, Cached>();
  private readonly locks = new Map<string, Promise<unknown>>();

  constructor(
    private readonly log: EventLog,
    private readonly validate: DeciderContext['validate'],
    private readonly options: { maxConflicts: number; cacheSize: number; estimateUsd?: DeciderContext['estimateUsd'] },
  ) {}

  async load(runId: string): Promise<Cached> {
    const cached = this.cache.get(runId) ?? { state: initialRunState(), sequence: 0 };
    const poison: UnreadableEvent[] = [];
    const fresh = await this.log.read('run', runId, cached.sequence, { poison });
    const sequence = Math.max(cached.sequence, fresh[fresh.length - 1]?.sequence ?? 0, ...poison.map((p) => p.sequence));
    const unreadable = cached.unreadable ?? poison[0];
    const next = { state: fresh.length === 0 ? cached.state : foldRun(fresh, cached.state), sequence, ...(unreadable ? { unreadable } : {}) };
    this.remember(runId, next);
    return next;
  }

  /**
   * The cached state is used without a read first: if another replica appended meanwhile, the
   * expected-sequence check refuses the append and the run is re-read. A decision that appends
   * nothing is trusted only on a fresh read, since a stale cache could ignore a result for work
   * that another replica requested.
   */
  handle(runId: string, input: DeciderInput, meta: AppendMeta): Promise<HandleOutcome> {
    return this.serialised(runId, async () => {
      let cached = this.cache.get(runId);
      for (let conflicts = 0; ; ) {
        const { state, sequence, unreadable } = cached ?? (await this.load(runId));
        const fromCache = cached !== undefined;
        cached = undefined;
        // poison in the run's own stream (issue 11 §3/§4): the run fails with it before anything else
        const failFirst = unreadable && stillActs(state) ? ({ type: 'Unreadable', sequence: unreadable.sequence, reason: unreadable.reason } as const) : null;
        const events = decide(state, failFirst ?? input, { validate: this.validate, now: meta.occurredAt, estimateUsd: this.options.estimateUsd });
        if (events.length === 0) {
          if (fromCache) continue;
          return { appended: [], sequence };
        }
        try {
          const appended = await this.log.append('run', runId, events, sequence, meta);
          const last = appended[appended.length - 1]!.sequence;
          this.remember(runId, { state: events.reduce((s, e) => evolve(s, e), state), sequence: last, ...(unreadable ? { unreadable } : {}) });
          if (failFirst) {
            cached = this.cache.get(runId); // then the input itself, on the failed run
            continue;
          }
          return { appended, sequence: last };
        } catch (err) {
          // a partial append leaves the cache behind the log: the next load reads the rest
          if (!(err instanceof ConcurrencyError) || ++conflicts >= this.options.maxConflicts) throw err;
        }
      }
    });
  }

  private remember(runId: string, value: Cached) {
    this.cache.delete(runId);
    this.cache.set(runId, value);
    while (this.cache.size > this.options.cacheSize) this.cache.delete(this.cache.keys().next().value!);
  }

  private serialised<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.locks.get(key) ?? Promise.resolve();
    const next = previous.then(fn, fn);
    const tail = next.catch(() => undefined);
    this.locks.set(key, tail);
    void tail.then(() => {
      if (this.locks.get(key) === tail) this.locks.delete(key);
    });
    return next;
  }
}
