import type { CandidateResult, TemplateInput } from '@conclave/contracts';
import { decide, IllegalCommandError, UnknownTargetError, type DecidedEvent, type DeciderInput } from './decide';
import { evolve, initialRunState, type ActiveRun, type RunFact, type RunState } from './run-state';
import { at, C, ctx as ctxBase, drive, facts, failEveryTry, generated, given, NOW, ofType, RUN, sim, start, types, verdict as verdictOf } from './__tests__/spec-kit';

const verdictFor = (judgeId: string, phaseId: string, winnerId: string) => verdictOf(judgeId, phaseId, winnerId, { [winnerId]: 0.9 });

/** Human-in-the-loop phases and run controls, given/when/then. */
const stateOf = (history: RunFact[]) => history.reduce<RunState>((s, e) => evolve(s, e), initialRunState()) as ActiveRun;
const cmd = (command: Record<string, unknown>): DeciderInput => ({ type: 'Command', command: { runId: RUN, ...command } as never });
const llm = (id: string, dependsOn: string[] = [], user = `do ${id}`, extra: Record<string, unknown> = {}) => ({ id, kind: 'llm' as const, dependsOn, prompt: { user }, candidates: [sim('m')], ...extra });
const C1 = (phase: string, attempt: number, slot = 0) => `${RUN}.${phase}.${attempt}.c${slot}`;
const resultFor = (candidateId: string, phaseId: string, text: string, attempt = 1) => {
  const r = generated(candidateId, phaseId, text) as { type: 'CandidateResult'; result: CandidateResult };
  return { ...r, result: { ...r.result, attempt, attemptToken: `${candidateId}@1` } } as DeciderInput;
};
const rejectedOutput = (candidateId: string, phaseId: string) => {
  const r = generated(candidateId, phaseId, 'x') as { type: 'CandidateResult'; result: CandidateResult };
  return { ...r, result: { ...r.result, outcome: { status: 'generated', output: { wrong: true }, tokens: { input: 1, output: 1 }, costUsd: 0 } } } as DeciderInput;
};
const expectIllegal = (history: RunFact[], input: DeciderInput, message?: RegExp) => {
  expect(() => given(...history).when(input)).toThrow(IllegalCommandError);
  if (message) expect(() => given(...history).when(input)).toThrow(message);
};

const gated: TemplateInput = {
  name: 'gated',
  inputs: { type: 'object', properties: { idea: { type: 'string' } } },
  phases: [llm('a'), { id: 'g', kind: 'gate', dependsOn: ['a'], message: 'Ship {{inputs.idea}}?' }, llm('b', ['g'])],
};

describe('gate phases', () => {
  const opened = () => drive(start(gated), resultFor(C('a', 0), 'a', 'done'));

  it('opens the gate with its message rendered and waits', () => {
    const { last, history } = opened();
    expect(types(last)).toEqual(['CandidateGenerated:a', 'ArtifactRecorded:a', 'PhaseCompleted:a', 'CheckpointCreated:a', 'PhaseStarted:g', 'GateOpened:g']);
    expect(ofType(last, 'GateOpened')[0]!.data.message).toBe('Ship kites?');
    expect(stateOf(history).status).toBe('waiting');
    expect(stateOf(history).phases.g!.status).toBe('waiting');
  });

  it('continues past an approved gate, recording the decision and the comment', () => {
    const { history } = opened();
    const out = given(...history).when(cmd({ type: 'ApproveGate', phaseId: 'g', comment: 'lgtm' }));
    expect(types(out)).toEqual(['GateApproved:g', 'ArtifactRecorded:g', 'PhaseCompleted:g', 'CheckpointCreated:g', 'PhaseStarted:b', 'CandidateRequested:b']);
    expect(ofType(out, 'ArtifactRecorded')[0]!.data).toMatchObject({ artifactType: 'decision', content: { decision: 'approved', rationale: 'lgtm' } });
  });

  it('fails the phase and the run when the gate is rejected, with the comment as the reason', () => {
    const { history } = opened();
    const out = given(...history).when(cmd({ type: 'RejectGate', phaseId: 'g', comment: 'not yet' }));
    expect(types(out)).toEqual(['GateRejected:g', 'PhaseFailed:g', 'RunFailed']);
    expect(ofType(out, 'PhaseFailed')[0]!.data.reason).toMatchObject({ code: 'gate_rejected', message: 'not yet' });
  });

  it('refuses a decision when the gate is not waiting, on a phase that is not a gate, or on an unknown phase', () => {
    const { history: before } = drive(start(gated));
    expectIllegal(before, cmd({ type: 'ApproveGate', phaseId: 'g' }), /not waiting/);
    const { history } = opened();
    expectIllegal(history, cmd({ type: 'ApproveGate', phaseId: 'a' }), /not a gate/);
    expect(() => given(...history).when(cmd({ type: 'ApproveGate', phaseId: 'zzz' }))).toThrow(UnknownTargetError);
    const approved = [...history, ...facts(given(...history).when(cmd({ type: 'ApproveGate', phaseId: 'g' })))];
    expectIllegal(approved, cmd({ type: 'RejectGate', phaseId: 'g' }));
  });
});

