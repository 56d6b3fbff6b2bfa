import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Loop phases run producer → evaluator → reviser rounds within one attempt, and a round may be
 * judged twice (select among candidates, then evaluate the winner). Candidates gain their round;
 * a verdict is keyed by (run, phase, attempt, round, purpose) and remembers its stream sequence
 * so that a phase shows its latest verdict.
 */
export class LoopRounds1795312800000 implements MigrationInterface {
  name = 'LoopRounds1795312800000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE candidates ADD COLUMN round integer NOT NULL DEFAULT 0`);
    await q.query(`DROP INDEX candidates_run_phase_attempt_idx`);
    await q.query(`CREATE INDEX candidates_run_phase_attempt_idx ON candidates (run_id, phase_id, attempt, round, slot)`);

    await q.query(`ALTER TABLE verdicts ADD COLUMN round integer NOT NULL DEFAULT 0`);
    await q.query(`ALTER TABLE verdicts ADD COLUMN purpose text NOT NULL DEFAULT 'select'`);
    await q.query(`ALTER TABLE verdicts ADD COLUMN sequence bigint NOT NULL DEFAULT 0`);
    await q.query(`ALTER TABLE verdicts ALTER COLUMN sequence DROP DEFAULT`);
    await q.query(`ALTER TABLE verdicts DROP CONSTRAINT verdicts_pkey`);
    await q.query(`ALTER TABLE verdicts ADD CONSTRAINT verdicts_pkey PRIMARY KEY (run_id, phase_id, attempt, round, purpose)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DELETE FROM verdicts WHERE round <> 0 OR purpose <> 'select'`);
    await q.query(`ALTER TABLE verdicts DROP CONSTRAINT verdicts_pkey`);
    await q.query(`ALTER TABLE verdicts ADD CONSTRAINT verdicts_pkey PRIMARY KEY (run_id, phase_id, attempt)`);
    await q.query(`ALTER TABLE verdicts DROP COLUMN sequence, DROP COLUMN purpose, DROP COLUMN round`);
    await q.query(`DROP INDEX candidates_run_phase_attempt_idx`);
    await q.query(`CREATE INDEX candidates_run_phase_attempt_idx ON candidates (run_id, phase_id, attempt, slot)`);
    await q.query(`ALTER TABLE candidates DROP COLUMN round`);
  }
}
