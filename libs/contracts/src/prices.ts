import type { ModelPrice } from './events';
import type { BudgetModel, BudgetRule } from './template';

/** USD per 1M tokens, plus the price of a prompt-cache read (`cachedInputPer1M`, defaults to `inputPer1M`). */
export type ListPrice = ModelPrice & { cachedInputPer1M?: number };

const p = (inputPer1M: number, outputPer1M: number, cachedInputPer1M: number): ListPrice => ({ inputPer1M, outputPer1M, cachedInputPer1M });

/**
 * Default list prices in USD per million tokens, by model name, of models whose published prices
 * were known when this table was written (a provider's own `prices` override or extend them). One
 * table for everyone: the orchestrator's budget reservations, the gateway's run estimates and the
 * workers' costing of usage (libs/worker-kit) all read it. A model is matched exactly, then as
 * `<key>-<date>` / `<key>-latest` (`claude-sonnet-4-5-20250929` → `claude-sonnet-4-5`; `gpt-5.4` does
 * NOT fall back to `gpt-5`). Unknown models have no price, never a guess; the simulated provider is free.
 */
export const DEFAULT_PRICES: Record<string, ListPrice> = {
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

/** Tokens a call is expected to use when nothing better is known (budget reservations, estimates). */
export const EXPECTED_TOKENS = { input: 2_000, output: 1_000 };

/** A model's price: the provider's `overrides` first, then the defaults; exact, then without a date suffix. */
export function priceOf(model: string, overrides: Record<string, ListPrice> = {}, defaults: Record<string, ListPrice> = DEFAULT_PRICES): ListPrice | undefined {
  for (const table of [overrides, defaults]) if (table[model]) return table[model];
  const base = /^(.*?)-(\d{8}|\d{4}-\d{2}-\d{2}|latest)$/.exec(model)?.[1];
  if (base) for (const table of [overrides, defaults]) if (table[base]) return table[base];
  return undefined;
}

export function costUsd(tokens: { input: number; output: number }, price: ModelPrice | undefined): number {
  if (!price) return 0;
  return (tokens.input * price.inputPer1M + tokens.output * price.outputPer1M) / 1_000_000;
}

/** The tokens one call is expected to use: EXPECTED_TOKENS, the output capped by the call's maxTokens. */
export function expectedCallTokens(maxTokens?: number): { input: number; output: number } {
  return { input: EXPECTED_TOKENS.input, output: Math.min(maxTokens ?? EXPECTED_TOKENS.output, EXPECTED_TOKENS.output) };
}

/** The reservation for one call: expected tokens (output capped by maxTokens) × the model's price. */
export function estimateCallUsd(provider: string, model: string, maxTokens?: number, overrides?: Record<string, ModelPrice>): number {
  if (provider === 'simulated') return 0;
  return costUsd(expectedCallTokens(maxTokens), priceOf(model, overrides));
}

/** Whether budget reservations can price a call: the simulated provider is free, others need a list price. */
export function hasListPrice(provider: string, model: string): boolean {
  return provider === 'simulated' || priceOf(model) !== undefined;
}

/** A budget policy's `switch` rules whose model has no price (ADR 024: refused with 422): each rule's index and model. */
export function unpricedBudgetRules(policy: readonly BudgetRule[] | undefined): { index: number; model: BudgetModel }[] {
  return (policy ?? []).flatMap((r, index) => (r.action === 'switch' && r.model && !hasListPrice(r.model.provider, r.model.model) ? [{ index, model: r.model }] : []));
}
