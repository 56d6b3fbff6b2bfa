import { formatDateTime } from '../lib/format';

/** Run, phase and candidate statuses share one palette (styles.css `.status--<name>`). */
export function StatusBadge({ status, label }: { status: string; label?: string }) {
  return <span className={`badge status--${status}`}>{label ?? status}</span>;
}

/**
 * The state of something a user handles once (an alert acknowledged, a dead letter redriven):
 * "open" until then, after it the given label with when and by whom.
 */
export function HandledState({ at, by, label }: { at: string | null; by: string | null | undefined; label: string }) {
  if (!at) return <StatusBadge status="waiting" label="open" />;
  return (
    <>
      <StatusBadge status="completed" label={label} />
      <div className="muted small">
        {formatDateTime(at)}
        {by ? ` by ${by}` : ''}
      </div>
    </>
  );
}
