import type { NatsConnection } from '@nats-io/transport-node';
import { CredentialsReply, type ProviderKind as ContractProviderKind } from '@conclave/contracts';
import { AnthropicChatClient } from './anthropic';
import { ProviderError } from './errors';
import { GeminiChatClient } from './gemini';
import { OpenAiChatClient } from './openai';
import type { PriceTable } from './prices';
import type { ChatClient } from './types';

/** What a worker needs to call one configured provider. The key never leaves this object (never logged). */
export interface ProviderCredentials {
  kind: ContractProviderKind;
  /** null: no key stored (a `simulated`-kind provider needs none) */
  apiKey: string | null;
  baseUrl?: string | null;
  /** allowed models (empty / absent: any) */
  models?: string[];
  prices?: PriceTable;
  /** false: the provider is switched off (calls fail `provider_disabled`) */
  enabled?: boolean;
}

/**
 * Where provider credentials come from: the gateway's encrypted store over NATS
 * (`GatewayCredentialSource`, docs/adr/005), the worker's env (`EnvCredentialSource`), or a fixed
 * map (tests). `null` = the provider is not configured. Rejects only for transient trouble.
 */
export interface CredentialSource {
  get(provider: string): Promise<ProviderCredentials | null>;
}

export interface EnvKeys {
  ANTHROPIC_API_KEY?: string;
  OPENAI_API_KEY?: string;
  GEMINI_API_KEY?: string;
  ANTHROPIC_BASE_URL?: string;
  OPENAI_BASE_URL?: string;
  GEMINI_BASE_URL?: string;
}

/** Providers named anthropic / openai / gemini from ANTHROPIC_API_KEY / OPENAI_API_KEY / GEMINI_API_KEY (+ optional *_BASE_URL). */
export class EnvCredentialSource implements CredentialSource {
  constructor(private readonly env: EnvKeys) {}

  get(provider: string): Promise<ProviderCredentials | null> {
    const pick = (kind: ContractProviderKind, key: string | undefined, baseUrl: string | undefined): ProviderCredentials | null =>
      key ? { kind, apiKey: key, ...(baseUrl ? { baseUrl } : {}) } : null;
    switch (provider) {
      case 'anthropic':
        return Promise.resolve(pick('anthropic', this.env.ANTHROPIC_API_KEY, this.env.ANTHROPIC_BASE_URL));
      case 'openai':
        return Promise.resolve(pick('openai', this.env.OPENAI_API_KEY, this.env.OPENAI_BASE_URL));
      case 'gemini':
        return Promise.resolve(pick('gemini', this.env.GEMINI_API_KEY, this.env.GEMINI_BASE_URL));
      default:
        return Promise.resolve(null);
    }
  }
}

/** A fixed map (tests, or credentials handed over at boot). */
export class StaticCredentialSource implements CredentialSource {
  constructor(private readonly entries: Record<string, ProviderCredentials>) {}
  get(provider: string): Promise<ProviderCredentials | null> {
    return Promise.resolve(this.entries[provider] ?? null);
  }
}

const decoder = new TextDecoder();
const encoder = new TextEncoder();

/**
 * The gateway's credentials over NATS request/reply (`subjects.credentials`, docs/adr/005). Answers
 * are cached for `ttlMs` (a rotated key or a price change reaches the worker within that time;
 * the cache holds the key in memory only). When no gateway answers (no responders / timeout — a
 * worker run without the gateway, as in the int tests) the `fallback` source decides (the env
 * keys), and a warning is logged once. A gateway answer is authoritative, "not configured" included.
 */
export class GatewayCredentialSource implements CredentialSource {
  private readonly cache = new Map<string, { at: number; value: ProviderCredentials | null }>();
  private warned = false;

  constructor(
    private readonly nc: NatsConnection,
    private readonly subject: string,
    private readonly options: { fallback?: CredentialSource; ttlMs?: number; timeoutMs?: number; now?: () => number; onFallback?: (reason: string) => void } = {},
  ) {}

