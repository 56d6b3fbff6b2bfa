import { Template, type CandidateResult, type TemplateInput, type VerdictResult } from '@conclave/contracts';
import { decide, IllegalCommandError, type DecidedEvent, type DeciderInput } from './decide';
import { evolve, initialRunState, type RunFact, type RunState } from './run-state';
import { renderText } from './render';

/** given(events).when(input) → the decided events (DeciderSpecification, STYLE.md). */
const ctx = { validate: (output: unknown) => (output && typeof output === 'object' && 'text' in output ? [] : ['(root): must have text']) };
const given = (...events: RunFact[]) => ({
  when: (input: DeciderInput) => decide(events.reduce<RunState>((s, e) => evolve(s, e), initialRunState()), input, ctx),
});
const types = (events: DecidedEvent[]) => events.map((e) => ((e.type !== 'RunFailed' && 'phaseId' in e.data ? `${e.type}:${(e.data as { phaseId: string }).phaseId}` : e.type)));
const ofType = <T extends DecidedEvent['type']>(events: DecidedEvent[], type: T) =>
  events.filter((e): e is Extract<DecidedEvent, { type: T }> => e.type === type);

const sim = (model: string) => ({ provider: 'simulated', model });
const pipeline: TemplateInput = {
  name: 'pipe',
  inputs: { type: 'object', properties: { idea: { type: 'string' } }, required: ['idea'] },
  phases: [
    { id: 'a', kind: 'llm', prompt: { user: 'Idea: {{inputs.idea}}' }, candidates: [sim('m1'), sim('m2')], judge: { provider: 'simulated', model: 'j' } },
    { id: 'b', kind: 'llm', prompt: { user: 'Also {{inputs.idea}}' }, candidates: [sim('m1')] },
    { id: 'c', kind: 'llm', dependsOn: ['a', 'b'], prompt: { user: 'From {{phases.a.output.text}}' }, candidates: [sim('m3')] },
  ],
};
const RUN = 'r1';
const start = (tpl: TemplateInput = pipeline): Extract<DeciderInput, { type: 'StartRun' }> => ({
  type: 'StartRun', runId: RUN, templateId: 't1', templateVersion: 1, template: Template.parse(tpl), name: null, inputs: { idea: 'kites' }, autoMode: true, budgetUsd: null,
});
/** Replays a decision's events so the next `given` continues from them. */
const facts = (events: DecidedEvent[]): RunFact[] => events.map(({ id: _id, ...rest }) => rest as RunFact);

const generated = (candidateId: string, phaseId: string, text: string, extra: Partial<CandidateResult> = {}): DeciderInput => ({
  type: 'CandidateResult',
  result: {
    type: 'CandidateResult', commandId: `${candidateId}:x`, runId: RUN, phaseId, attempt: 1, attemptToken: `${candidateId}@1`, workerId: 'w1',
    provider: 'simulated', model: 'm', durationMs: 5, candidateId,
    outcome: { status: 'generated', output: { text }, tokens: { input: 3, output: 4 }, costUsd: 0.01 }, ...extra,
  },
});
const failed = (candidateId: string, phaseId: string): DeciderInput => ({
  type: 'CandidateResult',
  result: {
    type: 'CandidateResult', commandId: `${candidateId}:x`, runId: RUN, phaseId, attempt: 1, attemptToken: `${candidateId}@1`, workerId: 'w1',
    provider: 'simulated', model: 'm', durationMs: 5, candidateId, outcome: { status: 'failed', error: { code: 'http_500', message: 'boom', retryable: true } },
  },
});
const verdict = (judgeId: string, phaseId: string, winnerId: string, scores: Record<string, number>, round = 0): DeciderInput => ({
  type: 'VerdictResult',
  result: {
    type: 'VerdictResult', commandId: `${judgeId}:x`, runId: RUN, phaseId, attempt: 1, attemptToken: `${judgeId}@1`, workerId: 'j1',
    provider: 'simulated', model: 'j', durationMs: 2, judgeId,
    outcome: {
      status: 'scored', winnerId, rationale: `round ${round}: needs more detail`, order: Object.keys(scores), tokens: { input: 1, output: 1 }, costUsd: 0,
      scores: Object.fromEntries(Object.entries(scores).map(([id, overall]) => [id, { overall, criteria: { quality: overall } }])),
    },
  },
});

/** Drive a decision sequence, accumulating every decided event as history. */
function drive(first: DeciderInput, ...inputs: DeciderInput[]) {
  let history = facts(given().when(first));
  const decided: DecidedEvent[][] = [];
  for (const input of inputs) {
    const out = given(...history).when(input);
    decided.push(out);
    history = [...history, ...facts(out)];
  }
  return { history, decided, last: decided[decided.length - 1] ?? [] };
}

