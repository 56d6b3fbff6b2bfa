import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The cost-spike alert (services/projector/src/alerts) compares a completed run with its template's
 * latest completed runs: without this index every paid run's completion sorted all of its template's
 * runs.
 */
export class CompletedRunsByTemplate1795369700000 implements MigrationInterface {
  name = 'CompletedRunsByTemplate1795369700000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX IF NOT EXISTS runs_template_completed_idx ON runs (template_id, completed_at) WHERE status = 'completed'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS runs_template_completed_idx`);
  }
}
