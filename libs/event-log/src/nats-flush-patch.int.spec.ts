import { natsFlushPatched } from './nats-flush-patch';
import { createTestEnv, eventually, type TestEnv } from '@conclave/testing';

/** the socket under a nats.js connection (internal: the write count is what the patch changes) */
type WithSocket = { protocol: { transport: { socket: { write: (...args: unknown[]) => boolean } } } };

describe('the nats.js flush patch (one socket write per event-loop turn, issue 12)', () => {
  let env: TestEnv;
  beforeAll(async () => {
    env = await createTestEnv('natsflush', { database: false });
  });
  afterAll(() => env.dispose());

  it('is applied to the installed nats.js', () => {
    expect(natsFlushPatched).toBe(true);
  });

  it('sends what a chain of callbacks publishes in one turn as one write, in order, and nothing is lost', async () => {
    const subject = `${env.prefix}.flush.order`;
    const got: string[] = [];
    const sub = env.log.nc.subscribe(subject, { callback: (_err, m) => void got.push(m.string()) });
    await env.log.nc.flush(); // the SUB is out before counting
    const socket = (env.log.nc as unknown as WithSocket).protocol.transport.socket;
    const write = socket.write;
    let writes = 0;
    socket.write = function (this: unknown, ...args: unknown[]) {
      writes += 1;
      return write.apply(this, args);
    };
    try {
      // each publish a microtask after the last, as handlers awaiting one another do: before the
      // patch each one left in a write of its own (the microtask flush ran between them)
      for (let i = 0; i < 20; i++) {
        env.log.nc.publish(subject, `m${i}`);
        await Promise.resolve();
      }
      await new Promise<void>((resolve) => setImmediate(resolve));
      // one write for the 20 (a keep-alive PING or PONG of the connection may add one in the window)
      expect(writes).toBeLessThanOrEqual(2);
      expect(writes).toBeGreaterThanOrEqual(1);
    } finally {
      socket.write = write;
    }
    await eventually(async () => got.length === 20, 'the 20 messages', 5_000);
    expect(got).toEqual(Array.from({ length: 20 }, (_, i) => `m${i}`));
    sub.unsubscribe();
  });

  it('still answers requests and JetStream publishes, and flush() still round-trips', async () => {
    const subject = `${env.prefix}.flush.echo`;
    const sub = env.log.nc.subscribe(subject, { callback: (_err, m) => void m.respond(m.data) });
    const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => env.log.nc.request(subject, `n${i}`, { timeout: 2_000 })));
    expect(answers.map((m) => m.string())).toEqual(Array.from({ length: 50 }, (_, i) => `n${i}`));
    await env.log.ensureTopology();
    await env.log.publish(env.log.names.subjects.timer, { runId: 'r', due: new Date().toISOString(), eventId: 'e' }, 'flush-test');
    await env.log.nc.flush();
    sub.unsubscribe();
  });
});
