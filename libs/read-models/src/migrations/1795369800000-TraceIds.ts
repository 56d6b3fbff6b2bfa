import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue 14 §3: a run's trace id (RunStarted.trace) and a candidate's span (CandidateGenerated /
 * CandidateFailed.trace), for the dashboard's links to a trace viewer. Null where tracing was off;
 * events written before issue 14 carry no trace, so there is nothing to fill in.
 */
export class TraceIds1795369800000 implements MigrationInterface {
  name = 'TraceIds1795369800000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE runs ADD COLUMN IF NOT EXISTS trace_id text`);
    await q.query(`ALTER TABLE candidates ADD COLUMN IF NOT EXISTS trace jsonb`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE candidates DROP COLUMN IF EXISTS trace`);
    await q.query(`ALTER TABLE runs DROP COLUMN IF EXISTS trace_id`);
  }
}
