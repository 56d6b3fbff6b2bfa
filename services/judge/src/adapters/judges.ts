import type { WorkerEnv } from '@conclave/worker-kit';
import { JudgeRegistry } from '../domain/judge-provider';
import { SimulatedJudge } from '../domain/simulated/simulated-judge';

/**
 * The judge providers of this process, keyed by name. `simulated` always exists. LLM judges
 * (anthropic, openai, gemini) are registered here from the provider keys once they exist; until
 * then a command naming them gets a failed result `provider_not_configured` (not retryable).
 */
export function createJudgeRegistry(_env: Pick<WorkerEnv, 'ANTHROPIC_API_KEY' | 'OPENAI_API_KEY' | 'GEMINI_API_KEY'>): JudgeRegistry {
  return new JudgeRegistry([new SimulatedJudge()]);
}
