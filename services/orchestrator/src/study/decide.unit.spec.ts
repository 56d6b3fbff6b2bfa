import { STUDY_MAX_ATTEMPTS, STUDY_MAX_IN_FLIGHT, type StartStudy, type StudyItem, type VerdictResult } from '@conclave/contracts';
import { decideStudy, evolveStudy, foldStudy, studyAttemptToken, type StudyDecision, type StudyInput } from './decide';

/** given(events).when(input) → the decided events (DeciderSpecification, STYLE.md), for the study decider (ADR 023). */
const STUDY = 's1';
const given = (...events: StudyDecision) => ({ when: (input: StudyInput) => decideStudy(foldStudy(events), input) });
const types = (events: StudyDecision) => events.map((e) => ('itemId' in e.data ? `${e.type}:${e.data.itemId}` : e.type));

const item = (n: number, estimateUsd = 0): StudyItem => ({
  itemId: `i${n}`,
  runId: `run${n}`,
  templateId: 't1',
  phaseId: 'draft',
  attempt: 1,
  candidates: [
    { candidateId: `run${n}.a`, provider: 'simulated', model: 'a' },
    { candidateId: `run${n}.b`, provider: 'simulated', model: 'b' },
  ],
  old: { winnerId: `run${n}.a`, scores: {}, order: [`run${n}.a`, `run${n}.b`], provider: 'simulated', model: 'j' },
  estimateUsd,
});
const start = (items: StudyItem[], budgetUsd: number | null = null): StudyInput => ({
  type: 'StartStudy',
  studyId: STUDY,
  command: {
    type: 'StartStudy',
    name: null,
    judge: { provider: 'simulated', model: 'j2', rubric: 'reverse' },
    runs: items.map((i) => i.runId),
    phases: null,
    items,
    skipped: { runs: 0, phases: 0, details: [] },
    estimateUsd: items.reduce((n, i) => n + i.estimateUsd, 0),
    budgetUsd,
  } satisfies StartStudy,
});
const verdict = (n: number, attempt = 1, outcome: VerdictResult['outcome'] = { status: 'scored', winnerId: `run${n}.b`, scores: {}, rationale: 'b', order: [`run${n}.b`, `run${n}.a`], tokens: { input: 10, output: 5 }, costUsd: 0.01 }): StudyInput => ({
  type: 'VerdictResult',
  result: {
    type: 'VerdictResult',
    commandId: studyAttemptToken(STUDY, `i${n}`, attempt),
    runId: `study-${STUDY}`,
    phaseId: 'draft',
    attempt,
    attemptToken: studyAttemptToken(STUDY, `i${n}`, attempt),
    workerId: 'w1',
    provider: 'simulated',
    model: 'j2',
    durationMs: 3,
    judgeId: `${STUDY}.i${n}`,
    outcome,
  },
});
const transient = { status: 'failed' as const, error: { code: 'rate_limited', message: '429', retryable: true } };

