import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Log positions (ADR 014): one decision is one JetStream message holding its events, and an
 * event's `sequence` is now its position, the message's stream sequence × 1000 + its index. Every
 * event written before commits is a message of its own, so its position is its old sequence × 1000:
 * every column that holds an event's sequence (or a checkpoint of them) is multiplied by 1000, in
 * two steps through negative values so that unique keys (timeline_events) never collide midway.
 * `stream_sequence` columns name messages of other streams (dead letters) and stay as they are.
 */
export class LogPositions1795368000000 implements MigrationInterface {
  name = 'LogPositions1795368000000';

  async up(q: QueryRunner): Promise<void> {
    await this.scale(q, '* -1000', '* -1');
  }

  async down(q: QueryRunner): Promise<void> {
    await this.scale(q, '/ -1000', '* -1');
  }

  private async scale(q: QueryRunner, first: string, second: string): Promise<void> {
    const columns: { table_name: string; column_name: string }[] = await q.query(
      `SELECT table_name, column_name FROM information_schema.columns
        WHERE table_schema = current_schema() AND data_type = 'bigint'
          AND (column_name = 'sequence' OR column_name LIKE '%\\_sequence') AND column_name <> 'stream_sequence'`,
    );
    for (const { table_name: table, column_name: column } of columns) {
      for (const op of [first, second]) {
        await q.query(`UPDATE "${table}" SET "${column}" = "${column}" ${op} WHERE "${column}" IS NOT NULL AND "${column}" <> 0`);
      }
    }
  }
}
