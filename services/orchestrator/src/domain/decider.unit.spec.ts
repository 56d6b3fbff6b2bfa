import type { CandidateResult, TemplateInput, VerdictResult } from '@conclave/contracts';
import { IllegalCommandError, type DeciderInput } from './decide';
import { renderText } from './render';
import { evolve, initialRunState, type RunState } from './run-state';
import { at, C, drive, facts, failed, failEveryTry, failedWith, generated, given, ofType, RUN, sim, start, types, verdict } from './__tests__/spec-kit';

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
    expect(types(last)).toEqual(['VerdictRecorded:a', 'ArtifactRecorded:a', 'PhaseCompleted:a', 'CheckpointCreated:a']);
    expect(ofType(last, 'ArtifactRecorded')[0]!.data).toMatchObject({ candidateId: C('a', 1), content: { text: 'two' }, artifactType: 'text' });
  });

  it('accepts a single candidate without a judge call', () => {
    const { last } = drive(start(), generated(C('b', 0), 'b', 'solo'));
    expect(types(last)).toEqual(['CandidateGenerated:b', 'ArtifactRecorded:b', 'PhaseCompleted:b', 'CheckpointCreated:b']);
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
    expect(types(last)).toEqual(['VerdictRecorded:a', 'ArtifactRecorded:a', 'PhaseCompleted:a', 'CheckpointCreated:a', 'PhaseStarted:c', 'CandidateRequested:c']);
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
    expect(types(last)).toEqual(['CandidateGenerated:c', 'ArtifactRecorded:c', 'PhaseCompleted:c', 'CheckpointCreated:c', 'RunCompleted']);
  });

  it('proceeds with the surviving candidate when another fails for good', () => {
    const { last } = drive(start(), failedWith(C('a', 0), 'a', { code: 'bad_request', retryable: false }), generated(C('a', 1), 'a', 'two'));
    expect(types(last)).toEqual(['CandidateGenerated:a', 'ArtifactRecorded:a', 'PhaseCompleted:a', 'CheckpointCreated:a']);
  });

  it('retries a candidate that fails transiently on its own, keeping its sibling, honouring retry-after (issue 11 §6)', () => {
    const limited = failedWith(C('a', 1), 'a', { code: 'rate_limited', retryable: true, retryAfterMs: 30_000 });
    const { history, decided } = drive(start(), generated(C('a', 0), 'a', 'one'), limited);
    const [failure] = ofType(decided[1]!, 'CandidateFailed');
    expect(types(decided[1]!)).toEqual(['CandidateFailed:a']); // no phase retry, no judge yet
    expect(failure!.data.retry).toEqual({ number: 1, of: 2, notBefore: at(30_000) });
    // not before its time; then re-dispatched alone under a new token
    expect(given(...history).when({ type: 'Tick' }, at(10_000))).toEqual([]);
    const due = given(...history).when({ type: 'Tick' }, at(30_000));
    expect(types(due)).toEqual(['CandidateRedispatched:a']);
    expect(ofType(due, 'CandidateRedispatched')[0]!.data).toMatchObject({ candidateId: C('a', 1), attemptToken: `${C('a', 1)}@2`, reason: 'retry' });
    // the retried candidate's result joins the kept sibling's in the comparison
    const after = [...history, ...facts(due)];
    const judged = given(...after).when(generated(C('a', 1), 'a', 'two', { attemptToken: `${C('a', 1)}@2`, commandId: `${C('a', 1)}@2` }), at(31_000));
    expect(types(judged)).toEqual(['CandidateGenerated:a', 'JudgeRequested:a']);
    expect(ofType(judged, 'JudgeRequested')[0]!.data.candidates.map((c) => c.candidateId)).toEqual([C('a', 0), C('a', 1)]);
    expect(ofType(judged, 'JudgeRequested')[0]!.data.missing).toEqual([]);
    // a duplicate of the failed result while the retry waits changes nothing
    expect(given(...history).when(limited, at(5_000))).toEqual([]);
  });

  it('drops a candidate that exhausts its tries, and the verdict names it with the reason', () => {
    const tpl = { name: 'three', inputs: { type: 'object' }, phases: [{ id: 'a', kind: 'llm' as const, prompt: { user: 'x' }, candidates: [sim('m1'), sim('m2'), sim('m3')] }] };
    const { steps, end } = failEveryTry([[C('a', 2), 'a']], { code: 'rate_limited', retryable: true });
    const { decided, last } = drive(start(tpl), generated(C('a', 0), 'a', 'one'), generated(C('a', 1), 'a', 'two'), ...steps);
    expect(ofType(decided.flat(), 'CandidateRedispatched').map((e) => e.data.attemptToken)).toEqual([`${C('a', 2)}@2`, `${C('a', 2)}@3`]);
    expect(types(last)).toEqual(['CandidateFailed:a', 'JudgeRequested:a']);
    expect(ofType(last, 'CandidateFailed')[0]!.data.retry).toBeUndefined();
    const missing = ofType(last, 'JudgeRequested')[0]!.data.missing;
    expect(missing).toEqual([{ candidateId: C('a', 2), provider: 'simulated', model: 'm3', error: expect.objectContaining({ code: 'rate_limited' }) }]);
    const judgeId = ofType(last, 'JudgeRequested')[0]!.data.judgeId;
    const { last: verdictOut } = drive(start(tpl), generated(C('a', 0), 'a', 'one'), generated(C('a', 1), 'a', 'two'), ...steps, [verdict(judgeId, 'a', C('a', 0), { [C('a', 0)]: 0.9, [C('a', 1)]: 0.2 }), at(end)]);
    expect(ofType(verdictOut, 'VerdictRecorded')[0]!.data.missing).toEqual(missing);
  });

  it('re-dispatches at once, without using a try, a candidate whose worker lost its lease', () => {
    const { last } = drive(start(), failedWith(C('a', 0), 'a', { code: 'lease_lost', retryable: true }));
    expect(types(last)).toEqual(['CandidateRedispatched:a']);
    expect(ofType(last, 'CandidateRedispatched')[0]!.data).toMatchObject({ attemptToken: `${C('a', 0)}@2`, reason: 'lease_lost' });
  });

  it('schedules a phase retry with backoff when every candidate exhausts its tries with a retryable error', () => {
    const { steps, end } = failEveryTry([[C('a', 0), 'a'], [C('a', 1), 'a']]);
    const { last } = drive(start(), ...steps);
    expect(types(last)).toEqual(['CandidateFailed:a', 'PhaseRetryScheduled:a']);
    const retry = ofType(last, 'PhaseRetryScheduled')[0]!.data;
    expect(retry).toMatchObject({ attempt: 2, cause: 'policy', override: null });
    const delay = Date.parse(retry.notBefore) - Date.parse(at(end));
    expect(delay).toBeGreaterThanOrEqual(1600); // backoffSeconds 2 × 2^0 × jitter [0.8, 1.2]
    expect(delay).toBeLessThanOrEqual(2400);
  });

  it("honours a provider's retry-after when it asks for longer than the backoff", () => {
    const limited = (slot: number, token: number): DeciderInput => failedWith(C('a', slot), 'a', { code: 'rate_limited', retryable: true, retryAfterMs: 30_000 }, { token });
    const { decided } = drive(start(), limited(0, 1), limited(1, 1));
    expect(ofType(decided.flat(), 'CandidateFailed').map((e) => e.data.retry?.notBefore)).toEqual([at(30_000), at(30_000)]);
    const { last } = drive(start(), limited(0, 1), limited(1, 1), [{ type: 'Tick' }, at(30_000)], [limited(0, 2), at(30_000)], [limited(1, 2), at(30_000)], [{ type: 'Tick' }, at(60_000)], [limited(0, 3), at(60_000)], [limited(1, 3), at(60_000)]);
    expect(ofType(last, 'PhaseRetryScheduled')[0]!.data.notBefore).toBe(at(90_000));
  });

  it('starts the phase retry only when its backoff has elapsed', () => {
    const { steps, end } = failEveryTry([[C('a', 0), 'a'], [C('a', 1), 'a']]);
    const { history } = drive(start(), ...steps);
    expect(given(...history).when({ type: 'Tick' }, at(end + 1000))).toEqual([]);
    const out = given(...history).when({ type: 'Tick' }, at(end + 5000));
    expect(types(out)).toEqual(['PhaseStarted:a', 'CandidateRequested:a', 'CandidateRequested:a']);
    expect(ofType(out, 'CandidateRequested')[0]!.data).toMatchObject({ attempt: 2, candidateId: `${RUN}.a.2.c0`, attemptToken: `${RUN}.a.2.c0@1` });
  });

  it('doubles the backoff on each attempt and fails the run when the attempts are used up', () => {
    // timeouts are retryable but say nothing about the provider, so no outage pause interferes
    const timeout = { code: 'timeout', retryable: true };
    const one = failEveryTry([[`${RUN}.a.1.c0`, 'a'], [`${RUN}.a.1.c1`, 'a']], timeout, 0, 1);
    const two = failEveryTry([[`${RUN}.a.2.c0`, 'a'], [`${RUN}.a.2.c1`, 'a']], timeout, one.end + 10_000, 2);
    const three = failEveryTry([[`${RUN}.a.3.c0`, 'a'], [`${RUN}.a.3.c1`, 'a']], timeout, two.end + 30_000, 3);
    const { decided, last } = drive(start(), ...one.steps, [{ type: 'Tick' }, at(one.end + 10_000)], ...two.steps, [{ type: 'Tick' }, at(two.end + 30_000)], ...three.steps);
    const retries = ofType(decided.flat(), 'PhaseRetryScheduled').map((e) => e.data);
    expect(retries.map((r) => r.attempt)).toEqual([2, 3]);
    expect(Date.parse(retries[1]!.notBefore) - Date.parse(at(two.end))).toBeGreaterThanOrEqual(3200); // 2 s × 2^1 × ≥ 0.8
    expect(types(last)).toEqual(['CandidateFailed:a', 'PhaseFailed:a', 'RunFailed']);
    expect(ofType(last, 'PhaseFailed')[0]!.data.reason.code).toBe('timeout');
  });

  it('fails at once, without retrying, when no failure is retryable', () => {
    const fatal = (slot: number): DeciderInput => {
      const f = failed(C('a', slot), 'a') as { type: 'CandidateResult'; result: CandidateResult };
      return { ...f, result: { ...f.result, outcome: { status: 'failed', error: { code: 'auth_failed', message: 'bad key', retryable: false } } } };
    };
    const { last } = drive(start(), fatal(0), fatal(1));
    expect(types(last)).toEqual(['CandidateFailed:a', 'PhaseFailed:a', 'RunFailed']);
  });

  it('rejects an output that fails the phase schema', () => {
    const bad: DeciderInput = generated(C('b', 0), 'b', 'x');
    if (bad.type === 'CandidateResult' && bad.result.outcome.status === 'generated') bad.result.outcome.output = { nope: 1 };
    const { last } = drive(start(), bad);
    expect(types(last)).toEqual(['OutputRejected:b', 'PhaseFailed:b', 'RunFailed']);
    expect(ofType(last, 'OutputRejected')[0]!.data.errors).toEqual(['(root): must have text']);
  });

  it('turns a worker-side output_invalid into OutputRejected carrying the raw output (as JSON when it parses) and the transcript', () => {
    const ref = { key: `sha256-${'a'.repeat(64)}`, bytes: 120, messages: 4 };
    const invalid = (raw: string): DeciderInput => {
      const f = failed(C('b', 0), 'b') as { type: 'CandidateResult'; result: CandidateResult };
      return { ...f, result: { ...f.result, outcome: { status: 'failed', error: { code: 'output_invalid', message: 'the output does not match the schema: (root): must have text', retryable: false }, raw, transcript: ref, tokens: { input: 5, output: 7 }, costUsd: 0.02 } } };
    };
    const json = drive(start(), invalid('{"nope":1}')).last;
    expect(types(json)).toEqual(['OutputRejected:b', 'PhaseFailed:b', 'RunFailed']);
    expect(ofType(json, 'OutputRejected')[0]!.data).toMatchObject({ raw: { nope: 1 }, errors: ['the output does not match the schema: (root): must have text'], transcript: ref, tokens: { input: 5, output: 7 }, costUsd: 0.02 });
    expect(ofType(drive(start(), invalid('not json at all')).last, 'OutputRejected')[0]!.data.raw).toBe('not json at all');
    // what the rejected call cost counts against the run's budget
    const spent = (history: Parameters<typeof evolve>[1][]) => (history.reduce<RunState>((s, e) => evolve(s, e), initialRunState()) as { spentUsd?: number }).spentUsd;
    expect(spent(drive(start(), invalid('{"nope":1}')).history)).toBeCloseTo(0.02, 9);
  });

  it('keeps the transcript reference of a generated candidate on CandidateGenerated', () => {
    const ref = { key: `sha256-${'b'.repeat(64)}`, bytes: 80, messages: 3 };
    const ok = generated(C('b', 0), 'b', 'fine') as { type: 'CandidateResult'; result: CandidateResult };
    const withRef: DeciderInput = { ...ok, result: { ...ok.result, outcome: { ...ok.result.outcome, transcript: ref } as CandidateResult['outcome'] } };
    expect(ofType(drive(start(), withRef).last, 'CandidateGenerated')[0]!.data.transcript).toEqual(ref);
    expect(ofType(drive(start(), generated(C('b', 0), 'b', 'fine')).last, 'CandidateGenerated')[0]!.data).not.toHaveProperty('transcript');
  });

  it('retries the phase when the judge fails with a retryable error', () => {
    const judgeFail: DeciderInput = {
      type: 'VerdictResult',
      result: { ...(verdict(`${RUN}.a.1.judge`, 'a', 'x', {}) as { result: VerdictResult }).result, outcome: { status: 'failed', error: { code: 'http_429', message: 'slow down', retryable: true } } },
    };
    const { last } = drive(start(), generated(C('a', 0), 'a', 'one'), generated(C('a', 1), 'a', 'two'), judgeFail);
    expect(types(last)).toEqual(['PhaseRetryScheduled:a']);
  });

  it('fails the phase with a typed reason when the judge fails for good', () => {
    const judgeFail: DeciderInput = {
      type: 'VerdictResult',
      result: { ...(verdict(`${RUN}.a.1.judge`, 'a', 'x', {}) as { result: VerdictResult }).result, outcome: { status: 'failed', error: { code: 'auth_failed', message: 'no key', retryable: false } } },
    };
    const { last } = drive(start(), generated(C('a', 0), 'a', 'one'), generated(C('a', 1), 'a', 'two'), judgeFail);
    expect(types(last)).toEqual(['PhaseFailed:a', 'RunFailed']);
    expect(ofType(last, 'PhaseFailed')[0]!.data.reason).toMatchObject({ code: 'judge_failed', message: 'no key' });
  });

  it('treats a judge naming an unknown candidate as a failed, retryable judgement', () => {
    const { last } = drive(start(), generated(C('a', 0), 'a', 'one'), generated(C('a', 1), 'a', 'two'), verdict(`${RUN}.a.1.judge`, 'a', 'ghost', {}));
    expect(types(last)).toEqual(['PhaseRetryScheduled:a']);
  });
});

