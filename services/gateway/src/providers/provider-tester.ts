import Anthropic from '@anthropic-ai/sdk';
import { GoogleGenAI } from '@google/genai';
import OpenAI from 'openai';
import type { ProviderKind, ProviderTestResult } from '@conclave/contracts';

export interface TestTarget {
  kind: ProviderKind;
  apiKey: string | null;
  baseUrl: string | null;
  models: string[];
}

export const TEST_TIMEOUT_MS = 10_000;
const DEFAULT_ANTHROPIC_MODEL = 'claude-haiku-4-5';

/**
 * A cheap real call through the official SDK (the same clients the workers use): Anthropic
 * `messages.create` with max_tokens 1, OpenAI and Gemini `models.list`. No retries, bounded by
 * TEST_TIMEOUT_MS. The error text is the SDK's, with the key redacted should it ever echo it.
 */
export async function testProvider(target: TestTarget, now: () => number = Date.now): Promise<ProviderTestResult> {
  const started = now();
  const latency = () => Math.max(0, Math.round(now() - started));
  if (target.kind === 'simulated') return { ok: true, latencyMs: 0 };
  if (!target.apiKey) return { ok: false, latencyMs: 0, error: 'no API key is stored for this provider' };
  try {
    await callProvider(target.kind, target.apiKey, target.baseUrl, target.models);
    return { ok: true, latencyMs: latency() };
  } catch (err) {
    const status = (err as { status?: unknown } | null)?.status;
    const refused = status === 401 || status === 403;
    return { ok: false, latencyMs: latency(), error: redact(describe(err), target.apiKey), ...(refused ? { code: 'auth_failed' } : {}) };
  }
}

async function callProvider(kind: Exclude<ProviderKind, 'simulated'>, apiKey: string, baseUrl: string | null, models: string[]): Promise<void> {
  switch (kind) {
    case 'anthropic': {
      const client = new Anthropic({ apiKey, baseURL: baseUrl ?? undefined, maxRetries: 0, timeout: TEST_TIMEOUT_MS });
      await client.messages.create({ model: models[0] ?? DEFAULT_ANTHROPIC_MODEL, max_tokens: 1, messages: [{ role: 'user', content: 'ping' }] });
      return;
    }
    case 'openai': {
      const client = new OpenAI({ apiKey, baseURL: baseUrl ?? undefined, maxRetries: 0, timeout: TEST_TIMEOUT_MS });
      await client.models.list();
      return;
    }
    case 'gemini': {
      // the global fetch (undici's default timeouts are fine for a 10 s probe): the SDK's own
      // dispatcher needs undici's global dispatcher, which jest's sandbox does not expose
      const viaGlobalFetch: typeof fetch = (input, init) => fetch(input, init);
      const client = new GoogleGenAI({ apiKey, httpOptions: { ...(baseUrl ? { baseUrl } : {}), timeout: TEST_TIMEOUT_MS, fetch: viaGlobalFetch } });
      await client.models.list({ config: { pageSize: 1 } });
      return;
    }
    default: {
      const never: never = kind;
      throw new Error(`unknown provider kind ${String(never)}`);
    }
  }
}

function describe(err: unknown): string {
  const status = (err as { status?: unknown } | null)?.status;
  let message = err instanceof Error ? err.message : String(err);
  // network errors carry the useful part (ECONNREFUSED, ENOTFOUND, …) in their causes
  let cause = (err as { cause?: unknown } | null)?.cause;
  for (let depth = 0; depth < 4 && cause && typeof (cause as { message?: unknown }).message === 'string'; depth += 1) {
    const text = (cause as { message: string; code?: unknown }).message;
    if (!message.includes(text)) message = `${message}: ${text}`;
    cause = (cause as { cause?: unknown }).cause;
  }
  const text = typeof status === 'number' && !message.includes(String(status)) ? `${status} ${message}` : message;
  return text.slice(0, 500);
}

function redact(text: string, apiKey: string): string {
  return apiKey.length >= 4 ? text.split(apiKey).join('[redacted]') : text;
}
