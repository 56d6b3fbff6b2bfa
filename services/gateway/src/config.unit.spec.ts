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
    expect(() => loadGatewayConfig({ HOST: host, CONCLAVE_API_TOKEN: 's3cret' })).toThrow(/at least 16/);
    const token = 's3cret-s3cret-s3cret';
    expect(loadGatewayConfig({ HOST: host, CONCLAVE_API_TOKEN: token }).CONCLAVE_API_TOKEN).toBe(token);
  });

  it('validates the security settings', () => {
    const key = Buffer.alloc(32, 7);
    expect(loadGatewayConfig({ CONCLAVE_MASTER_KEY: key.toString('hex') }).CONCLAVE_MASTER_KEY).toBe(key.toString('hex'));
    expect(loadGatewayConfig({ CONCLAVE_MASTER_KEY: key.toString('base64') }).CONCLAVE_MASTER_KEY).toBe(key.toString('base64'));
    expect(() => loadGatewayConfig({ CONCLAVE_MASTER_KEY: 'too-short' })).toThrow(/CONCLAVE_MASTER_KEY/);
    expect(loadGatewayConfig({ CORS_ORIGINS: ' https://a.example, ,http://localhost:5173 ' }).CORS_ORIGINS).toEqual(['https://a.example', 'http://localhost:5173']);
    expect(loadGatewayConfig({}).CORS_ORIGINS).toEqual([]);
    expect(loadGatewayConfig({}).RATE_LIMIT_PER_MINUTE).toBe(600);
    expect(() => loadGatewayConfig({ RATE_LIMIT_PER_MINUTE: '0' })).toThrow(ConfigError);
    expect(() => loadGatewayConfig({ CORS_ORIGINS: 'https://a.example/path' })).toThrow(/CORS_ORIGINS/);
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
