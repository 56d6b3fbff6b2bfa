import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Where each candidate's conversation is stored (a TranscriptRef into the transcripts object store). */
export class CandidateTranscripts1795350000000 implements MigrationInterface {
  name = 'CandidateTranscripts1795350000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE candidates ADD COLUMN transcript jsonb`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE candidates DROP COLUMN transcript`);
  }
}
