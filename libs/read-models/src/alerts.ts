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
export async function recordAlert(db: DataSource | EntityManager, alert: NewAlert, now = new Date()): Promise<string> {
  const id = randomUUID();
  await db.getRepository(AlertRow).insert({
    id,
    kind: alert.kind,
    message: alert.message,
    details: toJsonb(alert.details),
    createdAt: now,
  });
  return id;
}