describe('study decider', () => {
  it('given nothing, when a study starts, then it is recorded and every item is requested under a token of (study, item, attempt)', () => {
    const events = given().when(start([item(1), item(2)]));
    expect(types(events)).toEqual(['StudyStarted', 'StudyJudgeRequested:i1', 'StudyJudgeRequested:i2']);
    expect(events[1]!.data).toEqual({ itemId: 'i1', attempt: 1, attemptToken: 's1.i1.1' });
  });

  it('given a started study, when it is started again (a retried request), then nothing is decided', () => {
    const started = given().when(start([item(1)]));
    expect(given(...started).when(start([item(1)]))).toEqual([]);
  });

  it('given a study with nothing to judge (every run skipped), when it starts, then it completes at once', () => {
    expect(types(given().when(start([])))).toEqual(['StudyStarted', 'StudyCompleted']);
  });

  it(`requests at most ${STUDY_MAX_IN_FLIGHT} items at once and the next one as a verdict comes back`, () => {
    const items = Array.from({ length: STUDY_MAX_IN_FLIGHT + 2 }, (_, i) => item(i + 1));
    const started = given().when(start(items));
    expect(started.filter((e) => e.type === 'StudyJudgeRequested')).toHaveLength(STUDY_MAX_IN_FLIGHT);
    expect(types(given(...started).when(verdict(1)))).toEqual(['StudyVerdictRecorded:i1', `StudyJudgeRequested:i${STUDY_MAX_IN_FLIGHT + 1}`]);
  });

  it('given the last item requested, when its verdict arrives, then it is recorded and the study completes with its cost', () => {
    const started = given().when(start([item(1)]));
    const events = given(...started).when(verdict(1));
    expect(types(events)).toEqual(['StudyVerdictRecorded:i1', 'StudyCompleted']);
    expect(events[1]!.data).toEqual({ judged: 1, failed: 0, costUsd: 0.01 });
  });

  it('given a verdict recorded, when the same result arrives again (at-least-once), then nothing is decided', () => {
    const started = given().when(start([item(1), item(2)]));
    const first = given(...started).when(verdict(1));
    expect(given(...started, ...first).when(verdict(1))).toEqual([]);
  });

  it(`retries a transient failure under a new token, up to ${STUDY_MAX_ATTEMPTS} attempts, then gives the item up`, () => {
    let history = given().when(start([item(1)]));
    for (let attempt = 1; attempt < STUDY_MAX_ATTEMPTS; attempt++) {
      const failed = given(...history).when(verdict(1, attempt, transient));
      expect(types(failed)).toEqual(['StudyItemFailed:i1', 'StudyJudgeRequested:i1']);
      expect(failed[1]!.data).toEqual({ itemId: 'i1', attempt: attempt + 1, attemptToken: `s1.i1.${attempt + 1}` });
      history = [...history, ...failed];
    }
    const last = given(...history).when(verdict(1, STUDY_MAX_ATTEMPTS, transient));
    expect(types(last)).toEqual(['StudyItemFailed:i1', 'StudyCompleted']);
    expect(last[0]!.data).toMatchObject({ final: true });
    expect(last[1]!.data).toEqual({ judged: 0, failed: 1, costUsd: 0 });
  });

  it('given a budget, when the reservations would pass it, then the items beyond it fail as budget_exceeded and are never requested', () => {
    const events = given().when(start([item(1, 0.4), item(2, 0.4), item(3, 0.4)], 1));
    expect(types(events)).toEqual(['StudyStarted', 'StudyJudgeRequested:i1', 'StudyJudgeRequested:i2', 'StudyItemFailed:i3']);
    expect(events[3]!.data).toMatchObject({ final: true, error: { code: 'budget_exceeded' } });
  });

  it('given an item whose candidates are not in its run’s log, when the dispatcher says so, then it fails for good', () => {
    const started = given().when(start([item(1)]));
    const events = given(...started).when({ type: 'ItemUnavailable', itemId: 'i1', attempt: 1, reason: 'gone' });
    expect(types(events)).toEqual(['StudyItemFailed:i1', 'StudyCompleted']);
    expect(events[0]!.data).toMatchObject({ final: true, error: { code: 'candidates_missing', retryable: false } });
  });

  it('folds onto a state without changing it: the state a decision was taken from stays as it was (the service keeps it between decisions)', () => {
    const started = given().when(start([item(1), item(2)]));
    const state = foldStudy(started);
    const snapshot = (s: ReturnType<typeof foldStudy>) => JSON.stringify(s.status === 'none' ? s : { ...s, items: [...s.items] });
    const before = snapshot(state);
    const decided = decideStudy(state, verdict(1));
    const after = foldStudy(decided, state);
    const evolved = decided.reduce(evolveStudy, state);
    expect(snapshot(state)).toBe(before);
    expect(snapshot(after)).toBe(snapshot(evolved));
    expect(after.status === 'running' && [...after.items.values()].map((s) => s.status)).toEqual(['judged', 'requested']);
  });
});
