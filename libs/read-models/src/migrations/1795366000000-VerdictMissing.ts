import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue 11 §6: a verdict names the round's candidates it went without (VerdictRecorded.missing:
 * they exhausted their tries or failed for good) and why. Verdicts recorded before this migration
 * went without none that the log says (events written before it carry no `missing`).
 */
export class VerdictMissing1795366000000 implements MigrationInterface {
  name = 'VerdictMissing1795366000000';

  async up(q: QueryRunner): Promise<void> {
    // the fold always writes the column; the default only fills the rows already there
    await q.query(`ALTER TABLE verdicts ADD COLUMN missing jsonb NOT NULL DEFAULT '[]'::jsonb`);
    await q.query(`ALTER TABLE verdicts ALTER COLUMN missing DROP DEFAULT`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE verdicts DROP COLUMN missing`);
  }
}
