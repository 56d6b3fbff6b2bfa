import { connectWithRetry } from './event-log.provider';

describe('connectWithRetry (a service at boot)', () => {
  const noWait = () => Promise.resolve();
  beforeEach(() => jest.spyOn(process.stderr, 'write').mockImplementation(() => true));
  afterEach(() => jest.restoreAllMocks());

  it('retries a failed first connection and returns the connection once NATS answers', async () => {
    let calls = 0;
    const connected = await connectWithRetry(async () => {
      calls += 1;
      if (calls < 3) throw new Error('Authentication Timeout');
      return 'connection';
    }, 8, noWait);
    expect(connected).toBe('connection');
    expect(calls).toBe(3);
  });

  it('gives up after its attempts with the last reason (a lasting misconfiguration still ends the service)', async () => {
    let calls = 0;
    await expect(
      connectWithRetry(async () => {
        calls += 1;
        throw new Error('Authorization Violation');
      }, 4, noWait),
    ).rejects.toThrow('Authorization Violation');
    expect(calls).toBe(4);
  });
});