describe('interview phases', () => {
  const interview: TemplateInput = {
    name: 'interview',
    phases: [{ id: 'ask', kind: 'interview', prompt: { user: 'Plan a trip' }, maxQuestions: 2 }, llm('plan', ['ask'], 'Plan with {{answers.ask}}')],
  };
  const asked = () =>
    drive(start(interview), {
      type: 'CandidateResult',
      result: {
        ...(generated(C('ask', 0), 'ask', 'x') as { result: CandidateResult }).result,
        outcome: { status: 'generated', output: { questions: [{ id: 'q1', question: 'Where?' }, { id: 'q2', question: 'When?' }] }, tokens: { input: 1, output: 1 }, costUsd: 0 },
      },
    });

  it('asks an LLM for at most maxQuestions questions', () => {
    const out = given().when(start(interview));
    const req = ofType(out, 'CandidateRequested')[0]!.data;
    expect(req).toMatchObject({ provider: 'simulated', model: 'sim-interviewer', output: { artifact: 'questions' } });
    expect(req.output.schema.properties!.questions!.maxItems).toBe(2);
    expect(req.prompt.user).toContain('Ask at most 2 questions');
  });

  it('records the questions and waits for answers', () => {
    const { last, history } = asked();
    expect(types(last)).toEqual(['CandidateGenerated:ask', 'QuestionsAsked:ask']);
    expect(ofType(last, 'QuestionsAsked')[0]!.data.questions.map((q) => q.question)).toEqual(['Where?', 'When?']);
    expect(stateOf(history).status).toBe('waiting');
  });

  it('completes with questions and answers, and later prompts bind the answers', () => {
    const { history } = asked();
    const out = given(...history).when(cmd({ type: 'SubmitAnswers', phaseId: 'ask', answers: [{ question: 'Where?', answer: 'Lisbon' }, { question: 'When?', answer: 'May' }] }));
    expect(types(out)).toEqual(['AnswersSubmitted:ask', 'ArtifactRecorded:ask', 'PhaseCompleted:ask', 'CheckpointCreated:ask', 'PhaseStarted:plan', 'CandidateRequested:plan']);
    expect(ofType(out, 'ArtifactRecorded')[0]!.data.content).toMatchObject({ answers: [{ answer: 'Lisbon' }, { answer: 'May' }] });
    expect(ofType(out, 'CandidateRequested')[0]!.data.prompt.user).toBe('Plan with Q: Where?\nA: Lisbon\n\nQ: When?\nA: May');
  });

  it('refuses answers before the questions are asked and after they were answered', () => {
    expectIllegal(drive(start(interview)).history, cmd({ type: 'SubmitAnswers', phaseId: 'ask', answers: [{ question: 'x', answer: 'y' }] }), /not waiting for answers/);
    const { history } = asked();
    const answered = [...history, ...facts(given(...history).when(cmd({ type: 'SubmitAnswers', phaseId: 'ask', answers: [{ question: 'Where?', answer: 'L' }] })))];
    expectIllegal(answered, cmd({ type: 'SubmitAnswers', phaseId: 'ask', answers: [{ question: 'Where?', answer: 'L' }] }));
  });
});

