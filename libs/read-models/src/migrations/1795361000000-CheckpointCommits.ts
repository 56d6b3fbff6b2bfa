import type { MigrationInterface, QueryRunner } from 'typeorm';

/** A checkpoint of a run on a repository names the run branch's commit a rollback returns to (ADR 009). */
export class CheckpointCommits1795361000000 implements MigrationInterface {
  name = 'CheckpointCommits1795361000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE checkpoints ADD COLUMN "commit" text`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE checkpoints DROP COLUMN "commit"`);
  }
}
