import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { errors } from '@nats-io/nats-core';
import { natsRequestPatched } from './nats-request-patch';
import { createTestEnv, type TestEnv } from '@conclave/testing';

// the module nats.js's request.js takes RequestError from (reached by path: the package does not export it)
const require_ = createRequire(__filename);
const natsErrors = require_(join(dirname(require_.resolve('@nats-io/nats-core')), 'errors.js')) as { RequestError: typeof errors.RequestError };

describe('the nats.js request patch (no Error per settled request, issue 12)', () => {
  let env: TestEnv;
  beforeAll(async () => {
    env = await createTestEnv('natspatch', { database: false });
  });
  afterAll(() => env.dispose());

  it('is applied to the installed nats.js', () => {
    expect(natsRequestPatched).toBe(true);
  });

  it('answers requests and JetStream publishes without building a RequestError for each, and still reports failures', async () => {
    const Original = natsErrors.RequestError;
    let built = 0;
    natsErrors.RequestError = class extends Original {
      constructor(...args: ConstructorParameters<typeof Original>) {
        super(...args);
        built++;
      }
    };
    try {
      const subject = `${env.prefix}.patch.echo`;
      const sub = env.log.nc.subscribe(subject, { callback: (_err, msg) => void msg.respond(msg.data) });
      const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => env.log.nc.request(subject, `n${i}`, { timeout: 2_000 })));
      expect(answers.map((m) => m.string())).toEqual(Array.from({ length: 20 }, (_, i) => `n${i}`));
      await env.log.ensureTopology();
      await env.log.publish(env.log.names.subjects.timer, { runId: 'r', due: new Date().toISOString(), eventId: 'e' }, 'patch-test');
      expect(built).toBe(0);

      // failures are untouched: no responders, and a timeout
      await expect(env.log.nc.request(`${env.prefix}.patch.nobody`, 'x', { timeout: 1_000 })).rejects.toThrow(/no responders/i);
      const slow = env.log.nc.subscribe(`${env.prefix}.patch.slow`, { callback: () => undefined });
      await expect(env.log.nc.request(`${env.prefix}.patch.slow`, 'x', { timeout: 200 })).rejects.toThrow(/timeout/i);
      sub.unsubscribe();
      slow.unsubscribe();
    } finally {
      natsErrors.RequestError = Original;
    }
  });
});
