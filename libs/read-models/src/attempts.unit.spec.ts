import { phaseAttempts, type AttemptEvent } from './attempts';

const at = (s: number) => `2026-01-01T00:00:${String(s).padStart(2, '0')}.000Z`;
const ev = (type: string, s: number, data: Record<string, unknown>, phaseId = 'draft'): AttemptEvent => ({ type, phaseId, at: at(s), data: { phaseId, ...data } });
const phase = (over: Partial<Parameters<typeof phaseAttempts>[1]> = {}) => ({ id: 'draft', attempt: 1, status: 'running' as const, startedAt: at(0), completedAt: null, error: null, ...over });

describe('phase attempts from the lifecycle events', () => {
  it('is empty before the phase starts', () => {
    expect(phaseAttempts([], phase({ attempt: 0, status: 'pending', startedAt: null }))).toEqual([]);
  });

  it('keeps an attempt the policy abandoned (timeout) as failed, with its retry, and the current attempt as the phase says', () => {
    const events = [
      ev('PhaseStarted', 0, { attempt: 1 }),
      ev('PhaseRetryScheduled', 5, { attempt: 2, cause: 'timeout', notBefore: at(8) }),
      ev('PhaseStarted', 8, { attempt: 2 }),
      ev('PhaseStarted', 1, { attempt: 1 }, 'other'),
    ];
    const attempts = phaseAttempts(events, phase({ attempt: 2, status: 'running', startedAt: at(8) }));
    expect(attempts).toEqual([
      { attempt: 1, status: 'failed', startedAt: at(0), completedAt: at(5), error: { code: 'timeout', message: 'the attempt timed out' }, retried: { cause: 'timeout', notBefore: at(8) } },
      { attempt: 2, status: 'running', startedAt: at(8), completedAt: null, error: null, retried: null },
    ]);
  });

  it("keeps a failed attempt's own reason when a user retries it, while the next one waits", () => {
    const events = [
      ev('PhaseStarted', 0, { attempt: 1 }),
      ev('PhaseFailed', 3, { attempt: 1, reason: { code: 'provider_error', message: 'boom', retryable: false } }),
      ev('PhaseRetryScheduled', 9, { attempt: 2, cause: 'user', notBefore: at(9) }),
    ];
    // the projection leaves the phase pending on attempt 1 until attempt 2 starts
    const attempts = phaseAttempts(events, phase({ attempt: 1, status: 'pending', startedAt: at(0), completedAt: null }));
    expect(attempts).toEqual([
      { attempt: 1, status: 'failed', startedAt: at(0), completedAt: at(3), error: { code: 'provider_error', message: 'boom' }, retried: { cause: 'user', notBefore: at(9) } },
    ]);
  });

  it('lets the phase state settle its current attempt (skipped, cancelled) and closes an earlier attempt a rollback left open', () => {
    const events = [ev('PhaseStarted', 0, { attempt: 1 }), ev('PhaseStarted', 4, { attempt: 2 })];
    const attempts = phaseAttempts(events, phase({ attempt: 2, status: 'cancelled', startedAt: at(4), completedAt: at(6) }));
    expect(attempts.map((a) => [a.attempt, a.status, a.completedAt])).toEqual([
      [1, 'cancelled', null],
      [2, 'cancelled', at(6)],
    ]);
  });

  it('ignores events without an attempt number', () => {
    expect(phaseAttempts([{ type: 'PhaseStarted', phaseId: 'draft', at: at(0), data: { phaseId: 'draft' } }], phase({ attempt: 0, status: 'pending' }))).toEqual([]);
  });
});