const C = (phase: string, slot: number, round = 0) => `${RUN}.${phase}.1${round ? `.r${round}` : ''}.c${slot}`;

describe('decider: starting a run', () => {
  it('starts every root phase in parallel and requests one candidate per slot', () => {
    const out = given().when(start());
    expect(types(out)).toEqual(['RunStarted', 'PhaseStarted:a', 'CandidateRequested:a', 'CandidateRequested:a', 'PhaseStarted:b', 'CandidateRequested:b']);
  });

  it('renders input bindings into the candidate prompt and resolves the output schema', () => {
    const [req] = ofType(given().when(start()), 'CandidateRequested');
    expect(req!.data.prompt.user).toBe('Idea: kites');
    expect(req!.data.output.artifact).toBe('text');
    expect(req!.data.output.schema).toMatchObject({ type: 'object', required: ['text'] });
    expect(req!.data.attemptToken).toBe(`${C('a', 0)}@1`);
    expect(req!.data.timeoutSeconds).toBe(600);
  });

  it('derives event ids from business keys so a repeated decision deduplicates', () => {
    const a = given().when(start());
    const b = given().when(start());
    expect(a.map((e) => e.id)).toEqual(b.map((e) => e.id));
    expect(new Set(a.map((e) => e.id)).size).toBe(a.length);
  });

  it('treats a retried start of the same run as a no-op', () => {
    expect(given(...facts(given().when(start()))).when(start())).toEqual([]);
  });

  it('refuses to start a different run on an existing stream', () => {
    expect(() => given(...facts(given().when(start()))).when({ ...start(), runId: 'other' })).toThrow(IllegalCommandError);
  });
});

