import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Poison containment (issue 11 §4): a stream (a run or a template) the projector met an event of
 * that it cannot fold is parked here — its later events are skipped by the live projection, the
 * others go on — until an operator fixes the cause and rebuilds (`npm run replay`, which still
 * refuses to skip anything).
 */
export class ParkedStreams1795367000000 implements MigrationInterface {
  name = 'ParkedStreams1795367000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE parked_streams (
        stream_id text PRIMARY KEY,
        sequence bigint NOT NULL,
        event_type text NOT NULL,
        reason text NOT NULL,
        parked_at timestamptz NOT NULL
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE parked_streams`);
  }
}
