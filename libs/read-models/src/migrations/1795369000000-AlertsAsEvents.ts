import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Alerts as events (ADR 016): an alert says what it concerns (a run, a provider) for links, and
 * whether and by whom it was acknowledged (`AlertAcknowledged`). The partial index serves the
 * header's open-alert count and the `status=open` list.
 */
export class AlertsAsEvents1795369000000 implements MigrationInterface {
  name = 'AlertsAsEvents1795369000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE alerts
        ADD COLUMN run_id text,
        ADD COLUMN provider_name text,
        ADD COLUMN acknowledged_at timestamptz,
        ADD COLUMN acknowledged_by text`);
    // the budget alerts of a run's log name their run in details: give them the column too
    await q.query(`UPDATE alerts SET run_id = details->>'runId' WHERE kind = 'budget' AND details ? 'runId'`);
    await q.query(`CREATE INDEX alerts_open_idx ON alerts (created_at DESC, id DESC) WHERE acknowledged_at IS NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX alerts_open_idx`);
    await q.query(`ALTER TABLE alerts DROP COLUMN run_id, DROP COLUMN provider_name, DROP COLUMN acknowledged_at, DROP COLUMN acknowledged_by`);
  }
}
