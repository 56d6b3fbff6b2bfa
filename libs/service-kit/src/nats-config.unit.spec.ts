import { Writable } from 'node:stream';
import { BaseEnv, natsConnectionOptions, parseEnv } from './config';
import { createLogger } from './logger';

describe('NATS credentials in the config', () => {
  it('are optional (anonymous) and, when set, go to every connection as user/pass', () => {
    expect(natsConnectionOptions(parseEnv(BaseEnv, {}))).toEqual({ servers: 'nats://127.0.0.1:4222' });
    const env = parseEnv(BaseEnv, { NATS_URL: 'nats://n:4223', NATS_USER: 'judge', NATS_PASSWORD: 's3cret-pw' });
    expect(natsConnectionOptions(env)).toEqual({ servers: 'nats://n:4223', user: 'judge', pass: 's3cret-pw', inboxPrefix: '_INBOX.judge' });
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
