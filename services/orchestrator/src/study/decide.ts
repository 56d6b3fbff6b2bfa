import {
  round6,
  STUDY_MAX_ATTEMPTS,
  STUDY_MAX_IN_FLIGHT,
  type EventData,
  type Failure,
  type NewEvent,
  type StartStudy,
  type StudyEvent,
  type StudyItem,
  type VerdictResult,
} from '@conclave/contracts';

/**
 * The study decider (ADR 023): pure, like the run decider — `decideStudy(state, input) → events`,
 * `evolveStudy(state, event) → state`, no clock, ids or I/O. Attempt tokens derive from
 * (study, item, attempt), so a decision taken twice asks for the same work under the same id.
 */
export type StudyItemState = {
  item: StudyItem;
  status: 'pending' | 'requested' | 'judged' | 'failed';
  attempt: number;
  token: string | null;
  costUsd: number;
};
export type StudyState =
  | { status: 'none' }
  | {
      status: 'running' | 'completed';
      studyId: string;
      data: EventData<'StudyStarted'>;
      items: Map<string, StudyItemState>;
      spentUsd: number;
    };

export type StudyInput =
  | { type: 'StartStudy'; studyId: string; command: StartStudy }
  | { type: 'VerdictResult'; result: VerdictResult }
  /** the dispatcher found no stored candidates for the item's request (the run's log lacks them) */
  | { type: 'ItemUnavailable'; itemId: string; attempt: number; reason: string };

export type StudyDecision = NewEvent<StudyEvent['type']>[];

export const initialStudyState = (): StudyState => ({ status: 'none' });
export const studyAttemptToken = (studyId: string, itemId: string, attempt: number) => `${studyId}.${itemId}.${attempt}`;

export class StudyCommandError extends Error {}

/** The study after `event`; `state` is left as it was (its items map is copied). */
export function evolveStudy(state: StudyState, event: { type: StudyEvent['type']; data: unknown }): StudyState {
  return applyStudyEvent(ownCopy(state), event);
}

/**
 * `events` folded onto `from` (nothing by default), which is left as it was: its items map is
 * copied once for the whole fold, not once per event as `evolveStudy` would.
 */
export function foldStudy(events: readonly { type: StudyEvent['type']; data: unknown }[], from: StudyState = initialStudyState()): StudyState {
  let state = ownCopy(from);
  for (const event of events) state = applyStudyEvent(state, event);
  return state;
}

/** a state whose items map no one else holds (item states are never changed in place, only replaced) */
const ownCopy = (state: StudyState): StudyState => (state.status === 'none' ? state : { ...state, items: new Map(state.items) });

/** Folds `event` into `state`, whose items map it changes in place: only for a state the caller owns (`ownCopy`). */
function applyStudyEvent(state: StudyState, event: { type: StudyEvent['type']; data: unknown }): StudyState {
  if (event.type === 'StudyStarted') {
    const data = event.data as EventData<'StudyStarted'>;
    return {
      status: 'running',
      studyId: data.studyId,
      data,
      items: new Map(data.items.map((item) => [item.itemId, { item, status: 'pending', attempt: 0, token: null, costUsd: 0 }])),
      spentUsd: 0,
    };
  }
  if (state.status === 'none') return state;
  const { items } = state;
  const update = (itemId: string, change: (s: StudyItemState) => StudyItemState) => {
    const current = items.get(itemId);
    if (current) items.set(itemId, change(current));
  };
  switch (event.type) {
    case 'StudyJudgeRequested': {
      const d = event.data as EventData<'StudyJudgeRequested'>;
      update(d.itemId, (s) => ({ ...s, status: 'requested', attempt: d.attempt, token: d.attemptToken }));
      return state;
    }
    case 'StudyVerdictRecorded': {
      const d = event.data as EventData<'StudyVerdictRecorded'>;
      update(d.itemId, (s) => ({ ...s, status: 'judged', token: null, costUsd: s.costUsd + d.costUsd }));
      return { ...state, spentUsd: state.spentUsd + d.costUsd };
    }
    case 'StudyItemFailed': {
      const d = event.data as EventData<'StudyItemFailed'>;
      update(d.itemId, (s) => ({ ...s, status: d.final ? 'failed' : 'pending', token: null, costUsd: s.costUsd + d.costUsd }));
      return { ...state, spentUsd: state.spentUsd + d.costUsd };
    }
    case 'StudyCompleted':
      return { ...state, status: 'completed' };
    default:
      return state;
  }
}

