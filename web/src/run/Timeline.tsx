import { useMemo, type ReactNode } from 'react';
import { formatDuration, formatTime, formatTokens, formatUsd } from '../lib/format';
import { RetryCountdown } from './story/parts';
import type { TimelineRow } from './timeline';
import { describeRow, timelineContext, type RowDetails } from './timeline-details';

interface Props {
  rows: readonly TimelineRow[];
  onSelectPhase?: (phaseId: string) => void;
  /** the run's phases: their candidates name the provider/model of a candidate whose request is not in `rows` */
  phases?: readonly { candidates: readonly { id: string; provider: string; model: string }[] }[];
}

/** The run's events, newest first, each with what it says: model, winner and score, duration, tokens, cost, error, retry. */
export function Timeline({ rows, onSelectPhase, phases }: Props) {
  const described = useMemo(() => {
    const ctx = timelineContext(rows, phases?.flatMap((p) => p.candidates));
    return [...rows].reverse().map((row) => ({ row, details: describeRow(row, ctx) }));
  }, [rows, phases]);
  if (rows.length === 0) return <p className="muted">No events yet.</p>;
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
            <th scope="col">Details</th>
          </tr>
        </thead>
        <tbody>
          {described.map(({ row, details }) => (
            <tr key={row.sequence} data-event={row.type}>
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
              <td className="timeline__details">
                <Details details={details} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Details({ details: d }: { details: RowDetails }) {
  const parts: ReactNode[] = [];
  if (d.summary) parts.push(<span key="summary">{d.summary}</span>);
  if (d.model) parts.push(<span key="model" className="timeline__model mono">{d.model}</span>);
  if (d.winner)
    parts.push(
      <span key="winner" className="timeline__winner">
        ★ {d.winner.label}
        {d.winner.score !== null && <> · {d.winner.score.toFixed(2)}</>}
      </span>,
    );
  if (d.durationMs !== null) parts.push(<span key="duration">{formatDuration(d.durationMs)}</span>);
  if (d.tokens) parts.push(<span key="tokens">{`${formatTokens(d.tokens.input)} in / ${formatTokens(d.tokens.output)} out`}</span>);
  if (d.costUsd !== null) parts.push(<span key="cost">{formatUsd(d.costUsd)}</span>);
  if (d.retryAt) parts.push(<RetryCountdown key="retry" at={d.retryAt} />);
  if (d.error)
    parts.push(
      <span key="error" className="timeline__error">
        <code>{d.error.code}</code> {d.error.message}
      </span>,
    );
  if (parts.length === 0) return <span className="muted">—</span>;
  return <span className="timeline__parts">{parts}</span>;
}

function eventTone(type: string): 'bad' | 'good' | 'plain' {
  if (/Failed|Rejected|Exceeded|Cancelled/.test(type)) return 'bad';
  if (/Completed|Recorded|Generated|Approved/.test(type)) return 'good';
  return 'plain';
}
