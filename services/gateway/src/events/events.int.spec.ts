import { randomUUID } from 'node:crypto';
import { ErrorEnvelope, LogEntry, messageSequenceOf, positionOf, type NewEvent, type Recorded } from '@conclave/contracts';
import { createTestEnv, type TestEnv } from '@conclave/testing';
import { appendMeta as meta, http, startGateway, type RunningGateway } from '../__tests__/harness';
import { EVENTS_SCAN_LIMIT } from './events.controller';

const template = {
  name: 'events-filters',
  phases: [{ id: 'draft', kind: 'llm', prompt: { user: 'Write' }, candidates: [{ provider: 'simulated', model: 'sim' }] }],
} as const;


const runStarted = (runId: string): NewEvent => ({
  type: 'RunStarted',
  data: { runId, templateId: 'tpl-events', templateVersion: 1, template: template as never, name: runId, inputs: {}, autoMode: true, budgetUsd: null, origin: null },
});

interface Page {
  items: LogEntry[];
  nextAfter: number;
}

describe('GET /events filters (types, streamId) and paging', () => {
  let env: TestEnv;
  let gw: RunningGateway;
  let api: string;
  const runA = randomUUID();
  const runB = randomUUID();
  let log: Recorded[] = [];

  const page = async (query: string): Promise<Page> => {
    const res = await http<Page>(`${api}/events?${query}`);
    expect(res.status).toBe(200);
    return res.body;
  };
  const seqs = (p: Page) => p.items.map((e) => e.sequence);

  beforeAll(async () => {
    env = await createTestEnv('gwevents');
    gw = await startGateway(env);
    api = `${gw.url}/api/v1`;
    const tpl = await env.log.append('template', 'tpl-events', [{ type: 'TemplateCreated', data: { templateId: 'tpl-events', version: 1, template: template as never } }], 0, meta());
    const a1 = await env.log.append('run', runA, [runStarted(runA), { type: 'PhaseStarted', data: { phaseId: 'draft', attempt: 1 } }], 0, meta());
    const b = await env.log.append('run', runB, [runStarted(runB), { type: 'RunCompleted', data: {} }], 0, meta());
    const a2 = await env.log.append('run', runA, [{ type: 'RunCompleted', data: {} }], a1[a1.length - 1]!.sequence, meta());
    log = [...tpl, ...a1, ...b, ...a2];
  });
  afterAll(async () => {
    await gw?.close();
    await env?.dispose();
  });

  it('reads one aggregate with streamId, in sequence order, and pages through it', async () => {
    const all = await page(`streamId=run:${runA}`);
    expect(all.items.map((e) => [e.streamId, e.type])).toEqual([
      [`run:${runA}`, 'RunStarted'],
      [`run:${runA}`, 'PhaseStarted'],
      [`run:${runA}`, 'RunCompleted'],
    ]);
    expect(all.nextAfter).toBe(log[log.length - 1]!.sequence);

    const first = await page(`streamId=run:${runA}&limit=2`);
    expect(seqs(first)).toEqual(seqs(all).slice(0, 2));
    const rest = await page(`streamId=run:${runA}&limit=2&after=${first.nextAfter}`);
    expect(seqs(rest)).toEqual(seqs(all).slice(2));
    const end = await page(`streamId=run:${runA}&after=${rest.nextAfter}`);
    expect(end).toEqual({ items: [], nextAfter: rest.nextAfter, unreadable: [] });

    const tpl = await page('streamId=template:tpl-events');
    expect(tpl.items.map((e) => e.type)).toEqual(['TemplateCreated']);
    expect(await page(`streamId=provider:${randomUUID()}`)).toEqual({ items: [], nextAfter: 0, unreadable: [] });
  });

  it('keeps only the listed types; a page that is not full moves nextAfter past what it read', async () => {
    const started = await page('types=RunStarted,TemplateCreated');
    expect(started.items.map((e) => [e.type, e.streamId])).toEqual([
      ['TemplateCreated', 'template:tpl-events'],
      ['RunStarted', `run:${runA}`],
      ['RunStarted', `run:${runB}`],
    ]);
    // everything up to the end of the log was read: the next page starts there, not at runB's RunStarted
    expect(started.nextAfter).toBe(log[log.length - 1]!.sequence);
    expect(started.nextAfter).toBeGreaterThan(started.items[2]!.sequence);

    const both = await page(`types=RunCompleted&streamId=run:${runB}`);
    expect(both.items.map((e) => [e.type, e.streamId])).toEqual([['RunCompleted', `run:${runB}`]]);
  });

  it('stops a full page at its last item, so the next page continues with the following match', async () => {
    const pages: number[][] = [];
    let after = 0;
    for (let i = 0; i < 5; i++) {
      const p = await page(`types=RunStarted,RunCompleted&limit=1&after=${after}`);
      pages.push(seqs(p));
      if (p.items.length === 1) expect(p.nextAfter).toBe(p.items[0]!.sequence);
      after = p.nextAfter;
    }
    const expected = log.filter((e) => e.type === 'RunStarted' || e.type === 'RunCompleted').map((e) => [e.sequence]);
    expect(pages).toEqual([...expected, []]);
    expect(after).toBe(log[log.length - 1]!.sequence);
  });

  it(`scans at most ${EVENTS_SCAN_LIMIT} events per request: an empty page still moves nextAfter past them`, async () => {
    const before = await env.log.lastSequence();
    // filler the filter does not want, then one event it does
    const filler = Array.from({ length: EVENTS_SCAN_LIMIT + 100 }, () => randomUUID());
    let next = 0;
    await Promise.all(
      Array.from({ length: 32 }, async () => {
        while (next < filler.length) await env.log.append('run', filler[next++]!, [{ type: 'RunCompleted', data: {} }], 0, meta());
      }),
    );
    const late = randomUUID();
    const [wanted] = await env.log.append('run', late, [runStarted(late)], 0, meta());

    const empty = await page(`types=RunStarted&after=${before}`);
    expect(empty).toEqual({ items: [], nextAfter: positionOf(messageSequenceOf(before) + EVENTS_SCAN_LIMIT), unreadable: [] }); // one event per filler commit
    const found = await page(`types=RunStarted&after=${empty.nextAfter}`);
    expect(found.items.map((e) => [e.sequence, e.streamId])).toEqual([[wanted!.sequence, `run:${late}`]]);
    expect(found.nextAfter).toBe(wanted!.sequence);
  });

  it('answers 400 with the error envelope to unknown types and malformed stream ids', async () => {
    for (const query of ['types=RunStarted,NoSuchEvent', 'types=', 'types=runstarted', 'streamId=run', `streamId=job:${runA}`, 'streamId=run:', 'streamId=run:a.b', 'streamId=run:*', `streamId=run:${'x'.repeat(129)}`]) {
      const res = await http(`${api}/events?${query}`);
      expect({ query, status: res.status, code: (res.body as ErrorEnvelope | undefined)?.error?.code }).toEqual({ query, status: 400, code: 'bad_request' });
      expect(ErrorEnvelope.parse(res.body).error.requestId).toBe(res.headers.get('x-request-id'));
    }
    const unknown = await http(`${api}/events?types=RunStarted,NoSuchEvent`);
    expect(unknown.body).toMatchObject({ error: { details: { unknown: ['NoSuchEvent'] } } });
  });

  it('lists a message that does not decode (poison) as unreadable instead of failing the page, and pages past it', async () => {
    const runC = randomUUID();
    const [started] = await env.log.append('run', runC, [runStarted(runC)], 0, meta());
    const junk = await env.log.publish(env.log.names.subjects.aggregateEvents('run', runC), { type: 'Phase\u0000Exploded' }, randomUUID());
    const [done] = await env.log.append('run', runC, [{ type: 'RunCompleted', data: {} }], 'any', meta());
    const all = await http<Page & { unreadable: { sequence: number; reason: string }[] }>(`${api}/events?streamId=run:${runC}`);
    expect(all.status).toBe(200);
    expect(all.body.items.map((e) => e.sequence)).toEqual([started!.sequence, done!.sequence]);
    expect(all.body.unreadable).toEqual([{ sequence: positionOf(junk.seq), reason: expect.any(String) }]);
    const typed = await http<Page & { unreadable: { sequence: number }[] }>(`${api}/events?streamId=run:${runC}&types=RunCompleted`);
    expect(typed.body.items.map((e) => e.sequence)).toEqual([done!.sequence]);
    expect(typed.body.unreadable.map((u) => u.sequence)).toEqual([positionOf(junk.seq)]);
    const past = await http<Page & { unreadable: unknown[] }>(`${api}/events?streamId=run:${runC}&after=${started!.sequence}&limit=1`);
    expect(past.body).toMatchObject({ items: [], nextAfter: positionOf(junk.seq), unreadable: [{ sequence: positionOf(junk.seq) }] });
  });
});

