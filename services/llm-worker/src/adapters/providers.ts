import type { WorkerEnv } from '@conclave/worker-kit';
import { ProviderRegistry, type ProviderAdapter } from '../domain/provider';
import { SimulatedProvider } from '../domain/simulated/simulated-provider';
import type { AjvOutputValidator } from './ajv-validator';

/**
 * The providers this worker can call, keyed by name. `simulated` always exists. The SDK adapters
 * (anthropic, openai, gemini) are registered here from ANTHROPIC_API_KEY / OPENAI_API_KEY /
 * GEMINI_API_KEY once they exist; until then a command naming them gets a failed result
 * `provider_not_configured` (not retryable).
 */
export function createProviderRegistry(_env: Pick<WorkerEnv, 'ANTHROPIC_API_KEY' | 'OPENAI_API_KEY' | 'GEMINI_API_KEY'>, validator: AjvOutputValidator): ProviderRegistry<ProviderAdapter> {
  return new ProviderRegistry<ProviderAdapter>([new SimulatedProvider({ check: validator.check })]);
}
