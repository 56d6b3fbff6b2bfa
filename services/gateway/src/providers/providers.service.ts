import { createHash, randomUUID } from 'node:crypto';
import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import {
  ConclaveError,
  ProviderView,
  secretIdOf,
  type CreateProviderBody,
  type EventData,
  type ProviderKind,
  type ProviderFailure,
  type ProviderTestResult,
  type Recorded,
  type UpdateProviderBody,
} from '@conclave/contracts';
import { ConcurrencyError, credentialsAlert, EventLog } from '@conclave/event-log';
import { ProviderRow, ProviderSecretRow, type DataSource } from '@conclave/read-models';
import type { Logger } from '@conclave/service-kit';
import type { GatewayConfig } from '../config';
import { actorOf } from '../http/auth';
import { notFound } from '../http/ids';
import { CONFIG, DATA_SOURCE, LOGGER } from '../tokens';
import { AlertsService } from '../alerts/alerts.service';
import { testProvider } from './provider-tester';
import { last4, parseMasterKey, SecretBox } from './secret-box';

type ProviderConfig = EventData<'ProviderConfigured'>;

/** A provider's state from its own events (the log is the truth; the read model may lag). */
export interface ProviderState {
  config: ProviderConfig | null;
  /** last subject sequence of `events.provider.<id>` (0 when it has none): the expected sequence of the next append */
  sequence: number;
  updatedAt: string | null;
  /** envelope id of the last event (a retried create recognises its own write by it) */
  lastEventId: string | null;
}

export function evolveProvider(events: readonly Recorded[]): ProviderState {
  let state: ProviderState = { config: null, sequence: 0, updatedAt: null, lastEventId: null };
  for (const e of events) {
    if (e.type === 'ProviderConfigured') state = { config: e.data, sequence: e.sequence, updatedAt: e.occurredAt, lastEventId: e.id };
    else if (e.type === 'ProviderRemoved') state = { config: null, sequence: e.sequence, updatedAt: e.occurredAt, lastEventId: e.id };
    else state = { ...state, sequence: e.sequence, lastEventId: e.id };
  }
  return state;
}

export const SIMULATED = 'simulated';
const ENV_KEYS = [
  ['anthropic', 'ANTHROPIC_API_KEY'],
  ['openai', 'OPENAI_API_KEY'],
  ['gemini', 'GEMINI_API_KEY'],
] as const;

/** What the gateway hands to workers over NATS (never over REST). */
export interface ProviderCredentials {
  kind: ProviderKind;
  apiKey: string | null;
  baseUrl: string | null;
  models: string[];
  prices: ProviderConfig['prices'];
  enabled: boolean;
}

/** Rows older than this that no event refers to are deleted by the sweep even when not provably superseded (a write never takes this long). */
const ORPHAN_GRACE_MS = 60 * 60 * 1000;

/**
 * Providers: configuration is event-sourced on `events.provider.<name>` (the gateway is the only
 * writer, appending with the expected subject sequence); the API key is sealed with AES-256-GCM in
 * `provider_secrets` and never enters the log, a response, a log line or a socket message.
 * The name is the id, so the log itself enforces unique names.
 *
 * Writes are atomic (ADR 012): the append of the provider's event is the one commit point. A new
 * key is sealed into a fresh, immutable `provider_secrets` row first; the event then refers to it
 * by `secretId`. A failure before the append leaves at most a row nothing refers to (invisible,
 * swept later); after it, only the clean-up of superseded rows can fail, and the log already says
 * which key is live. So a provider is always wholly its last event's configuration and key, or
 * absent, whatever fails between the steps.
 */
@Injectable()
export class ProvidersService implements OnApplicationBootstrap {
  private readonly box: SecretBox | null;

  constructor(
    @Inject(EventLog) private readonly log: EventLog,
    @Inject(DATA_SOURCE) private readonly db: DataSource,
    @Inject(CONFIG) private readonly config: GatewayConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(AlertsService) private readonly alerts: AlertsService,
  ) {
    this.box = config.CONCLAVE_MASTER_KEY ? new SecretBox(parseMasterKey(config.CONCLAVE_MASTER_KEY)) : null;
  }

