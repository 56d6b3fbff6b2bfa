import { DEFAULT_PRICES as CONTRACT_PRICES, type ModelPrice as ContractModelPrice } from '@conclave/contracts';
import type { ChatUsage } from './types';

/**
 * USD per 1M tokens, in the contracts' shape (what providers' `prices` carry) plus the price of a
 * prompt-cache read (`cachedInputPer1M`, defaults to `inputPer1M`).
 */
export type ModelPrice = ContractModelPrice & { cachedInputPer1M?: number };
export type PriceTable = Record<string, ModelPrice>;

const p = (inputPer1M: number, outputPer1M: number, cachedInputPer1M: number): ModelPrice => ({ inputPer1M, outputPer1M, cachedInputPer1M });

/**
 * Default list prices of models whose published prices were known when this table was written: the
 * contracts' table (used by the gateway for budget estimates) plus cache-read prices and more
 * models; where both name a model they agree (a unit test checks it). A provider's `prices` (from
 * the credentials) override or extend it. A model is matched exactly, then as `<key>-<date>` /
 * `<key>-latest` (`claude-sonnet-4-5-20250929` → `claude-sonnet-4-5`; `gpt-5.4` does NOT fall back
 * to `gpt-5`). Unknown models cost 0, never a guess: give them a price in the provider's config.
 */
export const DEFAULT_PRICES: PriceTable = {
  ...CONTRACT_PRICES,
  // Anthropic
  'claude-opus-4-5': p(5, 25, 0.5),
  'claude-opus-4-1': p(15, 75, 1.5),
  'claude-opus-4': p(15, 75, 1.5),
  'claude-sonnet-4-5': p(3, 15, 0.3),
  'claude-sonnet-4': p(3, 15, 0.3),
  'claude-3-7-sonnet': p(3, 15, 0.3),
  'claude-haiku-4-5': p(1, 5, 0.1),
  'claude-3-5-haiku': p(0.8, 4, 0.08),
  // OpenAI
  'gpt-5.1': p(1.25, 10, 0.125),
  'gpt-5': p(1.25, 10, 0.125),
  'gpt-5-mini': p(0.25, 2, 0.025),
  'gpt-5-nano': p(0.05, 0.4, 0.005),
  'gpt-4.1': p(2, 8, 0.5),
  'gpt-4.1-mini': p(0.4, 1.6, 0.1),
  'gpt-4.1-nano': p(0.1, 0.4, 0.025),
  'gpt-4o': p(2.5, 10, 1.25),
  'gpt-4o-mini': p(0.15, 0.6, 0.075),
  o3: p(2, 8, 0.5),
  'o4-mini': p(1.1, 4.4, 0.275),
  // Gemini
  'gemini-3-pro-preview': p(2, 12, 0.2),
  'gemini-2.5-pro': p(1.25, 10, 0.31),
  'gemini-2.5-flash': p(0.3, 2.5, 0.075),
  'gemini-2.5-flash-lite': p(0.1, 0.4, 0.025),
  'gemini-2.0-flash': p(0.1, 0.4, 0.025),
};

export function priceOf(model: string, overrides: PriceTable = {}, defaults: PriceTable = DEFAULT_PRICES): ModelPrice | null {
  for (const table of [overrides, defaults]) {
    if (table[model]) return table[model];
  }
  const base = /^(.*?)-(\d{8}|\d{4}-\d{2}-\d{2}|latest)$/.exec(model)?.[1];
  if (base) for (const table of [overrides, defaults]) if (table[base]) return table[base];
  return null;
}

/** Cost in USD of one call's usage (cached input billed at the cache-read price). */
export function costOf(usage: ChatUsage, price: ModelPrice | null): number {
  if (!price) return 0;
  const cached = Math.min(usage.cached, usage.input);
  const fresh = usage.input - cached;
  const cost = (fresh * price.inputPer1M + cached * (price.cachedInputPer1M ?? price.inputPer1M) + usage.output * price.outputPer1M) / 1_000_000;
  return Math.round(cost * 1e9) / 1e9;
}

/**
 * Context windows (tokens) by model prefix, used to truncate an agent's older tool outputs before
 * the conversation overflows. Unknown models: 128k.
 */
const CONTEXT_WINDOWS: [string, number][] = [
  ['claude-', 200_000],
  ['gpt-4.1', 1_000_000],
  ['gpt-5', 400_000],
  ['gpt-4o', 128_000],
  ['o3', 200_000],
  ['o4', 200_000],
  ['gemini-', 1_000_000],
];
export function contextWindowOf(model: string): number {
  return CONTEXT_WINDOWS.find(([prefix]) => model.startsWith(prefix))?.[1] ?? 128_000;
}
