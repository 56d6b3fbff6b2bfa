import { DeadLetterRecord, DeadLetterView, ErrorEnvelope, type DeadLetterMessage } from '@conclave/contracts';
import { createDataSource, foldDeadLetter, type DataSource } from '@conclave/read-models';
import { createTestEnv, type TestEnv } from '@conclave/testing';
import { http, startFakeOrchestrator, startGateway, type FakeOrchestrator, type RunningGateway } from '../__tests__/harness';

interface Page {
  items: DeadLetterView[];
  nextCursor: string | null;
}

const record = (overrides: Partial<DeadLetterRecord> = {}): DeadLetterRecord =>
  DeadLetterRecord.parse({
    kind: 'dead',
    consumer: 'llm-workers',
    stream: 'COMMANDS',
    subject: 'commands.generate',
    streamSequence: 3,
    deliveries: 1,
    reason: 'undecodable',
    error: 'not JSON',
    deadAt: new Date().toISOString(),
    runId: null,
    by: 'worker-1',
    headers: { Authorization: ['Bearer secret-in-a-header'] },
    payload: Buffer.from('{not json').toString('base64'),
    truncated: false,
    ...overrides,
  });

describe('REST dead letters: GET /dead-letters, GET /dead-letters/:id, POST /dead-letters/:id/redrive', () => {
  let env: TestEnv;
  let gw: RunningGateway;
  let fake: FakeOrchestrator;
  let ds: DataSource;
  let api: string;
  const ids: Record<string, string> = {};

  /** publish on the env's DEAD_LETTERS and fold it as the projector would; returns its sequence */
  const deadLetter = async (message: DeadLetterMessage, msgId: string, consumer = 'llm-workers'): Promise<number> => {
    const { seq } = await env.log.publish(env.log.names.subjects.deadLetter(consumer), message, msgId);
    await ds.transaction((m) => foldDeadLetter(m, seq, message));
    return seq;
  };

  beforeAll(async () => {
    env = await createTestEnv('gwdead');
    fake = await startFakeOrchestrator(env);
    gw = await startGateway(env);
    api = `${gw.url}/api/v1`;
    ds = await createDataSource(env.databaseUrl, { poolSize: 2 }).initialize();
    ids.poison = String(await deadLetter(record(), 'a'));
    ids.judge = String(await deadLetter(record({ consumer: 'judges', subject: 'commands.judge', reason: 'max_deliver', error: 'gave up', deliveries: 6, runId: 'run-7', payload: Buffer.from(`{"runId":"run-7","bigg":"${'é'.repeat(3000)}"}`).toString('base64') }), 'b', 'judges'));
    ids.redriven = String(await deadLetter(record({ consumer: 'dispatcher', stream: 'EVENTS', subject: 'events.run.run-7', runId: 'run-7', reason: 'rejected', error: 'refused' }), 'c', 'dispatcher'));
    await deadLetter({ kind: 'redriven', deadLetterId: ids.redriven, at: new Date().toISOString(), actor: { kind: 'user', id: 'ops' } }, 'd', 'dispatcher');
  });
  afterAll(async () => {
    await ds?.destroy();
    await gw?.close();
    await fake?.close();
    await env?.dispose();
  });
  beforeEach(() => {
    fake.requests.length = 0;
  });

  it('lists open dead letters newest first (state, consumer and runId filters, cursor paging)', async () => {
    const open = await http<Page>(`${api}/dead-letters`);
    expect(open.status).toBe(200);
    expect(open.body.items.map((d) => d.id)).toEqual([ids.judge, ids.poison]);
    expect(open.body.nextCursor).toBeNull();
    const poison = open.body.items[1]!;
    expect(DeadLetterView.strict().parse(poison)).toMatchObject({ consumer: 'llm-workers', subject: 'commands.generate', reason: 'undecodable', error: 'not JSON', payloadPreview: '{not json', redrivenAt: null });
    // the headers are kept for a redrive but never served
    expect(open.text).not.toContain('secret-in-a-header');

    const all = await http<Page>(`${api}/dead-letters?state=all`);
    expect(all.body.items.map((d) => d.id)).toEqual([ids.redriven, ids.judge, ids.poison]);
    const redriven = await http<Page>(`${api}/dead-letters?state=redriven`);
    expect(redriven.body.items.map((d) => [d.id, d.redrivenBy])).toEqual([[ids.redriven, 'ops']]);
    expect((await http<Page>(`${api}/dead-letters?consumer=judges`)).body.items.map((d) => d.id)).toEqual([ids.judge]);
    expect((await http<Page>(`${api}/dead-letters?state=all&runId=run-7`)).body.items.map((d) => d.id)).toEqual([ids.redriven, ids.judge]);
    expect((await http<Page>(`${api}/dead-letters?consumer=nobody`)).body.items).toEqual([]);

    const first = await http<Page>(`${api}/dead-letters?state=all&limit=2`);
    expect(first.body.items.map((d) => d.id)).toEqual([ids.redriven, ids.judge]);
    const second = await http<Page>(`${api}/dead-letters?state=all&limit=2&cursor=${encodeURIComponent(first.body.nextCursor!)}`);
    expect(second.body).toEqual({ items: [expect.objectContaining({ id: ids.poison })], nextCursor: null });
  });

  it('previews at most 4 KiB of the payload as text, without splitting a character', async () => {
    const judge = await http<DeadLetterView>(`${api}/dead-letters/${ids.judge}`);
    expect(judge.status).toBe(200);
    expect(judge.body.payloadPreview.startsWith('{"runId":"run-7","bigg":"éé')).toBe(true);
    expect(Buffer.byteLength(judge.body.payloadPreview)).toBeLessThanOrEqual(4096);
    expect(Buffer.byteLength(judge.body.payloadPreview)).toBeGreaterThan(4090);
    expect(judge.body.payloadPreview).not.toContain('\uFFFD');
  });

  it('answers a malformed id with a typed 400, an unknown one with 404, bad filters with 400', async () => {
    for (const bad of ['abc', '0', '-1', '1.5', '01', '1e3', '99999999999999999', '%00']) {
      const res = await http(`${api}/dead-letters/${bad}`);
      expect([bad, res.status, ErrorEnvelope.parse(res.body).error.code]).toEqual([bad, 400, 'bad_request']);
    }
    const missing = await http(`${api}/dead-letters/424242`);
    expect([missing.status, missing.body.error.code]).toEqual([404, 'not_found']);
    for (const query of ['state=closed', 'limit=0', 'limit=501', 'cursor=nope', 'consumer=%00', 'consumer=a&consumer=b', 'min_sequence=-1', 'min_sequence=1e3']) {
      const res = await http(`${api}/dead-letters?${query}`);
      expect([query, res.status, res.body?.error?.code]).toEqual([query, 400, 'bad_request']);
    }
  });

  it('redrives through the orchestrator: 202 { id, sequence }; ?min_sequence= then shows it redriven', async () => {
    fake.behave(async (request) => {
      // as the orchestrator: append the redriven mark, answer with its sequence
      const command = request.command as { type: string; deadLetterId: string };
      const mark = { kind: 'redriven' as const, deadLetterId: command.deadLetterId, at: new Date().toISOString(), actor: request.actor };
      const { seq } = await env.log.publish(env.log.names.subjects.deadLetter('llm-workers'), mark, `mark-${command.deadLetterId}`);
      setTimeout(() => void ds.transaction((m) => foldDeadLetter(m, seq, mark)), 300); // the projector, a moment later
      return { ok: true, id: command.deadLetterId, sequence: seq };
    });
    const res = await http<{ id: string; sequence: number }>(`${api}/dead-letters/${ids.poison}/redrive`, { method: 'POST', json: {} });
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ id: ids.poison, sequence: expect.any(Number) });
    expect(fake.requests.map((r) => r.command)).toEqual([{ type: 'RedriveDeadLetter', deadLetterId: ids.poison }]);

    const after = await http<DeadLetterView>(`${api}/dead-letters/${ids.poison}?min_sequence=${res.body.sequence}`);
    expect(after.status).toBe(200);
    expect(after.body.redrivenAt).not.toBeNull();
    expect(after.body.redrivenBy).toBe(fake.requests[0]!.actor.id);
    const list = await http<Page>(`${api}/dead-letters?min_sequence=${res.body.sequence}`);
    expect(list.body.items.map((d) => d.id)).toEqual([ids.judge]);
    // a sequence the projection has not reached: 503 after the bounded wait
    const ahead = await http(`${api}/dead-letters?min_sequence=${res.body.sequence + 1000}`);
    expect([ahead.status, ahead.body.error.code]).toEqual([503, 'unavailable']);
  });

  it('refuses a redrive the read model shows done (409), passes the orchestrator refusals through, and sends nothing for a bad id', async () => {
    const again = await http(`${api}/dead-letters/${ids.redriven}/redrive`, { method: 'POST' });
    expect([again.status, again.body.error.code]).toEqual([409, 'illegal_state']);
    expect(fake.requests).toEqual([]);

    for (const bad of ['x', '0', '1;DROP']) {
      const res = await http(`${api}/dead-letters/${encodeURIComponent(bad)}/redrive`, { method: 'POST', json: {} });
      expect(res.status).toBe(400);
    }
    const extra = await http(`${api}/dead-letters/${ids.judge}/redrive`, { method: 'POST', json: { force: true } });
    expect(extra.status).toBe(400);
    expect(fake.requests).toEqual([]);

    const refusals = [
      { code: 'not_found', status: 404 },
      { code: 'illegal_state', status: 409 },
      { code: 'unavailable', status: 503 },
    ] as const;
    for (const { code, status } of refusals) {
      fake.behave(() => ({ ok: false, error: { code, message: `fake ${code}` } }));
      const res = await http(`${api}/dead-letters/${ids.judge}/redrive`, { method: 'POST', json: {} });
      expect([res.status, res.body.error.code, res.body.error.message]).toEqual([status, code, `fake ${code}`]);
    }
    expect(fake.requests.map((r) => r.command)).toEqual(refusals.map(() => ({ type: 'RedriveDeadLetter', deadLetterId: ids.judge })));
  });
});
