import type { RunSummary, SocketEvent } from '@conclave/contracts';
import { patchRunSummary } from './run-summary';

const row: RunSummary = {
  id: 'r1',
  name: null,
  templateId: 't',
  templateVersion: 1,
  templateName: 'tpl',
  status: 'running',
  archived: false,
  filesChanged: 0,
  costUsd: 0.1,
  startedAt: '2025-01-01T00:00:00Z',
  completedAt: null,
  sequence: 10,
  phasesTotal: 3,
  phasesDone: 1,
};
const ev = (sequence: number, type: string, data: unknown = {}, runId = 'r1'): SocketEvent => ({ sequence, type, runId, occurredAt: '2025-01-01T00:01:00Z', data });

describe('runs list live patch', () => {
  it('moves the status on run-level events', () => {
    expect(patchRunSummary(row, ev(11, 'RunCompleted'))).toMatchObject({ status: 'completed', completedAt: '2025-01-01T00:01:00Z', sequence: 11 });
    expect(patchRunSummary(row, ev(11, 'GateOpened', { phaseId: 'g' }))).toMatchObject({ status: 'waiting', completedAt: null });
  });

  it('counts finished phases and spend', () => {
    const next = patchRunSummary(patchRunSummary(row, ev(11, 'PhaseCompleted', { phaseId: 'a' })), ev(12, 'CandidateGenerated', { costUsd: 0.05 }));
    expect(next.phasesDone).toBe(2);
    expect(next.costUsd).toBeCloseTo(0.15);
  });

  it('is idempotent and ignores other runs', () => {
    const once = patchRunSummary(row, ev(11, 'PhaseCompleted'));
    expect(patchRunSummary(once, ev(11, 'PhaseCompleted'))).toBe(once);
    expect(patchRunSummary(row, ev(12, 'RunFailed', {}, 'r2'))).toBe(row);
  });
});
