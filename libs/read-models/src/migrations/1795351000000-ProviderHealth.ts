import type { MigrationInterface, QueryRunner } from 'typeorm';

/** A provider whose calls are refused for their credentials (401/403) is marked failing until a success or a new configuration. */
export class ProviderHealth1795351000000 implements MigrationInterface {
  name = 'ProviderHealth1795351000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE providers ADD COLUMN failure jsonb`);
    await q.query(`ALTER TABLE providers ADD COLUMN failure_sequence bigint`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE providers DROP COLUMN failure_sequence`);
    await q.query(`ALTER TABLE providers DROP COLUMN failure`);
  }
}
