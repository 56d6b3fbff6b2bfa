import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Dead letters (issue 11 §2), folded from the DEAD_LETTERS stream by the projector's
 * `dead-letters` consumer. Not replayed from EVENTS (see dead-letters.ts).
 */
export class DeadLetters1795364000000 implements MigrationInterface {
  name = 'DeadLetters1795364000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE dead_letters (
        id bigint PRIMARY KEY,
        consumer text NOT NULL,
        stream text NOT NULL,
        subject text NOT NULL,
        stream_sequence bigint NOT NULL,
        deliveries integer NOT NULL,
        reason text NOT NULL,
        error text NOT NULL,
        dead_at timestamptz NOT NULL,
        run_id text,
        dead_by text NOT NULL,
        headers jsonb NOT NULL,
        payload text NOT NULL,
        truncated boolean NOT NULL,
        redriven_at timestamptz,
        redriven_by text
      )`);
    await q.query(`CREATE INDEX dead_letters_run_id_idx ON dead_letters (run_id)`);
    await q.query(`CREATE INDEX dead_letters_consumer_id_idx ON dead_letters (consumer, id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE dead_letters`);
  }
}
