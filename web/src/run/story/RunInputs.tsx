import { toPrettyJson } from '../../lib/format';

/** Longer than this (or over several lines), a value is shown folded: its start, and the rest on demand. */
export const FOLD_CHARS = 160;
const PREVIEW_CHARS = 100;

/** How one input value reads: inline text, or folded with a preview. Pure (tested). */
export function inputText(value: unknown): { text: string; folded: boolean; preview: string } {
  const text = typeof value === 'string' ? value : value === undefined ? '' : toPrettyJson(value);
  const folded = text.length > FOLD_CHARS || text.includes('\n');
  const firstLine = text.split('\n', 1)[0] ?? '';
  const preview = firstLine.length > PREVIEW_CHARS ? `${firstLine.slice(0, PREVIEW_CHARS)}…` : `${firstLine}${folded ? ' …' : ''}`;
  return { text, folded, preview };
}

/** The inputs a run was started with, as key → value; long values fold. */
export function RunInputs({ inputs }: { inputs: Record<string, unknown> }) {
  // by name: the stored order (jsonb's) differs from the order the run was started with
  const entries = Object.entries(inputs).sort(([a], [b]) => a.localeCompare(b));
  return (
    <section className="card run-inputs" aria-labelledby="run-inputs-heading">
      <div className="card__head">
        <h2 id="run-inputs-heading">Inputs</h2>
        <span className="muted">{entries.length === 0 ? 'none' : `${entries.length} value${entries.length === 1 ? '' : 's'}`}</span>
      </div>
      {entries.length === 0 ? (
        <p className="muted">This run was started without inputs.</p>
      ) : (
        <dl className="kv">
          {entries.map(([key, value]) => {
            const { text, folded, preview } = inputText(value);
            return (
              <div key={key} className="kv__row">
                <dt className="mono">{key}</dt>
                <dd>
                  {folded ? (
                    <details className="kv__fold">
                      <summary>
                        {preview} <span className="muted">({text.length.toLocaleString()} characters)</span>
                      </summary>
                      <pre className="code kv__full">{text}</pre>
                    </details>
                  ) : typeof value === 'string' ? (
                    <span className="kv__text">{text || <span className="muted">(empty)</span>}</span>
                  ) : (
                    <code>{text}</code>
                  )}
                </dd>
              </div>
            );
          })}
        </dl>
      )}
    </section>
  );
}
