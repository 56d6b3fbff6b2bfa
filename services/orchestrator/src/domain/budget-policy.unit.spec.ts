import type { BudgetRule, TemplateInput } from '@conclave/contracts';
import { decide, type DecidedEvent, type DeciderInput } from './decide';
import { evolve, initialRunState, type ActiveRun, type RunFact, type RunState } from './run-state';
import { C, ctx as ctxBase, facts, generated, ofType, RUN, sim, start, types } from './__tests__/spec-kit';

/**
 * Budgets that steer (ADR 024), given/when/then: a free first phase, then two priced phases. The
 * estimate is 0.10 per call of `paid/p`, 0.08 of `paid/mid`, 0.01 of `paid/cheap`; each result
 * settles 0.01. With a 0.30 budget, phase b's two candidates would bring the reserved spend to
 * (0.01 spent + 0.20) / 0.30 = 70 %.
 */
const ESTIMATES: Record<string, number> = { p: 0.1, mid: 0.08, cheap: 0.01 };
const priced = { estimateUsd: (provider: string, model: string) => (provider === 'paid' ? (ESTIMATES[model] ?? 0) : 0) };
const paid = (model = 'p') => ({ provider: 'paid', model });
const tpl = (budgetPolicy?: BudgetRule[]): TemplateInput => ({
  name: 'steered',
  defaults: { budgetPolicy },
  phases: [
    { id: 'a', kind: 'llm', prompt: { user: 'a' }, candidates: [sim('free')] },
    { id: 'b', kind: 'llm', dependsOn: ['a'], prompt: { user: 'b' }, candidates: [paid(), paid()], judge: { provider: 'paid', model: 'p', criteria: ['depth'] } },
    { id: 'c', kind: 'llm', dependsOn: ['b'], prompt: { user: 'c' }, candidates: [paid(), paid()], judge: { provider: 'paid', model: 'p' } },
  ],
});
const stateOf = (history: RunFact[]) => history.reduce<RunState>((s, e) => evolve(s, e), initialRunState()) as ActiveRun;
const decideWith = (history: RunFact[], input: DeciderInput) => decide(stateOf(history), input, { ...ctxBase, ...priced });

/** given the template (and the run's own policy), when the steps run: every decision, accumulated as history */
function given(template: TemplateInput, runPolicy?: BudgetRule[]) {
  let history: RunFact[] = [];
  const when = (input: DeciderInput) => {
    const out = decideWith(history, input);
    history = [...history, ...facts(out)];
    return out;
  };
  when({ ...start(template), budgetUsd: 0.3, ...(runPolicy ? { budgetPolicy: runPolicy } : {}) });
  return { when, history: () => history };
}
const requested = (events: DecidedEvent[], phaseId: string) => ofType(events, 'CandidateRequested').filter((e) => e.data.phaseId === phaseId);

describe('budget policy: shrink', () => {
  it('given a shrink rule at 50 %, when phase b would bring the reserved spend to 70 %, then b and c run one candidate and no judge', () => {
    const run = given(tpl([{ atPct: 50, action: 'shrink' }]));
    const afterA = run.when(generated(C('a', 0), 'a', 'a done'));
    expect(types(afterA)).toEqual(['CandidateGenerated:a', 'ArtifactRecorded:a', 'PhaseCompleted:a', 'CheckpointCreated:a', 'BudgetPolicyApplied:b', 'PhaseStarted:b', 'CandidateRequested:b']);
    expect(ofType(afterA, 'BudgetPolicyApplied')[0]!.data).toEqual({
      ruleIndex: 0, thresholdPct: 50, action: 'shrink', budgetUsd: 0.3, spentUsd: 0.01, reservedUsd: 0, estimateUsd: 0.2, phaseId: 'b', phaseIds: ['b', 'c'],
    });
    // one candidate wins without a judge; c starts shrunk too
    const afterB = run.when(generated(C('b', 0), 'b', 'b done'));
    expect(types(afterB)).toEqual(['CandidateGenerated:b', 'ArtifactRecorded:b', 'PhaseCompleted:b', 'CheckpointCreated:b', 'PhaseStarted:c', 'CandidateRequested:c']);
    const afterC = run.when(generated(C('c', 0), 'c', 'c done'));
    expect(types(afterC).at(-1)).toBe('RunCompleted');
    expect(ofType(run.history() as DecidedEvent[], 'JudgeRequested')).toEqual([]);
  });

  it('given a shrink rule, when a loop phase is shrunk, then its first round is kept without an evaluation', () => {
    const loopTpl: TemplateInput = {
      name: 'loop',
      defaults: { budgetPolicy: [{ atPct: 10, action: 'shrink' }] },
      phases: [
        { id: 'a', kind: 'llm', prompt: { user: 'a' }, candidates: [sim('free')] },
        { id: 'l', kind: 'loop', dependsOn: ['a'], prompt: { user: 'l' }, candidates: [paid()], loop: { maxAttempts: 3, passThreshold: 0.9, evaluator: { provider: 'paid', model: 'p' } } },
      ],
    };
    const run = given(loopTpl);
    run.when(generated(C('a', 0), 'a', 'a done'));
    const out = run.when(generated(C('l', 0), 'l', 'first draft'));
    expect(types(out)).toEqual(['CandidateGenerated:l', 'ArtifactRecorded:l', 'PhaseCompleted:l', 'CheckpointCreated:l', 'RunCompleted']);
    expect(ofType(out, 'ArtifactRecorded')[0]!.data.content).toEqual({ text: 'first draft' });
  });
});

