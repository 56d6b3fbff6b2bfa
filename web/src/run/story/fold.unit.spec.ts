import { Template, type RunView, type SocketEvent } from '@conclave/contracts';
import { applyRunEvent, applyRunEvents, emptyRunView } from '../run-reducer';

/** The run page's story folded live: attempts kept per phase, the judge on the verdict, when candidates were requested. */
const RUN = 'run1';
const T0 = Date.parse('2025-01-01T10:00:00.000Z');
const at = (s: number) => new Date(T0 + s * 1000).toISOString();
const cid = (attempt: number, slot: number) => `${RUN}.draft.${attempt}.c${slot}`;
const ev = (sequence: number, type: string, data: unknown): SocketEvent => ({ sequence, type, runId: RUN, occurredAt: at(sequence), data });
const template = Template.parse({
  name: 't',
  description: '',
  inputs: { type: 'object' },
  phases: [{ id: 'draft', kind: 'llm', prompt: { user: 'go' }, candidates: [{ provider: 'simulated', model: 'a' }, { provider: 'simulated', model: 'b' }] }],
});
const start = (): RunView =>
  applyRunEvent(emptyRunView(RUN), ev(1, 'RunStarted', { runId: RUN, templateId: 't', templateVersion: 1, template, name: null, inputs: {}, autoMode: true, budgetUsd: null }));
const requested = (seq: number, attempt: number, slot: number) =>
  ev(seq, 'CandidateRequested', {
    phaseId: 'draft', attempt, candidateId: cid(attempt, slot), slot, provider: 'simulated', model: slot === 0 ? 'a' : 'b',
    prompt: { user: 'go' }, output: { artifact: 'spec', schema: { type: 'object' } }, attemptToken: `t${seq}`, timeoutSeconds: 60,
  });
const verdict = (seq: number, attempt: number, model: string) =>
  ev(seq, 'VerdictRecorded', {
    phaseId: 'draft', attempt, judgeId: `j${attempt}`, winnerId: cid(attempt, 1),
    scores: { [cid(attempt, 0)]: { overall: 0.2, criteria: {} }, [cid(attempt, 1)]: { overall: 0.7, criteria: {} } },
    rationale: 'b', order: [cid(attempt, 0), cid(attempt, 1)], provider: 'judges', model, tokens: { input: 40, output: 8 }, costUsd: 0.002,
  });
const draft = (view: RunView) => view.phases.find((p) => p.id === 'draft')!;

describe('the run story in the live fold', () => {
  it('notes when a scheduled retry goes out (and on which model), until the attempt starts', () => {
    const waiting = applyRunEvents(start(), [
      ev(2, 'PhaseStarted', { phaseId: 'draft', attempt: 1 }),
      ev(3, 'PhaseFailed', { phaseId: 'draft', attempt: 1, reason: { code: 'x', message: 'y', retryable: false } }),
      ev(4, 'PhaseRetryScheduled', { phaseId: 'draft', attempt: 2, notBefore: at(9), cause: 'user', override: { provider: 'simulated', model: 'rescuer' } }),
    ]);
    expect(draft(waiting)).toMatchObject({ status: 'pending', retryAt: at(9), retryOverride: { provider: 'simulated', model: 'rescuer' } });
    expect(draft(applyRunEvent(waiting, ev(9, 'PhaseStarted', { phaseId: 'draft', attempt: 2 })))).toMatchObject({ status: 'running', retryAt: null, retryOverride: null });
  });

  it('keeps an attempt the policy abandoned (timeout) and starts the next one beside it', () => {
    const view = applyRunEvents(start(), [
      ev(2, 'PhaseStarted', { phaseId: 'draft', attempt: 1 }),
      ev(5, 'PhaseRetryScheduled', { phaseId: 'draft', attempt: 2, notBefore: at(9), cause: 'timeout', override: null }),
      ev(9, 'PhaseStarted', { phaseId: 'draft', attempt: 2 }),
    ]);
    expect(draft(view).attempts).toEqual([
      { attempt: 1, status: 'failed', startedAt: at(2), completedAt: at(5), error: { code: 'timeout', message: 'the attempt timed out' }, retried: { cause: 'timeout', notBefore: at(9) } },
      { attempt: 2, status: 'running', startedAt: at(9), completedAt: null, error: null, retried: null },
    ]);
  });

  it('records a failed attempt with its reason, a user retry, and the retried attempt completing', () => {
    const view = applyRunEvents(start(), [
      ev(2, 'PhaseStarted', { phaseId: 'draft', attempt: 1 }),
      ev(3, 'PhaseFailed', { phaseId: 'draft', attempt: 1, reason: { code: 'provider_error', message: 'no such provider', retryable: false } }),
      ev(4, 'PhaseRetryScheduled', { phaseId: 'draft', attempt: 2, notBefore: at(4), cause: 'user', override: { provider: 'simulated', model: 'rescuer' } }),
      ev(6, 'PhaseStarted', { phaseId: 'draft', attempt: 2 }),
      ev(8, 'PhaseCompleted', { phaseId: 'draft', attempt: 2, artifactId: 'a2' }),
    ]);
    expect(draft(view).attempts!.map((a) => [a.attempt, a.status, a.error?.message ?? null, a.retried?.cause ?? null])).toEqual([
      [1, 'failed', 'no such provider', 'user'],
      [2, 'completed', null, null],
    ]);
  });

  it('ends the current attempt with the phase when the run is cancelled, and ignores a stale start', () => {
    const view = applyRunEvents(start(), [
      ev(2, 'PhaseStarted', { phaseId: 'draft', attempt: 2 }),
      ev(3, 'PhaseStarted', { phaseId: 'draft', attempt: 1 }),
      ev(4, 'RunCancelled', { reason: null, abortedCommandIds: [] }),
    ]);
    expect(draft(view).attempts).toEqual([{ attempt: 2, status: 'cancelled', startedAt: at(2), completedAt: at(4), error: null, retried: null }]);
  });

  it("puts the judge's provider, model, tokens and cost on the verdict of the current attempt only", () => {
    const view = applyRunEvents(start(), [ev(2, 'PhaseStarted', { phaseId: 'draft', attempt: 2 }), requested(3, 2, 0), requested(4, 2, 1), verdict(5, 1, 'old-judge'), verdict(6, 2, 'judge-2')]);
    expect(draft(view).verdict?.judge).toEqual({ provider: 'judges', model: 'judge-2', tokens: { input: 40, output: 8 }, costUsd: 0.002 });
  });

  it('notes when each candidate was requested (a running candidate counts its time from there), once', () => {
    const once = applyRunEvents(start(), [ev(2, 'PhaseStarted', { phaseId: 'draft', attempt: 1 }), requested(3, 1, 0), requested(4, 1, 1)]);
    expect(draft(once).candidates.map((c) => c.requestedAt)).toEqual([at(3), at(4)]);
    // a duplicate (same sequence) changes nothing and returns the same object
    expect(applyRunEvent(once, requested(4, 1, 1))).toBe(once);
  });
});