  async get(provider: string): Promise<ProviderCredentials | null> {
    const now = this.options.now ?? Date.now;
    const hit = this.cache.get(provider);
    if (hit && now() - hit.at < (this.options.ttlMs ?? 30_000)) return hit.value;
    let reply: CredentialsReply;
    try {
      const msg = await this.nc.request(this.subject, encoder.encode(JSON.stringify({ provider })), { timeout: this.options.timeoutMs ?? 2_000 });
      reply = CredentialsReply.parse(JSON.parse(decoder.decode(msg.data)));
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      if (!this.options.fallback) throw new Error(`credentials of "${provider}" unavailable: ${reason}`);
      if (!this.warned) {
        this.warned = true;
        this.options.onFallback?.(reason);
      }
      // the env knows it: use it; else no answer is not "not configured" — it is transient (the
      // gateway restarting): a retryable failure, so the candidate is tried again, not dropped
      const fromFallback = await this.options.fallback.get(provider);
      if (fromFallback) return fromFallback;
      throw new ProviderError('credentials_unavailable', `the credentials of "${provider}" could not be read: no gateway answered (${reason})`, true);
    }
    let value: ProviderCredentials | null;
    if (reply.ok) {
      value = { kind: reply.kind, apiKey: reply.apiKey, baseUrl: reply.baseUrl, models: reply.models, prices: reply.prices, enabled: reply.enabled };
    } else if (reply.error.code === 'not_found') {
      value = null;
    } else {
      throw new Error(`credentials of "${provider}" unavailable: ${reply.error.code}`);
    }
    this.cache.set(provider, { at: now(), value });
    return value;
  }
}

export function createChatClient(provider: string, creds: ProviderCredentials & { apiKey: string }, timeoutMs?: number): ChatClient {
  const options = { provider, apiKey: creds.apiKey, baseUrl: creds.baseUrl ?? undefined, timeoutMs };
  switch (creds.kind) {
    case 'anthropic':
      return new AnthropicChatClient(options);
    case 'openai':
      return new OpenAiChatClient(options);
    case 'gemini':
      return new GeminiChatClient(options);
    case 'simulated':
      throw new ProviderError('provider_kind_unsupported', `provider "${provider}" is of kind simulated: it has no SDK client`, false);
  }
}

export type ResolvedProvider =
  | { kind: 'simulated'; credentials: ProviderCredentials }
  | { kind: 'sdk'; client: ChatClient; credentials: ProviderCredentials };

/**
 * Builds and caches one SDK client per provider from a CredentialSource; a client is rebuilt when
 * its credentials change (rotated key, new base URL). Typed failures: no credentials →
 * `provider_not_configured`; switched off → `provider_disabled`; no key → `provider_not_configured`;
 * a model outside the provider's list → `model_not_allowed` (none retryable).
 */
export class ChatClientPool {
  private readonly cache = new Map<string, { fingerprint: string; client: ChatClient }>();

  constructor(
    private readonly source: CredentialSource,
    private readonly timeoutMs?: number,
  ) {}

  async resolve(provider: string, model: string): Promise<ResolvedProvider> {
    const credentials = await this.source.get(provider);
    if (!credentials) throw new ProviderError('provider_not_configured', `provider "${provider}" is not configured`, false);
    if (credentials.enabled === false) throw new ProviderError('provider_disabled', `provider "${provider}" is disabled`, false);
    if (credentials.models?.length && !credentials.models.includes(model)) {
      throw new ProviderError('model_not_allowed', `model "${model}" is not enabled for provider "${provider}"`, false);
    }
    if (credentials.kind === 'simulated') return { kind: 'simulated', credentials };
    if (!credentials.apiKey) throw new ProviderError('provider_not_configured', `provider "${provider}" has no API key`, false);
    const fingerprint = `${credentials.kind}|${credentials.baseUrl ?? ''}|${credentials.apiKey}`;
    const hit = this.cache.get(provider);
    if (hit && hit.fingerprint === fingerprint) return { kind: 'sdk', client: hit.client, credentials };
    const client = createChatClient(provider, { ...credentials, apiKey: credentials.apiKey }, this.timeoutMs);
    this.cache.set(provider, { fingerprint, client });
    return { kind: 'sdk', client, credentials };
  }
}
