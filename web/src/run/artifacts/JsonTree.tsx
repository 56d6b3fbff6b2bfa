/** Collapsible JSON: objects and arrays are native disclosures (keyboard and screen-reader ready), open to `openDepth`. */
export function JsonTree({ value, label, openDepth = 2 }: { value: unknown; label: string; openDepth?: number }) {
  return (
    <div className="json-tree" role="group" aria-label={label}>
      <Node value={value} depth={0} openDepth={openDepth} />
    </div>
  );
}

function Node({ name, value, depth, openDepth }: { name?: string; value: unknown; depth: number; openDepth: number }) {
  const key = name !== undefined ? <span className="json-tree__key">{name}: </span> : null;
  if (value !== null && typeof value === 'object') {
    const entries = Array.isArray(value) ? value.map((v, i) => [String(i), v] as const) : Object.entries(value);
    const brackets = Array.isArray(value) ? ['[', ']'] : ['{', '}'];
    if (entries.length === 0) {
      return (
        <div className="json-tree__leaf">
          {key}
          <span className="muted">{brackets.join('')}</span>
        </div>
      );
    }
    return (
      <details className="json-tree__node" open={depth < openDepth}>
        <summary>
          {key}
          <span className="muted">
            {brackets[0]} {entries.length} {Array.isArray(value) ? (entries.length === 1 ? 'item' : 'items') : entries.length === 1 ? 'key' : 'keys'} {brackets[1]}
          </span>
        </summary>
        <div className="json-tree__children">
          {entries.map(([k, v]) => (
            <Node key={k} name={k} value={v} depth={depth + 1} openDepth={openDepth} />
          ))}
        </div>
      </details>
    );
  }
  return (
    <div className="json-tree__leaf">
      {key}
      <span className={`json-tree__value json-tree__value--${value === null ? 'null' : typeof value}`}>{typeof value === 'string' ? JSON.stringify(value) : String(value)}</span>
    </div>
  );
}
