import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Providers (a read model of `events.provider.*`), and the gateway-owned tables: encrypted
 * provider keys, budgets, the worker fleet and archived runs (none of them derived from the log).
 */
export class ProvidersBudgetsFleet1795330000000 implements MigrationInterface {
  name = 'ProvidersBudgetsFleet1795330000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE providers (
        id          text PRIMARY KEY,
        name        text NOT NULL,
        kind        text NOT NULL,
        base_url    text,
        models      jsonb NOT NULL,
        enabled     boolean NOT NULL,
        prices      jsonb NOT NULL,
        has_api_key boolean NOT NULL,
        source      text NOT NULL,
        sequence    bigint NOT NULL,
        updated_at  timestamptz NOT NULL
      )`);
    await q.query(`
      CREATE TABLE provider_secrets (
        provider_id text PRIMARY KEY,
        ciphertext  bytea NOT NULL,
        nonce       bytea NOT NULL,
        tag         bytea NOT NULL,
        key_version integer NOT NULL,
        updated_at  timestamptz NOT NULL
      )`);
    await q.query(`
      CREATE TABLE budgets (
        scope       text PRIMARY KEY,
        template_id text,
        monthly_usd double precision,
        updated_at  timestamptz NOT NULL
      )`);
    await q.query(`
      CREATE TABLE workers (
        id                text PRIMARY KEY,
        role              text NOT NULL,
        host              text NOT NULL,
        status            text NOT NULL,
        in_flight         integer NOT NULL,
        done              integer NOT NULL,
        failed            integer NOT NULL,
        last_heartbeat_at timestamptz NOT NULL
      )`);
    await q.query(`CREATE INDEX workers_last_heartbeat_at_idx ON workers (last_heartbeat_at)`);
    await q.query(`
      CREATE TABLE run_archive (
        run_id      text PRIMARY KEY,
        archived_at timestamptz NOT NULL
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE run_archive, workers, budgets, provider_secrets, providers`);
  }
}
