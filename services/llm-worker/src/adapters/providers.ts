import { appendFileSync } from 'node:fs';
import type { NatsConnection } from '@nats-io/transport-node';
import { ChatClientPool, EnvCredentialSource, GatewayCredentialSource, type CredentialSource, type WorkerEnv, type WorkerLogger } from '@conclave/worker-kit';
import type { AgentSettings } from '../domain/agent/agent-settings';
import type { Sandbox } from '../domain/tools/sandbox';
import { ProviderRegistry, type ProviderAdapter } from '../domain/provider';
import { SIMULATED_PROVIDER, SimulatedProvider } from '../domain/simulated/simulated-provider';
import type { AjvOutputValidator } from './ajv-validator';
import { SdkProvider } from './providers/sdk-provider';

export type ProviderSettings = Pick<
  WorkerEnv,
  | 'ANTHROPIC_API_KEY'
  | 'OPENAI_API_KEY'
  | 'GEMINI_API_KEY'
  | 'ANTHROPIC_BASE_URL'
  | 'OPENAI_BASE_URL'
  | 'GEMINI_BASE_URL'
  | 'WORKSPACES_ROOT'
  | 'WORKSPACE_ROOTS'
  | 'WORKTREES_ROOT'
  | 'AGENT_BASH_ALLOW'
  | 'AGENT_BASH_TIMEOUT_MS'
  | 'AGENT_TOOL_OUTPUT_CAP'
  | 'TRANSCRIPT_MESSAGE_CAP'
> & {
  /** where agents' bash/git processes run (probed at boot by the module) */
  sandbox?: Sandbox;
  /** test hook: the simulated provider appends a line per call to this file (llm-worker config) */
  CONCLAVE_SIMULATED_CALL_LOG?: string;
};

export function agentSettingsOf(env: Partial<ProviderSettings>, now: () => number = Date.now): AgentSettings {
  return {
    workspacesRoot: env.WORKSPACES_ROOT ?? '.conclave/workspaces',
    workspaceRoots: env.WORKSPACE_ROOTS ?? [],
    ...(env.WORKTREES_ROOT ? { worktreesRoot: env.WORKTREES_ROOT } : {}),
    bashAllow: env.AGENT_BASH_ALLOW ?? ['ls', 'cat', 'grep', 'node', 'npm', 'git', 'echo', 'wc', 'head', 'tail'],
    bashTimeoutMs: env.AGENT_BASH_TIMEOUT_MS ?? 30_000,
    outputCap: env.AGENT_TOOL_OUTPUT_CAP ?? 16_000,
    transcriptCap: env.TRANSCRIPT_MESSAGE_CAP ?? 20_000,
    ...(env.sandbox ? { sandbox: env.sandbox } : {}),
    now,
  };
}

/**
 * The credentials of the SDK providers: the gateway's store over NATS (`subjects.credentials`,
 * docs/adr/005), cached 30 s; when no gateway answers, the env keys (providers named anthropic /
 * openai / gemini from *_API_KEY and *_BASE_URL). Without a NATS connection: the env keys only.
 */
export function credentialSourceOf(env: Partial<ProviderSettings>, nats?: { nc: NatsConnection; subject: string; logger?: WorkerLogger }): CredentialSource {
  const fromEnv = new EnvCredentialSource(env);
  if (!nats) return fromEnv;
  return new GatewayCredentialSource(nats.nc, nats.subject, {
    fallback: fromEnv,
    onFallback: (reason) => nats.logger?.warn({ reason }, 'no gateway answers credential requests: using the provider keys of the env'),
  });
}

/**
 * The providers this worker can call. `simulated` always exists (with the scripted agent); any other
 * name is an SDK provider whose credentials are looked up per call (no credentials: a failed result
 * `provider_not_configured`, not retryable).
 */
export function createProviderRegistry(
  env: Partial<ProviderSettings>,
  validator: AjvOutputValidator,
  source: CredentialSource = credentialSourceOf(env),
): ProviderRegistry<ProviderAdapter> {
  const agent = agentSettingsOf(env);
  const pool = new ChatClientPool(source);
  const sdk = new Map<string, SdkProvider>();
  const check = (schema: Record<string, unknown> | boolean, value: unknown) => validator.validate(schema as never, value);
  const callLog = env.CONCLAVE_SIMULATED_CALL_LOG;
  const onCall = callLog ? (r: { candidateId: string; runId: string; phaseId: string; slot: number }) => appendFileSync(callLog, `${r.candidateId} ${r.runId} ${r.phaseId} ${r.slot}\n`) : undefined;
  const simulated = new SimulatedProvider({ check: validator.check, agent, ...(onCall ? { onCall } : {}) });
  return new ProviderRegistry<ProviderAdapter>([simulated], (name) => {
    if (name === SIMULATED_PROVIDER) return undefined;
    let adapter = sdk.get(name);
    if (!adapter) {
      adapter = new SdkProvider(name, { pool, check, agent, simulated });
      sdk.set(name, adapter);
    }
    return adapter;
  });
}