  async onApplicationBootstrap() {
    await this.configureFromEnv().catch((err: unknown) => this.logger.warn({ err: String(err) }, 'could not configure providers from the environment'));
    await this.sweepSecrets().catch((err: unknown) => this.logger.warn({ err: String(err) }, 'could not sweep unreferenced provider keys'));
  }

  /* ------------------------------------------------------------------ reads */

  /** The read model plus the built-in `simulated` (unless one is configured under that name). */
  async list(): Promise<ProviderView[]> {
    const rows = await this.db.getRepository(ProviderRow).find({ order: { name: 'ASC' } });
    const secrets = new Map((await this.db.getRepository(ProviderSecretRow).find()).map((s) => [`${s.providerId}/${s.secretId}`, s]));
    const views = rows.map((row) => this.toView({ ...row, providerId: row.id }, row.sequence, row.updatedAt.toISOString(), (row.secretId && secrets.get(`${row.id}/${row.secretId}`)) || null, row.failure));
    if (!rows.some((r) => r.id === SIMULATED)) views.unshift(builtinSimulated());
    return views;
  }

  async get(id: string): Promise<ProviderView> {
    const state = await this.state(id);
    if (!state.config) {
      if (id === SIMULATED) return builtinSimulated();
      throw notFound('provider', id);
    }
    const row = await this.db.getRepository(ProviderRow).findOne({ where: { id }, select: { id: true, failure: true } });
    return this.toView(state.config, state.sequence, state.updatedAt, await this.secretRow(id, secretIdOf(state.config)), row?.failure ?? null);
  }

  /* ------------------------------------------------------------------ writes */

  /**
   * `idempotencyKey` (the request's Idempotency-Key): the event's id is derived from it and the
   * body, so a retry of a create whose append landed but whose answer was lost (a timeout, a cut
   * connection) recognises its own event and answers as the first attempt would have.
   */
  async create(body: CreateProviderBody, requestId: string, idempotencyKey?: string): Promise<ProviderView> {
    const id = body.name;
    const state = await this.state(id);
    const eventId = idempotencyKey === undefined ? randomUUID() : eventIdFor(`POST /providers ${idempotencyKey}`, body);
    if (state.config && state.lastEventId === eventId) {
      return this.toView(state.config, state.sequence, state.updatedAt, await this.secretRow(id, secretIdOf(state.config)), null);
    }
    if (state.config) throw new ConclaveError('illegal_state', `provider "${id}" already exists (PATCH /providers/${id} changes it)`);
    this.checkBaseUrl(body.baseUrl);
    if (body.apiKey !== undefined) this.requireBox();
    const secret = body.apiKey === undefined ? null : await this.storeKey(id, body.apiKey, state.sequence);
    const config: ProviderConfig = {
      providerId: id,
      name: id,
      kind: body.kind,
      baseUrl: body.baseUrl ?? null,
      models: body.models ?? [],
      enabled: body.enabled ?? true,
      prices: body.prices ?? {},
      hasApiKey: secret !== null,
      source: 'api',
      secretId: secret?.secretId ?? null,
    };
    const { recorded, after } = await this.commit(config, state, requestId, secret, eventId);
    if (after?.config && after.lastEventId === eventId && secretIdOf(after.config) !== config.secretId) {
      // deduplicated: an earlier attempt of this request had appended the same event with its own key row
      return this.toView(after.config, after.sequence, after.updatedAt, await this.secretRow(id, secretIdOf(after.config)), null);
    }
    return this.toView(config, recorded.sequence, recorded.occurredAt, secret, null); // a new configuration clears a failure
  }