describe('condition phases', () => {
  const routed = (expression: unknown): TemplateInput => ({
    name: 'routed',
    inputs: { type: 'object', properties: { big: { type: 'boolean' } } },
    phases: [
      llm('a'),
      { id: 'route', kind: 'condition', dependsOn: ['a'], expression, ifTrue: ['deep'], ifFalse: ['quick'] },
      llm('deep', ['route']),
      llm('deeper', ['deep']),
      llm('quick', ['route']),
      llm('merge', ['deeper', 'quick']),
    ],
  });

  it('evaluates JSON Logic over the inputs and skips the branch not taken with its exclusive descendants', () => {
    const { last } = drive({ ...start(routed({ '==': [{ var: 'inputs.big' }, true] })), inputs: { big: true } }, resultFor(C('a', 0), 'a', 'x'));
    expect(types(last)).toEqual([
      'CandidateGenerated:a', 'ArtifactRecorded:a', 'PhaseCompleted:a', 'CheckpointCreated:a',
      'PhaseStarted:route', 'ConditionEvaluated:route', 'PhaseSkipped:quick',
      'ArtifactRecorded:route', 'PhaseCompleted:route', 'CheckpointCreated:route', 'PhaseStarted:deep', 'CandidateRequested:deep',
    ]);
    expect(ofType(last, 'ConditionEvaluated')[0]!.data).toMatchObject({ result: true, skippedPhaseIds: ['quick'] });
  });

  it('routes on earlier outputs; a phase joining a skipped and a taken branch still runs', () => {
    const { history, last } = drive(start(routed({ in: ['short', { var: 'phases.a.output.text' }] })), resultFor(C('a', 0), 'a', 'a short answer'));
    expect(ofType(last, 'ConditionEvaluated')[0]!.data).toMatchObject({ result: true, skippedPhaseIds: ['quick'] });
    const after = drive(start(routed({ '!': { var: 'inputs.big' } })), resultFor(C('a', 0), 'a', 'x'));
    expect(ofType(after.last, 'ConditionEvaluated')[0]!.data).toMatchObject({ result: true });
    const falsy = drive(start(routed({ '==': [1, 2] })), resultFor(C('a', 0), 'a', 'x'));
    expect(ofType(falsy.last, 'ConditionEvaluated')[0]!.data.skippedPhaseIds).toEqual(['deep', 'deeper']);
    expect(types(falsy.last)).toContain('PhaseStarted:quick');
    void history;
  });
});

describe('pause and resume', () => {
  it('pauses a running run; results still land but nothing new is dispatched', () => {
    const { history } = drive(start(), cmd({ type: 'PauseRun' }), resultFor(C('a', 0), 'a', 'one'), resultFor(C('a', 1), 'a', 'two'), resultFor(C('b', 0), 'b', 'solo'));
    const run = stateOf(history);
    expect(run.status).toBe('paused');
    expect(run.phases.b!.status).toBe('completed'); // in-flight work finished
    expect(run.phases.a!.judges).toEqual([]); // the judge is new work: held
  });

  it('resumes and dispatches what was held', () => {
    const { last } = drive(start(), cmd({ type: 'PauseRun' }), resultFor(C('a', 0), 'a', 'one'), resultFor(C('a', 1), 'a', 'two'), cmd({ type: 'ResumeRun' }));
    expect(types(last)).toEqual(['RunResumed', 'JudgeRequested:a']);
  });

  it('refuses to pause a paused or finished run and to resume a running one', () => {
    const paused = drive(start(), cmd({ type: 'PauseRun' })).history;
    expectIllegal(paused, cmd({ type: 'PauseRun' }), /paused run cannot be paused/);
    expectIllegal(drive(start()).history, cmd({ type: 'ResumeRun' }), /running run cannot be resumed/);
  });
});

describe('cancel', () => {
  it('cancels the run and names the in-flight work to abort', () => {
    const { last, history } = drive(start(), resultFor(C('a', 0), 'a', 'one'), cmd({ type: 'CancelRun', reason: 'wrong idea' }));
    expect(types(last)).toEqual(['RunCancelled']);
    expect(ofType(last, 'RunCancelled')[0]!.data).toEqual({ reason: 'wrong idea', abortedCommandIds: [`${C('a', 1)}@1`, `${C('b', 0)}@1`] });
    expect(stateOf(history).status).toBe('cancelled');
  });

  it('ignores results that arrive after the cancel', () => {
    const { last } = drive(start(), cmd({ type: 'CancelRun' }), resultFor(C('b', 0), 'b', 'late'));
    expect(last).toEqual([]);
  });

  it('refuses to cancel twice', () => {
    expectIllegal(drive(start(), cmd({ type: 'CancelRun' })).history, cmd({ type: 'CancelRun' }), /cancelled run cannot be cancelled/);
  });
});

describe('manual mode and continue', () => {
  const chain: TemplateInput = { name: 'chain', phases: [llm('a'), llm('b', ['a']), llm('c', ['b'])] };

  it('holds each next phase for continue when autoMode is off', () => {
    const { last, history } = drive({ ...start(chain), autoMode: false }, resultFor(C('a', 0), 'a', 'x'));
    expect(types(last)).toEqual(['CandidateGenerated:a', 'ArtifactRecorded:a', 'PhaseCompleted:a', 'CheckpointCreated:a', 'ContinueRequired']);
    expect(ofType(last, 'ContinueRequired')[0]!.data.phaseIds).toEqual(['b']);
    expect(stateOf(history).status).toBe('waiting');
    const out = given(...history).when(cmd({ type: 'ContinueRun' }));
    expect(types(out)).toEqual(['RunContinued', 'PhaseStarted:b', 'CandidateRequested:b']);
  });

  it('holds only the dependents of a phase with autoProceed: false', () => {
    const tpl: TemplateInput = { name: 'p', phases: [llm('a', [], 'a', { autoProceed: false }), llm('b', ['a']), llm('x'), llm('y', ['x'])] };
    const { last } = drive(start(tpl), resultFor(C('x', 0), 'x', 'x'), resultFor(C('a', 0), 'a', 'a'));
    expect(ofType(last, 'ContinueRequired')[0]!.data.phaseIds).toEqual(['b']);
  });

  it('refuses continue when nothing waits for it', () => {
    expectIllegal(drive(start(chain)).history, cmd({ type: 'ContinueRun' }), /no phase is waiting/);
  });
});

