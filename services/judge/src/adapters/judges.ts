import type { NatsConnection } from '@nats-io/transport-node';
import { ChatClientPool, EnvCredentialSource, GatewayCredentialSource, type CredentialSource, type WorkerEnv, type WorkerLogger } from '@conclave/worker-kit';
import { JudgeRegistry, type JudgeAdapter } from '../domain/judge-provider';
import { SIMULATED_JUDGE, SimulatedJudge } from '../domain/simulated/simulated-judge';
import { LlmJudge } from './llm-judge';

export type JudgeProviderSettings = Partial<Pick<WorkerEnv, 'ANTHROPIC_API_KEY' | 'OPENAI_API_KEY' | 'GEMINI_API_KEY' | 'ANTHROPIC_BASE_URL' | 'OPENAI_BASE_URL' | 'GEMINI_BASE_URL'>>;

/**
 * The credentials of the LLM judges: the gateway's store over NATS (`subjects.credentials`,
 * docs/adr/005), cached 30 s; when no gateway answers, the env keys (providers named anthropic /
 * openai / gemini). Without a NATS connection: the env keys only.
 */
export function credentialSourceOf(env: JudgeProviderSettings, nats?: { nc: NatsConnection; subject: string; logger?: WorkerLogger }): CredentialSource {
  const fromEnv = new EnvCredentialSource(env);
  if (!nats) return fromEnv;
  return new GatewayCredentialSource(nats.nc, nats.subject, {
    fallback: fromEnv,
    onFallback: (reason) => nats.logger?.warn({ reason }, 'no gateway answers credential requests: using the provider keys of the env'),
  });
}

/**
 * The judge providers of this process. `simulated` always exists; any other name is an LLM judge
 * whose credentials are looked up per call (none: a failed result `provider_not_configured`).
 */
export function createJudgeRegistry(env: JudgeProviderSettings, source: CredentialSource = credentialSourceOf(env)): JudgeRegistry {
  const pool = new ChatClientPool(source);
  const llm = new Map<string, JudgeAdapter>();
  const simulated = new SimulatedJudge();
  return new JudgeRegistry([simulated], (name) => {
    if (name === SIMULATED_JUDGE) return undefined;
    let judge = llm.get(name);
    if (!judge) {
      judge = new LlmJudge(name, pool, simulated);
      llm.set(name, judge);
    }
    return judge;
  });
}
