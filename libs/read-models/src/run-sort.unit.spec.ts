import { ConclaveError } from '@conclave/contracts';
import { decodeSortCursor, encodeSortCursor, SORT_KEYS, STATUS_RANK } from './run-sort';
import type { RunRow } from './entities';

describe('runs list sort cursors', () => {
  it('round-trips each sort’s cursor', () => {
    const cursors = [
      { sort: 'started', order: 'desc', value: '2026-03-01T00:00:00.000Z', id: 'a', asOf: null },
      { sort: 'cost', order: 'asc', value: 0.1 + 0.2, id: 'b', asOf: null },
      { sort: 'name', order: 'asc', value: 'alpha', id: 'c', asOf: null },
      { sort: 'status', order: 'desc', value: 3, id: 'd', asOf: null },
      { sort: 'duration', order: 'asc', value: 61_000, id: 'e', asOf: '2026-03-02T00:00:00.000Z' },
    ] as const;
    for (const c of cursors) expect(decodeSortCursor(encodeSortCursor(c), c.sort, c.order)).toEqual(c);
  });

  it('refuses garbage, another sort’s cursor and a duration cursor without its clock (bad_request)', () => {
    const cost = encodeSortCursor({ sort: 'cost', order: 'asc', value: 1, id: 'x', asOf: null });
    const cases: [string, Parameters<typeof decodeSortCursor>[1], Parameters<typeof decodeSortCursor>[2]][] = [
      ['garbage', 'cost', 'asc'],
      [cost, 'name', 'asc'],
      [cost, 'cost', 'desc'],
      [encodeSortCursor({ sort: 'duration', order: 'asc', value: 1, id: 'x', asOf: null }), 'duration', 'asc'],
      [encodeSortCursor({ sort: 'cost', order: 'asc', value: 'cheap', id: 'x', asOf: null }), 'cost', 'asc'],
    ];
    for (const [raw, sort, order] of cases) {
      let thrown: unknown;
      try {
        decodeSortCursor(raw, sort, order);
      } catch (err) {
        thrown = err;
      }
      expect(thrown).toBeInstanceOf(ConclaveError);
      expect((thrown as ConclaveError).code).toBe('bad_request');
    }
  });

  it('computes in JS the value the SQL sorts by', () => {
    const row = { id: 'r', name: null, status: 'failed', costUsd: 0.25, startedAt: new Date('2026-03-01T00:00:00Z'), completedAt: null } as unknown as RunRow;
    const asOf = new Date('2026-03-01T00:10:00Z');
    expect(SORT_KEYS.duration.value(row, asOf)).toBe(600_000);
    expect(SORT_KEYS.name.value(row, asOf)).toBe('r');
    expect(SORT_KEYS.status.value(row, asOf)).toBe(STATUS_RANK.failed);
    expect(SORT_KEYS.status.sql).toContain("WHEN 'failed' THEN 3");
    expect(SORT_KEYS.started.value(row, asOf)).toBe('2026-03-01T00:00:00.000Z');
  });
});
