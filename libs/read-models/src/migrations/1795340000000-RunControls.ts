import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Run controls and human-in-the-loop: what a run waits on (gates, questions, manual continue),
 * why it is paused, where it came from (rerun / fork); per phase the gate decision, the interview,
 * a scheduled retry and a condition's result; checkpoints and audited tool calls. Alerts folded
 * from the log (budget alerts) remember the event's sequence; alerts raised by a process (a
 * halted projection) have none and are carried over by a replay.
 */
export class RunControls1795340000000 implements MigrationInterface {
  name = 'RunControls1795340000000';

  async up(q: QueryRunner): Promise<void> {
    // runs started before this migration wait on nothing; the fold always writes the column
    await q.query(`ALTER TABLE runs ADD COLUMN pending jsonb NOT NULL DEFAULT '{"gates":[],"questions":[],"continue":[]}'::jsonb`);
    await q.query(`ALTER TABLE runs ALTER COLUMN pending DROP DEFAULT`);
    await q.query(`ALTER TABLE runs ADD COLUMN pause_reason jsonb`);
    await q.query(`ALTER TABLE runs ADD COLUMN origin jsonb`);

    await q.query(`ALTER TABLE run_phases ADD COLUMN gate jsonb`);
    await q.query(`ALTER TABLE run_phases ADD COLUMN interview jsonb`);
    await q.query(`ALTER TABLE run_phases ADD COLUMN retry_at timestamptz`);
    await q.query(`ALTER TABLE run_phases ADD COLUMN retry_override jsonb`);
    await q.query(`ALTER TABLE run_phases ADD COLUMN condition jsonb`);
    await q.query(`ALTER TABLE run_phases ADD COLUMN rolled_back boolean NOT NULL DEFAULT false`);

    await q.query(`
      CREATE TABLE checkpoints (
        run_id              text NOT NULL,
        id                  text NOT NULL,
        phase_id            text NOT NULL,
        completed_phase_ids jsonb NOT NULL,
        sequence            bigint NOT NULL,
        created_at          timestamptz NOT NULL,
        PRIMARY KEY (run_id, id)
      )`);
    await q.query(`CREATE INDEX checkpoints_run_id_sequence_idx ON checkpoints (run_id, sequence)`);

    await q.query(`
      CREATE TABLE tool_calls (
        candidate_id   text NOT NULL,
        index          integer NOT NULL,
        run_id         text NOT NULL,
        phase_id       text NOT NULL,
        attempt        integer NOT NULL,
        tool           text NOT NULL,
        input          jsonb,
        output_summary text NOT NULL,
        duration_ms    integer NOT NULL,
        refused        boolean NOT NULL,
        at             timestamptz NOT NULL,
        sequence       bigint NOT NULL,
        PRIMARY KEY (candidate_id, index)
      )`);
    await q.query(`CREATE INDEX tool_calls_run_id_sequence_idx ON tool_calls (run_id, sequence, index)`);

    await q.query(`ALTER TABLE alerts ADD COLUMN sequence bigint`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE alerts DROP COLUMN sequence`);
    await q.query(`DROP TABLE IF EXISTS tool_calls`);
    await q.query(`DROP TABLE IF EXISTS checkpoints`);
    await q.query(`ALTER TABLE run_phases DROP COLUMN rolled_back, DROP COLUMN condition, DROP COLUMN retry_override, DROP COLUMN retry_at, DROP COLUMN interview, DROP COLUMN gate`);
    await q.query(`ALTER TABLE runs DROP COLUMN origin, DROP COLUMN pause_reason, DROP COLUMN pending`);
  }
}
