import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import {
  ConclaveError,
  ProviderView,
  type CreateProviderBody,
  type EventData,
  type ProviderKind,
  type ProviderFailure,
  type ProviderTestResult,
  type Recorded,
  type UpdateProviderBody,
} from '@conclave/contracts';
import { ConcurrencyError, EventLog } from '@conclave/event-log';
import { ProviderRow, ProviderSecretRow, type DataSource } from '@conclave/read-models';
import type { Logger } from '@conclave/service-kit';
import type { GatewayConfig } from '../config';
import { currentActor } from '../http/auth';
import { notFound } from '../http/ids';
import { CONFIG, DATA_SOURCE, LOGGER } from '../tokens';
import { testProvider } from './provider-tester';
import { last4, parseMasterKey, SecretBox } from './secret-box';

type ProviderConfig = EventData<'ProviderConfigured'>;

/** A provider's state from its own events (the log is the truth; the read model may lag). */
export interface ProviderState {
  config: ProviderConfig | null;
  /** last subject sequence of `events.provider.<id>` (0 when it has none): the expected sequence of the next append */
  sequence: number;
  updatedAt: string | null;
}

export function evolveProvider(events: readonly Recorded[]): ProviderState {
  let state: ProviderState = { config: null, sequence: 0, updatedAt: null };
  for (const e of events) {
    if (e.type === 'ProviderConfigured') state = { config: e.data, sequence: e.sequence, updatedAt: e.occurredAt };
    else if (e.type === 'ProviderRemoved') state = { config: null, sequence: e.sequence, updatedAt: e.occurredAt };
    else state = { ...state, sequence: e.sequence };
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

/**
 * Providers: configuration is event-sourced on `events.provider.<name>` (the gateway is the only
 * writer, appending with the expected subject sequence); the API key is sealed with AES-256-GCM in
 * `provider_secrets` and never enters the log, a response, a log line or a socket message.
 * The name is the id, so the log itself enforces unique names.
 */
@Injectable()
export class ProvidersService implements OnApplicationBootstrap {
  private readonly box: SecretBox | null;

  constructor(
    @Inject(EventLog) private readonly log: EventLog,
    @Inject(DATA_SOURCE) private readonly db: DataSource,
    @Inject(CONFIG) private readonly config: GatewayConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.box = config.CONCLAVE_MASTER_KEY ? new SecretBox(parseMasterKey(config.CONCLAVE_MASTER_KEY)) : null;
  }

  async onApplicationBootstrap() {
    await this.configureFromEnv().catch((err: unknown) => this.logger.warn({ err: String(err) }, 'could not configure providers from the environment'));
  }

  /* ------------------------------------------------------------------ reads */

  /** The read model plus the built-in `simulated` (unless one is configured under that name). */
  async list(): Promise<ProviderView[]> {
    const rows = await this.db.getRepository(ProviderRow).find({ order: { name: 'ASC' } });
    const secrets = new Map((await this.db.getRepository(ProviderSecretRow).find()).map((s) => [s.providerId, s]));
    const views = rows.map((row) => this.toView({ ...row, providerId: row.id }, row.sequence, row.updatedAt.toISOString(), secrets.get(row.id) ?? null, row.failure));
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
    return this.toView(state.config, state.sequence, state.updatedAt, await this.secretRow(id), row?.failure ?? null);
  }

  /* ------------------------------------------------------------------ writes */

  async create(body: CreateProviderBody, requestId: string): Promise<ProviderView> {
    const id = body.name;
    const state = await this.state(id);
    if (state.config) throw new ConclaveError('illegal_state', `provider "${id}" already exists (PATCH /providers/${id} changes it)`);
    this.checkBaseUrl(body.baseUrl);
    if (body.apiKey !== undefined) this.requireBox();
    const config: ProviderConfig = {
      providerId: id,
      name: id,
      kind: body.kind,
      baseUrl: body.baseUrl ?? null,
      models: body.models ?? [],
      enabled: body.enabled ?? true,
      prices: body.prices ?? {},
      hasApiKey: body.apiKey !== undefined,
      source: 'api',
    };
    // event first: a lost race must not overwrite the winner's key
    const recorded = await this.appendConfigured(config, state.sequence, requestId);
    if (body.apiKey !== undefined) await this.storeKey(id, body.apiKey);
    return this.toView(config, recorded.sequence, recorded.occurredAt, await this.secretRow(id), null); // a new configuration clears a failure
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
    const config: ProviderConfig = {
      ...current,
      kind: patch.kind ?? current.kind,
      baseUrl: patch.baseUrl === undefined ? current.baseUrl : patch.baseUrl,
      models: patch.models ?? current.models,
      enabled: patch.enabled ?? current.enabled,
      prices: patch.prices ?? current.prices,
      hasApiKey: keyCleared ? false : patch.apiKey === undefined ? current.hasApiKey : patch.apiKey !== null,
      source: 'api',
    };
    // the key changes before its event (the state was just read: no race on creation here)
    if (patch.apiKey) await this.storeKey(id, patch.apiKey);
    if (patch.apiKey === null || keyCleared) await this.db.getRepository(ProviderSecretRow).delete({ providerId: id });
    const recorded = await this.appendConfigured(config, state.sequence, requestId);
    if (keyCleared) this.logger.info({ provider: id, requestId }, 'provider endpoint changed: its stored key was deleted');
    const view = this.toView(config, recorded.sequence, recorded.occurredAt, await this.secretRow(id), null); // a new configuration clears a failure
    return keyCleared ? { ...view, keyCleared: true } : view;
  }

  async remove(id: string, requestId: string): Promise<{ sequence: number }> {
    const state = await this.state(id);
    if (!state.config) {
      if (id === SIMULATED) throw new ConclaveError('illegal_state', 'the built-in simulated provider cannot be removed');
      throw notFound('provider', id);
    }
    const [recorded] = await this.append(id, [{ type: 'ProviderRemoved', data: { providerId: id } }], state.sequence, requestId);
    await this.db.getRepository(ProviderSecretRow).delete({ providerId: id });
    this.logger.info({ provider: id, sequence: recorded!.sequence, requestId }, 'provider removed');
    return { sequence: recorded!.sequence };
  }

  async test(id: string): Promise<ProviderTestResult> {
    const credentials = await this.credentials(id);
    if (!credentials) throw notFound('provider', id);
    return testProvider(credentials);
  }

  /** For workers (NATS request/reply) and the connection test; null when the provider does not exist. */
  async credentials(id: string): Promise<ProviderCredentials | null> {
    const state = await this.state(id);
    const config = state.config ?? (id === SIMULATED ? simulatedConfig() : null);
    if (!config) return null;
    const secret = config.hasApiKey ? await this.secretRow(id) : null;
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
      const secret = state.config ? await this.secretRow(name) : null;
      if (state.config && secret && this.openOrNull(secret, name) === apiKey && state.config.kind === name && state.config.enabled) continue;
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
      };
      await this.storeKey(name, apiKey);
      try {
        await this.appendConfigured(config, state.sequence, `boot-${this.config.INSTANCE_ID}`);
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
    if (!/^[a-z0-9][a-z0-9_-]{0,62}$/.test(id)) return { config: null, sequence: 0, updatedAt: null };
    return evolveProvider(await this.log.read('provider', id));
  }

  private async appendConfigured(config: ProviderConfig, expected: number, requestId: string): Promise<Recorded> {
    const [recorded] = await this.append(config.providerId, [{ type: 'ProviderConfigured', data: config }], expected, requestId);
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
        actor: currentActor() ?? { kind: 'system', id: 'gateway' },
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

  private async storeKey(id: string, apiKey: string): Promise<void> {
    const sealed = this.requireBox().seal(apiKey, id);
    await this.db.getRepository(ProviderSecretRow).upsert({ providerId: id, ...sealed, updatedAt: new Date() }, ['providerId']);
  }

  private secretRow(id: string): Promise<ProviderSecretRow | null> {
    return this.db.getRepository(ProviderSecretRow).findOne({ where: { providerId: id } });
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

function simulatedConfig(): ProviderConfig {
  return { providerId: SIMULATED, name: SIMULATED, kind: 'simulated', baseUrl: null, models: [], enabled: true, prices: {}, hasApiKey: false, source: 'api' };
}

function builtinSimulated(): ProviderView {
  const { kind, baseUrl, models, enabled, prices } = simulatedConfig();
  return { id: SIMULATED, name: SIMULATED, kind, baseUrl, models, enabled, prices, hasApiKey: false, apiKeyLast4: null, source: 'builtin', sequence: 0, updatedAt: null, failure: null };
}
