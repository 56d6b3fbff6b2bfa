import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The first read-model schema. Migrations are append-only: once released, change the schema with
 * a new migration (read models can also be dropped and rebuilt from the log by a replay).
 */
export class Init1795305600000 implements MigrationInterface {
  name = 'Init1795305600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE runs (
        id               text PRIMARY KEY,
        name             text,
        template_id      text NOT NULL,
        template_version integer NOT NULL,
        template_name    text NOT NULL,
        status           text NOT NULL,
        inputs           jsonb NOT NULL,
        auto_mode        boolean NOT NULL DEFAULT false,
        budget_usd       double precision,
        cost_usd         double precision NOT NULL DEFAULT 0,
        tokens_input     integer NOT NULL DEFAULT 0,
        tokens_output    integer NOT NULL DEFAULT 0,
        started_at       timestamptz NOT NULL,
        completed_at     timestamptz,
        error            jsonb,
        sequence         bigint NOT NULL,
        phases_total     integer NOT NULL,
        phases_done      integer NOT NULL DEFAULT 0
      )`);
    await q.query(`CREATE INDEX runs_status_idx ON runs (status)`);
    await q.query(`CREATE INDEX runs_template_id_idx ON runs (template_id)`);
    await q.query(`CREATE INDEX runs_started_at_id_idx ON runs (started_at, id)`);

    await q.query(`
      CREATE TABLE run_phases (
        run_id        text NOT NULL,
        phase_id      text NOT NULL,
        position      integer NOT NULL,
        name          text,
        kind          text NOT NULL,
        depends_on    jsonb NOT NULL,
        status        text NOT NULL,
        attempt       integer NOT NULL DEFAULT 0,
        started_at    timestamptz,
        completed_at  timestamptz,
        artifact_id   text,
        cost_usd      double precision NOT NULL DEFAULT 0,
        tokens_input  integer NOT NULL DEFAULT 0,
        tokens_output integer NOT NULL DEFAULT 0,
        error         jsonb,
        PRIMARY KEY (run_id, phase_id)
      )`);

    await q.query(`
      CREATE TABLE candidates (
        id            text PRIMARY KEY,
        run_id        text NOT NULL,
        phase_id      text NOT NULL,
        attempt       integer NOT NULL,
        slot          integer NOT NULL,
        provider      text NOT NULL,
        model         text NOT NULL,
        status        text NOT NULL,
        output        jsonb,
        tokens_input  integer NOT NULL DEFAULT 0,
        tokens_output integer NOT NULL DEFAULT 0,
        cost_usd      double precision NOT NULL DEFAULT 0,
        duration_ms   integer,
        error         jsonb,
        requested_at  timestamptz NOT NULL
      )`);
    await q.query(`CREATE INDEX candidates_run_phase_attempt_idx ON candidates (run_id, phase_id, attempt, slot)`);

    await q.query(`
      CREATE TABLE verdicts (
        run_id        text NOT NULL,
        phase_id      text NOT NULL,
        attempt       integer NOT NULL,
        judge_id      text NOT NULL,
        winner_id     text NOT NULL,
        scores        jsonb NOT NULL,
        rationale     text NOT NULL,
        "order"       jsonb NOT NULL,
        provider      text NOT NULL,
        model         text NOT NULL,
        tokens_input  integer NOT NULL DEFAULT 0,
        tokens_output integer NOT NULL DEFAULT 0,
        cost_usd      double precision NOT NULL DEFAULT 0,
        recorded_at   timestamptz NOT NULL,
        PRIMARY KEY (run_id, phase_id, attempt)
      )`);

    await q.query(`
      CREATE TABLE artifacts (
        id            text PRIMARY KEY,
        run_id        text NOT NULL,
        phase_id      text NOT NULL,
        attempt       integer NOT NULL,
        candidate_id  text,
        artifact_type text NOT NULL,
        content       jsonb,
        created_at    timestamptz NOT NULL
      )`);
    await q.query(`CREATE INDEX artifacts_run_id_idx ON artifacts (run_id, created_at)`);

    await q.query(`
      CREATE TABLE timeline_events (
        sequence    bigint PRIMARY KEY,
        event_id    text NOT NULL,
        run_id      text NOT NULL,
        type        text NOT NULL,
        phase_id    text,
        occurred_at timestamptz NOT NULL,
        actor       jsonb NOT NULL,
        data        jsonb NOT NULL
      )`);
    await q.query(`CREATE INDEX timeline_events_run_id_sequence_idx ON timeline_events (run_id, sequence)`);

    await q.query(`
      CREATE TABLE templates (
        id             text PRIMARY KEY,
        name           text NOT NULL,
        description    text NOT NULL DEFAULT '',
        latest_version integer NOT NULL,
        archived       boolean NOT NULL DEFAULT false,
        updated_at     timestamptz NOT NULL
      )`);
    await q.query(`
      CREATE TABLE template_versions (
        template_id text NOT NULL,
        version     integer NOT NULL,
        template    jsonb NOT NULL,
        created_at  timestamptz NOT NULL,
        PRIMARY KEY (template_id, version)
      )`);

    await q.query(`
      CREATE TABLE projection_checkpoints (
        name       text PRIMARY KEY,
        sequence   bigint NOT NULL,
        updated_at timestamptz NOT NULL
      )`);

    await q.query(`
      CREATE TABLE alerts (
        id         text PRIMARY KEY,
        kind       text NOT NULL,
        message    text NOT NULL,
        details    jsonb,
        created_at timestamptz NOT NULL
      )`);
    await q.query(`CREATE INDEX alerts_created_at_idx ON alerts (created_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of [
      'alerts',
      'projection_checkpoints',
      'template_versions',
      'templates',
      'timeline_events',
      'artifacts',
      'verdicts',
      'candidates',
      'run_phases',
      'runs',
    ]) {
      await q.query(`DROP TABLE IF EXISTS ${table}`);
    }
  }
}
