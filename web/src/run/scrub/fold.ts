import type { RunView, SocketEvent } from '@conclave/contracts';
import { emptyRunView, foldRunEvent, parseRunEvent, updatePhase } from '../run-reducer';

/**
 * A run as it was at any event of its timeline: the run page's own reducer (run-reducer.ts, the
 * fold that keeps the live page current) applied to the run's events from the first one, starting
 * from a view no event has touched. So the scrubbed page renders the same view model as the live
 * one (statuses, candidates, verdicts and winners, costs and tokens) — and the fold of every event
 * equals the gateway's view of the run (fold.unit.spec.ts, e2e/scrub.e2e.spec.ts).
 *
 * Cost (a 200-phase run has a few thousand events):
 * - a view is folded once per index and kept (the last one asked, and a checkpoint every
 *   CHECKPOINT_EVERY events); moving forward folds only the events in between, moving back folds
 *   at most CHECKPOINT_EVERY events from the checkpoint below;
 * - new events after the known ones (a live run's timeline growing) keep every memo; an event
 *   landing inside the known ones drops the memos from its index on.
 * Pure (no I/O, no clock): the memos are a cache of a deterministic function of the events.
 */
export const CHECKPOINT_EVERY = 64;

/** What the gateway holds beside the log (not in any event): taken from the live view as it is. */
const OFF_LOG = ['archived', 'parked'] as const satisfies readonly (keyof RunView)[];

export class RunScrubber {
  private events: readonly SocketEvent[] = [];
  /** checkpoints[k] = the view after event k × CHECKPOINT_EVERY + CHECKPOINT_EVERY - 1 */
  private checkpoints: RunView[] = [];
  private last: { index: number; view: RunView } | null = null;
  /** events folded since construction (the memo's effect, for tests and the bench) */
  folds = 0;

  constructor(readonly runId: string) {}

  get length(): number {
    return this.events.length;
  }

  event(index: number): SocketEvent | undefined {
    return this.events[index];
  }

  /** The run's events, ascending by sequence (the timeline); memos stay valid up to the first change. */
  setEvents(events: readonly SocketEvent[]): void {
    if (events === this.events) return;
    const shared = Math.min(events.length, this.events.length);
    let same = 0;
    while (same < shared && events[same]!.sequence === this.events[same]!.sequence) same++;
    if (same < this.events.length) {
      this.checkpoints.length = Math.min(this.checkpoints.length, Math.floor(same / CHECKPOINT_EVERY));
      if (this.last && this.last.index >= same) this.last = null;
    }
    this.events = events;
  }

  /** The index of the last event at or before `sequence` (-1: before the first). */
  indexAt(sequence: number): number {
    let lo = 0;
    let hi = this.events.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.events[mid]!.sequence <= sequence) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  }

  /** The run after event `index` (clamped to the events known); `live` lends what the log does not hold. */
  viewAt(index: number, live?: RunView): RunView {
    const at = Math.min(Math.max(index, -1), this.events.length - 1);
    const folded = this.foldTo(at);
    if (!live) return folded;
    let view = folded;
    for (const key of OFF_LOG) if (view[key] !== live[key]) view = { ...view, [key]: live[key] };
    return view;
  }

  private foldTo(index: number): RunView {
    if (this.last?.index === index) return this.last.view;
    // the nearest known view at or before `index`: the last one asked, or a checkpoint
    let from = -1;
    let view = emptyRunView(this.runId);
    const k = Math.min(Math.floor((index + 1) / CHECKPOINT_EVERY), this.checkpoints.length);
    if (k > 0) {
      from = k * CHECKPOINT_EVERY - 1;
      view = this.checkpoints[k - 1]!;
    }
    if (this.last && this.last.index <= index && this.last.index > from) {
      from = this.last.index;
      view = this.last.view;
    }
    for (let i = from + 1; i <= index; i++) {
      view = foldEvent(view, this.events[i]!);
      this.folds++;
      if ((i + 1) % CHECKPOINT_EVERY === 0 && this.checkpoints.length === (i + 1) / CHECKPOINT_EVERY - 1) this.checkpoints.push(view);
    }
    this.last = { index, view };
    return view;
  }
}

/**
 * The reducer's fold, plus what a view folded from the first event needs that a REST base carries:
 * the run's origin, and a gate's, an interview's and a condition's outcome on their phase (the
 * projector's `gate`, `interview` and `condition`, cleared when an attempt starts or a rollback
 * resets the phase).
 */
function foldEvent(view: RunView, event: SocketEvent): RunView {
  const next = foldRunEvent(view, event).view;
  if (next === view) return view;
  if (!EXTRA.has(event.type)) return next;
  const parsed = parseRunEvent(event);
  if (!parsed) return next;
  switch (parsed.type) {
    case 'RunStarted': {
      const { traceId, ...rest } = next;
      // a rerun or a fork names its origin here; the gateway leaves traceId out of an untraced run's view
      return { ...rest, ...(traceId ? { traceId } : {}), origin: parsed.data.origin ?? null };
    }
    case 'RunForked':
      return { ...next, origin: { kind: 'fork', runId: parsed.data.sourceRunId } };
    case 'PhaseStarted': {
      const { phaseId, attempt } = parsed.data;
      return updatePhase(next, phaseId, (p) => (p.attempt === attempt ? { ...p, gate: null, interview: null, condition: null } : p));
    }
    case 'RolledBack': {
      const reset = new Set(parsed.data.resetPhaseIds);
      return { ...next, phases: next.phases.map((p) => (reset.has(p.id) ? { ...p, gate: null, interview: null, condition: null } : p)) };
    }
    case 'GateOpened':
      return updatePhase(next, parsed.data.phaseId, (p) => ({ ...p, gate: { message: parsed.data.message, decision: null, comment: null } }));
    case 'GateApproved':
    case 'GateRejected': {
      const decision = parsed.type === 'GateApproved' ? 'approved' : 'rejected';
      return updatePhase(next, parsed.data.phaseId, (p) => ({ ...p, gate: { message: p.gate?.message ?? '', decision, comment: parsed.data.comment ?? null } }));
    }
    case 'QuestionsAsked':
      return updatePhase(next, parsed.data.phaseId, (p) => ({ ...p, interview: { questions: parsed.data.questions, answers: null } }));
    case 'AnswersSubmitted':
      return updatePhase(next, parsed.data.phaseId, (p) => ({ ...p, interview: { questions: p.interview?.questions ?? [], answers: parsed.data.answers } }));
    case 'ConditionEvaluated':
      return updatePhase(next, parsed.data.phaseId, (p) => ({ ...p, condition: { result: parsed.data.result } }));
    default:
      return next;
  }
}

const EXTRA = new Set(['RunStarted', 'RunForked', 'PhaseStarted', 'RolledBack', 'GateOpened', 'GateApproved', 'GateRejected', 'QuestionsAsked', 'AnswersSubmitted', 'ConditionEvaluated']);
