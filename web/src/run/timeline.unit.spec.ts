import { mergeTimeline, rowFromEntry, rowFromEvent, type TimelineRow } from './timeline';

const row = (sequence: number, actor: string | null = null): TimelineRow => ({ sequence, type: 'PhaseStarted', occurredAt: '2025-01-01T00:00:00Z', phaseId: 'a', actor, data: { phaseId: 'a', attempt: 1 } });

describe('timeline merge', () => {
  it('unions by sequence in ascending order', () => {
    expect(mergeTimeline([row(1), row(5)], [row(3), row(9), row(5)]).map((r) => r.sequence)).toEqual([1, 3, 5, 9]);
  });

  it('returns the same array when nothing is new', () => {
    const rows = [row(1), row(2)];
    expect(mergeTimeline(rows, [row(2), row(1)])).toBe(rows);
    expect(mergeTimeline(rows, [])).toBe(rows);
  });

  it('prefers the REST row (with its actor) over the live row', () => {
    const merged = mergeTimeline([row(4)], [row(4, 'worker:w1')]);
    expect(merged).toEqual([row(4, 'worker:w1')]);
    expect(mergeTimeline(merged, [row(4)])).toBe(merged);
  });

  it('reads the phase from the entry or from the event data', () => {
    expect(rowFromEntry({ sequence: 1, type: 'X', occurredAt: 't', phaseId: null, actor: { kind: 'user', id: 'u' }, data: { phaseId: 'p' } })).toEqual({
      sequence: 1,
      type: 'X',
      occurredAt: 't',
      phaseId: 'p',
      actor: 'user:u',
      data: { phaseId: 'p' },
    });
    expect(rowFromEvent({ sequence: 2, type: 'RunCompleted', runId: 'r', occurredAt: 't', data: {} }).phaseId).toBeNull();
  });
});
