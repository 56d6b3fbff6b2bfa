import type { EntityManager } from 'typeorm';
import { withoutNul } from './alerts';

export interface Poisoned {
  streamId: string;
  sequence: number;
  eventType: string;
  reason: string;
}

/**
 * Park a stream (issue 11 §4): record it in `parked_streams` and move the checkpoint past its
 * poison event, in the caller's transaction. The live projector and replay both park through
 * here, so a rebuild holds the same rows the live side does. Postgres text refuses NUL: a poison's
 * NUL bytes are kept as U+FFFD.
 */
export async function parkStream(m: EntityManager, checkpointName: string, poisoned: Poisoned): Promise<void> {
  await m.query('INSERT INTO parked_streams (stream_id, sequence, event_type, reason, parked_at) VALUES ($1, $2, $3, $4, now()) ON CONFLICT (stream_id) DO NOTHING', [
    poisoned.streamId,
    poisoned.sequence,
    withoutNul(poisoned.eventType).slice(0, 200),
    withoutNul(poisoned.reason).slice(0, 2000),
  ]);
  await advanceCheckpoint(m, checkpointName, poisoned.sequence);
}

/** Move the checkpoint past events that were skipped (they belong to parked streams). */
export async function advanceCheckpoint(m: EntityManager, checkpointName: string, sequence: number): Promise<void> {
  await m.query('UPDATE projection_checkpoints SET sequence = $2, updated_at = now() WHERE name = $1 AND sequence < $2', [checkpointName, sequence]);
}
