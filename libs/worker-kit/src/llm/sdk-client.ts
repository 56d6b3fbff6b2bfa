import { classifySdkError } from './errors';
import { jsonRoot } from './json-root';
import type { ChatContext, ChatRequest } from './types';

export interface SdkClientOptions {
  provider: string;
  apiKey: string;
  baseUrl?: string;
  /** the SDK's own per-request timeout; the worker's phase timeout aborts earlier anyway */
  timeoutMs?: number;
  /**
   * Gemini only: a fetch implementation. Unset in production (the SDK then uses Node's fetch with
   * undici's own timeouts disabled); jest's sandbox cannot reach undici's global dispatcher, so the
   * tests pass the global fetch here.
   */
  fetch?: typeof fetch;
}

/** Tool and schema names: letters, digits, `_` and `-`, at most 64. */
export function safeName(name: string): string {
  return name.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 64) || 'output';
}

/** The JSON output a request asks for, as the native JSON modes want it (a safe name, an object root). */
export function jsonOutput(request: ChatRequest): { name: string; schema: Record<string, unknown>; wrapped: boolean } | null {
  return request.json ? { name: safeName(request.json.name), ...jsonRoot(request.json.schema) } : null;
}

/** What the three SDK clients share: the provider's name, and its key kept only to scrub it from errors. */
export abstract class SdkChatClient {
  readonly provider: string;
  private readonly secret: string;

  constructor(options: SdkClientOptions) {
    this.provider = options.provider;
    this.secret = options.apiKey;
  }

  /** An SDK error as the typed failure the worker reports (rate limits, auth, timeouts…), never showing the key. */
  protected classify(err: unknown, ctx: ChatContext): unknown {
    return classifySdkError(this.provider, err, ctx.signal, this.secret);
  }
}
