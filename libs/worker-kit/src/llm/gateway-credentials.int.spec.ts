import { createTestEnv, type TestEnv } from '@conclave/testing';
import { EnvCredentialSource, GatewayCredentialSource } from './credentials';

describe('GatewayCredentialSource (NATS request/reply)', () => {
  let env: TestEnv;
  beforeAll(async () => {
    env = await createTestEnv('creds', { database: false });
  });
  afterAll(() => env.dispose());

  it('asks the gateway, caches the answer, maps not_found to null', async () => {
    const asked: string[] = [];
    const sub = env.log.nc.subscribe(env.log.names.subjects.credentials, {
      queue: 'gateway',
      callback: (_err, msg) => {
        const { provider } = msg.json<{ provider: string }>();
        asked.push(provider);
        msg.respond(
          JSON.stringify(
            provider === 'openai'
              ? { ok: true, kind: 'openai', apiKey: 'sk-from-gateway', baseUrl: null, models: [], prices: { 'gpt-4.1': { inputPer1M: 1, outputPer1M: 2 } }, enabled: true }
              : { ok: false, error: { code: 'not_found', message: 'no such provider' } },
          ),
        );
      },
    });
    await env.log.nc.flush();
    let now = 0;
    const source = new GatewayCredentialSource(env.log.nc, env.log.names.subjects.credentials, { ttlMs: 1_000, now: () => now });
    expect(await source.get('openai')).toEqual({ kind: 'openai', apiKey: 'sk-from-gateway', baseUrl: null, models: [], prices: { 'gpt-4.1': { inputPer1M: 1, outputPer1M: 2 } }, enabled: true });
    await source.get('openai');
    expect(asked).toEqual(['openai']);
    now = 2_000;
    await source.get('openai');
    expect(asked).toEqual(['openai', 'openai']);
    expect(await source.get('mystery')).toBeNull();
    sub.unsubscribe();
  });

  it('falls back to the env keys when no gateway answers (and says so once); without them the lookup fails retryably', async () => {
    const reasons: string[] = [];
    const source = new GatewayCredentialSource(env.log.nc, `${env.log.names.subjects.credentials}.nobody`, {
      fallback: new EnvCredentialSource({ OPENAI_API_KEY: 'sk-env' }),
      timeoutMs: 300,
      onFallback: (r) => reasons.push(r),
    });
    expect(await source.get('openai')).toEqual({ kind: 'openai', apiKey: 'sk-env' });
    // a provider the env does not know is not "not configured" while no gateway answers: a
    // retryable failure (the gateway may be restarting), so the candidate is tried again, not dropped
    await expect(source.get('anthropic')).rejects.toMatchObject({ code: 'credentials_unavailable', retryable: true });
    expect(reasons).toHaveLength(1);
  });
});
