import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { ErrorEnvelope } from '@conclave/contracts';
import { createTestEnv, type TestEnv } from '@conclave/testing';
import { http, startGateway, type RunningGateway } from '../__tests__/harness';

/**
 * Postgres going away under a running gateway: the gateway talks to it through a TCP proxy the
 * test can cut. Requests then get 503 `unavailable` with Retry-After (never a 500), and the
 * gateway serves again once Postgres is back.
 */
class CuttableProxy {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  port = 0;

  constructor(private readonly target: { host: string; port: number }) {}

  async open(port = 0): Promise<void> {
    this.server = createServer((client) => {
      const upstream = connect(this.target.port, this.target.host);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => s.destroy());
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  /** Postgres "goes down": every connection is cut and new ones are refused. */
  async cut(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server = null;
  }
}

describe('the gateway with Postgres unreachable', () => {
  let env: TestEnv;
  let gw: RunningGateway;
  let proxy: CuttableProxy;

  beforeAll(async () => {
    env = await createTestEnv('gwdown');
    const db = new URL(env.databaseUrl);
    proxy = new CuttableProxy({ host: db.hostname, port: Number(db.port || 5432) });
    await proxy.open();
    const viaProxy = new URL(env.databaseUrl);
    viaProxy.hostname = '127.0.0.1';
    viaProxy.port = String(proxy.port);
    gw = await startGateway(env, { DATABASE_URL: viaProxy.toString() });
  });
  afterAll(async () => {
    await gw?.close();
    await proxy?.cut();
    await env?.dispose();
  });

  it('answers 503 with Retry-After while Postgres is down, and serves again when it is back', async () => {
    expect((await http(`${gw.url}/api/v1/runs`)).status).toBe(200);
    const port = proxy.port;
    await proxy.cut();
    for (const path of ['/runs', '/templates', '/providers', '/costs?groupBy=provider']) {
      const res = await http(`${gw.url}/api/v1${path}`);
      expect({ path, status: res.status }).toEqual({ path, status: 503 });
      expect(res.headers.get('retry-after')).toBe('5');
      expect(ErrorEnvelope.parse(res.body).error.code).toBe('unavailable');
    }
    await proxy.open(port);
    let status = 0;
    for (let i = 0; i < 40 && status !== 200; i += 1) {
      status = (await http(`${gw.url}/api/v1/runs`)).status;
      if (status !== 200) await new Promise((r) => setTimeout(r, 250));
    }
    expect(status).toBe(200);
  });
});
