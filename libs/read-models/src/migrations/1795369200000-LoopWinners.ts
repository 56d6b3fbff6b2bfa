import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue 13 §3, loops you can read. A phase remembers the candidate whose output it took as its
 * artifact (`artifact_candidate_id`, folded from ArtifactRecorded): a loop stopped at maxAttempts
 * takes its best round, not its last, and the view's winner now follows the artifact instead of the
 * latest verdict. Loop phases keep their bounds (`loop`: maxRounds and passThreshold from the run's
 * template snapshot) so a view can label "Round 2 of 5" and draw the threshold.
 *
 * Rows already there are filled from what the read models hold (the artifacts, and RunStarted's
 * template snapshot in the timeline); a replay folds the same values from the log.
 */
export class LoopWinners1795369200000 implements MigrationInterface {
  name = 'LoopWinners1795369200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE run_phases ADD COLUMN artifact_candidate_id text, ADD COLUMN loop jsonb`);
    await q.query(`
      UPDATE run_phases p SET artifact_candidate_id = a.candidate_id
        FROM artifacts a
       WHERE a.id = p.run_id || '.' || p.phase_id || '.' || p.attempt || '.artifact' AND NOT p.rolled_back`);
    await q.query(`
      UPDATE run_phases p
         SET loop = jsonb_build_object('maxRounds', (ph->'loop'->>'maxAttempts')::integer, 'passThreshold', (ph->'loop'->>'passThreshold')::double precision)
        FROM timeline_events t, jsonb_array_elements(t.data->'template'->'phases') ph
       WHERE t.type = 'RunStarted' AND t.run_id = p.run_id AND p.kind = 'loop' AND ph->>'id' = p.phase_id`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE run_phases DROP COLUMN loop, DROP COLUMN artifact_candidate_id`);
  }
}
