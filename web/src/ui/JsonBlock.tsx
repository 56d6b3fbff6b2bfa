import { toPrettyJson } from '../lib/format';

/** Formatted JSON in a scrollable block; strings are shown as text rather than quoted JSON. */
export function JsonBlock({ value, label, maxHeight }: { value: unknown; label?: string; maxHeight?: number }) {
  const text = typeof value === 'string' ? value : toPrettyJson(value);
  return (
    <pre className="code" aria-label={label} tabIndex={0} style={maxHeight ? { maxHeight } : undefined}>
      {text}
    </pre>
  );
}
