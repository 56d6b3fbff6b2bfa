import { apiBounds, describeRange, everyDay, rangeError, rangeFromSearch, rangeOnly, rangeToSearch } from './range';

const NOW = Date.parse('2026-03-10T15:00:00Z');

describe('the analytics time range', () => {
  it('reads presets and custom days from the URL, falling back to 30 days', () => {
    expect(rangeFromSearch(new URLSearchParams('range=7d'))).toEqual({ kind: 'preset', preset: '7d' });
    expect(rangeFromSearch(new URLSearchParams(''))).toEqual({ kind: 'preset', preset: '30d' });
    expect(rangeFromSearch(new URLSearchParams('range=week'))).toEqual({ kind: 'preset', preset: '30d' });
    expect(rangeFromSearch(new URLSearchParams('from=2026-01-01&to=2026-01-31'))).toEqual({ kind: 'custom', from: '2026-01-01', to: '2026-01-31' });
    // a day that does not exist, or half a range, is not a custom range
    expect(rangeFromSearch(new URLSearchParams('from=2026-02-30&to=2026-03-01')).kind).toBe('preset');
    expect(rangeFromSearch(new URLSearchParams('from=2026-02-01')).kind).toBe('preset');
  });

  it('writes the range back, keeping other parameters and leaving the default out', () => {
    const search = new URLSearchParams('templateId=t1&range=7d');
    expect(rangeToSearch({ kind: 'preset', preset: '90d' }, search).toString()).toBe('templateId=t1&range=90d');
    expect(rangeToSearch({ kind: 'preset', preset: '30d' }, search).toString()).toBe('templateId=t1');
    expect(rangeToSearch({ kind: 'custom', from: '2026-01-01', to: '2026-01-02' }, search).toString()).toBe('templateId=t1&from=2026-01-01&to=2026-01-02');
  });

  it('turns a range into API bounds: today and the days before it, the last custom day included', () => {
    expect(apiBounds({ kind: 'preset', preset: '7d' }, NOW)).toEqual({ from: '2026-03-04', to: '2026-03-11' });
    expect(apiBounds({ kind: 'preset', preset: '90d' }, NOW)).toEqual({ from: '2025-12-11', to: '2026-03-11' });
    expect(apiBounds({ kind: 'preset', preset: 'all' }, NOW)).toEqual({});
    expect(apiBounds({ kind: 'custom', from: '2026-02-27', to: '2026-02-28' }, NOW)).toEqual({ from: '2026-02-27', to: '2026-03-01' });
    expect(rangeError({ kind: 'custom', from: '2026-02-28', to: '2026-02-27' })).toMatch(/after/);
    expect(rangeError({ kind: 'custom', from: '2026-02-27', to: '2026-02-27' })).toBeNull();
    expect(describeRange({ kind: 'preset', preset: '7d' })).toBe('the last 7 days');
  });

  it('fills the days without spend so the chart has an even time axis', () => {
    const empty = (day: string) => ({ day, costUsd: 0 });
    const days = [{ day: '2026-03-05', costUsd: 1 }, { day: '2026-03-09', costUsd: 2 }];
    const filled = everyDay({ from: '2026-03-04', to: '2026-03-11' }, days, empty);
    expect(filled.map((d) => [d.day, d.costUsd])).toEqual([
      ['2026-03-04', 0], ['2026-03-05', 1], ['2026-03-06', 0], ['2026-03-07', 0], ['2026-03-08', 0], ['2026-03-09', 2], ['2026-03-10', 0],
    ]);
    // open: from the first day with spend to the last
    expect(everyDay({}, days, empty)).toHaveLength(5);
    expect(everyDay({}, [], empty)).toEqual([]);
  });

  it('gives a link the range alone: a preset, a custom range, nothing for the default', () => {
    expect(rangeOnly({ kind: 'preset', preset: '7d' })).toBe('?range=7d');
    expect(rangeOnly({ kind: 'custom', from: '2026-01-01', to: '2026-01-31' })).toBe('?from=2026-01-01&to=2026-01-31');
    expect(rangeOnly({ kind: 'preset', preset: '30d' })).toBe('');
  });
});
