import { Column, Entity, Index, PrimaryColumn, type DataSource, type EntityManager } from 'typeorm';
import { ConclaveError, type DeadLetterListQuery, type DeadLetterMessage, type DeadLetterView } from '@conclave/contracts';
import { toJsonb, type JsonValue } from './json';
import { bigintAsNumber } from './transformers';

/**
 * The `dead_letters` read model (issue 11 §2): table, fold and queries together.
 *
 * It is folded from the DEAD_LETTERS stream (the projector's `dead-letters` durable consumer), not
 * from EVENTS, so it is NOT in READ_MODEL_ENTITIES: a replay of the events stream neither
 * truncates nor rebuilds it (the rows, their alerts — `sequence IS NULL`, which a replay carries
 * over — and the `dead-letters` checkpoint stay as they are). The stream itself is the source of
 * truth: deleting the consumer (setup recreates it, deliver policy all) refolds every record
 * idempotently.
 */

/** projection_checkpoints row: the highest DEAD_LETTERS sequence applied (`?min_sequence=` of the dead-letter routes) */
export const DEAD_LETTERS_CHECKPOINT = 'dead-letters';

/** bytes of the original payload shown in a view (`payloadPreview`) */
export const DEAD_LETTER_PREVIEW_BYTES = 4096;
/** base64 characters covering the preview's bytes (4 characters per 3 bytes, rounded up to a group) */
const PREVIEW_BASE64_CHARS = Math.ceil(DEAD_LETTER_PREVIEW_BYTES / 3) * 4;

@Entity('dead_letters')
@Index('dead_letters_run_id_idx', ['runId'])
@Index('dead_letters_consumer_id_idx', ['consumer', 'id'])
export class DeadLetterRow {
  /** the record's sequence in the DEAD_LETTERS stream */
  @PrimaryColumn({ type: 'bigint', transformer: bigintAsNumber }) id!: number;
  @Column({ type: 'text' }) consumer!: string;
  @Column({ type: 'text' }) stream!: string;
  @Column({ type: 'text' }) subject!: string;
  @Column({ name: 'stream_sequence', type: 'bigint', transformer: bigintAsNumber }) streamSequence!: number;
  @Column({ type: 'integer' }) deliveries!: number;
  @Column({ type: 'text' }) reason!: string;
  @Column({ type: 'text' }) error!: string;
  @Column({ name: 'dead_at', type: 'timestamptz' }) deadAt!: Date;
  @Column({ name: 'run_id', type: 'text', nullable: true }) runId!: string | null;
  /** the process that dead-lettered it */
  @Column({ name: 'dead_by', type: 'text' }) deadBy!: string;
  /** the original message's headers (never served by the API) */
  @Column({ type: 'jsonb' }) headers!: JsonValue;
  /** the original payload, base64 (cut at DEAD_LETTER_MAX_PAYLOAD when `truncated`) */
  @Column({ type: 'text' }) payload!: string;
  @Column({ type: 'boolean' }) truncated!: boolean;
  @Column({ name: 'redriven_at', type: 'timestamptz', nullable: true }) redrivenAt!: Date | null;
  @Column({ name: 'redriven_by', type: 'text', nullable: true }) redrivenBy!: string | null;
}

/** Postgres text and jsonb refuse NUL; a decode error may quote the payload that had one */
const text = (s: string) => s.replaceAll('\u0000', '\uFFFD');

export type DeadLetterFoldResult =
  /** a new record: its row and its alert were written */
  | 'recorded'
  /** a record already folded (redelivery): nothing changed */
  | 'duplicate'
  | 'redriven'
  /** a redrive mark whose record is not folded yet: the caller retries it later */
  | 'record_missing';

/**
 * Fold one DEAD_LETTERS message at stream sequence `sequence`, in the caller's transaction.
 * At-least-once safe: a record is inserted once (by id); a mark keeps the latest redrive. Moves the `dead-letters` checkpoint (never backwards).
 */
export async function foldDeadLetter(m: EntityManager, sequence: number, message: DeadLetterMessage, now = new Date()): Promise<DeadLetterFoldResult> {
  if (!m.queryRunner?.isTransactionActive) throw new Error('foldDeadLetter must run inside a transaction');
  let result: DeadLetterFoldResult;
  switch (message.kind) {
    case 'dead': {
      const inserted: { id: string }[] = await m.query(
        `INSERT INTO dead_letters (id, consumer, stream, subject, stream_sequence, deliveries, reason, error, dead_at, run_id, dead_by, headers, payload, truncated)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
         ON CONFLICT (id) DO NOTHING
         RETURNING id`,
        [
          sequence,
          text(message.consumer),
          text(message.stream),
          text(message.subject),
          message.streamSequence,
          message.deliveries,
          message.reason,
          text(message.error),
          validDate(message.deadAt, now),
          message.runId === null ? null : text(message.runId),
          text(message.by),
          JSON.stringify(toJsonb(message.headers)),
          message.payload,
          message.truncated,
        ],
      );
      if (inserted.length === 0) {
        result = 'duplicate';
        break;
      }
      // its `dead_letter` alert is an event of the log (AlertRaised, ADR 016), appended by the caller
      result = 'recorded';
      break;
    }
    case 'redriven': {
      const exists: unknown[] = await m.query('SELECT 1 FROM dead_letters WHERE id = $1 FOR UPDATE', [message.deadLetterId]);
      if (exists.length === 0) return 'record_missing';
      // the latest redrive wins (an older mark redelivered after a newer one changes nothing)
      await m.query('UPDATE dead_letters SET redriven_at = $2, redriven_by = $3 WHERE id = $1 AND (redriven_at IS NULL OR redriven_at <= $2)', [
        message.deadLetterId,
        validDate(message.at, now),
        text(message.actor.id),
      ]);
      result = 'redriven';
      break;
    }
    default: {
      const never: never = message;
      throw new Error(`unknown dead-letter message ${JSON.stringify(never)}`);
    }
  }
  await m.query(
    `INSERT INTO projection_checkpoints (name, sequence, updated_at) VALUES ($1, $2, now())
     ON CONFLICT (name) DO UPDATE SET sequence = GREATEST(projection_checkpoints.sequence, excluded.sequence), updated_at = excluded.updated_at`,
    [DEAD_LETTERS_CHECKPOINT, sequence],
  );
  return result;
}

