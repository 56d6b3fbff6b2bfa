import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue 15 §3 (ADR 024): a run's budget policy (its own, else its template's) and the decisions it
 * took (BudgetPolicyApplied), for the run view. Null for runs without a policy; runs started before
 * budget policies had none, so there is nothing to fill in.
 */
export class RunBudgetPolicy1795370100000 implements MigrationInterface {
  name = 'RunBudgetPolicy1795370100000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE runs ADD COLUMN IF NOT EXISTS budget_policy jsonb`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE runs DROP COLUMN IF EXISTS budget_policy`);
  }
}
