import { randomUUID } from 'node:crypto';
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