  async update(id: string, patch: UpdateProviderBody, requestId: string): Promise<ProviderView> {
    const state = await this.state(id);
    const current = state.config ?? (id === SIMULATED ? simulatedConfig() : null);
    if (!current) throw notFound('provider', id);
    this.checkBaseUrl(patch.baseUrl);
    if (patch.apiKey) this.requireBox();
    // a key is write-only: one that would now be sent to another endpoint is deleted, never moved
    const endpointChanged = (patch.baseUrl !== undefined && patch.baseUrl !== current.baseUrl) || (patch.kind !== undefined && patch.kind !== current.kind);
    const keyCleared = endpointChanged && patch.apiKey === undefined && current.hasApiKey;
    const kept = patch.apiKey === undefined && !keyCleared ? await this.secretRow(id, secretIdOf(current)) : null;
    const secret = patch.apiKey ? await this.storeKey(id, patch.apiKey, state.sequence) : kept;
    const config: ProviderConfig = {
      ...current,
      kind: patch.kind ?? current.kind,
      baseUrl: patch.baseUrl === undefined ? current.baseUrl : patch.baseUrl,
      models: patch.models ?? current.models,
      enabled: patch.enabled ?? current.enabled,
      prices: patch.prices ?? current.prices,
      hasApiKey: secret !== null,
      source: 'api',
      secretId: secret?.secretId ?? null,
    };
    const { recorded } = await this.commit(config, state, requestId, patch.apiKey ? secret : null);
    if (keyCleared) this.logger.info({ provider: id, requestId }, 'provider endpoint changed: its stored key was deleted');
    const view = this.toView(config, recorded.sequence, recorded.occurredAt, secret, null); // a new configuration clears a failure
    return keyCleared ? { ...view, keyCleared: true } : view;
  }

  async remove(id: string, requestId: string): Promise<{ sequence: number }> {
    const state = await this.state(id);
    if (!state.config) {
      if (id === SIMULATED) throw new ConclaveError('illegal_state', 'the built-in simulated provider cannot be removed');
      throw notFound('provider', id);
    }
    const [recorded] = await this.append(id, [{ type: 'ProviderRemoved', data: { providerId: id } }], state.sequence, requestId);
    await this.dropSuperseded(id, null, recorded!.sequence, requestId);
    this.logger.info({ provider: id, sequence: recorded!.sequence, requestId }, 'provider removed');
    return { sequence: recorded!.sequence };
  }

  async test(id: string): Promise<ProviderTestResult> {
    const credentials = await this.credentials(id);
    if (!credentials) throw notFound('provider', id);
    const result = await testProvider(credentials);
    if (result.code === 'auth_failed') {
      // the same configuration refused in a run's call is the same alert (ADR 016)
      const { sequence } = await this.state(id);
      await this.alerts.raise(credentialsAlert(id, sequence, `the connection test was refused (${result.error ?? 'no detail'})`));
    }
    return result;
  }

  /** For workers (NATS request/reply) and the connection test; null when the provider does not exist. */
  async credentials(id: string): Promise<ProviderCredentials | null> {
    const state = await this.state(id);
    const config = state.config ?? (id === SIMULATED ? simulatedConfig() : null);
    if (!config) return null;
    const secret = await this.secretRow(id, secretIdOf(config));
    return {
      kind: config.kind,
      apiKey: secret ? this.requireBox().open(secret, id) : null,
      baseUrl: config.baseUrl,
      models: config.models,
      prices: config.prices,
      enabled: config.enabled,
    };
  }

  /**
   * Providers named anthropic / openai / gemini from *_API_KEY. Idempotent: nothing is appended
   * when the provider already has this key; a provider configured through the API is left alone.
   */
  async configureFromEnv(): Promise<string[]> {
    const configured: string[] = [];
    for (const [name, variable] of ENV_KEYS) {
      const apiKey = this.config[variable];
      if (!apiKey) continue;
      if (!this.box) {
        this.logger.warn({ provider: name }, `${variable} is set but CONCLAVE_MASTER_KEY is not: the key cannot be stored`);
        continue;
      }
      const state = await this.state(name);
      if (state.config && state.config.source !== 'env') continue;
      const current = state.config ? await this.secretRow(name, secretIdOf(state.config)) : null;
      if (state.config && current && this.openOrNull(current, name) === apiKey && state.config.kind === name && state.config.enabled) continue;
      const secret = await this.storeKey(name, apiKey, state.sequence);
      const config: ProviderConfig = {
        providerId: name,
        name,
        kind: name,
        baseUrl: state.config?.baseUrl ?? null,
        models: state.config?.models ?? [],
        enabled: true,
        prices: state.config?.prices ?? {},
        hasApiKey: true,
        source: 'env',
        secretId: secret.secretId,
      };
      try {
        await this.commit(config, state, `boot-${this.config.INSTANCE_ID}`, secret);
      } catch (err) {
        if (err instanceof ConclaveError && err.code === 'concurrency') continue; // another gateway did it
        throw err;
      }
      configured.push(name);
    }
    if (configured.length > 0) this.logger.info({ providers: configured }, 'providers configured from the environment');
    return configured;
  }