function validDate(iso: string, fallback: Date): Date {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? fallback : d;
}

/* ------------------------------------------------------------------ queries */

const COLUMNS = `id, consumer, stream, subject, stream_sequence, deliveries, reason, error, dead_at, run_id, dead_by, truncated, redriven_at, redriven_by,
  left(payload, ${PREVIEW_BASE64_CHARS}) AS payload_head, length(payload) > ${PREVIEW_BASE64_CHARS} AS payload_cut`;

interface ListedRow {
  id: string;
  consumer: string;
  stream: string;
  subject: string;
  stream_sequence: string;
  deliveries: number;
  reason: DeadLetterView['reason'];
  error: string;
  dead_at: Date;
  run_id: string | null;
  dead_by: string;
  truncated: boolean;
  redriven_at: Date | null;
  redriven_by: string | null;
  payload_head: string;
  payload_cut: boolean;
}

/** A dead letter id is its DEAD_LETTERS sequence: a positive decimal without leading zeros. */
export const DEAD_LETTER_ID = /^[1-9][0-9]{0,15}$/;

/** Newest first (by id), keyset-paged; `state` open (default) / redriven / all. An invalid cursor is `bad_request`. */
export async function listDeadLetters(ds: DataSource | EntityManager, query: DeadLetterListQuery): Promise<{ items: DeadLetterView[]; nextCursor: string | null }> {
  const limit = Math.min(500, Math.max(1, Math.trunc(query.limit)));
  const where: string[] = [];
  const params: unknown[] = [];
  const param = (value: unknown) => {
    params.push(value);
    return `$${params.length}`;
  };
  if (query.state === 'open') where.push('redriven_at IS NULL');
  else if (query.state === 'redriven') where.push('redriven_at IS NOT NULL');
  if (query.consumer) where.push(`consumer = ${param(query.consumer)}`);
  if (query.runId) where.push(`run_id = ${param(query.runId)}`);
  if (query.cursor) where.push(`id < ${param(decodeDeadLetterCursor(query.cursor))}`);
  const rows: ListedRow[] = await ds.query(
    `SELECT ${COLUMNS} FROM dead_letters ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ${param(limit + 1)}`,
    params,
  );
  const items = rows.slice(0, limit).map(toDeadLetterView);
  const last = items[items.length - 1];
  return { items, nextCursor: rows.length > limit && last ? encodeDeadLetterCursor(last.id) : null };
}

/** One dead letter, or null. `id` must match DEAD_LETTER_ID (callers answer 400 otherwise). */
export async function getDeadLetter(ds: DataSource | EntityManager, id: string): Promise<DeadLetterView | null> {
  if (!DEAD_LETTER_ID.test(id)) return null;
  const rows: ListedRow[] = await ds.query(`SELECT ${COLUMNS} FROM dead_letters WHERE id = $1`, [id]);
  return rows[0] ? toDeadLetterView(rows[0]) : null;
}

function toDeadLetterView(row: ListedRow): DeadLetterView {
  return {
    id: String(row.id),
    consumer: row.consumer,
    stream: row.stream,
    subject: row.subject,
    streamSequence: Number(row.stream_sequence),
    deliveries: row.deliveries,
    reason: row.reason,
    error: row.error,
    deadAt: row.dead_at.toISOString(),
    runId: row.run_id,
    by: row.dead_by,
    payloadPreview: previewOf(row.payload_head, row.payload_cut),
    truncated: row.truncated,
    redrivenAt: row.redriven_at ? row.redriven_at.toISOString() : null,
    redrivenBy: row.redriven_by,
  };
}

/**
 * The first DEAD_LETTER_PREVIEW_BYTES of the payload as UTF-8 (invalid bytes as U+FFFD; a
 * character cut at the end is dropped). Only the payload: headers are never shown.
 */
export function previewOf(base64Head: string, cut: boolean): string {
  const bytes = Buffer.from(base64Head, 'base64');
  const head = bytes.subarray(0, DEAD_LETTER_PREVIEW_BYTES);
  let end = head.length;
  if (cut || bytes.length > head.length) {
    // step back over a multi-byte character the cut split (continuation bytes 10xxxxxx)
    let back = end - 1;
    while (back > 0 && end - back < 4 && (head[back]! & 0xc0) === 0x80) back--;
    const lead = head[back]!;
    const need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
    if (back + need > end) end = back;
  }
  return head.subarray(0, end).toString('utf8');
}

function encodeDeadLetterCursor(id: string): string {
  return Buffer.from(JSON.stringify(['dl', id]), 'utf8').toString('base64url');
}

function decodeDeadLetterCursor(raw: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
  } catch {
    throw new ConclaveError('bad_request', 'invalid cursor');
  }
  if (!Array.isArray(parsed) || parsed.length !== 2 || parsed[0] !== 'dl' || typeof parsed[1] !== 'string' || !DEAD_LETTER_ID.test(parsed[1])) {
    throw new ConclaveError('bad_request', 'invalid cursor');
  }
  return parsed[1];
}
