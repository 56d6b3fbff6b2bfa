import { randomUUID } from 'node:crypto';
import type { AlertItem, EventOf, Recorded } from '@conclave/contracts';
import type { DataSource, EntityManager } from 'typeorm';
import { AlertRow } from './entities';
import { toJsonb } from './json';

export interface NewAlert {
  /** machine-readable, e.g. `projection_halted` */
  kind: string;
  message: string;
  details?: unknown;
}

/**
 * Record an operator alert (GET /alerts). Written in its own statement: call it outside the
 * transaction that failed (that one is rolled back, and the alert would go with it).
 */
/** NUL → U+FFFD (Postgres text cannot hold NUL). */
export function withoutNul(text: string): string {
  return text.replaceAll('\u0000', '\uFFFD');
}

export async function recordAlert(db: DataSource | EntityManager, alert: NewAlert, now = new Date()): Promise<string> {
  const id = randomUUID();
  await db.getRepository(AlertRow).insert({
    id,
    kind: alert.kind,
    message: withoutNul(alert.message),
    // Postgres text and jsonb refuse NUL: an alert about poison must not fail on the poison's bytes
    details: toJsonb(alert.details === undefined ? undefined : JSON.parse(JSON.stringify(alert.details).replace(/\\u0000/g, '\\ufffd'))),
    createdAt: now,
  });
  return id;
}

/**
 * The alerts read model's share of the log (ADR 016): `events.alert.<alertId>`.
 *
 * Idempotent by the alert id (the business key of the condition): a redelivered or replayed
 * `AlertRaised` inserts nothing the second time (ON CONFLICT DO NOTHING), and only the first
 * `AlertAcknowledged` sets acknowledged_at/by. Acknowledgements are applied after the batch's
 * other writes, so an alert raised and acknowledged in one batch (a replay) ends acknowledged.
 */
export async function applyAlertRaised(m: EntityManager, e: Recorded<EventOf<'AlertRaised'>>): Promise<void> {
  const d = e.data;
  await m.query(
    `INSERT INTO alerts (id, kind, message, details, created_at, sequence, run_id, provider_name, acknowledged_at, acknowledged_by)
     VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7, $8, NULL, NULL) ON CONFLICT (id) DO NOTHING`,
    [
      d.alertId,
      d.kind,
      withoutNul(d.message),
      JSON.stringify({ ...d.details, ...(d.templateId ? { templateId: d.templateId } : {}) }).replace(/\\u0000/g, '\\ufffd'),
      new Date(e.occurredAt),
      e.sequence,
      d.runId,
      d.providerName,
    ],
  );
}

export interface AlertAcknowledgement {
  at: Date;
  by: string;
}

/** The first acknowledgement of each alert wins; later ones (a second click, a redelivery) change nothing. */
export async function applyAlertAcknowledgements(m: EntityManager, acks: ReadonlyMap<string, AlertAcknowledgement>): Promise<void> {
  for (const [id, ack] of acks) {
    await m.query('UPDATE alerts SET acknowledged_at = $2, acknowledged_by = $3 WHERE id = $1 AND acknowledged_at IS NULL', [id, ack.at, ack.by]);
  }
}

/** An alerts row as the REST view (GET /alerts). */
export function toAlertItem(row: AlertRow): AlertItem {
  return {
    id: row.id,
    kind: row.kind,
    message: row.message,
    details: row.details,
    createdAt: row.createdAt.toISOString(),
    runId: row.runId,
    providerName: row.providerName,
    acknowledgedAt: row.acknowledgedAt?.toISOString() ?? null,
    acknowledgedBy: row.acknowledgedBy,
  };
}
