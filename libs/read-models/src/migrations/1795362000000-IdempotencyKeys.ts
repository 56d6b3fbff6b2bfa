import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The first response to each `Idempotency-Key` of a creating request (gateway-owned, not replayed). */
export class IdempotencyKeys1795362000000 implements MigrationInterface {
  name = 'IdempotencyKeys1795362000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE idempotency_keys (
        scope text NOT NULL,
        key text NOT NULL,
        body_hash text NOT NULL,
        status integer,
        response jsonb,
        created_at timestamptz NOT NULL,
        PRIMARY KEY (scope, key)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE idempotency_keys`);
  }
}