describe('retry, skip and accept', () => {
  const failedRun = () => drive(start(), rejectedOutput(C('b', 0), 'b'));

  it('retries a failed phase at once as a new attempt, reviving the run', () => {
    const { history } = failedRun();
    expect(stateOf(history).status).toBe('failed');
    const out = given(...history).when(cmd({ type: 'RetryPhase', phaseId: 'b' }));
    expect(types(out)).toEqual(['PhaseRetryScheduled:b', 'PhaseStarted:b', 'CandidateRequested:b']);
    expect(ofType(out, 'PhaseRetryScheduled')[0]!.data).toMatchObject({ attempt: 2, cause: 'user', notBefore: NOW });
    expect(ofType(out, 'CandidateRequested')[0]!.data).toMatchObject({ attempt: 2, candidateId: C1('b', 2) });
    expect(stateOf([...history, ...facts(out)]).status).toBe('running');
  });

  it('records what work in flight returns while the run is failed, so a retry finds it instead of waiting forever', () => {
    const { history } = failedRun(); // b was rejected while both candidates of a were in flight
    const first = given(...history).when(resultFor(C('a', 0), 'a', 'one'));
    expect(types(first)).toEqual(['CandidateGenerated:a']); // a fact only: nothing is dispatched while failed
    const second = given(...history, ...facts(first)).when(resultFor(C('a', 1), 'a', 'two'));
    expect(types(second)).toEqual(['CandidateGenerated:a']);
    const out = given(...history, ...facts(first), ...facts(second)).when(cmd({ type: 'RetryPhase', phaseId: 'b' }));
    // the revived run moves a on (its judge) as well as retrying b
    expect(types(out)).toEqual(expect.arrayContaining(['PhaseRetryScheduled:b', 'CandidateRequested:b', 'JudgeRequested:a']));
  });

  it('retries on another provider and model', () => {
    const out = given(...failedRun().history).when(cmd({ type: 'RetryPhase', phaseId: 'b', provider: 'openai', model: 'gpt-4.1' }));
    expect(ofType(out, 'CandidateRequested').map((e) => [e.data.provider, e.data.model])).toEqual([['openai', 'gpt-4.1']]);
    expect(ofType(out, 'PhaseStarted')[0]!.data.override).toEqual({ provider: 'openai', model: 'gpt-4.1' });
  });

  it('refuses to retry a phase that has not failed, or with half a model', () => {
    expectIllegal(drive(start()).history, cmd({ type: 'RetryPhase', phaseId: 'a' }), /only a failed phase/);
    expectIllegal(failedRun().history, cmd({ type: 'RetryPhase', phaseId: 'b', provider: 'openai' }), /both provider and model/);
  });

  it('skips a failed phase; its dependents go on', () => {
    const { history } = drive(start(), rejectedOutput(C('b', 0), 'b'), resultFor(C('a', 0), 'a', 'one'), resultFor(C('a', 1), 'a', 'two'));
    const out = given(...history).when(cmd({ type: 'SkipPhase', phaseId: 'b' }));
    expect(types(out)[0]).toBe('PhaseSkipped:b');
    expect(stateOf([...history, ...facts(out)]).status).toBe('running');
  });

  it('skipping a running phase abandons its outstanding candidates', () => {
    const out = given(...drive(start()).history).when(cmd({ type: 'SkipPhase', phaseId: 'a' }));
    expect(types(out)).toEqual(['CandidateFailed:a', 'CandidateFailed:a', 'PhaseSkipped:a']);
    expect(ofType(out, 'CandidateFailed').map((e) => [e.data.error.code, e.data.attemptToken])).toEqual([
      ['cancelled', `${C('a', 0)}@1`],
      ['cancelled', `${C('a', 1)}@1`],
    ]);
  });

  it('refuses to skip a completed phase', () => {
    expectIllegal(drive(start(), resultFor(C('b', 0), 'b', 'x')).history, cmd({ type: 'SkipPhase', phaseId: 'b' }), /already completed/);
  });

  it('accepts a rejected output as it was', () => {
    const out = given(...failedRun().history).when(cmd({ type: 'AcceptOutput', phaseId: 'b' }));
    expect(types(out)).toEqual(['OutputAccepted:b', 'ArtifactRecorded:b', 'PhaseCompleted:b', 'CheckpointCreated:b']);
    expect(ofType(out, 'OutputAccepted')[0]!.data).toMatchObject({ candidateId: C('b', 0), edited: false, output: { wrong: true } });
  });

  it('accepts an edited output in place of the rejected one', () => {
    const out = given(...failedRun().history).when(cmd({ type: 'AcceptOutput', phaseId: 'b', output: { text: 'fixed by hand' } }));
    expect(ofType(out, 'ArtifactRecorded')[0]!.data.content).toEqual({ text: 'fixed by hand' });
    expect(ofType(out, 'OutputAccepted')[0]!.data.edited).toBe(true);
  });

  it('refuses to accept when nothing was rejected', () => {
    expectIllegal(drive(start()).history, cmd({ type: 'AcceptOutput', phaseId: 'a' }), /no rejected output/);
  });
});

