import { randomBytes, randomUUID } from 'node:crypto';
import { ConnectionError, TimeoutError } from '@nats-io/transport-node';
import { CredentialsReply, ErrorEnvelope, ProviderView } from '@conclave/contracts';
import { EventLog } from '@conclave/event-log';
import { createDataSource, ProviderSecretRow, type DataSource } from '@conclave/read-models';
import { createTestEnv, eventually, type TestEnv } from '@conclave/testing';
import { CuttableProxy } from '../__tests__/cuttable-proxy';
import { fold, http, startGateway, type RunningGateway } from '../__tests__/harness';

type Observed = 'absent' | { baseUrl: string | null; apiKey: string | null };

/**
 * Provider writes are atomic (ADR 012): whatever fails between sealing the key in Postgres and
 * appending the event to the log — NATS refusing or dropping the append, its answer lost, Postgres
 * going away after it — a provider is afterwards wholly its old or its new configuration with the
 * matching key (or wholly absent), as the REST API, the read model and the workers' credentials
 * all agree, and retrying the request converges.
 *
 * The gateway reaches NATS and Postgres through TCP proxies the test cuts; the failure is placed
 * between the steps by wrapping the gateway's own EventLog.append.
 */
describe('providers: atomic writes when NATS or Postgres fail between the steps', () => {
  const KEY_1 = `sk-one-${randomBytes(12).toString('hex')}`;
  const KEY_2 = `sk-two-${randomBytes(12).toString('hex')}`;
  const URL_1 = 'http://127.0.0.1:9/one';
  const URL_2 = 'http://127.0.0.1:9/two';

  let env: TestEnv;
  let nats: CuttableProxy;
  let pg: CuttableProxy;
  let gw: RunningGateway;
  let api: string;
  let log: EventLog;
  let db: DataSource;
  let masterKey: string;

  const credentials = async (provider: string) => CredentialsReply.parse((await env.log.nc.request(env.log.names.subjects.credentials, JSON.stringify({ provider }), { timeout: 3000 })).json());
  const secretRows = (providerId: string) => db.getRepository(ProviderSecretRow).countBy({ providerId });
  const configuredEvents = async (name: string) => (await env.log.read('provider', name)).filter((e) => e.type === 'ProviderConfigured');

  /**
   * What every reader says about a provider — GET /providers/:id (from the log), the providers read
   * model (the log folded) behind GET /providers, and the credentials a worker gets — after they
   * have been checked to agree with each other. A half-written provider fails here.
   */
  async function observe(name: string): Promise<Observed> {
    const one = await http(`${api}/providers/${name}`);
    const creds = await credentials(name);
    await fold(env, await env.log.readAll(0, 10_000));
    const listed = ((await http(`${api}/providers`)).body as { items: ProviderView[] }).items.find((p) => p.id === name);
    if (one.status === 404) {
      expect({ creds, listed }).toEqual({ creds: { ok: false, error: expect.objectContaining({ code: 'not_found' }) }, listed: undefined });
      return 'absent';
    }
    expect(one.status).toBe(200);
    const view = ProviderView.parse(one.body);
    if (!creds.ok) throw new Error(`credentials refused for an existing provider: ${JSON.stringify(creds)}`);
    const apiKey = creds.apiKey;
    // the view and the read model say exactly what the credentials hold: same endpoint, same key
    expect(view).toEqual(expect.objectContaining({ baseUrl: creds.baseUrl, hasApiKey: apiKey !== null, apiKeyLast4: apiKey === null ? null : apiKey.slice(-4) }));
    expect(listed).toEqual(expect.objectContaining({ baseUrl: creds.baseUrl, hasApiKey: apiKey !== null, apiKeyLast4: apiKey === null ? null : apiKey.slice(-4), sequence: view.sequence }));
    return { baseUrl: creds.baseUrl, apiKey };
  }

  /** The gateway's next append fails as `failure` says, once. */
  function failNextAppend(failure: (append: () => ReturnType<EventLog['append']>) => ReturnType<EventLog['append']>) {
    const original = log.append.bind(log);
    jest.spyOn(log, 'append').mockImplementationOnce((...args) => failure(() => original(...args)));
  }

  const expect503 = (res: { status: number; headers: Headers; body: unknown }) => {
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('5');
    expect(ErrorEnvelope.parse(res.body).error.code).toBe('unavailable');
  };

  async function restore(proxy: CuttableProxy, port: number) {
    await proxy.open(port);
    await eventually(async () => (await http(`${api}/providers/simulated`)).status === 200 && (await http(`${api}/providers`)).status === 200, 'the gateway serving again', 20_000, 250);
  }

  beforeAll(async () => {
    env = await createTestEnv('gwprovatomic');
    nats = CuttableProxy.to(env.natsUrl, 4222);
    pg = CuttableProxy.to(env.databaseUrl, 5432);
    await nats.open();
    await pg.open();
    masterKey = randomBytes(32).toString('base64');
    gw = await startGateway(env, { NATS_URL: nats.via(env.natsUrl), DATABASE_URL: pg.via(env.databaseUrl), CONCLAVE_MASTER_KEY: masterKey });
    api = `${gw.url}/api/v1`;
    log = gw.app.get(EventLog);
    db = createDataSource(env.databaseUrl, { poolSize: 2 });
    await db.initialize();
  });
  afterEach(() => jest.restoreAllMocks());
  afterAll(async () => {
    await gw?.close();
    await db?.destroy();
    await nats?.cut();
    await pg?.cut();
    await env?.dispose();
  });

  it('a key rotation whose append NATS refuses leaves the old endpoint with the old key; the retry moves both', async () => {
    expect((await http(`${api}/providers`, { method: 'POST', json: { name: 'rotating', kind: 'openai', apiKey: KEY_1, baseUrl: URL_1 } })).status).toBe(201);
    expect(await observe('rotating')).toEqual({ baseUrl: URL_1, apiKey: KEY_1 });

    failNextAppend(() => Promise.reject(new ConnectionError('connection refused')));
    const patch = { apiKey: KEY_2, baseUrl: URL_2 };
    expect503(await http(`${api}/providers/rotating`, { method: 'PATCH', json: patch }));
    // the new key was sealed but nothing refers to it: the old key still goes to the old endpoint only
    expect(await observe('rotating')).toEqual({ baseUrl: URL_1, apiKey: KEY_1 });

    const retried = await http(`${api}/providers/rotating`, { method: 'PATCH', json: patch });
    expect(retried.status).toBe(200);
    expect(await observe('rotating')).toEqual({ baseUrl: URL_2, apiKey: KEY_2 });
    expect(await secretRows('rotating')).toBe(1); // the old key and the failed attempt's row are gone
  });

  it('a create whose Postgres goes away right after the append is whole: the key was sealed before the event named it', async () => {
    const port = pg.port;
    failNextAppend(async (append) => {
      const recorded = await append();
      await pg.cut();
      return recorded;
    });
    const res = await http(`${api}/providers`, { method: 'POST', json: { name: 'pg-after', kind: 'anthropic', apiKey: KEY_1, baseUrl: URL_1 } });
    expect(res.status).toBe(201);
    expect(ProviderView.parse(res.body)).toEqual(expect.objectContaining({ hasApiKey: true, apiKeyLast4: KEY_1.slice(-4) }));
    await restore(pg, port);
    expect(await observe('pg-after')).toEqual({ baseUrl: URL_1, apiKey: KEY_1 });
  });

  it('a create whose append landed but whose answer was lost is whole, and its retry with the same Idempotency-Key answers 201 without a second event', async () => {
    const key = randomUUID();
    const body = { name: 'ack-lost', kind: 'openai', apiKey: KEY_1, baseUrl: URL_1 };
    failNextAppend(async (append) => {
      await append();
      throw new TimeoutError();
    });
    expect503(await http(`${api}/providers`, { method: 'POST', json: body, headers: { 'idempotency-key': key } }));
    expect(await observe('ack-lost')).toEqual({ baseUrl: URL_1, apiKey: KEY_1 });

    const retried = await http(`${api}/providers`, { method: 'POST', json: body, headers: { 'idempotency-key': key } });
    expect(retried.status).toBe(201);
    expect(ProviderView.parse(retried.body)).toEqual(expect.objectContaining({ id: 'ack-lost', hasApiKey: true, apiKeyLast4: KEY_1.slice(-4) }));
    expect(await configuredEvents('ack-lost')).toHaveLength(1);
    expect(await observe('ack-lost')).toEqual({ baseUrl: URL_1, apiKey: KEY_1 });
    expect(await secretRows('ack-lost')).toBe(1);
    // without the key it is the duplicate it is
    expect((await http(`${api}/providers`, { method: 'POST', json: body })).status).toBe(409);
  });

  it('a create during which NATS goes down is wholly there or wholly absent, and the retry converges', async () => {
    const key = randomUUID();
    const body = { name: 'nats-cut', kind: 'openai', apiKey: KEY_2, baseUrl: URL_2 };
    const port = nats.port;
    failNextAppend(async (append) => {
      await nats.cut();
      return append();
    });
    expect503(await http(`${api}/providers`, { method: 'POST', json: body, headers: { 'idempotency-key': key } }));
    await restore(nats, port);
    // the client may still deliver the publish it buffered while reconnecting: either outcome is whole
    expect(['absent', JSON.stringify({ baseUrl: URL_2, apiKey: KEY_2 })]).toContain(await observe('nats-cut').then((o) => (o === 'absent' ? o : JSON.stringify(o))));

    const retried = await http(`${api}/providers`, { method: 'POST', json: body, headers: { 'idempotency-key': key } });
    expect(retried.status).toBe(201);
    expect(await observe('nats-cut')).toEqual({ baseUrl: URL_2, apiKey: KEY_2 });
    expect(await configuredEvents('nats-cut')).toHaveLength(1);
    expect(await secretRows('nats-cut')).toBe(1);
  });

  it('a create while Postgres is down writes nothing to the log', async () => {
    const port = pg.port;
    await pg.cut();
    expect503(await http(`${api}/providers`, { method: 'POST', json: { name: 'pg-down', kind: 'openai', apiKey: KEY_1 } }));
    await restore(pg, port);
    expect(await env.log.read('provider', 'pg-down')).toEqual([]);
    expect(await observe('pg-down')).toBe('absent');
    expect((await http(`${api}/providers`, { method: 'POST', json: { name: 'pg-down', kind: 'openai', apiKey: KEY_1 } })).status).toBe(201);
    expect(await observe('pg-down')).toEqual({ baseUrl: null, apiKey: KEY_1 });
  });

  it('a cleared key is unusable at once even when Postgres fails after the append; the stale row is deleted once it is back (boot sweep)', async () => {
    expect((await http(`${api}/providers`, { method: 'POST', json: { name: 'moving', kind: 'openai', apiKey: KEY_1, baseUrl: URL_1 } })).status).toBe(201);
    const port = pg.port;
    failNextAppend(async (append) => {
      const recorded = await append();
      await pg.cut();
      return recorded;
    });
    const moved = await http(`${api}/providers/moving`, { method: 'PATCH', json: { baseUrl: URL_2 } });
    expect(moved.status).toBe(200);
    expect(ProviderView.parse(moved.body)).toEqual(expect.objectContaining({ hasApiKey: false, keyCleared: true, baseUrl: URL_2 }));
    // Postgres is still down: the workers already get the new endpoint and no key
    expect(await credentials('moving')).toEqual(expect.objectContaining({ ok: true, baseUrl: URL_2, apiKey: null }));
    await restore(pg, port);
    expect(await observe('moving')).toEqual({ baseUrl: URL_2, apiKey: null });
    expect(await secretRows('moving')).toBe(1); // unreferenced, never used, not yet deleted
    const second = await startGateway(env, { CONCLAVE_MASTER_KEY: masterKey });
    try {
      expect(await secretRows('moving')).toBe(0);
    } finally {
      await second.close();
    }
  });
});
