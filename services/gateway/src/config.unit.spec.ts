import { ConfigError } from '@conclave/service-kit';
import { apiTokens, DEFAULT_WEB_DIST, isLoopback, loadGatewayConfig } from './config';
import { bearerToken, tokenAuthenticator, tokenMatches } from './http/auth';
import { hostAllowList } from './security/host-check';
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

  it('takes a trace viewer URL template with {traceId}, and refuses one without it', () => {
    expect(loadGatewayConfig({}).TRACE_URL_TEMPLATE).toBeUndefined();
    expect(loadGatewayConfig({ TRACE_URL_TEMPLATE: ' http://localhost:16686/trace/{traceId}?uiFind={spanId} ' }).TRACE_URL_TEMPLATE).toBe('http://localhost:16686/trace/{traceId}?uiFind={spanId}');
    expect(() => loadGatewayConfig({ TRACE_URL_TEMPLATE: 'http://localhost:16686/search' })).toThrow(/TRACE_URL_TEMPLATE: an http\(s\) URL containing \{traceId\}/);
    expect(() => loadGatewayConfig({ TRACE_URL_TEMPLATE: 'javascript:alert({traceId})' })).toThrow(/TRACE_URL_TEMPLATE/);
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

describe('named API tokens (CONCLAVE_API_TOKENS)', () => {
  it('parses name:token pairs, and CONCLAVE_API_TOKEN is the token named default', () => {
    const config = loadGatewayConfig({ CONCLAVE_API_TOKENS: ' alice:tok1, ci-bot_2:t:with:colons ,', CONCLAVE_API_TOKEN: 'legacy' });
    expect(apiTokens(config)).toEqual([
      { name: 'alice', token: 'tok1' },
      { name: 'ci-bot_2', token: 't:with:colons' },
      { name: 'default', token: 'legacy' },
    ]);
    expect(apiTokens(loadGatewayConfig({}))).toEqual([]);
  });

  it.each([
    ['Alice:tok', /"Alice" is not a token name/],
    ['alice tok', /not a token name/],
    [':tok', /"" is not a token name/],
    ['alice:', /token named "alice" is empty/],
    ['alice', /token named "alice" is empty/],
    ['alice:one,alice:two', /duplicate token name "alice"/],
    ['alice:same,bob:same', /"bob" repeats another's token/],
  ])('refuses %s with a clear error', (value, message) => {
    expect(() => loadGatewayConfig({ CONCLAVE_API_TOKENS: value })).toThrow(ConfigError);
    try {
      loadGatewayConfig({ CONCLAVE_API_TOKENS: value });
    } catch (err) {
      expect((err as ConfigError).issues.join('\n')).toMatch(message);
      expect((err as ConfigError).issues.join('\n')).toMatch(/CONCLAVE_API_TOKENS/);
    }
  });

  it('refuses a default in CONCLAVE_API_TOKENS beside CONCLAVE_API_TOKEN', () => {
    expect(() => loadGatewayConfig({ CONCLAVE_API_TOKENS: 'default:abc', CONCLAVE_API_TOKEN: 'xyz' })).toThrow(/duplicate token name "default" \(CONCLAVE_API_TOKEN is named "default"\)/);
  });

  it('lets a non-loopback HOST listen with named tokens only, each long enough', () => {
    const long = 'x'.repeat(16);
    expect(apiTokens(loadGatewayConfig({ HOST: '0.0.0.0', CONCLAVE_API_TOKENS: `alice:${long}a,ci:${long}b` })).map((t) => t.name)).toEqual(['alice', 'ci']);
    expect(() => loadGatewayConfig({ HOST: '0.0.0.0', CONCLAVE_API_TOKENS: `alice:${long},ci:short` })).toThrow(/CONCLAVE_API_TOKENS \(ci\): must have at least 16/);
  });

  it('finds the name of the presented token, any of them, and nothing for others', () => {
    const authenticate = tokenAuthenticator([
      { name: 'alice', token: 'tok1' },
      { name: 'ci', token: 'tok2' },
    ]);
    expect(authenticate('tok1')).toBe('alice');
    expect(authenticate('tok2')).toBe('ci');
    expect(authenticate('tok3')).toBeNull();
    expect(authenticate('tok')).toBeNull();
    expect(authenticate('')).toBeNull();
    expect(authenticate(undefined)).toBeNull();
    expect(tokenAuthenticator([])('tok1')).toBeNull();
  });
});

describe('Host allow-list (DNS rebinding)', () => {
  it('on loopback, answers to localhost, 127.0.0.1, [::1] on any port and the configured hosts only', () => {
    const allowed = hostAllowList(loadGatewayConfig({ CONCLAVE_ALLOWED_HOSTS: 'conclave.test, dev.box:8080' }))!;
    for (const host of ['localhost', 'localhost:3000', 'LOCALHOST:5173', '127.0.0.1:3000', '[::1]:3000', '[::1]', 'conclave.test', 'conclave.test:3000', 'dev.box:8080']) {
      expect({ host, allowed: allowed(host) }).toEqual({ host, allowed: true });
    }
    for (const host of ['evil.example', 'evil.example:3000', 'localhost.evil.example', '127.0.0.2:3000', 'dev.box:8081', 'dev.box', 'user@localhost', 'localhost/x', '', undefined]) {
      expect({ host, allowed: allowed(host) }).toEqual({ host, allowed: false });
    }
  });

  it('is off on a non-loopback HOST (a proxy or container in front; the token is the guard)', () => {
    expect(hostAllowList(loadGatewayConfig({ HOST: '0.0.0.0', CONCLAVE_API_TOKEN: 'x'.repeat(32) }))).toBeNull();
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
