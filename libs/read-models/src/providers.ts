import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { EntityManager } from 'typeorm';
import { secretIdOf, type ModelPrice, type ProviderEvent, type ProviderFailure, type ProviderKind, type Recorded } from '@conclave/contracts';
import { jsonbSafe } from './json';
import { bigintAsNumber } from './transformers';

/**
 * The providers read model, folded from `events.provider.<id>`. It holds configuration only: the
 * API key is never in the log, so it is never here either (it lives encrypted in
 * `provider_secrets`, a gateway-owned table that a replay must not touch).
 */
@Entity('providers')
export class ProviderRow {
  @PrimaryColumn({ type: 'text' }) id!: string;
  @Column({ type: 'text' }) name!: string;
  @Column({ type: 'text' }) kind!: ProviderKind;
  @Column({ name: 'base_url', type: 'text', nullable: true }) baseUrl!: string | null;
  @Column({ type: 'jsonb' }) models!: string[];
  @Column({ type: 'boolean' }) enabled!: boolean;
  @Column({ type: 'jsonb' }) prices!: Record<string, ModelPrice>;
  @Column({ name: 'has_api_key', type: 'boolean' }) hasApiKey!: boolean;
  /** the `provider_secrets` row this configuration's key is (ADR 012); null without a key */
  @Column({ name: 'secret_id', type: 'text', nullable: true }) secretId!: string | null;
  @Column({ type: 'text' }) source!: 'api' | 'env';
  /** stream sequence of the last event folded into this row */
  @Column({ type: 'bigint', transformer: bigintAsNumber }) sequence!: number;
  @Column({ name: 'updated_at', type: 'timestamptz' }) updatedAt!: Date;
  /** the last credentials refusal (401/403) of a call through this provider, until a success or a new configuration */
  @Column({ type: 'jsonb', nullable: true }) failure!: ProviderFailure | null;
  /** sequence of the candidate event that last set or cleared `failure` */
  @Column({ name: 'failure_sequence', type: 'bigint', nullable: true, transformer: bigintAsNumber }) failureSequence!: number | null;
}

/**
 * What a batch of run events says about each provider's credentials: the last word per provider
 * name (a 401/403 failure, or null for a success), as one UPDATE over a jsonb array of
 * `{ name, sequence, failure }` (its one parameter is `$1`). Each provider is written once per
 * batch; the sequence guards make it idempotent and keep a newer configuration (which clears the
 * failure) from being overwritten by an older call; a success touches only a failing provider.
 */
export const PROVIDER_HEALTH_SQL = `UPDATE providers p SET failure = NULLIF(h->'failure', 'null'::jsonb), failure_sequence = (h->>'sequence')::bigint
       FROM jsonb_array_elements($1::jsonb) AS h
      WHERE p.name = h->>'name' AND p.sequence < (h->>'sequence')::bigint AND COALESCE(p.failure_sequence, 0) < (h->>'sequence')::bigint
        AND (h->'failure' <> 'null'::jsonb OR p.failure IS NOT NULL)`;

/** PROVIDER_HEALTH_SQL's parameter. */
export function providerHealthParam(health: ReadonlyMap<string, { sequence: number; failure: ProviderFailure | null }>): string {
  return JSON.stringify([...health].map(([name, { sequence, failure }]) => ({ name, sequence, failure: jsonbSafe(failure) })));
}

/**
 * Fold one provider event (idempotent: a row only moves forward in sequence, so a redelivered
 * event is a no-op). `ProviderRemoved` deletes the row; a later `ProviderConfigured` recreates it.
 */
export async function applyProviderEvent(m: EntityManager, e: Recorded<ProviderEvent>): Promise<void> {
  const at = new Date(e.occurredAt);
  switch (e.type) {
    case 'ProviderConfigured': {
      const d = e.data;
      await m.query(
        `INSERT INTO providers (id, name, kind, base_url, models, enabled, prices, has_api_key, source, sequence, updated_at, secret_id)
         VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7::jsonb, $8, $9, $10, $11, $12)
         ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, kind = EXCLUDED.kind, base_url = EXCLUDED.base_url,
           models = EXCLUDED.models, enabled = EXCLUDED.enabled, prices = EXCLUDED.prices, has_api_key = EXCLUDED.has_api_key,
           source = EXCLUDED.source, sequence = EXCLUDED.sequence, updated_at = EXCLUDED.updated_at, secret_id = EXCLUDED.secret_id,
           failure = NULL, failure_sequence = NULL
         WHERE providers.sequence < EXCLUDED.sequence`,
        [d.providerId, d.name, d.kind, d.baseUrl, JSON.stringify(d.models), d.enabled, JSON.stringify(d.prices), d.hasApiKey, d.source, e.sequence, at, secretIdOf(d)],
      );
      return;
    }
    case 'ProviderRemoved':
      await m.query('DELETE FROM providers WHERE id = $1 AND sequence < $2', [e.data.providerId, e.sequence]);
      return;
    default: {
      const unknown: never = e;
      throw new Error(`unknown provider event ${String((unknown as Recorded).type)}`);
    }
  }
}
