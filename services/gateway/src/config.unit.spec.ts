import { ConfigError } from '@conclave/service-kit';
import { DEFAULT_WEB_DIST, isLoopback, loadGatewayConfig } from './config';
import { bearerToken, tokenMatches } from './http/auth';
import { liveRoom } from './live/relay.service';

describe('gateway config', () => {
  it('has the documented defaults', () => {
    const config = loadGatewayConfig({});
    expect(config).toEqual(
      expect.objectContaining({ PORT: 3000, HOST: '127.0.0.1', WEB_DIST: DEFAULT_WEB_DIST, MIN_SEQUENCE_WAIT_MS: 5000, ORCHESTRATOR_TIMEOUT_MS: 10_000 }),
    );
    expect(config.CONCLAVE_API_TOKEN).toBeUndefined();
    expect(DEFAULT_WEB_DIST).toMatch(/\/web\/dist$/);
    expect(DEFAULT_WEB_DIST).not.toMatch(/services/);
  });

  it.each(['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]', '::ffff:127.0.0.1', 'LOCALHOST'])('treats %s as loopback', (host) => {
    expect(isLoopback(host)).toBe(true);
    expect(loadGatewayConfig({ HOST: host }).HOST).toBe(host);
  });

  it.each(['0.0.0.0', '::', '192.168.1.10', '10.0.0.1', 'example.com', '128.0.0.1', '::ffff:10.0.0.1'])('refuses %s without a token', (host) => {
    expect(isLoopback(host)).toBe(false);
    expect(() => loadGatewayConfig({ HOST: host })).toThrow(ConfigError);
    expect(() => loadGatewayConfig({ HOST: host, CONCLAVE_API_TOKEN: '' })).toThrow(/CONCLAVE_API_TOKEN/);
    expect(loadGatewayConfig({ HOST: host, CONCLAVE_API_TOKEN: 's3cret' }).CONCLAVE_API_TOKEN).toBe('s3cret');
  });

  it('refuses bad numbers', () => {
    expect(() => loadGatewayConfig({ PORT: 'eighty' })).toThrow(ConfigError);
    expect(() => loadGatewayConfig({ MIN_SEQUENCE_WAIT_MS: '-1' })).toThrow(ConfigError);
  });
});

describe('bearer tokens', () => {
  it('parses the scheme case-insensitively and compares exactly', () => {
    expect(bearerToken('Bearer abc')).toBe('abc');
    expect(bearerToken('bearer abc')).toBe('abc');
    expect(bearerToken('Basic abc')).toBeUndefined();
    expect(bearerToken('Bearer a b')).toBeUndefined();
    expect(bearerToken(undefined)).toBeUndefined();
    expect(tokenMatches('abc', 'abc')).toBe(true);
    expect(tokenMatches('abc', 'abcd')).toBe(false);
    expect(tokenMatches('abc', '')).toBe(false);
    expect(tokenMatches('abc', undefined)).toBe(false);
  });
});

describe('live rooms', () => {
  it('maps live subjects to rooms, prefix-aware', () => {
    expect(liveRoom('live.run.r1', '')).toBe('run:r1');
    expect(liveRoom('t1.live.run.r1', 't1')).toBe('run:r1');
    expect(liveRoom('t1.live.worker.w-1', 't1')).toBe('fleet');
    expect(liveRoom('t1.live.other.x', 't1')).toBeNull();
    expect(liveRoom('live.run.r1.extra', '')).toBeNull();
  });
});
