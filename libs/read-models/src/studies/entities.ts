import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import type { CandidateScore, Failure, StudyCandidateRef, StudyItemStatus, StudyJudge, StudyRuns, StudySkipped } from '@conclave/contracts';
import { bigintAsNumber } from '../transformers';

/** A re-judging study (ADR 023), folded from `events.study.<id>`; counters follow its items. */
@Entity('studies')
@Index('studies_started_at_idx', ['startedAt'])
export class StudyRow {
  @PrimaryColumn({ type: 'text' }) id!: string;
  @Column({ type: 'text', nullable: true }) name!: string | null;
  @Column({ type: 'text' }) status!: 'running' | 'completed';
  @Column({ type: 'jsonb' }) judge!: StudyJudge;
  @Column({ type: 'jsonb' }) runs!: StudyRuns;
  @Column({ type: 'jsonb', nullable: true }) phases!: string[] | null;
  @Column({ name: 'items_total', type: 'integer' }) itemsTotal!: number;
  @Column({ name: 'items_judged', type: 'integer', default: 0 }) itemsJudged!: number;
  @Column({ name: 'items_failed', type: 'integer', default: 0 }) itemsFailed!: number;
  @Column({ type: 'jsonb' }) skipped!: StudySkipped;
  @Column({ name: 'estimate_usd', type: 'double precision' }) estimateUsd!: number;
  @Column({ name: 'cost_usd', type: 'double precision', default: 0 }) costUsd!: number;
  @Column({ name: 'budget_usd', type: 'double precision', nullable: true }) budgetUsd!: number | null;
  @Column({ name: 'started_at', type: 'timestamptz' }) startedAt!: Date;
  @Column({ name: 'completed_at', type: 'timestamptz', nullable: true }) completedAt!: Date | null;
  /** the position of the study's last folded event */
  @Column({ type: 'bigint', transformer: bigintAsNumber }) sequence!: number;
}

/** One phase attempt's verdict judged again: the old verdict beside the new one. */
@Entity('study_items')
@Index('study_items_run_id_idx', ['runId'])
export class StudyItemRow {
  @PrimaryColumn({ name: 'study_id', type: 'text' }) studyId!: string;
  @PrimaryColumn({ name: 'item_id', type: 'text' }) itemId!: string;
  @Column({ name: 'run_id', type: 'text' }) runId!: string;
  @Column({ name: 'template_id', type: 'text' }) templateId!: string;
  @Column({ name: 'phase_id', type: 'text' }) phaseId!: string;
  @Column({ type: 'integer' }) attempt!: number;
  @Column({ type: 'jsonb' }) candidates!: StudyCandidateRef[];
  @Column({ name: 'old_winner_id', type: 'text' }) oldWinnerId!: string;
  @Column({ name: 'old_scores', type: 'jsonb' }) oldScores!: Record<string, CandidateScore>;
  @Column({ name: 'old_order', type: 'jsonb' }) oldOrder!: string[];
  @Column({ name: 'old_provider', type: 'text' }) oldProvider!: string;
  @Column({ name: 'old_model', type: 'text' }) oldModel!: string;
  @Column({ type: 'text' }) status!: StudyItemStatus;
  /** judge calls asked for so far */
  @Column({ type: 'integer', default: 0 }) attempts!: number;
  @Column({ name: 'new_winner_id', type: 'text', nullable: true }) newWinnerId!: string | null;
  @Column({ name: 'new_scores', type: 'jsonb', nullable: true }) newScores!: Record<string, CandidateScore> | null;
  @Column({ name: 'new_order', type: 'jsonb', nullable: true }) newOrder!: string[] | null;
  @Column({ type: 'text', nullable: true }) rationale!: string | null;
  @Column({ type: 'jsonb', nullable: true }) error!: Failure | null;
  @Column({ name: 'estimate_usd', type: 'double precision' }) estimateUsd!: number;
  @Column({ name: 'cost_usd', type: 'double precision', default: 0 }) costUsd!: number;
  @Column({ name: 'tokens_input', type: 'integer', default: 0 }) tokensInput!: number;
  @Column({ name: 'tokens_output', type: 'integer', default: 0 }) tokensOutput!: number;
}

export const STUDY_ENTITIES = [StudyRow, StudyItemRow];