describe('checkpoints and rollback', () => {
  const chain: TemplateInput = { name: 'chain', phases: [llm('a'), llm('b', ['a']), llm('c', ['b'])] };
  const done = () => drive(start(chain), resultFor(C('a', 0), 'a', 'A'), resultFor(C('b', 0), 'b', 'B'), resultFor(C('c', 0), 'c', 'C'));

  it('creates a checkpoint at every phase boundary', () => {
    const run = stateOf(done().history);
    expect(run.checkpoints).toEqual([
      { id: 'a@1', phaseId: 'a', completedPhaseIds: ['a'] },
      { id: 'b@1', phaseId: 'b', completedPhaseIds: ['a', 'b'] },
      { id: 'c@1', phaseId: 'c', completedPhaseIds: ['a', 'b', 'c'] },
    ]);
  });

  it('rolls back to a checkpoint by resetting the phases after it (appending, deleting nothing)', () => {
    const { history } = done();
    const out = given(...history).when(cmd({ type: 'RollbackRun', checkpointId: 'a@1' }));
    expect(types(out)).toEqual(['RolledBack', 'PhaseStarted:b', 'CandidateRequested:b']);
    expect(ofType(out, 'RolledBack')[0]!.data.resetPhaseIds).toEqual(['b', 'c']);
    expect(ofType(out, 'CandidateRequested')[0]!.data).toMatchObject({ attempt: 2, prompt: { user: 'do b' } });
  });

  it('completes again after a rollback with an event id of its own (no duplicate-window collision)', () => {
    const { history } = done();
    const rolled = [...history, ...facts(given(...history).when(cmd({ type: 'RollbackRun', checkpointId: 'b@1' })))];
    const again = given(...rolled).when(resultFor(C1('c', 2), 'c', 'C2', 2));
    const [first] = given(...drive(start(chain), resultFor(C('a', 0), 'a', 'A'), resultFor(C('b', 0), 'b', 'B')).history).when(resultFor(C('c', 0), 'c', 'C')).filter((e) => e.type === 'RunCompleted');
    const [second] = again.filter((e) => e.type === 'RunCompleted');
    expect(second).toBeDefined();
    expect(second!.id).not.toBe(first!.id);
  });

  it('refuses an unknown checkpoint and a rollback that changes nothing', () => {
    const { history } = done();
    expect(() => given(...history).when(cmd({ type: 'RollbackRun', checkpointId: 'nope' }))).toThrow(UnknownTargetError);
    expectIllegal(history, cmd({ type: 'RollbackRun', checkpointId: 'c@1' }), /nothing happened after/);
  });
});

describe('fork', () => {
  it('reuses the recorded upstream outputs and runs the rest', () => {
    const chain: TemplateInput = { name: 'chain', phases: [llm('a'), llm('b', ['a'], 'after {{phases.a.output.text}}')] };
    const out = given().when({
      ...start(chain),
      origin: { kind: 'fork', runId: 'source' },
      fork: { sourceRunId: 'source', sourceSequence: 41, fromPhaseId: 'b', reused: [{ phaseId: 'a', artifactId: 'src-art', artifactType: 'text', content: { text: 'from source' } }] },
    });
    expect(types(out)).toEqual([
      'RunStarted', 'RunForked', 'PhaseStarted:a', 'ArtifactRecorded:a', 'PhaseCompleted:a', 'CheckpointCreated:a', 'PhaseStarted:b', 'CandidateRequested:b',
    ]);
    expect(ofType(out, 'ArtifactRecorded')[0]!.data).toMatchObject({ candidateId: null, content: { text: 'from source' } });
    expect(ofType(out, 'CandidateRequested')[0]!.data.prompt.user).toBe('after from source');
    expect(ofType(out, 'RunStarted')[0]!.data.origin).toEqual({ kind: 'fork', runId: 'source' });
  });
});

