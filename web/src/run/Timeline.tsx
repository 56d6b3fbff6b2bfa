import { formatTime } from '../lib/format';
import type { TimelineRow } from './timeline';

interface Props {
  rows: readonly TimelineRow[];
  onSelectPhase?: (phaseId: string) => void;
}

/** The run's events, newest first. */
export function Timeline({ rows, onSelectPhase }: Props) {
  if (rows.length === 0) return <p className="muted">No events yet.</p>;
  const newestFirst = [...rows].reverse();
  return (
    <div className="table-wrap timeline">
      <table className="table table--compact">
        <caption className="sr-only">Run events, newest first</caption>
        <thead>
          <tr>
            <th scope="col" className="num">
              #
            </th>
            <th scope="col">Time</th>
            <th scope="col">Event</th>
            <th scope="col">Phase</th>
          </tr>
        </thead>
        <tbody>
          {newestFirst.map((row) => (
            <tr key={row.sequence}>
              <td className="num muted">{row.sequence}</td>
              <td>
                <time dateTime={row.occurredAt}>{formatTime(row.occurredAt)}</time>
              </td>
              <td>
                <code className={`event-type event-type--${eventTone(row.type)}`}>{row.type}</code>
              </td>
              <td>
                {row.phaseId ? (
                  onSelectPhase ? (
                    <button type="button" className="link-button" onClick={() => onSelectPhase(row.phaseId!)}>
                      {row.phaseId}
                    </button>
                  ) : (
                    row.phaseId
                  )
                ) : (
                  <span className="muted">—</span>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function eventTone(type: string): 'bad' | 'good' | 'plain' {
  if (/Failed|Rejected|Exceeded|Cancelled/.test(type)) return 'bad';
  if (/Completed|Recorded|Generated|Approved/.test(type)) return 'good';
  return 'plain';
}
