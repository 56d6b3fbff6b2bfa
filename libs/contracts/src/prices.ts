import type { ModelPrice } from './events';

/**
 * Default list prices in USD per million tokens, by model name (a provider's own `prices` override
 * them). Used to estimate a call before it is made (budget reservations) and to cost usage after.
 * Unknown models cost 0 in estimates; the simulated provider is free.
 */

export const DEFAULT_PRICES: Record<string, ModelPrice> = {
  'claude-opus-4-1': { inputPer1M: 15, outputPer1M: 75 },
  'claude-sonnet-4-5': { inputPer1M: 3, outputPer1M: 15 },
  'claude-haiku-4-5': { inputPer1M: 1, outputPer1M: 5 },
  'gpt-5': { inputPer1M: 1.25, outputPer1M: 10 },
  'gpt-5-mini': { inputPer1M: 0.25, outputPer1M: 2 },
  'gpt-4.1': { inputPer1M: 2, outputPer1M: 8 },
  'gpt-4.1-mini': { inputPer1M: 0.4, outputPer1M: 1.6 },
  'gpt-4o': { inputPer1M: 2.5, outputPer1M: 10 },
  'gpt-4o-mini': { inputPer1M: 0.15, outputPer1M: 0.6 },
  'gemini-2.5-pro': { inputPer1M: 1.25, outputPer1M: 10 },
  'gemini-2.5-flash': { inputPer1M: 0.3, outputPer1M: 2.5 },
};

/** Tokens a call is expected to use when nothing better is known (budget reservations). */
export const EXPECTED_TOKENS = { input: 2_000, output: 1_000 };

export function priceOf(model: string, overrides: Record<string, ModelPrice> = {}): ModelPrice | undefined {
  return overrides[model] ?? DEFAULT_PRICES[model];
}

export function costUsd(tokens: { input: number; output: number }, price: ModelPrice | undefined): number {
  if (!price) return 0;
  return (tokens.input * price.inputPer1M + tokens.output * price.outputPer1M) / 1_000_000;
}

/** The reservation for one call: expected tokens (output capped by maxTokens) × the model's price. */
export function estimateCallUsd(provider: string, model: string, maxTokens?: number, overrides?: Record<string, ModelPrice>): number {
  if (provider === 'simulated') return 0;
  return costUsd({ input: EXPECTED_TOKENS.input, output: Math.min(maxTokens ?? EXPECTED_TOKENS.output, EXPECTED_TOKENS.output) }, priceOf(model, overrides));
}