describe('budget policy: switch', () => {
  it('given a switch rule at 50 %, when b would cross it, then b and c (candidates and judge) use the named cheaper model', () => {
    const run = given(tpl([{ atPct: 50, action: 'switch', model: paid('cheap') }]));
    const afterA = run.when(generated(C('a', 0), 'a', 'a done'));
    expect(types(afterA).slice(4)).toEqual(['BudgetPolicyApplied:b', 'PhaseStarted:b', 'CandidateRequested:b', 'CandidateRequested:b']);
    expect(ofType(afterA, 'BudgetPolicyApplied')[0]!.data).toMatchObject({ action: 'switch', model: { provider: 'paid', model: 'cheap' }, phaseIds: ['b', 'c'], estimateUsd: 0.2 });
    expect(requested(afterA, 'b').map((e) => `${e.data.provider}/${e.data.model}`)).toEqual(['paid/cheap', 'paid/cheap']);
    run.when(generated(C('b', 0), 'b', 'one'));
    const judged = run.when(generated(C('b', 1), 'b', 'two'));
    expect(ofType(judged, 'JudgeRequested')[0]!.data).toMatchObject({ provider: 'paid', model: 'cheap', criteria: ['depth'] });
  });

  it("given a user's retry with a model, then the user's model wins over the switch", () => {
    const run = given(tpl([{ atPct: 50, action: 'switch', model: paid('cheap') }]));
    run.when(generated(C('a', 0), 'a', 'a done'));
    for (const slot of [0, 1]) {
      const r = generated(C('b', slot), 'b', 'x') as Extract<DeciderInput, { type: 'CandidateResult' }>;
      run.when({ ...r, result: { ...r.result, outcome: { status: 'failed', error: { code: 'bad_request', message: 'no', retryable: false } } } });
    }
    const retried = run.when({ type: 'Command', command: { type: 'RetryPhase', runId: RUN, phaseId: 'b', provider: 'simulated', model: 'rescuer' } });
    expect(requested(retried, 'b').map((e) => `${e.data.provider}/${e.data.model}`)).toEqual(['simulated/rescuer']);
  });
});

describe('budget policy: pause', () => {
  it('given a pause rule at 50 %, when b would cross it, then the run pauses with the figures, and resuming dispatches b as planned', () => {
    const run = given(tpl([{ atPct: 50, action: 'pause' }]));
    const afterA = run.when(generated(C('a', 0), 'a', 'a done'));
    expect(types(afterA).slice(4)).toEqual(['BudgetPolicyApplied:b', 'RunPaused']);
    expect(ofType(afterA, 'BudgetPolicyApplied')[0]!.data).toMatchObject({ action: 'pause', phaseIds: [], spentUsd: 0.01, estimateUsd: 0.2 });
    expect(ofType(afterA, 'RunPaused')[0]!.data.reason).toMatchObject({ code: 'budget', message: expect.stringContaining('70.0% of the $0.3 budget (rule at 50%)') });
    expect(stateOf(run.history()).phases.b!.status).toBe('pending');
    // the rule fired once: resuming goes on (0.21 of 0.30 is within the hard cap)
    const resumed = run.when({ type: 'Command', command: { type: 'ResumeRun', runId: RUN } });
    expect(types(resumed)).toEqual(['RunResumed', 'PhaseStarted:b', 'CandidateRequested:b', 'CandidateRequested:b']);
  });
});

