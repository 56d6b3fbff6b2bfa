import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { bigintAsNumber } from './transformers';

/**
 * Gateway-owned tables. They are NOT derived from the log: a replay must neither truncate nor
 * rebuild them (provider_secrets cannot be rebuilt at all — secrets never enter the log).
 */

/**
 * AES-256-GCM ciphertext of a provider's API key (associated data: the provider id). Rows are
 * written before the `ProviderConfigured` event that refers to them by `secretId` and never
 * changed (ADR 012): the log alone says which row, if any, is a provider's key. A row no event
 * refers to is invisible and is deleted once it is certainly superseded (`based_on_sequence`).
 */
@Entity('provider_secrets')
export class ProviderSecretRow {
  @PrimaryColumn({ name: 'provider_id', type: 'text' }) providerId!: string;
  @PrimaryColumn({ name: 'secret_id', type: 'text' }) secretId!: string;
  /** the provider's last subject sequence when the write that stored this row read it (its expected sequence) */
  @Column({ name: 'based_on_sequence', type: 'bigint', transformer: bigintAsNumber }) basedOnSequence!: number;
  @Column({ type: 'bytea' }) ciphertext!: Buffer;
  @Column({ type: 'bytea' }) nonce!: Buffer;
  @Column({ type: 'bytea' }) tag!: Buffer;
  @Column({ name: 'key_version', type: 'integer' }) keyVersion!: number;
  @Column({ name: 'updated_at', type: 'timestamptz' }) updatedAt!: Date;
}

/** Monthly budgets: scope `global` or `template:<id>`. */
@Entity('budgets')
export class BudgetRow {
  @PrimaryColumn({ type: 'text' }) scope!: string;
  @Column({ name: 'template_id', type: 'text', nullable: true }) templateId!: string | null;
  @Column({ name: 'monthly_usd', type: 'double precision', nullable: true }) monthlyUsd!: number | null;
  @Column({ name: 'updated_at', type: 'timestamptz' }) updatedAt!: Date;
}

/** The worker fleet as last reported by heartbeats (core NATS `live.worker.<id>`). */
@Entity('workers')
@Index('workers_last_heartbeat_at_idx', ['lastHeartbeatAt'])
export class WorkerRow {
  @PrimaryColumn({ type: 'text' }) id!: string;
  @Column({ type: 'text' }) role!: string;
  @Column({ type: 'text' }) host!: string;
  @Column({ type: 'text' }) status!: string;
  @Column({ name: 'in_flight', type: 'integer' }) inFlight!: number;
  @Column({ type: 'integer' }) done!: number;
  @Column({ type: 'integer' }) failed!: number;
  @Column({ name: 'last_heartbeat_at', type: 'timestamptz' }) lastHeartbeatAt!: Date;
}

/** Runs hidden from `GET /runs` (a view preference of operators, not a fact of the run). */
@Entity('run_archive')
export class RunArchiveRow {
  @PrimaryColumn({ name: 'run_id', type: 'text' }) runId!: string;
  @Column({ name: 'archived_at', type: 'timestamptz' }) archivedAt!: Date;
}

/**
 * `Idempotency-Key` of a creating request (POST /runs, fork, rerun, templates, providers): the
 * first response, kept so that a client retrying after a timeout gets it again instead of a
 * second run. `status` is null while the first request is still being handled.
 */
@Entity('idempotency_keys')
export class IdempotencyKeyRow {
  /** method and path, e.g. `POST /api/v1/runs/<id>/fork`: a key is scoped to what it created */
  @PrimaryColumn({ type: 'text' }) scope!: string;
  @PrimaryColumn({ type: 'text' }) key!: string;
  @Column({ name: 'body_hash', type: 'text' }) bodyHash!: string;
  @Column({ type: 'integer', nullable: true }) status!: number | null;
  @Column({ type: 'jsonb', nullable: true }) response!: unknown;
  @Column({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
}

export const GATEWAY_OWNED_ENTITIES = [ProviderSecretRow, BudgetRow, WorkerRow, RunArchiveRow, IdempotencyKeyRow];