describe('timeouts', () => {
  const timed: TemplateInput = { name: 't', defaults: { timeoutSeconds: 30, retry: { maxAttempts: 2, backoffSeconds: 1 }, autoProceed: true }, phases: [llm('a')] };

  it('sets each attempt a deadline from the phase timeout', () => {
    expect(ofType(given().when(start(timed)), 'PhaseStarted')[0]!.data.deadline).toBe(at(30_000));
  });

  it('does nothing before the deadline', () => {
    expect(given(...drive(start(timed)).history).when({ type: 'Tick' }, at(29_000))).toEqual([]);
  });

  it('abandons outstanding candidates at the deadline and applies the retry policy', () => {
    const out = given(...drive(start(timed)).history).when({ type: 'Tick' }, at(31_000));
    expect(types(out)).toEqual(['CandidateFailed:a', 'PhaseRetryScheduled:a']);
    expect(ofType(out, 'CandidateFailed')[0]!.data.error).toMatchObject({ code: 'timeout', retryable: true });
    expect(ofType(out, 'PhaseRetryScheduled')[0]!.data.cause).toBe('timeout');
  });

  it('ignores a deadline tick after the phase completed', () => {
    const { history } = drive(start(timed), resultFor(C('a', 0), 'a', 'x'));
    expect(given(...history).when({ type: 'Tick' }, at(60_000))).toEqual([]);
  });
});

describe('provider outages', () => {
  const failing = (candidateId: string, phaseId: string, attempt = 1): DeciderInput => {
    const r = generated(candidateId, phaseId, 'x') as { type: 'CandidateResult'; result: CandidateResult };
    return { ...r, result: { ...r.result, attempt, attemptToken: `${candidateId}@1`, outcome: { status: 'failed', error: { code: 'http_503', message: 'overloaded', retryable: true } } } };
  };

  it('pauses the run with a typed reason after consecutive failures of one provider, and resume retries', () => {
    // each candidate is dropped after its own tries; the third dropped in a row is an outage
    const overloaded = { code: 'http_503', retryable: true };
    const one = failEveryTry([[C('a', 0), 'a'], [C('a', 1), 'a']], overloaded);
    const two = failEveryTry([[C1('a', 2, 0), 'a']], overloaded, one.end + 5_000, 2);
    const { history, last } = drive(start(), ...one.steps, [{ type: 'Tick' }, at(one.end + 5_000)], ...two.steps);
    expect(types(last)).toEqual(['CandidateFailed:a', 'RunPaused']);
    expect(ofType(last, 'RunPaused')[0]!.data.reason).toMatchObject({ code: 'provider_outage', provider: 'simulated' });
    const resumed = given(...history).when(cmd({ type: 'ResumeRun' }), at(two.end + 1_000));
    expect(types(resumed)[0]).toBe('RunResumed');
    expect(stateOf([...history, ...facts(resumed)]).providerFailures).toEqual({});
  });

  it('a success resets the count', () => {
    const { history } = drive(start(), failing(C('a', 0), 'a'), resultFor(C('a', 1), 'a', 'ok'));
    expect(stateOf(history).providerFailures.simulated).toBe(0);
  });
});

