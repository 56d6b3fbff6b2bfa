import { ConclaveError } from '@conclave/contracts';

/**
 * Keyset paging over runs, newest first: the cursor is the (started_at, id) of the last item
 * returned, opaque to clients (base64url JSON). Timestamps are stored at millisecond precision
 * (they come from JS Dates), so the ISO string round-trips exactly.
 */
export interface RunCursor {
  startedAt: string;
  id: string;
}

export function encodeCursor(cursor: RunCursor): string {
  return Buffer.from(JSON.stringify([cursor.startedAt, cursor.id]), 'utf8').toString('base64url');
}

/** Throws ConclaveError('bad_request') for anything encodeCursor did not produce. */
export function decodeCursor(raw: string): RunCursor {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
  } catch {
    throw new ConclaveError('bad_request', 'invalid cursor');
  }
  if (
    !Array.isArray(parsed) ||
    parsed.length !== 2 ||
    typeof parsed[0] !== 'string' ||
    typeof parsed[1] !== 'string' ||
    Number.isNaN(Date.parse(parsed[0]))
  ) {
    throw new ConclaveError('bad_request', 'invalid cursor');
  }
  return { startedAt: parsed[0], id: parsed[1] };
}

/** Escape LIKE/ILIKE wildcards so user text matches literally (backslash is the escape). */
export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}
