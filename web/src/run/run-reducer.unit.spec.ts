import { Template, type RunView, type SocketEvent } from '@conclave/contracts';
import { applyRunEvent, applyRunEvents, emptyRunView, foldRunEvent } from './run-reducer';
import { pendingPhases } from './pending-phases';

const RUN = 'run1';
const T0 = Date.parse('2025-01-01T10:00:00.000Z');
const at = (s: number) => new Date(T0 + s * 1000).toISOString();

const template = Template.parse({
  name: 'feature-pipeline',
  inputs: { type: 'object', properties: { idea: { type: 'string' } }, required: ['idea'] },
  phases: [
    {
      id: 'discovery',
      name: 'Discovery',
      kind: 'llm',
      prompt: { user: 'Idea: {{inputs.idea}}' },
      candidates: [
        { provider: 'simulated', model: 'sim-a' },
        { provider: 'openai', model: 'gpt-4.1' },
      ],
      judge: { provider: 'simulated', model: 'sim-judge', criteria: ['correctness', 'completeness'] },
      output: { artifact: 'spec' },
    },
    { id: 'review', kind: 'gate', dependsOn: ['discovery'], message: 'Approve?' },
    { id: 'plan', kind: 'llm', dependsOn: ['discovery'], prompt: { user: 'Plan {{phases.discovery.output.title}}' }, candidates: [{ provider: 'simulated', model: 'sim' }] },
  ],
});

const cid = (phase: string, attempt: number, slot: number) => `${RUN}.${phase}.${attempt}.c${slot}`;

/** A small event factory: sequences are the log's (global, so gaps between a run's events are normal). */
function ev(sequence: number, type: string, data: unknown, second = sequence): SocketEvent {
  return { sequence, type, runId: RUN, occurredAt: at(second), data };
}

const prompt = { user: 'Idea: x' };
const output = { artifact: 'spec' as const, schema: { type: 'object' as const } };
const requested = (seq: number, phaseId: string, attempt: number, slot: number, provider: string, model: string) =>
  ev(seq, 'CandidateRequested', {
    phaseId,
    attempt,
    candidateId: cid(phaseId, attempt, slot),
    slot,
    provider,
    model,
    prompt,
    output,
    attemptToken: `tok-${seq}`,
    timeoutSeconds: 600,
  });
const generated = (seq: number, phaseId: string, attempt: number, slot: number, costUsd: number, tokens = { input: 100, output: 50 }) =>
  ev(seq, 'CandidateGenerated', {
    phaseId,
    attempt,
    candidateId: cid(phaseId, attempt, slot),
    output: { title: `t${slot}` },
    tokens,
    costUsd,
    durationMs: 1200 + slot,
    workerId: 'w1',
  });

const runStarted = ev(10, 'RunStarted', {
  runId: RUN,
  templateId: 'tpl1',
  templateVersion: 2,
  template,
  name: 'My run',
  inputs: { idea: 'x' },
  autoMode: true,
  budgetUsd: null,
});

/** The RunView the gateway would serve right after RunStarted. */
function restView(): RunView {
  return applyRunEvent(emptyRunView(RUN), runStarted);
}

const phase = (view: RunView, id: string) => {
  const p = view.phases.find((x) => x.id === id);
  if (!p) throw new Error(`no phase ${id}`);
  return p;
};