describe('budget policy: stop', () => {
  it('given a stop rule at 50 %, when b would cross it, then the run fails with the reason and b is never dispatched', () => {
    const run = given(tpl([{ atPct: 50, action: 'stop' }]));
    const afterA = run.when(generated(C('a', 0), 'a', 'a done'));
    expect(types(afterA).slice(4)).toEqual(['BudgetPolicyApplied:b', 'RunFailed']);
    expect(ofType(afterA, 'RunFailed')[0]!.data).toMatchObject({ phaseId: null, reason: { code: 'budget_stop', retryable: false, message: expect.stringContaining('stopped by the budget policy') } });
    expect(requested(run.history() as DecidedEvent[], 'b')).toEqual([]);
    expect(run.when({ type: 'Tick' })).toEqual([]);
  });

  it('given a phase under way beside, when the stop fires, then its outstanding work is abandoned (its workers are told) and it fails with the run', () => {
    const parallel: TemplateInput = {
      name: 'parallel',
      defaults: { budgetPolicy: [{ atPct: 90, action: 'stop' }] },
      phases: [
        { id: 'x', kind: 'llm', prompt: { user: 'x' }, candidates: [paid()] },
        { id: 'a', kind: 'llm', prompt: { user: 'a' }, candidates: [sim('free')] },
        { id: 'c', kind: 'llm', dependsOn: ['a'], prompt: { user: 'c' }, candidates: [paid(), paid()] },
      ],
    };
    const run = given(parallel);
    // (0.01 spent + 0.10 reserved by x + 0.20 for c) / 0.30 = 103 %
    const out = run.when(generated(C('a', 0), 'a', 'a done'));
    expect(types(out).slice(4)).toEqual(['BudgetPolicyApplied:c', 'CandidateFailed:x', 'PhaseFailed:x', 'RunFailed']);
    expect(ofType(out, 'BudgetPolicyApplied')[0]!.data).toMatchObject({ reservedUsd: 0.1, estimateUsd: 0.2 });
    expect(ofType(out, 'CandidateFailed')[0]!.data.error).toMatchObject({ code: 'cancelled' });
    expect(ofType(out, 'PhaseFailed')[0]!.data.reason).toEqual(ofType(out, 'RunFailed')[0]!.data.reason);
    expect(stateOf(run.history()).phases.x!.status).toBe('failed');
    // a late result of x's abandoned call decides nothing
    expect(types(run.when(generated(C('x', 0), 'x', 'late')))).toEqual([]);
  });
});

describe('budget policy: rules together', () => {
  it('given switch at 50 % and shrink at 55 %, when the switched step still reaches 57 %, then both fire in order before b dispatches', () => {
    const run = given(tpl([{ atPct: 55, action: 'shrink' }, { atPct: 50, action: 'switch', model: paid('mid') }]));
    const afterA = run.when(generated(C('a', 0), 'a', 'a done'));
    expect(types(afterA).slice(4)).toEqual(['BudgetPolicyApplied:b', 'BudgetPolicyApplied:b', 'PhaseStarted:b', 'CandidateRequested:b']);
    const [first, second] = ofType(afterA, 'BudgetPolicyApplied').map((e) => e.data);
    expect(first).toMatchObject({ ruleIndex: 1, action: 'switch', estimateUsd: 0.2 });
    expect(second).toMatchObject({ ruleIndex: 0, action: 'shrink', estimateUsd: 0.16 });
    expect(requested(afterA, 'b').map((e) => e.data.model)).toEqual(['mid']);
  });

  it("given the run's own policy, then it replaces the template's", () => {
    const run = given(tpl([{ atPct: 50, action: 'stop' }]), [{ atPct: 50, action: 'shrink' }]);
    const afterA = run.when(generated(C('a', 0), 'a', 'a done'));
    expect(ofType(afterA, 'BudgetPolicyApplied')[0]!.data.action).toBe('shrink');
    expect(types(afterA)).not.toContain('RunFailed');
  });

  it('given no rule reached, then nothing fires and b dispatches as the template says', () => {
    const run = given(tpl([{ atPct: 90, action: 'shrink' }]));
    const afterA = run.when(generated(C('a', 0), 'a', 'a done'));
    expect(types(afterA).slice(4)).toEqual(['PhaseStarted:b', 'CandidateRequested:b', 'CandidateRequested:b']);
  });

  it('given the recorded events, when each decision is taken again from the events before it, then the same events come out (replay)', () => {
    const run = given(tpl([{ atPct: 50, action: 'switch', model: paid('cheap') }, { atPct: 95, action: 'pause' }]));
    const inputs: DeciderInput[] = [generated(C('a', 0), 'a', 'a'), generated(C('b', 0), 'b', 'b0'), generated(C('b', 1), 'b', 'b1')];
    const decisions = inputs.map((input) => ({ before: run.history(), input, out: run.when(input) }));
    for (const d of decisions) expect(decideWith(d.before, d.input)).toEqual(d.out);
    expect(ofType(run.history() as DecidedEvent[], 'BudgetPolicyApplied')).toHaveLength(1);
  });
});