describe('budget', () => {
  const priced = { estimateUsd: (provider: string) => (provider === 'paid' ? 0.4 : 0) };
  const paid: TemplateInput = {
    name: 'paid',
    phases: [
      { id: 'a', kind: 'llm', prompt: { user: 'a' }, candidates: [{ provider: 'paid', model: 'p' }, { provider: 'paid', model: 'q' }], judge: { provider: 'simulated', model: 'j' } },
      { id: 'b', kind: 'llm', dependsOn: ['a'], prompt: { user: 'b' }, candidates: [{ provider: 'paid', model: 'p' }] },
    ],
  };
  const decideWith = (history: RunFact[], input: DeciderInput) =>
    decide(history.reduce<RunState>((s, e) => evolve(s, e), initialRunState()), input, { ...ctxBase, ...priced });

  it('reserves the estimated cost before dispatching and pauses instead of exceeding the budget', () => {
    const out = decideWith([], { ...start(paid), budgetUsd: 0.5 });
    expect(types(out)).toEqual(['RunStarted', 'BudgetExceeded:a', 'RunPaused']);
    expect(ofType(out, 'BudgetExceeded')[0]!.data).toMatchObject({ phaseId: 'a', budgetUsd: 0.5, spentUsd: 0, reservedUsd: 0, estimateUsd: 0.8 });
    expect(ofType(out, 'RunPaused')[0]!.data.reason.code).toBe('budget');
  });

  it('dispatches within the budget, alerts at 50/80/100 % as costs settle, and resumes after a raise', () => {
    const started = decideWith([], { ...start(paid), budgetUsd: 1 });
    expect(types(started)).toEqual(['RunStarted', 'PhaseStarted:a', 'CandidateRequested:a', 'CandidateRequested:a']);
    const costly = (candidateId: string, costUsd: number): DeciderInput => {
      const r = generated(candidateId, 'a', 'x') as { type: 'CandidateResult'; result: CandidateResult };
      return { ...r, result: { ...r.result, outcome: { status: 'generated', output: { text: 'x' }, tokens: { input: 1, output: 1 }, costUsd } } };
    };
    let history = facts(started);
    const first = decideWith(history, costly(C('a', 0), 0.55));
    expect(types(first)).toEqual(['CandidateGenerated:a', 'BudgetAlert']);
    expect(ofType(first, 'BudgetAlert')[0]!.data).toMatchObject({ thresholdPct: 50, spentUsd: 0.55 });
    history = [...history, ...facts(first)];
    const second = decideWith(history, costly(C('a', 1), 0.3));
    // 0.85 spent: the 80 % alert, then the judge (free here) picks, and phase b would need 0.4 → pause
    expect(types(second)).toEqual(['CandidateGenerated:a', 'BudgetAlert', 'JudgeRequested:a']);
    history = [...history, ...facts(second)];
    const judged = decideWith(history, verdictFor(`${RUN}.a.1.judge`, 'a', C('a', 0)));
    expect(types(judged)).toEqual(['VerdictRecorded:a', 'ArtifactRecorded:a', 'PhaseCompleted:a', 'CheckpointCreated:a', 'BudgetExceeded:b', 'RunPaused']);
    history = [...history, ...facts(judged)];
    const raised = decideWith(history, cmd({ type: 'RaiseBudget', budgetUsd: 2 }));
    expect(types(raised)).toEqual(['BudgetRaised']);
    history = [...history, ...facts(raised)];
    expect(types(decideWith(history, cmd({ type: 'ResumeRun' })))).toEqual(['RunResumed', 'PhaseStarted:b', 'CandidateRequested:b']);
  });

  it('raises the budget, never lowers it', () => {
    const { history, last } = drive({ ...start(), budgetUsd: 1 }, cmd({ type: 'RaiseBudget', budgetUsd: 5 }));
    expect(types(last)).toEqual(['BudgetRaised']);
    expect(stateOf(history).budgetUsd).toBe(5);
    expectIllegal(history, cmd({ type: 'RaiseBudget', budgetUsd: 2 }), /raise it above/);
  });
});

describe('illegal commands in each state', () => {
  const completed = () => drive(start({ name: 'one', phases: [llm('a')] }), resultFor(C('a', 0), 'a', 'x')).history;
  const cancelled = () => drive(start(), cmd({ type: 'CancelRun' })).history;
  const paused = () => drive(start(), cmd({ type: 'PauseRun' })).history;

  it.each([
    ['completed', completed, { type: 'PauseRun' }],
    ['completed', completed, { type: 'ResumeRun' }],
    ['completed', completed, { type: 'CancelRun' }],
    ['completed', completed, { type: 'ContinueRun' }],
    ['completed', completed, { type: 'RetryPhase', phaseId: 'a' }],
    ['completed', completed, { type: 'SkipPhase', phaseId: 'a' }],
    ['completed', completed, { type: 'AcceptOutput', phaseId: 'a' }],
    ['cancelled', cancelled, { type: 'PauseRun' }],
    ['cancelled', cancelled, { type: 'ResumeRun' }],
    ['cancelled', cancelled, { type: 'RetryPhase', phaseId: 'a' }],
    ['cancelled', cancelled, { type: 'SkipPhase', phaseId: 'a' }],
    ['cancelled', cancelled, { type: 'RollbackRun', checkpointId: 'a@1' }],
    ['paused', paused, { type: 'ContinueRun' }],
    ['paused', paused, { type: 'PauseRun' }],
    ['paused', paused, { type: 'ApproveGate', phaseId: 'a' }],
    ['paused', paused, { type: 'SubmitAnswers', phaseId: 'a', answers: [{ question: 'q', answer: 'a' }] }],
  ])('a %s run refuses %j', (_state, history, command) => {
    expect(() => given(...history()).when(cmd(command))).toThrow(/cannot|not|no |nothing|only|already|paused/);
    expect(() => given(...history()).when(cmd(command))).toThrow(Error);
  });

  it('every command on a run that does not exist is a typed not-found', () => {
    expect(() => given().when(cmd({ type: 'PauseRun' }))).toThrow(UnknownTargetError);
  });

  it('a refused command decides nothing (the error is thrown before any event)', () => {
    const history = completed();
    let out: DecidedEvent[] | undefined;
    try {
      out = given(...history).when(cmd({ type: 'PauseRun' }));
    } catch {
      /* refused */
    }
    expect(out).toBeUndefined();
  });
});

