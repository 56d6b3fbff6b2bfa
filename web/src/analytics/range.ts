/**
 * The time range of the analytics and costs pages, kept in the URL (`?range=30d`, or
 * `?from=2026-01-01&to=2026-01-31` for a custom one) so a view can be shared. Days are UTC days,
 * the days the API's daily spend is bucketed by; a custom `to` is the last day shown (inclusive),
 * sent to the API as the next day's midnight (its `to` is exclusive).
 */
export type RangePreset = '7d' | '30d' | '90d' | 'all';
export const RANGE_PRESETS: { value: RangePreset; label: string; days: number | null }[] = [
  { value: '7d', label: '7 days', days: 7 },
  { value: '30d', label: '30 days', days: 30 },
  { value: '90d', label: '90 days', days: 90 },
  { value: 'all', label: 'All time', days: null },
];
export const DEFAULT_PRESET: RangePreset = '30d';

export type TimeRange = { kind: 'preset'; preset: RangePreset } | { kind: 'custom'; from: string; to: string };

const DAY_MS = 86_400_000;
const ISO_DAY = /^\d{4}-\d{2}-\d{2}$/;

/** `YYYY-MM-DD` of an instant's UTC day. */
export function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

function isDay(value: string | null): value is string {
  return value !== null && ISO_DAY.test(value) && utcDay(Date.parse(`${value}T00:00:00Z`)) === value;
}

/** The range a URL asks for; anything unreadable falls back to the default preset. */
export function rangeFromSearch(search: URLSearchParams): TimeRange {
  const from = search.get('from');
  const to = search.get('to');
  if (isDay(from) && isDay(to)) return { kind: 'custom', from, to };
  const preset = RANGE_PRESETS.find((p) => p.value === search.get('range'));
  return { kind: 'preset', preset: preset?.value ?? DEFAULT_PRESET };
}

/** The URL parameters of a range (other parameters of `search` are kept). */
export function rangeToSearch(range: TimeRange, search: URLSearchParams): URLSearchParams {
  const next = new URLSearchParams(search);
  for (const key of ['range', 'from', 'to']) next.delete(key);
  if (range.kind === 'custom') {
    next.set('from', range.from);
    next.set('to', range.to);
  } else if (range.preset !== DEFAULT_PRESET) {
    next.set('range', range.preset);
  }
  return next;
}

/** The URL search of a range alone (`?range=7d`, `?from=…&to=…`, or '' for the default): links between the range's pages keep it. */
export function rangeOnly(range: TimeRange): string {
  const text = rangeToSearch(range, new URLSearchParams()).toString();
  return text ? `?${text}` : '';
}

/** A custom range whose first day comes after its last. */
export function rangeError(range: TimeRange): string | null {
  return range.kind === 'custom' && range.from > range.to ? 'The first day must not be after the last day.' : null;
}

/**
 * The API's bounds: `from` inclusive, `to` exclusive (absent: open). A preset of N days is today
 * and the N - 1 days before it.
 */
export function apiBounds(range: TimeRange, now: number): { from?: string; to?: string } {
  if (range.kind === 'custom') return { from: range.from, to: utcDay(Date.parse(`${range.to}T00:00:00Z`) + DAY_MS) };
  const days = RANGE_PRESETS.find((p) => p.value === range.preset)?.days ?? null;
  if (days === null) return {};
  const today = Date.parse(`${utcDay(now)}T00:00:00Z`);
  return { from: utcDay(today - (days - 1) * DAY_MS), to: utcDay(today + DAY_MS) };
}

/** The last day the API's bounds cover (their `to` is exclusive); undefined when they are open-ended. */
export function lastDay(bounds: { to?: string }): string | undefined {
  return bounds.to ? utcDay(Date.parse(`${bounds.to}T00:00:00Z`) - DAY_MS) : undefined;
}

/** What the range covers, in words ("the last 30 days", "1 Jan 2026 – 31 Jan 2026"). */
export function describeRange(range: TimeRange): string {
  if (range.kind === 'custom') return range.from === range.to ? range.from : `${range.from} – ${range.to}`;
  const preset = RANGE_PRESETS.find((p) => p.value === range.preset)!;
  return preset.days === null ? 'all time' : `the last ${preset.days} days`;
}

/**
 * Every day of a bounded range, with the days that had spend filled in (the API lists only those),
 * so a chart's time axis is even. Open ranges list the days from the first with spend to the last.
 */
export function everyDay<T extends { day: string }>(bounds: { from?: string; to?: string }, days: readonly T[], empty: (day: string) => T): T[] {
  const byDay = new Map(days.map((d) => [d.day, d]));
  const first = bounds.from ?? days[0]?.day;
  const last = lastDay(bounds) ?? days[days.length - 1]?.day;
  if (!first || !last || first > last) return [...days];
  const out: T[] = [];
  // bounded: at most a few hundred days on screen
  for (let ms = Date.parse(`${first}T00:00:00Z`), end = Date.parse(`${last}T00:00:00Z`), n = 0; ms <= end && n < 3660; ms += DAY_MS, n++) {
    const day = utcDay(ms);
    out.push(byDay.get(day) ?? empty(day));
  }
  return out;
}
