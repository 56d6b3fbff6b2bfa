import { DEFAULT_PRICES as CONTRACT_PRICES, priceOf as contractPriceOf, type ListPrice } from '@conclave/contracts';
import type { ChatUsage } from './types';

/**
 * USD per 1M tokens, in the contracts' shape (what providers' `prices` carry) plus the price of a
 * prompt-cache read (`cachedInputPer1M`, defaults to `inputPer1M`).
 */
export type ModelPrice = ListPrice;
export type PriceTable = Record<string, ModelPrice>;

/**
 * Default list prices: the contracts' table, the one the orchestrator reserves budgets with and the
 * gateway estimates runs with, so what a call is expected to cost and what it is charged agree.
 * A provider's `prices` (from the credentials) override or extend it. Unknown models cost 0, never
 * a guess: give them a price in the provider's config.
 */
export const DEFAULT_PRICES: PriceTable = CONTRACT_PRICES;

/** Exact name, then `<key>-<date>` / `<key>-latest` (`claude-sonnet-4-5-20250929` → `claude-sonnet-4-5`). */
export function priceOf(model: string, overrides: PriceTable = {}, defaults: PriceTable = DEFAULT_PRICES): ModelPrice | null {
  return contractPriceOf(model, overrides, defaults) ?? null;
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