export function decideStudy(state: StudyState, input: StudyInput): StudyDecision {
  switch (input.type) {
    case 'StartStudy': {
      if (state.status !== 'none') return []; // a repeated start of the same study: done already
      const { type: _type, ...rest } = input.command;
      return withProgress(state, [{ type: 'StudyStarted', data: { studyId: input.studyId, ...rest } }]);
    }
    case 'VerdictResult': {
      if (state.status !== 'running') return [];
      const r = input.result;
      const found = [...state.items.values()].find((s) => s.status === 'requested' && s.token === r.attemptToken);
      if (!found) return []; // a duplicate, or the result of an attempt already settled
      const itemId = found.item.itemId;
      let decided: StudyDecision;
      if (r.outcome.status === 'scored') {
        const o = r.outcome;
        decided = [{ type: 'StudyVerdictRecorded', data: { itemId, attempt: found.attempt, winnerId: o.winnerId, scores: o.scores, order: o.order, rationale: o.rationale, tokens: o.tokens, costUsd: o.costUsd, workerId: r.workerId } }];
      } else {
        const error = r.outcome.error;
        const final = !error.retryable || found.attempt >= STUDY_MAX_ATTEMPTS;
        decided = [{ type: 'StudyItemFailed', data: { itemId, attempt: found.attempt, error, final, costUsd: 0 } }];
      }
      return withProgress(state, decided);
    }
    case 'ItemUnavailable': {
      if (state.status !== 'running') return [];
      const found = state.items.get(input.itemId);
      if (!found || found.status !== 'requested' || found.attempt !== input.attempt) return [];
      const error: Failure = { code: 'candidates_missing', message: input.reason, retryable: false };
      const decided: StudyDecision = [{ type: 'StudyItemFailed', data: { itemId: input.itemId, attempt: input.attempt, error, final: true, costUsd: 0 } }];
      return withProgress(state, decided);
    }
    default: {
      const never: never = input;
      throw new StudyCommandError(`unknown study input ${JSON.stringify(never)}`);
    }
  }
}

/** `decided`, then what follows it (`progress` of the state it leads to) */
function withProgress(state: StudyState, decided: StudyDecision): StudyDecision {
  return [...decided, ...progress(foldStudy(decided, state))];
}

/**
 * What follows any decision: request pending items while fewer than STUDY_MAX_IN_FLIGHT are out
 * and the budget (spent + reservations of requested items + the item's estimate) allows; an item
 * the budget cannot take is given up (`budget_exceeded`); once every item is settled, complete.
 */
function progress(state: StudyState): StudyDecision {
  if (state.status !== 'running') return [];
  const out: StudyDecision = [];
  const all = [...state.items.values()];
  let inFlight = all.filter((s) => s.status === 'requested').length;
  let reserved = state.spentUsd + all.filter((s) => s.status === 'requested').reduce((n, s) => n + s.item.estimateUsd, 0);
  const budget = state.data.budgetUsd;
  for (const s of all) {
    if (s.status !== 'pending') continue;
    if (budget !== null && reserved + s.item.estimateUsd > budget) {
      out.push({
        type: 'StudyItemFailed',
        data: {
          itemId: s.item.itemId,
          attempt: s.attempt,
          error: { code: 'budget_exceeded', message: `the study's budget of $${budget} would be passed ($${round6(reserved)} spent or reserved, $${round6(s.item.estimateUsd)} more for this item)`, retryable: false },
          final: true,
          costUsd: 0,
        },
      });
      continue;
    }
    if (inFlight >= STUDY_MAX_IN_FLIGHT) continue;
    const attempt = s.attempt + 1;
    out.push({ type: 'StudyJudgeRequested', data: { itemId: s.item.itemId, attempt, attemptToken: studyAttemptToken(state.studyId, s.item.itemId, attempt) } });
    inFlight += 1;
    reserved += s.item.estimateUsd;
  }
  const after = foldStudy(out, state);
  if (after.status === 'running' && [...after.items.values()].every((s) => s.status === 'judged' || s.status === 'failed')) {
    const settled = [...after.items.values()];
    out.push({
      type: 'StudyCompleted',
      data: { judged: settled.filter((s) => s.status === 'judged').length, failed: settled.filter((s) => s.status === 'failed').length, costUsd: round6(after.spentUsd) },
    });
  }
  return out;
}
