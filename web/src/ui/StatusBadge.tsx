/** Run, phase and candidate statuses share one palette (styles.css `.status--<name>`). */
export function StatusBadge({ status, label }: { status: string; label?: string }) {
  return <span className={`badge status--${status}`}>{label ?? status}</span>;
}
