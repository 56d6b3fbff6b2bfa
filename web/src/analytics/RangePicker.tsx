import { useId, useMemo } from 'react';
import { useSearchParams } from 'react-router-dom';
import { cn } from '../ui/cn';
import { apiBounds, RANGE_PRESETS, rangeError, rangeFromSearch, rangeToSearch, utcDay, type TimeRange } from './range';

export interface TimeRangeState {
  range: TimeRange;
  setRange: (range: TimeRange) => void;
  /** the API's `from` / `to` (absent: open); null while the custom range is invalid */
  bounds: { from?: string; to?: string } | null;
  error: string | null;
}

/** The page's time range, read from and written to the URL (replacing the history entry). */
export function useTimeRange(): TimeRangeState {
  const [search, setSearch] = useSearchParams();
  const key = search.toString();
  const range = useMemo(() => rangeFromSearch(new URLSearchParams(key)), [key]);
  const error = rangeError(range);
  // today's UTC day: the bounds change at midnight UTC, not on every render
  const today = utcDay(Date.now());
  const bounds = useMemo(() => (error ? null : apiBounds(range, Date.parse(`${today}T12:00:00Z`))), [range, error, today]);
  return {
    range,
    error,
    bounds,
    setRange: (next) => setSearch((current) => rangeToSearch(next, current), { replace: true }),
  };
}

/**
 * 7 / 30 / 90 days or all time (toggle buttons), and a custom first and last day (UTC). The date
 * fields show the preset's days until one is edited, which makes the range custom.
 */
export function RangePicker({ state, label = 'Time range' }: { state: TimeRangeState; label?: string }) {
  const { range, setRange, bounds, error } = state;
  const errorId = useId();
  const shownFrom = range.kind === 'custom' ? range.from : (bounds?.from ?? '');
  const shownTo = range.kind === 'custom' ? range.to : bounds?.to ? utcDay(Date.parse(`${bounds.to}T00:00:00Z`) - 86_400_000) : '';
  const setCustom = (from: string, to: string) => {
    if (from && to) setRange({ kind: 'custom', from, to });
  };
  return (
    <div className="range-picker" role="group" aria-label={label}>
      <div className="range-picker__presets">
        {RANGE_PRESETS.map((p) => {
          const active = range.kind === 'preset' && range.preset === p.value;
          return (
            <button key={p.value} type="button" className={cn('btn btn--small', active && 'is-active')} aria-pressed={active} onClick={() => setRange({ kind: 'preset', preset: p.value })}>
              {p.label}
            </button>
          );
        })}
      </div>
      <label className="field field--inline">
        From
        <input type="date" value={shownFrom} max={shownTo || undefined} aria-invalid={error ? true : undefined} aria-describedby={error ? errorId : undefined} onChange={(e) => setCustom(e.target.value, shownTo || e.target.value)} />
      </label>
      <label className="field field--inline">
        To
        <input type="date" value={shownTo} min={shownFrom || undefined} aria-invalid={error ? true : undefined} aria-describedby={error ? errorId : undefined} onChange={(e) => setCustom(shownFrom || e.target.value, e.target.value)} />
      </label>
      <span className="muted small">UTC days</span>
      {error && (
        <p id={errorId} className="form-error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}