describe('decider: candidates and the judge', () => {
  it('waits while a candidate of the phase is still outstanding', () => {
    const { last } = drive(start(), generated(C('a', 0), 'a', 'one'));
    expect(types(last)).toEqual(['CandidateGenerated:a']);
  });

  it('asks the judge once every candidate of a multi-candidate phase is in', () => {
    const { last } = drive(start(), generated(C('a', 0), 'a', 'one'), generated(C('a', 1), 'a', 'two'));
    expect(types(last)).toEqual(['CandidateGenerated:a', 'JudgeRequested:a']);
    const [judge] = ofType(last, 'JudgeRequested');
    expect(judge!.data).toMatchObject({ provider: 'simulated', model: 'j', purpose: 'select', criteria: ['correctness', 'completeness', 'helpfulness'] });
    expect(judge!.data.candidates).toEqual([{ candidateId: C('a', 0), output: { text: 'one' } }, { candidateId: C('a', 1), output: { text: 'two' } }]);
  });

  it("records the judge's winner as the phase artifact and completes the phase", () => {
    const { last } = drive(start(), generated(C('a', 0), 'a', 'one'), generated(C('a', 1), 'a', 'two'), verdict(`${RUN}.a.1.judge`, 'a', C('a', 1), { [C('a', 0)]: 0.5, [C('a', 1)]: 0.9 }));
    expect(types(last)).toEqual(['VerdictRecorded:a', 'ArtifactRecorded:a', 'PhaseCompleted:a']);
    expect(ofType(last, 'ArtifactRecorded')[0]!.data).toMatchObject({ candidateId: C('a', 1), content: { text: 'two' }, artifactType: 'text' });
  });

  it('accepts a single candidate without a judge call', () => {
    const { last } = drive(start(), generated(C('b', 0), 'b', 'solo'));
    expect(types(last)).toEqual(['CandidateGenerated:b', 'ArtifactRecorded:b', 'PhaseCompleted:b']);
  });

  it('starts a phase only when all its dependencies are done, with upstream outputs bound', () => {
    const { last, decided } = drive(
      start(),
      generated(C('b', 0), 'b', 'solo'),
      generated(C('a', 0), 'a', 'one'),
      generated(C('a', 1), 'a', 'two'),
      verdict(`${RUN}.a.1.judge`, 'a', C('a', 0), { [C('a', 0)]: 0.9, [C('a', 1)]: 0.1 }),
    );
    expect(decided[0]!.some((e) => e.type === 'PhaseStarted')).toBe(false);
    expect(types(last)).toEqual(['VerdictRecorded:a', 'ArtifactRecorded:a', 'PhaseCompleted:a', 'PhaseStarted:c', 'CandidateRequested:c']);
    expect(ofType(last, 'CandidateRequested')[0]!.data.prompt.user).toBe('From one');
  });

  it('completes the run when the last phase completes', () => {
    const { last } = drive(
      start(),
      generated(C('b', 0), 'b', 'solo'),
      generated(C('a', 0), 'a', 'one'),
      generated(C('a', 1), 'a', 'two'),
      verdict(`${RUN}.a.1.judge`, 'a', C('a', 0), { [C('a', 0)]: 0.9, [C('a', 1)]: 0.1 }),
      generated(C('c', 0), 'c', 'done'),
    );
    expect(types(last)).toEqual(['CandidateGenerated:c', 'ArtifactRecorded:c', 'PhaseCompleted:c', 'RunCompleted']);
  });

  it('proceeds with the surviving candidate when another fails', () => {
    const { last } = drive(start(), failed(C('a', 0), 'a'), generated(C('a', 1), 'a', 'two'));
    expect(types(last)).toEqual(['CandidateGenerated:a', 'ArtifactRecorded:a', 'PhaseCompleted:a']);
  });

  it('fails the phase and the run when every candidate fails', () => {
    const { last } = drive(start(), failed(C('a', 0), 'a'), failed(C('a', 1), 'a'));
    expect(types(last)).toEqual(['CandidateFailed:a', 'PhaseFailed:a', 'RunFailed']);
    expect(ofType(last, 'PhaseFailed')[0]!.data.reason.code).toBe('all_candidates_failed');
    expect(ofType(last, 'RunFailed')[0]!.data).toMatchObject({ phaseId: 'a' });
  });

  it('rejects an output that fails the phase schema', () => {
    const bad: DeciderInput = generated(C('b', 0), 'b', 'x');
    if (bad.type === 'CandidateResult' && bad.result.outcome.status === 'generated') bad.result.outcome.output = { nope: 1 };
    const { last } = drive(start(), bad);
    expect(types(last)).toEqual(['OutputRejected:b', 'PhaseFailed:b', 'RunFailed']);
    expect(ofType(last, 'OutputRejected')[0]!.data.errors).toEqual(['(root): must have text']);
  });

  it('fails the phase with a typed reason when the judge fails', () => {
    const judgeFail: DeciderInput = {
      type: 'VerdictResult',
      result: { ...(verdict(`${RUN}.a.1.judge`, 'a', 'x', {}) as { result: VerdictResult }).result, outcome: { status: 'failed', error: { code: 'http_429', message: 'slow down', retryable: true } } },
    };
    const { last } = drive(start(), generated(C('a', 0), 'a', 'one'), generated(C('a', 1), 'a', 'two'), judgeFail);
    expect(types(last)).toEqual(['PhaseFailed:a', 'RunFailed']);
    expect(ofType(last, 'PhaseFailed')[0]!.data.reason.code).toBe('judge_failed');
  });

  it('fails the phase when the judge names a candidate that does not exist', () => {
    const { last } = drive(start(), generated(C('a', 0), 'a', 'one'), generated(C('a', 1), 'a', 'two'), verdict(`${RUN}.a.1.judge`, 'a', 'ghost', {}));
    expect(ofType(last, 'PhaseFailed')[0]!.data.reason.message).toContain('unknown candidate ghost');
  });
});

describe('decider: at-least-once delivery', () => {
  it('ignores a duplicate result', () => {
    const { last } = drive(start(), generated(C('a', 0), 'a', 'one'), generated(C('a', 0), 'a', 'one'));
    expect(last).toEqual([]);
  });

  it('ignores a result carrying a stale attempt token', () => {
    const { last } = drive(start(), generated(C('a', 0), 'a', 'one', { attemptToken: `${C('a', 0)}@0` }));
    expect(last).toEqual([]);
  });

  it('ignores a result for an unknown candidate or a finished run', () => {
    expect(drive(start(), generated('ghost', 'a', 'x')).last).toEqual([]);
    expect(given().when(generated(C('a', 0), 'a', 'x'))).toEqual([]);
  });

  it('heals an append cut short: the redelivered input emits the missing follow-ups', () => {
    // the crash happened after CandidateGenerated was appended but before JudgeRequested
    const first = drive(start(), generated(C('a', 0), 'a', 'one'));
    const partial = [...first.history, ...facts(given(...first.history).when(generated(C('a', 1), 'a', 'two')).slice(0, 1))];
    const healed = given(...partial).when(generated(C('a', 1), 'a', 'two'));
    expect(types(healed)).toEqual(['JudgeRequested:a']);
  });

  it('a Reconcile input on a settled run decides nothing', () => {
    const { history } = drive(start(), generated(C('a', 0), 'a', 'one'));
    expect(given(...history).when({ type: 'Reconcile' })).toEqual([]);
  });
});

