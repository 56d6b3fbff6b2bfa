import type { RunView, SocketEvent } from '@conclave/contracts';
import { foldRunEvent } from './run-reducer';

/**
 * What the run page knows about one run: the newest REST snapshot (`base`) plus the log events
 * after it, from the socket and from timeline gap-fills, kept in sequence order. The shown view is
 * always `base` with those events folded in order.
 *
 * Why not fold each event into the shown view as it arrives: live events and gap-fill pages
 * interleave. A live event folded first advances the view's sequence past a gap; the gap's events
 * then look like duplicates (sequence ≤ view's) and are dropped for good — a phase that never
 * shows completed. Here an event below the newest one seen is inserted where it belongs and the
 * view is re-folded from `base`, so arrival order does not matter.
 *
 * Guarantees (pure, no I/O):
 * - an older snapshot never replaces a newer one (`sequence` compares them); a snapshot at least
 *   as recent becomes the base and the buffered events after it are replayed on top;
 * - duplicates and events of other runs change nothing;
 * - events that arrive before any snapshot are kept and folded once one lands;
 * - `complete` is the sequence up to which every event of the run is known to be in base + events
 *   (a snapshot is complete up to its sequence; a timeline page up to its last entry, or up to the
 *   `min_sequence` the gateway waited for): the next gap-fill asks for what follows it.
 */
export interface LiveRunState {
  runId: string;
  base: RunView | undefined;
  /** events after `base.sequence` (all of them before a base), ascending, unique by sequence */
  events: readonly SocketEvent[];
  complete: number;
  /** the highest sequence seen from any source */
  latest: number;
  view: RunView | undefined;
  /** an event the reducer could not fold (unknown type, bad data): refetch at least to here */
  refetchAtLeast: number;
}

/** Events kept beyond `complete` (or before a snapshot); older contiguous ones are folded into the base. */
export const MAX_BUFFERED_EVENTS = 5000;

export function initialLiveRun(runId: string): LiveRunState {
  return { runId, base: undefined, events: [], complete: 0, latest: 0, view: undefined, refetchAtLeast: 0 };
}

/** A RunView from REST. Ignored when older than the current base. */
export function withSnapshot(state: LiveRunState, snapshot: RunView): LiveRunState {
  if (snapshot.id !== state.runId) return state;
  if (state.base && snapshot.sequence < state.base.sequence) return state;
  const events = state.events.filter((e) => e.sequence > snapshot.sequence);
  return refold({
    ...state,
    base: snapshot,
    events,
    complete: Math.max(state.complete, snapshot.sequence),
    latest: Math.max(state.latest, snapshot.sequence),
    refetchAtLeast: state.refetchAtLeast > snapshot.sequence ? state.refetchAtLeast : 0,
  });
}

/**
 * Events from the socket or a gap-fill, in any order. `completeUpTo`: every event of the run up to
 * this sequence is among what the caller has delivered so far (a timeline page's last entry, or
 * the `min_sequence` it was read at).
 */
export function withEvents(state: LiveRunState, incoming: readonly SocketEvent[], completeUpTo = 0): LiveRunState {
  const floor = state.base?.sequence ?? 0;
  const known = new Set(state.events.map((e) => e.sequence));
  const fresh = incoming.filter((e) => (e.runId === null || e.runId === state.runId) && e.sequence > floor && !known.has(e.sequence));
  const complete = Math.max(state.complete, completeUpTo);
  if (fresh.length === 0) return complete === state.complete ? state : { ...state, complete };

  const sortedFresh = [...new Map(fresh.map((e) => [e.sequence, e])).values()].sort((a, b) => a.sequence - b.sequence);
  const latest = Math.max(state.latest, sortedFresh[sortedFresh.length - 1]!.sequence);
  const appendsOnly = state.events.length === 0 || sortedFresh[0]!.sequence > state.events[state.events.length - 1]!.sequence;
  const events = appendsOnly ? [...state.events, ...sortedFresh] : mergeSorted(state.events, sortedFresh);

  // In order (the usual live case): fold the new events onto the shown view. Otherwise something
  // landed inside what was folded already: fold again from the base.
  if (appendsOnly && state.view) {
    const { view, refetchAtLeast } = foldAll(state.view, sortedFresh, state.refetchAtLeast);
    return compact({ ...state, events, complete, latest, view, refetchAtLeast });
  }
  return compact(refold({ ...state, events, complete, latest }));
}

function refold(state: LiveRunState): LiveRunState {
  if (!state.base) return state;
  const { view, refetchAtLeast } = foldAll(state.base, state.events, state.refetchAtLeast);
  return { ...state, view, refetchAtLeast };
}

function foldAll(view: RunView, events: readonly SocketEvent[], refetchAtLeast: number): { view: RunView; refetchAtLeast: number } {
  let next = view;
  let refetch = refetchAtLeast;
  for (const event of events) {
    const result = foldRunEvent(next, event);
    if (result.outcome === 'unknown' || result.outcome === 'invalid') refetch = Math.max(refetch, event.sequence);
    next = result.view;
  }
  return { view: next, refetchAtLeast: refetch };
}

/** Bound the buffer: contiguous events (≤ complete) beyond the cap move into the base. */
function compact(state: LiveRunState): LiveRunState {
  const excess = state.events.length - MAX_BUFFERED_EVENTS;
  if (excess <= 0) return state;
  if (!state.base) return { ...state, events: state.events.slice(excess) };
  let n = 0;
  while (n < excess && state.events[n]!.sequence <= state.complete) n++;
  if (n === 0) return state;
  const moved = state.events.slice(0, n);
  const base = foldAll(state.base, moved, 0).view;
  return { ...state, base, events: state.events.slice(n) };
}

function mergeSorted(a: readonly SocketEvent[], b: readonly SocketEvent[]): SocketEvent[] {
  const out: SocketEvent[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (j >= b.length || (i < a.length && a[i]!.sequence < b[j]!.sequence)) out.push(a[i++]!);
    else out.push(b[j++]!);
  }
  return out;
}
