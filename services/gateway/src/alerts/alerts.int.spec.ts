import { ErrorEnvelope, type AlertItem } from '@conclave/contracts';
import { raiseAlert } from '@conclave/event-log';
import { createDataSource, projectBatch, recordAlert, replay, type DataSource } from '@conclave/read-models';
import { createTestEnv, type TestEnv } from '@conclave/testing';
import { fold, http, startGateway, type HttpResult, type RunningGateway } from '../__tests__/harness';
import { logSource } from '../admin/replay.service';
import { DATA_SOURCE } from '../tokens';

/**
 * Alerts as events (ADR 016) through the gateway: GET /alerts (status filter, paging),
 * GET /alerts/summary, POST /alerts/:id/acknowledge recorded as AlertAcknowledged, and the
 * projection of both: idempotent under redelivery, rebuilt identically by a replay.
 */
describe('alerts: REST, acknowledgements and their projection', () => {
  let env: TestEnv;
  let gw: RunningGateway;
  let api: string;
  let db: DataSource;
  const system = { kind: 'system', id: 'projector' } as const;
  const meta = (at: string) => ({ occurredAt: at, actor: system });
  const expectError = (res: HttpResult, status: number, code: string) => expect({ status: res.status, code: ErrorEnvelope.safeParse(res.body).data?.error.code }).toEqual({ status, code });

  /** fold everything the log holds (what the projector does live) */
  const foldAll = async () => fold(env, await env.log.readAll(0, 10_000));
  const list = async (query = '') => (await http<{ items: AlertItem[]; nextCursor: string | null }>(`${api}/alerts${query}`)).body;
  /** acknowledge while folding beside it: the gateway answers once the projector applied its event */
  const acknowledge = async (id: string, body: unknown = {}) => {
    const answer = http<AlertItem>(`${api}/alerts/${encodeURIComponent(id)}/acknowledge`, { method: 'POST', json: body });
    let settled = false;
    void answer.finally(() => (settled = true));
    while (!settled) {
      await foldAll();
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return answer;
  };

  beforeAll(async () => {
    env = await createTestEnv('gwalerts', { database: true });
    gw = await startGateway(env);
    api = `${gw.url}/api/v1`;
    db = gw.app.get<DataSource>(DATA_SOURCE);
  });
  afterAll(async () => {
    await gw?.close();
    await env?.dispose();
  });

  it('folds AlertRaised into the list and the open count; a repeated detection records nothing', async () => {
    const stall = { alertId: 'run-stalled-r1-7000', kind: 'run_stalled' as const, message: 'Run r1 has made no progress for 11 min (threshold 10 min)', runId: 'r1', templateId: 't1', details: { lastSequence: 7000 } };
    expect(await raiseAlert(env.log, stall, meta('2026-12-01T10:00:00.000Z'))).toBe('raised');
    // the next sweep (or another projector) sees the same silence: the log keeps one AlertRaised
    expect(await raiseAlert(env.log, stall, meta('2026-12-01T10:01:00.000Z'))).toBe('exists');
    expect(await raiseAlert(env.log, { alertId: 'provider-failures-openai-1', kind: 'provider_failures', message: 'Provider openai failed 5 times', providerName: 'openai' }, meta('2026-12-01T10:02:00.000Z'))).toBe('raised');
    await foldAll();

    expect((await env.log.read('alert', 'run-stalled-r1-7000')).map((e) => e.type)).toEqual(['AlertRaised']);
    const all = await list();
    expect(all.items.map((a) => [a.id, a.kind, a.runId, a.providerName, a.acknowledgedAt])).toEqual([
      ['provider-failures-openai-1', 'provider_failures', null, 'openai', null],
      ['run-stalled-r1-7000', 'run_stalled', 'r1', null, null],
    ]);
    expect(all.items[1]).toMatchObject({ message: stall.message, createdAt: '2026-12-01T10:00:00.000Z', details: { lastSequence: 7000, templateId: 't1' } });
    expect((await http(`${api}/alerts/summary`)).body).toEqual({ open: 2, byKind: { provider_failures: 1, run_stalled: 1 } });
  });

  it('acknowledges once: the event is in the log, the alert leaves the open list, a second acknowledgement changes nothing', async () => {
    const first = await acknowledge('run-stalled-r1-7000', { comment: 'looking at it' });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ id: 'run-stalled-r1-7000', acknowledgedBy: 'anonymous', acknowledgedAt: expect.any(String) });
    const again = await acknowledge('run-stalled-r1-7000');
    expect(again.status).toBe(200);
    expect(again.body.acknowledgedAt).toBe(first.body.acknowledgedAt);

    const events = await env.log.read('alert', 'run-stalled-r1-7000');
    expect(events.map((e) => e.type)).toEqual(['AlertRaised', 'AlertAcknowledged']);
    expect(events[1]).toMatchObject({ actor: { kind: 'user', id: 'anonymous' }, data: { alertId: 'run-stalled-r1-7000', comment: 'looking at it' } });

    expect((await list('?status=open')).items.map((a) => a.id)).toEqual(['provider-failures-openai-1']);
    expect((await list('?status=acknowledged')).items.map((a) => a.id)).toEqual(['run-stalled-r1-7000']);
    expect((await list('?status=all')).items).toHaveLength(2);
    expect((await http(`${api}/alerts/summary`)).body).toEqual({ open: 1, byKind: { provider_failures: 1 } });
  });

  it('acknowledges alerts no event raised (a process alert, a pre-ADR-016 budget row) through their own subject', async () => {
    const processAlert = await recordAlert(db, { kind: 'projection_halted', message: 'the projection halted' }, new Date('2026-12-01T09:00:00.000Z'));
    await db.query(`INSERT INTO alerts (id, kind, message, details, created_at) VALUES ('budget:global:2026-11:80', 'budget_threshold', 'old budget alert', '{}'::jsonb, '2026-11-20T00:00:00Z')`);
    for (const id of [processAlert, 'budget:global:2026-11:80']) {
      const res = await acknowledge(id);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ id, acknowledgedAt: expect.any(String) });
    }
    expect((await http(`${api}/alerts/summary`)).body).toEqual({ open: 1, byKind: { provider_failures: 1 } });
  });

  it('refuses unknown ids (404) and bad bodies and queries (400), changing nothing', async () => {
    expectError(await http(`${api}/alerts/no-such-alert/acknowledge`, { method: 'POST', json: {} }), 404, 'not_found');
    expectError(await http(`${api}/alerts/provider-failures-openai-1/acknowledge`, { method: 'POST', json: { comment: 5 } }), 400, 'bad_request');
    expectError(await http(`${api}/alerts/provider-failures-openai-1/acknowledge`, { method: 'POST', json: { extra: true } }), 400, 'bad_request');
    expectError(await http(`${api}/alerts?status=closed`), 400, 'bad_request');
    expectError(await http(`${api}/alerts?cursor=garbage`), 400, 'bad_request');
    expect((await env.log.read('alert', 'provider-failures-openai-1')).map((e) => e.type)).toEqual(['AlertRaised']);
    expect((await list('?status=open')).items.map((a) => a.id)).toEqual(['provider-failures-openai-1']);
  });

  it('pages newest first with a cursor, within a status', async () => {
    for (let i = 0; i < 3; i++) await raiseAlert(env.log, { alertId: `cost-spike-page-${i}`, kind: 'cost_spike', message: `spike ${i}`, runId: `page-${i}` }, meta(`2026-12-02T00:00:0${i}.000Z`));
    await foldAll();
    const first = await list('?status=open&limit=2');
    expect(first.items.map((a) => a.id)).toEqual(['cost-spike-page-2', 'cost-spike-page-1']);
    const second = await list(`?status=open&limit=2&cursor=${first.nextCursor}`);
    expect(second.items.map((a) => a.id)).toEqual(['cost-spike-page-0', 'provider-failures-openai-1']);
    expect(second.nextCursor).toBeNull();
  });

  it('a redelivered batch (folded past the checkpoint again) adds no alert and keeps the first acknowledgement', async () => {
    const before = await db.query('SELECT id, acknowledged_at, acknowledged_by FROM alerts ORDER BY id');
    const events = (await env.log.readAll(0, 10_000)).filter((e) => e.streamId.startsWith('alert:'));
    // another checkpoint name folds every event again into the same tables: a redelivery of all of them
    await db.query(`INSERT INTO projection_checkpoints (name, sequence, updated_at) VALUES ('redelivery', 0, now()) ON CONFLICT (name) DO UPDATE SET sequence = 0`);
    await db.transaction((m) => projectBatch(m, events, 'redelivery'));
    expect(await db.query('SELECT id, acknowledged_at, acknowledged_by FROM alerts ORDER BY id')).toEqual(before);
  });

  it('a replay rebuilds the same alerts from the log (verify finds no difference; a swap keeps process alerts)', async () => {
    const ds = await createDataSource(env.databaseUrl, { poolSize: 2 }).initialize();
    try {
      const verify = await replay({ dataSource: ds, databaseUrl: env.databaseUrl, source: logSource(env.log), verify: true });
      expect(verify.differences.filter((d) => d.table === 'alerts')).toEqual([]);
      expect(verify.differenceCount).toBe(0);
      const before = await list('?limit=500');
      await replay({ dataSource: ds, databaseUrl: env.databaseUrl, source: logSource(env.log) });
      const after = await list('?limit=500');
      expect(after).toEqual(before);
      expect(after.items.find((a) => a.kind === 'projection_halted')?.acknowledgedAt).toEqual(expect.any(String));
    } finally {
      await ds.destroy();
    }
  });
});
