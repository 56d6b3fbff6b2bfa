import { formatDuration } from '../lib/format';

export type ToolCallLike = { tool: string; input?: unknown; outputSummary?: string; durationMs?: number; refused?: boolean; at: string };

/** An agent's audited tool calls, folded open while they stream. */
export function ToolCalls({ calls, streaming }: { calls: readonly ToolCallLike[]; streaming: boolean }) {
  return (
    <details className="tool-calls" open={streaming}>
      <summary>
        {calls.length} tool call{calls.length > 1 ? 's' : ''}
        {streaming ? ' (live)' : ''}
      </summary>
      <ol className="tool-calls__list">
        {calls.map((t, i) => (
          <li key={`${t.at}-${i}`} className={t.refused ? 'is-refused' : undefined}>
            <code>{t.tool}</code> <span className="mono small">{summarize(t.input)}</span>
            {t.refused && <span className="badge status--failed">refused</span>}
            {t.durationMs !== undefined && <span className="muted small"> · {formatDuration(t.durationMs)}</span>}
            {t.outputSummary && <div className="muted small">{t.outputSummary}</div>}
          </li>
        ))}
      </ol>
    </details>
  );
}

function summarize(input: unknown): string {
  const text = typeof input === 'string' ? input : JSON.stringify(input);
  return text && text.length > 120 ? `${text.slice(0, 117)}…` : (text ?? '');
}