describe('run reducer', () => {
  it('builds pending phases and run metadata from RunStarted', () => {
    const view = restView();
    expect(view).toMatchObject({
      id: RUN,
      name: 'My run',
      templateId: 'tpl1',
      templateVersion: 2,
      templateName: 'feature-pipeline',
      status: 'running',
      inputs: { idea: 'x' },
      startedAt: at(10),
      sequence: 10,
    });
    expect(view.phases.map((p) => [p.id, p.kind, p.status, p.dependsOn])).toEqual([
      ['discovery', 'llm', 'pending', []],
      ['review', 'gate', 'pending', ['discovery']],
      ['plan', 'llm', 'pending', ['discovery']],
    ]);
    expect(phase(view, 'discovery').name).toBe('Discovery');
    expect(phase(view, 'review').name).toBeNull();
  });

  it('keeps the phases of a REST view when RunStarted is folded on top of one', () => {
    const base: RunView = { ...emptyRunView(RUN), phases: pendingPhases(template).map((p) => ({ ...p, costUsd: 1 })) };
    const view = applyRunEvent(base, runStarted);
    expect(view.phases.every((p) => p.costUsd === 1)).toBe(true);
  });

  it('starts a phase: running, attempt, startedAt, currentPhases', () => {
    const view = applyRunEvent(restView(), ev(12, 'PhaseStarted', { phaseId: 'discovery', attempt: 1 }));
    expect(phase(view, 'discovery')).toMatchObject({ status: 'running', attempt: 1, startedAt: at(12), completedAt: null });
    expect(view.currentPhases).toEqual(['discovery']);
    expect(view.sequence).toBe(12);
  });

  it('tracks candidates side by side in slot order with their cost, tokens and output', () => {
    const view = applyRunEvents(restView(), [
      ev(12, 'PhaseStarted', { phaseId: 'discovery', attempt: 1 }),
      requested(14, 'discovery', 1, 1, 'openai', 'gpt-4.1'),
      requested(13, 'discovery', 1, 0, 'simulated', 'sim-a'),
      generated(20, 'discovery', 1, 1, 0.02, { input: 300, output: 200 }),
      generated(21, 'discovery', 1, 0, 0.01),
    ]);
    const p = phase(view, 'discovery');
    expect(p.candidates.map((c) => [c.slot, c.provider, c.model, c.status])).toEqual([
      [0, 'simulated', 'sim-a', 'generated'],
      [1, 'openai', 'gpt-4.1', 'generated'],
    ]);
    expect(p.candidates[1]).toMatchObject({ costUsd: 0.02, durationMs: 1201, tokens: { input: 300, output: 200 }, output: { title: 't1' } });
    expect(p.costUsd).toBeCloseTo(0.03);
    expect(p.tokens).toEqual({ input: 400, output: 250 });
    expect(view.costUsd).toBeCloseTo(0.03);
    expect(view.tokens).toEqual({ input: 400, output: 250 });
  });

  it('records failed and rejected candidates with their error', () => {
    const view = applyRunEvents(restView(), [
      ev(12, 'PhaseStarted', { phaseId: 'discovery', attempt: 1 }),
      requested(13, 'discovery', 1, 0, 'simulated', 'sim-a'),
      requested(14, 'discovery', 1, 1, 'openai', 'gpt-4.1'),
      ev(15, 'CandidateFailed', { phaseId: 'discovery', attempt: 1, candidateId: cid('discovery', 1, 1), error: { code: 'provider', message: 'rate limited', retryable: true }, durationMs: 30 }),
      ev(16, 'OutputRejected', { phaseId: 'discovery', attempt: 1, candidateId: cid('discovery', 1, 0), errors: ['title: required', 'summary: required'], raw: { nope: 1 } }),
    ]);
    const [c0, c1] = phase(view, 'discovery').candidates;
    expect(c1).toMatchObject({ status: 'failed', durationMs: 30, error: { code: 'provider', message: 'rate limited' } });
    expect(c0).toMatchObject({ status: 'rejected', output: { nope: 1 }, error: { code: 'output_rejected', message: 'title: required; summary: required' } });
  });

  it('records the verdict, the judge spend, the artifact, and completes the phase', () => {
    const view = applyRunEvents(restView(), [
      ev(12, 'PhaseStarted', { phaseId: 'discovery', attempt: 1 }),
      requested(13, 'discovery', 1, 0, 'simulated', 'sim-a'),
      requested(14, 'discovery', 1, 1, 'openai', 'gpt-4.1'),
      generated(15, 'discovery', 1, 0, 0.01),
      generated(16, 'discovery', 1, 1, 0.02),
      ev(17, 'JudgeRequested', {
        phaseId: 'discovery',
        attempt: 1,
        judgeId: `${RUN}.discovery.1.judge`,
        provider: 'simulated',
        model: 'sim-judge',
        criteria: ['correctness'],
        candidates: [
          { candidateId: cid('discovery', 1, 0), output: {} },
          { candidateId: cid('discovery', 1, 1), output: {} },
        ],
        attemptToken: 'j',
      }),
      ev(18, 'VerdictRecorded', {
        phaseId: 'discovery',
        attempt: 1,
        judgeId: `${RUN}.discovery.1.judge`,
        winnerId: cid('discovery', 1, 1),
        scores: {
          [cid('discovery', 1, 0)]: { overall: 0.4, criteria: { correctness: 0.4 } },
          [cid('discovery', 1, 1)]: { overall: 0.9, criteria: { correctness: 0.9 } },
        },
        rationale: 'B is more complete',
        order: [cid('discovery', 1, 1), cid('discovery', 1, 0)],
        provider: 'simulated',
        model: 'sim-judge',
        tokens: { input: 10, output: 5 },
        costUsd: 0.005,
      }),
      ev(19, 'ArtifactRecorded', { artifactId: 'art-1', phaseId: 'discovery', attempt: 1, candidateId: cid('discovery', 1, 1), artifactType: 'spec', content: { title: 't1' } }),
      ev(20, 'PhaseCompleted', { phaseId: 'discovery', attempt: 1, artifactId: 'art-1' }),
    ]);
    const p = phase(view, 'discovery');
    expect(p.verdict).toEqual({
      winnerId: cid('discovery', 1, 1),
      scores: {
        [cid('discovery', 1, 0)]: { overall: 0.4, criteria: { correctness: 0.4 } },
        [cid('discovery', 1, 1)]: { overall: 0.9, criteria: { correctness: 0.9 } },
      },
      rationale: 'B is more complete',
      missing: [],
      judge: { provider: 'simulated', model: 'sim-judge', tokens: { input: 10, output: 5 }, costUsd: 0.005 },
    });
    expect(p).toMatchObject({ status: 'completed', artifactId: 'art-1', completedAt: at(20) });
    expect(p.costUsd).toBeCloseTo(0.035);
    expect(p.tokens).toEqual({ input: 210, output: 105 });
    expect(view.costUsd).toBeCloseTo(0.035);
    expect(view.currentPhases).toEqual([]);
  });

  it('fails and skips phases, removing them from currentPhases', () => {
    const view = applyRunEvents(restView(), [
      ev(12, 'PhaseStarted', { phaseId: 'discovery', attempt: 1 }),
      ev(13, 'PhaseStarted', { phaseId: 'plan', attempt: 1 }),
      ev(14, 'PhaseFailed', { phaseId: 'plan', attempt: 1, reason: { code: 'timeout', message: 'took too long' } }),
      ev(15, 'PhaseSkipped', { phaseId: 'review', reason: 'branch not taken' }),
    ]);
    expect(phase(view, 'plan')).toMatchObject({ status: 'failed', error: { code: 'timeout', message: 'took too long' }, completedAt: at(14) });
    expect(phase(view, 'review')).toMatchObject({ status: 'skipped' });
    expect(view.currentPhases).toEqual(['discovery']);
  });

  it('starts a retry attempt clean but keeps the spend of earlier attempts', () => {
    const view = applyRunEvents(restView(), [
      ev(12, 'PhaseStarted', { phaseId: 'plan', attempt: 1 }),
      requested(13, 'plan', 1, 0, 'simulated', 'sim'),
      generated(14, 'plan', 1, 0, 0.01),
      ev(15, 'OutputRejected', { phaseId: 'plan', attempt: 1, candidateId: cid('plan', 1, 0), errors: ['bad'], raw: {} }),
      ev(16, 'PhaseStarted', { phaseId: 'plan', attempt: 2 }),
      requested(17, 'plan', 2, 0, 'simulated', 'sim'),
    ]);
    const p = phase(view, 'plan');
    expect(p).toMatchObject({ status: 'running', attempt: 2, verdict: null, artifactId: null, error: null });
    expect(p.candidates.map((c) => [c.id, c.status])).toEqual([[cid('plan', 2, 0), 'requested']]);
    expect(p.costUsd).toBeCloseTo(0.01);
  });

  it('ignores results of an earlier attempt', () => {
    const view = applyRunEvents(restView(), [
      ev(12, 'PhaseStarted', { phaseId: 'plan', attempt: 2 }),
      generated(13, 'plan', 1, 0, 0.5),
    ]);
    expect(phase(view, 'plan')).toMatchObject({ attempt: 2, candidates: [], costUsd: 0 });
    expect(view.costUsd).toBe(0);
    expect(view.sequence).toBe(13);
  });

  it('completes and fails runs', () => {
    const started = applyRunEvent(restView(), ev(12, 'PhaseStarted', { phaseId: 'discovery', attempt: 1 }));
    const completed = applyRunEvent(started, ev(30, 'RunCompleted', {}));
    expect(completed).toMatchObject({ status: 'completed', completedAt: at(30), currentPhases: [] });
    const failed = applyRunEvent(started, ev(31, 'RunFailed', { reason: { code: 'budget', message: 'out of money' }, phaseId: 'discovery' }));
    expect(failed).toMatchObject({ status: 'failed', completedAt: at(31), currentPhases: [], error: { code: 'budget', message: 'out of money' } });
  });

  describe('per-candidate retries (issue 11 §6)', () => {
    const RATE_LIMITED = { code: 'rate_limited', message: '429 Too Many Requests', retryable: true, retryAfterMs: 20_000 };
    const failed = (seq: number, slot: number, extra: object = {}) =>
      ev(seq, 'CandidateFailed', { phaseId: 'discovery', attempt: 1, candidateId: cid('discovery', 1, slot), attemptToken: `t${seq}`, error: RATE_LIMITED, durationMs: 40, workerId: 'w1', ...extra });
    const redispatched = (seq: number, slot: number) =>
      ev(seq, 'CandidateRedispatched', { phaseId: 'discovery', attempt: 1, candidateId: cid('discovery', 1, slot), attemptToken: `t${seq}`, reason: 'retry' });
    const started = [ev(12, 'PhaseStarted', { phaseId: 'discovery', attempt: 1 }), requested(13, 'discovery', 1, 0, 'simulated', 'sim-a'), requested(14, 'discovery', 1, 1, 'openai', 'gpt-4.1')];

    it('keeps a candidate whose retry is scheduled outstanding, with its error and retry, and charges the failed try', () => {
      const view = applyRunEvents(restView(), [
        ...started,
        failed(15, 1, { tokens: { input: 10, output: 0 }, costUsd: 0.0625, retry: { number: 1, of: 2, notBefore: at(75) } }),
      ]);
      const p = phase(view, 'discovery');
      expect(p.candidates[1]).toMatchObject({
        status: 'requested',
        error: { code: 'rate_limited', message: '429 Too Many Requests' },
        retry: { number: 1, of: 2, notBefore: at(75) },
        costUsd: 0.0625,
        tokens: { input: 10, output: 0 },
      });
      expect(p.status).toBe('running');
      expect(p.costUsd).toBe(0.0625);
      expect(view.costUsd).toBe(0.0625);
      expect(view.tokens).toEqual({ input: 10, output: 0 });
    });

    it('clears the retry on re-dispatch and adds the successful call to what the failed try cost', () => {
      const waiting = applyRunEvents(restView(), [...started, failed(15, 1, { costUsd: 0.0625, tokens: { input: 10, output: 0 }, retry: { number: 1, of: 2, notBefore: at(75) } })]);
      const again = applyRunEvent(waiting, redispatched(75, 1));
      expect(phase(again, 'discovery').candidates[1]).toMatchObject({ status: 'requested', error: null, retry: null, costUsd: 0.0625 });
      const done = applyRunEvent(again, generated(80, 'discovery', 1, 1, 0.5));
      expect(phase(done, 'discovery').candidates[1]).toMatchObject({ status: 'generated', error: null, retry: null, costUsd: 0.5625, tokens: { input: 110, output: 50 } });
      expect(phase(done, 'discovery').costUsd).toBe(0.5625);
      expect(done.costUsd).toBe(0.5625);
    });

    it('drops a candidate that exhausts its tries: failed with its reason, no retry', () => {
      const view = applyRunEvents(restView(), [
        ...started,
        failed(15, 1, { retry: { number: 1, of: 1, notBefore: at(30) } }),
        redispatched(30, 1),
        failed(31, 1),
      ]);
      expect(phase(view, 'discovery').candidates[1]).toMatchObject({ status: 'failed', error: { code: 'rate_limited', message: '429 Too Many Requests' }, retry: null });
    });

    it('records which candidates the verdict went without, and why', () => {
      const missing = [{ candidateId: cid('discovery', 1, 1), provider: 'openai', model: 'gpt-4.1', error: RATE_LIMITED }];
      const verdict = (seq: number, extra: object) =>
        ev(seq, 'VerdictRecorded', {
          phaseId: 'discovery',
          attempt: 1,
          judgeId: 'j',
          winnerId: cid('discovery', 1, 0),
          scores: { [cid('discovery', 1, 0)]: { overall: 0.7, criteria: { correctness: 0.7 } } },
          rationale: 'only one',
          order: [cid('discovery', 1, 0)],
          provider: 'simulated',
          model: 'sim-judge',
          tokens: { input: 1, output: 1 },
          costUsd: 0,
          ...extra,
        });
      const base = applyRunEvents(restView(), [...started, generated(15, 'discovery', 1, 0, 0.01), failed(16, 1)]);
      expect(phase(applyRunEvent(base, verdict(17, { missing })), 'discovery').verdict!.missing).toEqual(missing);
      // a verdict recorded before `missing` existed went without none
      expect(phase(applyRunEvent(base, verdict(17, {})), 'discovery').verdict!.missing).toEqual([]);
    });
  });

  describe('idempotence', () => {
    const events = [
      ev(12, 'PhaseStarted', { phaseId: 'discovery', attempt: 1 }),
      requested(13, 'discovery', 1, 0, 'simulated', 'sim-a'),
      generated(15, 'discovery', 1, 0, 0.01),
      ev(20, 'PhaseCompleted', { phaseId: 'discovery', attempt: 1, artifactId: null }),
    ];

    it('applying an event twice is the same as once (and returns the same object)', () => {
      const once = applyRunEvents(restView(), events);
      for (const e of events) expect(applyRunEvent(once, e)).toBe(once);
      expect(applyRunEvents(once, events)).toBe(once);
    });

    it('a replayed, duplicated, shuffled batch folds to the same state', () => {
      const once = applyRunEvents(restView(), events);
      const messy = applyRunEvents(restView(), [events[3]!, events[1]!, events[0]!, events[1]!, events[2]!, events[3]!]);
      expect(messy).toEqual(once);
    });

    it('ignores events at or below the REST view sequence', () => {
      const view: RunView = { ...restView(), sequence: 15 };
      const result = foldRunEvent(view, generated(15, 'discovery', 1, 0, 0.01));
      expect(result.outcome).toBe('stale');
      expect(result.view).toBe(view);
      expect(foldRunEvent(view, events[0]!).outcome).toBe('stale');
    });

    it('ignores another run’s events', () => {
      const view = restView();
      const foreign = { ...events[0]!, runId: 'other' };
      expect(foldRunEvent(view, foreign)).toEqual({ view, outcome: 'foreign' });
    });
  });

  it('advances the sequence on an unknown type and reports it so the caller refetches', () => {
    const view = restView();
    const result = foldRunEvent(view, ev(40, 'SomethingFromTheFuture', { phaseId: 'review' }));
    expect(result.outcome).toBe('unknown');
    expect(result.view.sequence).toBe(40);
    expect(result.view.phases).toBe(view.phases);
  });

  it('advances the sequence on data that breaks the contract, without changing state', () => {
    const view = restView();
    const result = foldRunEvent(view, ev(41, 'PhaseStarted', { phaseId: 'discovery' }));
    expect(result.outcome).toBe('invalid');
    expect(result.view).toEqual({ ...view, sequence: 41 });
  });

  it('ignores events about phases the view does not have', () => {
    const view = restView();
    const next = applyRunEvent(view, ev(42, 'PhaseStarted', { phaseId: 'ghost', attempt: 1 }));
    expect(next.phases).toBe(view.phases);
    expect(next.currentPhases).toEqual([]);
  });

  it('orders loop candidates by round, then slot, and keeps the order when one is updated', () => {
    const r1 = `${RUN}.plan.1.r1.c0`;
    const view = applyRunEvents(restView(), [
      ev(12, 'PhaseStarted', { phaseId: 'plan', attempt: 1 }),
      requested(13, 'plan', 1, 0, 'simulated', 'sim'),
      ev(14, 'CandidateRequested', { ...(requested(14, 'plan', 1, 0, 'simulated', 'sim').data as object), round: 1, candidateId: r1 }),
      generated(15, 'plan', 1, 0, 0.01),
    ]);
    expect(phase(view, 'plan').candidates.map((c) => [c.id, c.status])).toEqual([
      [cid('plan', 1, 0), 'generated'],
      [r1, 'requested'],
    ]);
  });

  it('creates a placeholder for a result whose request it never saw', () => {
    const view = applyRunEvents(restView(), [ev(12, 'PhaseStarted', { phaseId: 'discovery', attempt: 1 }), generated(13, 'discovery', 1, 3, 0.01)]);
    expect(phase(view, 'discovery').candidates).toEqual([
      expect.objectContaining({ id: cid('discovery', 1, 3), slot: 3, status: 'generated', costUsd: 0.01 }),
    ]);
  });

  describe('human-in-the-loop and controls', () => {
    const started = () => applyRunEvents(restView(), [ev(11, 'PhaseStarted', { phaseId: 'review', attempt: 1 })]);

    it('opens a gate: phase and run wait, the gate is pending; approving clears it', () => {
      const open = applyRunEvent(started(), ev(12, 'GateOpened', { phaseId: 'review', attempt: 1, message: 'Approve?' }));
      expect(open.status).toBe('waiting');
      expect(phase(open, 'review').status).toBe('waiting');
      expect(open.pending.gates).toEqual([{ phaseId: 'review', message: 'Approve?' }]);
      const approved = applyRunEvent(open, ev(13, 'GateApproved', { phaseId: 'review', attempt: 1, comment: 'ok' }));
      expect(approved.status).toBe('running');
      expect(approved.pending.gates).toEqual([]);
      expect(phase(approved, 'review').status).toBe('running');
      const rejected = applyRunEvent(open, ev(13, 'GateRejected', { phaseId: 'review', attempt: 1, comment: null }));
      expect(rejected.pending.gates).toEqual([]);
    });

    it('asks questions and clears them on answers', () => {
      const questions = [{ id: 'q1', question: 'Who is it for?' }];
      const asked = applyRunEvent(started(), ev(12, 'QuestionsAsked', { phaseId: 'review', attempt: 1, questions }));
      expect(asked.status).toBe('waiting');
      expect(asked.pending.questions).toEqual([{ phaseId: 'review', questions }]);
      const answered = applyRunEvent(asked, ev(13, 'AnswersSubmitted', { phaseId: 'review', attempt: 1, answers: [{ question: 'Who is it for?', answer: 'devs' }] }));
      expect(answered.status).toBe('running');
      expect(answered.pending.questions).toEqual([]);
    });

    it('tracks manual continues', () => {
      const waiting = applyRunEvent(restView(), ev(12, 'ContinueRequired', { phaseIds: ['discovery', 'plan'] }));
      expect(waiting.status).toBe('waiting');
      expect(waiting.pending.continue).toEqual(['discovery', 'plan']);
      const partly = applyRunEvent(waiting, ev(13, 'RunContinued', { phaseIds: ['discovery'] }));
      expect(partly.pending.continue).toEqual(['plan']);
      expect(partly.status).toBe('waiting');
      expect(applyRunEvent(partly, ev(14, 'RunContinued', { phaseIds: ['plan'] })).status).toBe('running');
    });

    it('pauses with a reason and resumes to waiting when something is still pending', () => {
      const reason = { code: 'budget', message: 'Budget exceeded' };
      const paused = applyRunEvents(restView(), [ev(12, 'ContinueRequired', { phaseIds: ['plan'] }), ev(13, 'RunPaused', { reason })]);
      expect(paused.status).toBe('paused');
      expect(paused.pauseReason).toEqual(reason);
      const resumed = applyRunEvent(paused, ev(14, 'RunResumed', {}));
      expect(resumed.status).toBe('waiting');
      expect(resumed.pauseReason).toBeNull();
    });

    it('never pauses a finished run', () => {
      const done = applyRunEvent(restView(), ev(12, 'RunCompleted', {}));
      expect(applyRunEvent(done, ev(13, 'RunPaused', { reason: { code: 'user', message: 'x' } })).status).toBe('completed');
    });

    it('cancels: terminal, active phases cancelled, nothing pending', () => {
      const open = applyRunEvent(started(), ev(12, 'GateOpened', { phaseId: 'review', attempt: 1, message: 'Approve?' }));
      const cancelled = applyRunEvent(open, ev(13, 'RunCancelled', { reason: 'no longer needed', abortedCommandIds: [] }));
      expect(cancelled).toMatchObject({ status: 'cancelled', completedAt: at(13), currentPhases: [], pending: { gates: [], questions: [], continue: [] } });
      expect(phase(cancelled, 'review').status).toBe('cancelled');
      expect(phase(cancelled, 'plan').status).toBe('cancelled');
    });

    it('schedules a retry: the failed phase goes back to pending and a failed run runs again', () => {
      const failed = applyRunEvents(restView(), [
        ev(11, 'PhaseStarted', { phaseId: 'discovery', attempt: 1 }),
        ev(12, 'PhaseFailed', { phaseId: 'discovery', attempt: 1, reason: { code: 'provider', message: 'down', retryable: true } }),
        ev(13, 'RunFailed', { reason: { code: 'provider', message: 'down', retryable: true }, phaseId: 'discovery' }),
      ]);
      const retry = applyRunEvent(
        failed,
        ev(14, 'PhaseRetryScheduled', { phaseId: 'discovery', attempt: 2, notBefore: at(15), cause: 'user', override: { provider: 'openai', model: 'gpt-4.1' } }),
      );
      expect(phase(retry, 'discovery')).toMatchObject({ status: 'pending', error: null });
      expect(retry).toMatchObject({ status: 'running', error: null, completedAt: null });
    });

    it('accepts an edited output on a rejected candidate', () => {
      const rejected = applyRunEvents(restView(), [
        ev(11, 'PhaseStarted', { phaseId: 'discovery', attempt: 1 }),
        requested(12, 'discovery', 1, 0, 'simulated', 'sim-a'),
        ev(13, 'OutputRejected', { phaseId: 'discovery', attempt: 1, candidateId: cid('discovery', 1, 0), errors: ['title: required'], raw: {} }),
      ]);
      expect(phase(rejected, 'discovery').candidates[0]!.status).toBe('rejected');
      const accepted = applyRunEvent(
        rejected,
        ev(14, 'OutputAccepted', { phaseId: 'discovery', attempt: 1, candidateId: cid('discovery', 1, 0), edited: true, output: { title: 'fixed' } }),
      );
      expect(phase(accepted, 'discovery').candidates[0]).toMatchObject({ status: 'generated', output: { title: 'fixed' }, error: null });
    });

    it('rolls back: the reset phases are pending again with no candidates or artifact', () => {
      const done = applyRunEvents(restView(), [
        ev(11, 'PhaseStarted', { phaseId: 'discovery', attempt: 1 }),
        requested(12, 'discovery', 1, 0, 'simulated', 'sim-a'),
        generated(13, 'discovery', 1, 0, 0.01),
        ev(14, 'PhaseCompleted', { phaseId: 'discovery', attempt: 1, artifactId: 'a1' }),
        ev(15, 'RunCompleted', {}),
      ]);
      const back = applyRunEvent(done, ev(16, 'RolledBack', { checkpointId: 'cp1', resetPhaseIds: ['discovery'] }));
      expect(phase(back, 'discovery')).toMatchObject({ status: 'pending', candidates: [], artifactId: null, verdict: null, completedAt: null });
      expect(back).toMatchObject({ status: 'running', completedAt: null });
      expect(back.costUsd).toBe(done.costUsd);
    });

    it('redispatches a stalled candidate and records tool calls', () => {
      const toolCalls = [{ tool: 'read_file', input: { path: 'a.ts' }, outputSummary: '10 lines', durationMs: 3, refused: false, at: at(13) }];
      const view = applyRunEvents(restView(), [
        ev(11, 'PhaseStarted', { phaseId: 'discovery', attempt: 1 }),
        requested(12, 'discovery', 1, 0, 'simulated', 'sim-a'),
        ev(13, 'CandidateFailed', { phaseId: 'discovery', attempt: 1, candidateId: cid('discovery', 1, 0), error: { code: 'timeout', message: 'slow' } }),
        ev(14, 'CandidateRedispatched', {
          phaseId: 'discovery',
          attempt: 1,
          candidateId: cid('discovery', 1, 0),
          commandId: 'cmd',
          attemptToken: 't',
          reason: 'stalled',
        }),
      ]);
      expect(phase(view, 'discovery').candidates[0]).toMatchObject({ status: 'requested', error: null });
      const done = applyRunEvent(view, { ...generated(15, 'discovery', 1, 0, 0.01), data: { ...(generated(15, 'discovery', 1, 0, 0.01).data as object), toolCalls } });
      expect((phase(done, 'discovery').candidates[0] as { toolCalls?: unknown }).toolCalls).toEqual(toolCalls);
    });

    it('raises the budget and takes it from RunStarted', () => {
      const view = applyRunEvent(emptyRunView(RUN), { ...runStarted, data: { ...(runStarted.data as object), budgetUsd: 2 } });
      expect(view.budgetUsd).toBe(2);
      expect(applyRunEvent(view, ev(11, 'BudgetRaised', { budgetUsd: 5 })).budgetUsd).toBe(5);
    });

    it('folds the informational events without changing the view', () => {
      const view = restView();
      for (const [type, data] of [
        ['CheckpointCreated', { checkpointId: 'cp1', phaseId: 'discovery', completedPhaseIds: ['discovery'] }],
        ['BudgetAlert', { thresholdPct: 80, spentUsd: 0.8, budgetUsd: 1 }],
        ['ConditionEvaluated', { phaseId: 'discovery', attempt: 1, result: true, skippedPhaseIds: [] }],
      ] as const) {
        const result = foldRunEvent(view, ev(20, type, data));
        expect(result.outcome).toBe('applied');
        expect(result.view.phases).toBe(view.phases);
        expect(result.view.status).toBe(view.status);
      }
    });
  });
});
