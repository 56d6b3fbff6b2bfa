import { Writable } from 'node:stream';
import { BaseEnv, natsConnectionOptions, parseEnv } from './config';
import { createLogger } from './logger';

describe('NATS credentials in the config', () => {
  it('are optional (anonymous) and, when set, go to every connection as user/pass', () => {
    expect(natsConnectionOptions(parseEnv(BaseEnv, {}))).toEqual({ servers: ['nats://127.0.0.1:4222'] });
    const env = parseEnv(BaseEnv, { NATS_URL: 'nats://n:4223', NATS_USER: 'judge', NATS_PASSWORD: 's3cret-pw' });
    expect(natsConnectionOptions(env)).toEqual({ servers: ['nats://n:4223'], user: 'judge', pass: 's3cret-pw', inboxPrefix: '_INBOX.judge' });
  });

  it("name every node of a cluster from NATS_URL's comma list (docker compose: nats-1..3)", () => {
    const env = parseEnv(BaseEnv, { NATS_URL: 'nats://nats-1:4222, nats://nats-2:4222,nats://nats-3:4222' });
    expect(natsConnectionOptions(env).servers).toEqual(['nats://nats-1:4222', 'nats://nats-2:4222', 'nats://nats-3:4222']);
  });

  it('take CONCLAVE_NATS_SYNC only as always or interval', () => {
    expect(parseEnv(BaseEnv, {}).CONCLAVE_NATS_SYNC).toBeUndefined();
    expect(parseEnv(BaseEnv, { CONCLAVE_NATS_SYNC: 'always' }).CONCLAVE_NATS_SYNC).toBe('always');
    expect(() => parseEnv(BaseEnv, { CONCLAVE_NATS_SYNC: 'yes' })).toThrow(/CONCLAVE_NATS_SYNC/);
  });

  it('never reach a log line (the password, as a config field or as a connection option)', () => {
    const lines: string[] = [];
    const sink = new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) });
    const logger = createLogger('t', 'info', {}, sink);
    const env = parseEnv(BaseEnv, { NATS_USER: 'judge', NATS_PASSWORD: 's3cret-pw' });
    logger.info({ config: env }, 'configuration');
    logger.info({ nats: natsConnectionOptions(env) }, 'connecting');
    logger.info(natsConnectionOptions(env), 'connecting');
    expect(lines).toHaveLength(3);
    expect(lines.join('')).not.toContain('s3cret-pw');
  });
});
