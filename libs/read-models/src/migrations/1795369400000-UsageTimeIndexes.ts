import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Spend over a time range (`GET /costs`, `GET /analytics`) selects calls by when they were made:
 * candidates by `requested_at`, verdicts by `recorded_at`. Runs already have (started_at, id).
 */
export class UsageTimeIndexes1795369400000 implements MigrationInterface {
  name = 'UsageTimeIndexes1795369400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX IF NOT EXISTS candidates_requested_at_idx ON candidates (requested_at)`);
    await q.query(`CREATE INDEX IF NOT EXISTS verdicts_recorded_at_idx ON verdicts (recorded_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS verdicts_recorded_at_idx`);
    await q.query(`DROP INDEX IF EXISTS candidates_requested_at_idx`);
  }
}
