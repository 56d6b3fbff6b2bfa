import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Issue 15 §1 (ADR 023): re-judging studies and their items, folded from `events.study.<id>`. */
export class Studies1795370000000 implements MigrationInterface {
  name = 'Studies1795370000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE IF NOT EXISTS studies (
      id text PRIMARY KEY,
      name text,
      status text NOT NULL,
      judge jsonb NOT NULL,
      runs jsonb NOT NULL,
      phases jsonb,
      items_total integer NOT NULL,
      items_judged integer NOT NULL DEFAULT 0,
      items_failed integer NOT NULL DEFAULT 0,
      skipped jsonb NOT NULL,
      estimate_usd double precision NOT NULL,
      cost_usd double precision NOT NULL DEFAULT 0,
      budget_usd double precision,
      started_at timestamptz NOT NULL,
      completed_at timestamptz,
      sequence bigint NOT NULL
    )`);
    await q.query(`CREATE INDEX IF NOT EXISTS studies_started_at_idx ON studies (started_at)`);
    await q.query(`CREATE TABLE IF NOT EXISTS study_items (
      study_id text NOT NULL,
      item_id text NOT NULL,
      run_id text NOT NULL,
      template_id text NOT NULL,
      phase_id text NOT NULL,
      attempt integer NOT NULL,
      candidates jsonb NOT NULL,
      old_winner_id text NOT NULL,
      old_scores jsonb NOT NULL,
      old_order jsonb NOT NULL,
      old_provider text NOT NULL,
      old_model text NOT NULL,
      status text NOT NULL,
      attempts integer NOT NULL DEFAULT 0,
      new_winner_id text,
      new_scores jsonb,
      new_order jsonb,
      rationale text,
      error jsonb,
      estimate_usd double precision NOT NULL,
      cost_usd double precision NOT NULL DEFAULT 0,
      tokens_input integer NOT NULL DEFAULT 0,
      tokens_output integer NOT NULL DEFAULT 0,
      PRIMARY KEY (study_id, item_id)
    )`);
    await q.query(`CREATE INDEX IF NOT EXISTS study_items_run_id_idx ON study_items (run_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS study_items`);
    await q.query(`DROP TABLE IF EXISTS studies`);
  }
}