describe('decider: loop phases (producer → evaluator → reviser)', () => {
  const loopTemplate: TemplateInput = {
    name: 'loop',
    phases: [
      {
        id: 'draft', kind: 'loop', prompt: { user: 'Write a slogan' }, candidates: [sim('writer')],
        loop: { maxAttempts: 3, passThreshold: 0.8, evaluator: { provider: 'simulated', model: 'critic', criteria: ['quality'] } },
      },
    ],
  };
  const evalId = (round: number) => `${RUN}.draft.1${round ? `.r${round}` : ''}.eval`;

  it('sends the producer output to the evaluator', () => {
    const { last } = drive(start(loopTemplate), generated(C('draft', 0), 'draft', 'v0'));
    expect(types(last)).toEqual(['CandidateGenerated:draft', 'JudgeRequested:draft']);
    expect(ofType(last, 'JudgeRequested')[0]!.data).toMatchObject({ purpose: 'evaluate', model: 'critic', criteria: ['quality'], judgeId: evalId(0) });
  });

  it('asks the reviser for another round with the feedback when the score is below the threshold', () => {
    const { last } = drive(start(loopTemplate), generated(C('draft', 0), 'draft', 'v0'), verdict(evalId(0), 'draft', C('draft', 0), { [C('draft', 0)]: 0.5 }));
    expect(types(last)).toEqual(['VerdictRecorded:draft', 'CandidateRequested:draft']);
    const req = ofType(last, 'CandidateRequested')[0]!;
    expect(req.data.round).toBe(1);
    expect(req.data.candidateId).toBe(C('draft', 0, 1));
    expect(req.data.prompt.user).toContain('round 0: needs more detail');
    expect(req.data.prompt.user).toContain('"text": "v0"');
  });

  it('passes on round 2 when the score reaches the threshold', () => {
    const { last } = drive(
      start(loopTemplate),
      generated(C('draft', 0), 'draft', 'v0'),
      verdict(evalId(0), 'draft', C('draft', 0), { [C('draft', 0)]: 0.5 }),
      generated(C('draft', 0, 1), 'draft', 'v1'),
      verdict(evalId(1), 'draft', C('draft', 0, 1), { [C('draft', 0, 1)]: 0.85 }, 1),
    );
    expect(types(last)).toEqual(['VerdictRecorded:draft', 'ArtifactRecorded:draft', 'PhaseCompleted:draft', 'RunCompleted']);
    expect(ofType(last, 'ArtifactRecorded')[0]!.data.content).toEqual({ text: 'v1' });
  });

  it('stops at maxAttempts and keeps the best round', () => {
    const { last } = drive(
      start(loopTemplate),
      generated(C('draft', 0), 'draft', 'v0'),
      verdict(evalId(0), 'draft', C('draft', 0), { [C('draft', 0)]: 0.6 }),
      generated(C('draft', 0, 1), 'draft', 'v1'),
      verdict(evalId(1), 'draft', C('draft', 0, 1), { [C('draft', 0, 1)]: 0.7 }, 1),
      generated(C('draft', 0, 2), 'draft', 'v2'),
      verdict(evalId(2), 'draft', C('draft', 0, 2), { [C('draft', 0, 2)]: 0.65 }, 2),
    );
    expect(types(last)).toEqual(['VerdictRecorded:draft', 'ArtifactRecorded:draft', 'PhaseCompleted:draft', 'RunCompleted']);
    expect(ofType(last, 'ArtifactRecorded')[0]!.data.content).toEqual({ text: 'v1' });
  });
});

describe('decider: phase kinds not yet executable', () => {
  it('fails a gate phase with a typed reason instead of hanging', () => {
    const out = given().when(start({ name: 'g', phases: [{ id: 'ok', kind: 'gate', message: 'Approve?' }] }));
    expect(types(out)).toEqual(['RunStarted', 'PhaseStarted:ok', 'PhaseFailed:ok', 'RunFailed']);
    expect(ofType(out, 'PhaseFailed')[0]!.data.reason.code).toBe('unsupported_phase_kind');
  });
});

describe('renderText', () => {
  const context = { inputs: { idea: 'kites', n: 3 }, phases: { spec: { output: { title: 'T', steps: [{ id: 's1' }] } } }, answers: {} };
  it.each([
    ['{{inputs.idea}}', 'kites'],
    ['{{ inputs.n }}', '3'],
    ['{{phases.spec.output.title}}', 'T'],
    ['{{phases.spec.output.steps.0.id}}', 's1'],
    ['{{inputs.missing}}', ''],
    ['no bindings', 'no bindings'],
  ])('renders %s as %s', (text, expected) => {
    expect(renderText(text, context)).toBe(expected);
  });
  it('renders structured values as JSON', () => {
    expect(JSON.parse(renderText('{{phases.spec.output}}', context))).toEqual(context.phases.spec.output);
  });
});