  /* ------------------------------------------------------------------ internals */

  async state(id: string): Promise<ProviderState> {
    if (!/^[a-z0-9][a-z0-9_-]{0,62}$/.test(id)) return { config: null, sequence: 0, updatedAt: null, lastEventId: null };
    return evolveProvider(await this.log.read('provider', id));
  }

  /**
   * The commit point of a configuration change: append its event (which names the sealed key by
   * `secretId`), then delete the rows it supersedes. `fresh`: the row this write sealed — deleted
   * again when the append is certainly refused (a lost race); kept when the outcome is unknown
   * (the event may have landed and refer to it), for the sweep to decide from the log.
   */
  private async commit(config: ProviderConfig, state: ProviderState, requestId: string, fresh: ProviderSecretRow | null, eventId?: string): Promise<{ recorded: Recorded; after: ProviderState | null }> {
    let recorded: Recorded;
    try {
      recorded = await this.appendConfigured(config, state.sequence, requestId, eventId);
    } catch (err) {
      if (fresh && err instanceof ConclaveError && err.code === 'concurrency') {
        await this.db.getRepository(ProviderSecretRow).delete({ providerId: fresh.providerId, secretId: fresh.secretId }).catch(() => undefined);
      }
      throw err;
    }
    // The log, read again, says which row is live: an append deduplicated by its id (a retry of a
    // write that had landed) recorded the earlier attempt's event, which refers to that attempt's row.
    const after = await this.state(config.providerId).catch(() => null);
    if (after) await this.dropSuperseded(config.providerId, after.config ? secretIdOf(after.config) : null, after.sequence, requestId);
    return { recorded, after };
  }

  /**
   * Delete the provider's rows that the event at `sequence` (referring to `live`) superseded: a
   * row sealed by a write that read an older sequence can never be referred to any more (that
   * write's append expects a sequence that is no longer the last). Rows of writes still in flight
   * read `sequence` or later and are left alone. Best effort: the write is already committed, and a
   * row left behind is unreferenced, so never used; the next write or the boot sweep removes it.
   */
  private async dropSuperseded(id: string, live: string | null, sequence: number, requestId: string): Promise<void> {
    try {
      await this.db.query(
        `DELETE FROM provider_secrets WHERE provider_id = $1 AND secret_id IS DISTINCT FROM $2 AND (based_on_sequence < $3 OR updated_at < $4)`,
        [id, live, sequence, new Date(Date.now() - ORPHAN_GRACE_MS)],
      );
    } catch (err) {
      this.logger.warn({ provider: id, requestId, err: err instanceof Error ? err.message : String(err) }, 'superseded provider keys could not be deleted yet (they are no longer used)');
    }
  }

  /** Boot: delete every provider's rows that its log no longer refers to (writes interrupted by a crash or an outage). */
  async sweepSecrets(): Promise<void> {
    const rows: { provider_id: string }[] = await this.db.query('SELECT DISTINCT provider_id FROM provider_secrets');
    for (const { provider_id: id } of rows) {
      const state = await this.state(id);
      await this.dropSuperseded(id, state.config ? secretIdOf(state.config) : null, state.sequence, `boot-${this.config.INSTANCE_ID}`);
    }
  }

  private async appendConfigured(config: ProviderConfig, expected: number, requestId: string, eventId?: string): Promise<Recorded> {
    const [recorded] = await this.append(config.providerId, [{ type: 'ProviderConfigured', data: config, ...(eventId ? { id: eventId } : {}) }], expected, requestId);
    // an audit line: the configuration and whether a key is stored, never the key
    this.logger.info({ provider: config.providerId, kind: config.kind, enabled: config.enabled, hasApiKey: config.hasApiKey, source: config.source, sequence: recorded!.sequence, requestId }, 'provider configured');
    return recorded!;
  }

