import { ConfigError } from '@conclave/service-kit';
import { hostedEnv, overridePrefix, selectServices, selectThreads } from './hosted-env';

describe('hostedEnv: one service’s environment in the single process', () => {
  const env = {
    NATS_URL: 'nats://127.0.0.1:4223',
    CONCLAVE_PREFIX: 'p1',
    HEALTH_PORT: '9000',
    CONCLAVE_MASTER_KEY: 'k'.repeat(44),
    ORCHESTRATOR__NATS_USER: 'orchestrator',
    ORCHESTRATOR__NATS_PASSWORD: 'secret-o',
    LLM_WORKER__NATS_USER: 'llm-worker',
    LLM_WORKER__WORKER_CONCURRENCY: '4',
    PROJECTOR__HEALTH_PORT: '9101',
  };

  it('gives each service the shared variables and its own, and no other service’s', () => {
    const orchestrator = hostedEnv('orchestrator', env, 'host-1');
    expect(orchestrator).toMatchObject({ NATS_URL: 'nats://127.0.0.1:4223', CONCLAVE_PREFIX: 'p1', NATS_USER: 'orchestrator', NATS_PASSWORD: 'secret-o' });
    expect(Object.keys(orchestrator).filter((k) => k.includes('__'))).toEqual([]);
    const worker = hostedEnv('llm-worker', env, 'host-1');
    expect(worker).toMatchObject({ NATS_USER: 'llm-worker', WORKER_CONCURRENCY: '4' });
    expect(worker.NATS_PASSWORD).toBeUndefined();
  });

  it('keeps the master key in the gateway’s configuration only, and a health port per service only', () => {
    expect(hostedEnv('gateway', env, 'h').CONCLAVE_MASTER_KEY).toBe(env.CONCLAVE_MASTER_KEY);
    for (const service of ['orchestrator', 'projector', 'llm-worker', 'judge'] as const) expect(hostedEnv(service, env, 'h').CONCLAVE_MASTER_KEY).toBeUndefined();
    expect(hostedEnv('judge', env, 'h').HEALTH_PORT).toBeUndefined();
    expect(hostedEnv('projector', env, 'h').HEALTH_PORT).toBe('9101');
  });

  it('opens no metrics port per hosted service unless one is asked for: the process has one /metrics', () => {
    const withPort = { ...env, METRICS_PORT: '9500', JUDGE__METRICS_PORT: '9512' };
    for (const service of ['orchestrator', 'projector', 'llm-worker', 'gateway'] as const) expect(hostedEnv(service, withPort, 'h').METRICS_PORT).toBe('0');
    expect(hostedEnv('judge', withPort, 'h').METRICS_PORT).toBe('9512');
    expect(() => hostedEnv('judge', { ...env, JUDGE__CONCLAVE_METRICS: 'off' })).toThrow(ConfigError);
  });

  it('names each service’s instance apart (workers, consumers and logs as separate processes would)', () => {
    expect(hostedEnv('judge', env, 'host-1').INSTANCE_ID).toBe('host-1-judge');
    expect(hostedEnv('judge', { ...env, INSTANCE_ID: 'box' }, 'host-1').INSTANCE_ID).toBe('box-judge');
    expect(hostedEnv('judge', { ...env, JUDGE__INSTANCE_ID: 'j7' }, 'host-1').INSTANCE_ID).toBe('j7');
  });

  it('refuses a per-service value of a process-wide variable', () => {
    expect(() => hostedEnv('gateway', { ...env, GATEWAY__CONCLAVE_PREFIX: 'other' })).toThrow(ConfigError);
  });

  it('prefixes and CONCLAVE_SERVICES', () => {
    expect(overridePrefix('llm-worker')).toBe('LLM_WORKER__');
    expect(selectServices(undefined)).toEqual(['orchestrator', 'projector', 'llm-worker', 'judge', 'gateway']);
    expect(selectServices('gateway, orchestrator')).toEqual(['orchestrator', 'gateway']);
    expect(() => selectServices('orchestrator,nope')).toThrow(/unknown service "nope"/);
  });
});

describe('selectThreads: the hosted services that get a thread of their own', () => {
  it('is the projector by default (when this process hosts it), none with `none`, and keeps the boot order', () => {
    expect(selectThreads(undefined, ['orchestrator', 'projector', 'gateway'])).toEqual(['projector']);
    expect(selectThreads('', ['orchestrator', 'projector', 'gateway'])).toEqual(['projector']);
    expect(selectThreads(undefined, ['orchestrator', 'gateway'])).toEqual([]);
    expect(selectThreads('none', ['orchestrator', 'projector', 'gateway'])).toEqual([]);
    expect(selectThreads(' gateway , projector', ['orchestrator', 'projector', 'gateway'])).toEqual(['projector', 'gateway']);
  });

  it('refuses a name that is no service, or a service this process does not host, naming it', () => {
    expect(() => selectThreads('projektor', ['projector'])).toThrow(ConfigError);
    expect(() => selectThreads('projektor', ['projector'])).toThrow(/CONCLAVE_THREADS: unknown service "projektor"/);
    expect(() => selectThreads('judge', ['projector'])).toThrow(/CONCLAVE_THREADS: "judge" not hosted by this process/);
  });
});
