import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Runs on a repository (ADR 009): the run's workspace and the run branch's tip as the log knows it,
 * the distinct files its phases' commits changed, each agent phase's commit on the run branch and
 * the partial work a cancelled or timed-out candidate left.
 */
export class RunWorkspaces1795360000000 implements MigrationInterface {
  name = 'RunWorkspaces1795360000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE runs ADD COLUMN workspace jsonb`);
    await q.query(`ALTER TABLE runs ADD COLUMN files_changed integer NOT NULL DEFAULT 0`);
    await q.query(`ALTER TABLE run_phases ADD COLUMN "commit" jsonb`);
    await q.query(`ALTER TABLE candidates ADD COLUMN partial jsonb`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE candidates DROP COLUMN partial`);
    await q.query(`ALTER TABLE run_phases DROP COLUMN "commit"`);
    await q.query(`ALTER TABLE runs DROP COLUMN files_changed`);
    await q.query(`ALTER TABLE runs DROP COLUMN workspace`);
  }
}