describe('tool phases', () => {
  const tested: TemplateInput = {
    name: 'tested',
    inputs: { type: 'object', properties: { target: { type: 'string' } } },
    phases: [
      { id: 'test', kind: 'tool', tool: { command: 'npm', args: ['test', '--', '{{inputs.target}}'] } },
      { id: 'green', kind: 'condition', dependsOn: ['test'], expression: { '==': [{ var: 'phases.test.output.exitCode' }, 0] }, ifTrue: ['ship'], ifFalse: ['fix'] },
      llm('ship', ['green']),
      llm('fix', ['green']),
    ],
  };
  const token = `${RUN}.test.1.tool@1`;
  const toolResult = (outcome: Record<string, unknown>, attemptToken = token): DeciderInput => ({
    type: 'ToolResult',
    result: { type: 'ToolResult', commandId: attemptToken, runId: RUN, phaseId: 'test', attempt: 1, attemptToken, workerId: 'w', provider: 'tool', model: 'npm', durationMs: 12, outcome } as never,
  });

  it('asks a worker to run the program with its arguments rendered', () => {
    const out = given().when({ ...start(tested), inputs: { target: 'unit' } });
    expect(types(out)).toEqual(['RunStarted', 'PhaseStarted:test', 'ToolRunRequested:test']);
    expect(ofType(out, 'ToolRunRequested')[0]!.data).toMatchObject({ command: 'npm', args: ['test', '--', 'unit'], attemptToken: token });
  });

  it('records exit code and output as the artifact, and a condition routes on the exit code', () => {
    const { last } = drive({ ...start(tested), inputs: { target: 'unit' } }, toolResult({ status: 'completed', exitCode: 1, stdout: '1 failed', stderr: '' }));
    expect(types(last).slice(0, 4)).toEqual(['ToolRunCompleted:test', 'ArtifactRecorded:test', 'PhaseCompleted:test', 'CheckpointCreated:test']);
    expect(ofType(last, 'ArtifactRecorded')[0]!.data.content).toEqual({ exitCode: 1, stdout: '1 failed', stderr: '' });
    expect(ofType(last, 'ConditionEvaluated')[0]!.data).toMatchObject({ result: false, skippedPhaseIds: ['ship'] });
    expect(types(last)).toContain('PhaseStarted:fix');
  });

  it('fails the phase when the tool cannot run (refused program), and refuses a stale result', () => {
    const refusedRun = drive(start(tested), toolResult({ status: 'failed', error: { code: 'tool_refused', message: 'rm is not allowed', retryable: false } }));
    expect(types(refusedRun.last)).toEqual(['ToolRunFailed:test', 'PhaseFailed:test', 'RunFailed']);
    const stale = drive(start(tested), toolResult({ status: 'completed', exitCode: 0, stdout: '', stderr: '' }, `${RUN}.test.1.tool@0`));
    expect(ofType(stale.last, 'ResultRefused')[0]!.data.reason).toBe('stale_token');
  });

  it('abandons a tool run at the phase deadline and names it when the run is cancelled', () => {
    const { history } = drive(start(tested));
    expect(types(given(...history).when({ type: 'Tick' }, at(601_000)))).toEqual(['PhaseRetryScheduled:test']);
    expect(ofType(given(...history).when(cmd({ type: 'CancelRun' })), 'RunCancelled')[0]!.data.abortedCommandIds).toEqual([token]);
  });
});

describe('stalled work', () => {
  it('re-dispatches a stalled candidate under a new attempt token; the old token is then stale', () => {
    const { history, last } = drive(start(), { type: 'Stalled', attemptToken: `${C('b', 0)}@1` });
    expect(types(last)).toEqual(['CandidateRedispatched:b']);
    expect(ofType(last, 'CandidateRedispatched')[0]!.data).toMatchObject({ candidateId: C('b', 0), attemptToken: `${C('b', 0)}@2`, reason: 'stalled' });
    expect(ofType(given(...history).when(resultFor(C('b', 0), 'b', 'late')), 'ResultRefused')[0]!.data.reason).toBe('stale_token');
  });

  it('ignores a stall report for work that already finished or a paused run', () => {
    expect(drive(start(), resultFor(C('b', 0), 'b', 'x'), { type: 'Stalled', attemptToken: `${C('b', 0)}@1` }).last).toEqual([]);
    expect(drive(start(), cmd({ type: 'PauseRun' }), { type: 'Stalled', attemptToken: `${C('b', 0)}@1` }).last).toEqual([]);
  });
});
