import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * ADR 012: a provider's sealed keys are immutable rows (provider_id, secret_id) that the log
 * refers to (`ProviderConfigured.secretId`), written before the event; the providers read model
 * carries the reference. Existing rows become the `legacy` row that older events refer to.
 */
export class ProviderSecretVersions1795365000000 implements MigrationInterface {
  name = 'ProviderSecretVersions1795365000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE provider_secrets ADD COLUMN secret_id text NOT NULL DEFAULT 'legacy'`);
    await q.query(`ALTER TABLE provider_secrets ALTER COLUMN secret_id DROP DEFAULT`);
    await q.query(`ALTER TABLE provider_secrets ADD COLUMN based_on_sequence bigint NOT NULL DEFAULT 0`);
    await q.query(`ALTER TABLE provider_secrets ALTER COLUMN based_on_sequence DROP DEFAULT`);
    await q.query(`DO $$ DECLARE c text; BEGIN
      SELECT conname INTO c FROM pg_constraint WHERE conrelid = 'provider_secrets'::regclass AND contype = 'p';
      IF c IS NOT NULL THEN EXECUTE format('ALTER TABLE provider_secrets DROP CONSTRAINT %I', c); END IF;
    END $$`);
    await q.query(`ALTER TABLE provider_secrets ADD CONSTRAINT "PK_provider_secrets" PRIMARY KEY (provider_id, secret_id)`);
    await q.query(`ALTER TABLE providers ADD COLUMN secret_id text`);
    await q.query(`UPDATE providers SET secret_id = 'legacy' WHERE has_api_key`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE providers DROP COLUMN secret_id`);
    await q.query(`DELETE FROM provider_secrets WHERE secret_id <> 'legacy'`);
    await q.query(`ALTER TABLE provider_secrets DROP CONSTRAINT "PK_provider_secrets"`);
    await q.query(`ALTER TABLE provider_secrets DROP COLUMN based_on_sequence, DROP COLUMN secret_id`);
    await q.query(`ALTER TABLE provider_secrets ADD CONSTRAINT "PK_provider_secrets" PRIMARY KEY (provider_id)`);
  }
}