  private async append(id: string, events: Parameters<EventLog['append']>[2], expected: number, requestId: string): Promise<Recorded[]> {
    try {
      return await this.log.append('provider', id, events, expected, {
        occurredAt: new Date().toISOString(),
        correlationId: requestId,
        causationId: null,
        // the request's token name; a change made at boot from the environment is the gateway's own
        actor: actorOf(requestId) ?? { kind: 'system', id: 'gateway' },
      });
    } catch (err) {
      if (err instanceof ConcurrencyError) throw new ConclaveError('concurrency', `provider "${id}" changed concurrently; retry`);
      throw err;
    }
  }

  private requireBox(): SecretBox {
    if (!this.box) throw new ConclaveError('unavailable', 'CONCLAVE_MASTER_KEY is not configured: API keys cannot be stored');
    return this.box;
  }

  /** Seal a key into a fresh row that nothing refers to yet (invisible until an event names it). */
  private async storeKey(id: string, apiKey: string, basedOnSequence: number): Promise<ProviderSecretRow> {
    const row = Object.assign(new ProviderSecretRow(), { providerId: id, secretId: randomUUID(), basedOnSequence, ...this.requireBox().seal(apiKey, id), updatedAt: new Date() });
    await this.db.getRepository(ProviderSecretRow).insert(row);
    return row;
  }

  private async secretRow(id: string, secretId: string | null): Promise<ProviderSecretRow | null> {
    if (secretId === null) return null;
    return this.db.getRepository(ProviderSecretRow).findOne({ where: { providerId: id, secretId } });
  }

  private openOrNull(secret: ProviderSecretRow, id: string): string | null {
    if (!this.box) return null;
    try {
      return this.box.open(secret, id);
    } catch {
      this.logger.warn({ provider: id }, 'a stored provider key does not decrypt (tampered, or another master key)');
      return null;
    }
  }

  /** A baseUrl outside PROVIDER_BASE_URL_HOSTS is a 422 (http(s) is checked by the contract). */
  private checkBaseUrl(baseUrl: string | null | undefined): void {
    const allowed = this.config.PROVIDER_BASE_URL_HOSTS;
    if (!baseUrl || allowed.length === 0) return;
    const host = new URL(baseUrl).hostname.toLowerCase();
    const ok = allowed.some((h) => (h.startsWith('*.') ? host.endsWith(h.slice(1)) : host === h));
    if (!ok) throw new ConclaveError('validation', `baseUrl host "${host}" is not allowed (PROVIDER_BASE_URL_HOSTS: ${allowed.join(', ')})`, { allowedHosts: allowed });
  }

  private toView(config: Omit<ProviderConfig, 'providerId'> & { providerId: string }, sequence: number, updatedAt: string | null, secret: ProviderSecretRow | null, failure: ProviderFailure | null): ProviderView {
    const key = secret ? this.openOrNull(secret, config.providerId) : null;
    return ProviderView.parse({
      id: config.providerId,
      name: config.name,
      kind: config.kind,
      baseUrl: config.baseUrl,
      models: config.models,
      enabled: config.enabled,
      prices: config.prices,
      hasApiKey: secret !== null,
      apiKeyLast4: key === null ? null : last4(key),
      source: config.source,
      sequence,
      updatedAt,
      failure,
    });
  }
}

/** A UUID-shaped event id derived from the request's idempotency scope and body (the same retry, the same event). */
function eventIdFor(scope: string, body: unknown): string {
  const h = createHash('sha256').update(scope).update('\0').update(JSON.stringify(body)).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function simulatedConfig(): ProviderConfig {
  return { providerId: SIMULATED, name: SIMULATED, kind: 'simulated', baseUrl: null, models: [], enabled: true, prices: {}, hasApiKey: false, source: 'api', secretId: null };
}

function builtinSimulated(): ProviderView {
  const { kind, baseUrl, models, enabled, prices } = simulatedConfig();
  return { id: SIMULATED, name: SIMULATED, kind, baseUrl, models, enabled, prices, hasApiKey: false, apiKeyLast4: null, source: 'builtin', sequence: 0, updatedAt: null, failure: null };
}