describe('decider: at-least-once delivery', () => {
  it('ignores a duplicate result', () => {
    const { last } = drive(start(), generated(C('a', 0), 'a', 'one'), generated(C('a', 0), 'a', 'one'));
    expect(last).toEqual([]);
  });

  it('refuses a result carrying a stale attempt token and records it once', () => {
    const stale = generated(C('a', 0), 'a', 'one', { attemptToken: `${C('a', 0)}@0` });
    const { decided } = drive(start(), stale, stale);
    expect(types(decided[0]!)).toEqual(['ResultRefused:a']);
    expect(ofType(decided[0]!, 'ResultRefused')[0]!.data.reason).toBe('stale_token');
    expect(decided[1]).toEqual([]);
  });

  it('refuses a result of an older attempt', () => {
    const old = generated(C('a', 0), 'a', 'one', { attempt: 7 });
    expect(ofType(drive(start(), old).last, 'ResultRefused')[0]!.data.reason).toBe('stale_attempt');
  });

  it('refuses a result for unknown work, and ignores results for a run that does not exist', () => {
    expect(ofType(drive(start(), generated('ghost', 'a', 'x')).last, 'ResultRefused')[0]!.data.reason).toBe('unknown_work');
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
    expect(types(last)).toEqual(['VerdictRecorded:draft', 'ArtifactRecorded:draft', 'PhaseCompleted:draft', 'CheckpointCreated:draft', 'RunCompleted']);
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
    expect(types(last)).toEqual(['VerdictRecorded:draft', 'ArtifactRecorded:draft', 'PhaseCompleted:draft', 'CheckpointCreated:draft', 'RunCompleted']);
    expect(ofType(last, 'ArtifactRecorded')[0]!.data.content).toEqual({ text: 'v1' });
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
