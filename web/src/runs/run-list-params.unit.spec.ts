import { COMPARE_LIMIT, compareHref, isFiltered, nextDay, readListState, toApiQuery, toggleSelected } from './run-list-params';

describe('runs list state in the URL', () => {
  it('reads filters, sort and range, and drops values the API would refuse', () => {
    const state = readListState(new URLSearchParams('status=failed&templateId=t1&sort=cost&order=asc&from=2026-03-02&to=2026-03-04&archived=all'));
    expect(state).toEqual({ status: 'failed', q: undefined, templateId: 't1', archived: 'all', sort: 'cost', order: 'asc', from: '2026-03-02', to: '2026-03-04' });
    const bad = readListState(new URLSearchParams('sort=fastest&order=up&from=yesterday&to=2026-02-31x&archived=maybe'));
    expect([bad.sort, bad.order, bad.from, bad.to, bad.archived]).toEqual([undefined, undefined, undefined, undefined, undefined]);
  });

  it('sends the last day shown as the exclusive bound of the next day, and no backwards range', () => {
    expect(nextDay('2026-02-28')).toBe('2026-03-01');
    expect(nextDay('2026-12-31')).toBe('2027-01-01');
    expect(toApiQuery({ from: '2026-03-02', to: '2026-03-04', sort: 'name' })).toEqual({ from: '2026-03-02', to: '2026-03-05', sort: 'name' });
    expect(toApiQuery({ from: '2026-03-04', to: '2026-03-02' })).toEqual({ from: undefined, to: undefined });
    expect(toApiQuery({ status: 'running' })).toEqual({ status: 'running', from: undefined, to: undefined });
  });

  it('counts a date range as a filter, a sort alone not', () => {
    expect(isFiltered({ sort: 'cost', order: 'asc' })).toBe(false);
    expect(isFiltered({ from: '2026-03-02' })).toBe(true);
  });
});

describe('compare selection', () => {
  it('keeps picking order, toggles off, and holds at most four', () => {
    let picked: string[] = [];
    for (const id of ['a', 'b', 'c', 'd', 'e']) picked = toggleSelected(picked, id);
    expect(picked).toEqual(['a', 'b', 'c', 'd']);
    expect(picked).toHaveLength(COMPARE_LIMIT);
    picked = toggleSelected(picked, 'b');
    expect(toggleSelected(picked, 'e')).toEqual(['a', 'c', 'd', 'e']);
  });

  it('links to a shareable compare address', () => {
    expect(compareHref(['run-1', 'run 2'])).toBe('/compare?runs=run-1,run%202');
  });
});
