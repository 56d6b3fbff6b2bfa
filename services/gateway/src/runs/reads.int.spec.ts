import { randomUUID } from 'node:crypto';
import { Objm } from '@nats-io/obj';
import { ReadyView, RunSummary, RunView, TemplateView, TimelineEntry, type NewEvent, type Recorded, type TranscriptMessage, type TranscriptRef } from '@conclave/contracts';
import { supportsSyncAlways, TranscriptStore } from '@conclave/event-log';
import pg from 'pg';
import { createTestEnv, type TestEnv } from '@conclave/testing';
import { appendMeta as meta, fold, http, startGateway, type RunningGateway } from '../__tests__/harness';

const template = {
  name: 'seeded',
  description: 'seeded by the test',
  inputs: { type: 'object', properties: { topic: { type: 'string' } } },
  phases: [{ id: 'draft', kind: 'llm', prompt: { user: 'Write about {{inputs.topic}}' }, candidates: [{ provider: 'simulated', model: 'sim' }] }],
} as const;


describe('gateway reads (read models folded from the log)', () => {
  let env: TestEnv;
  let gw: RunningGateway;
  let api: string;
  const templateId = `tpl-${randomUUID()}`;
  const runA = randomUUID();
  const runB = randomUUID();
  const artifactId = `${runA}.draft.1.artifact`;
  let aEvents: Recorded[];
  let bStarted: Recorded[];
  let transcriptRef: TranscriptRef;
  const conversation: TranscriptMessage[] = [
    { role: 'system', content: 'You write about insects.' },
    { role: 'user', content: 'Write about bees' },
    { role: 'thinking', content: 'Keep it short.' },
    { role: 'assistant', content: '{"text":"bees are great"}' },
  ];

  const runStarted = (runId: string, name: string): NewEvent => ({
    type: 'RunStarted',
    data: { runId, templateId, templateVersion: 1, template: template as never, name, inputs: { topic: 'bees' }, autoMode: true, budgetUsd: null, origin: null },
  });

  beforeAll(async () => {
    env = await createTestEnv('gwreads');
    gw = await startGateway(env, { MIN_SEQUENCE_WAIT_MS: '1500' });
    api = `${gw.url}/api/v1`;
    const created = await env.log.append('template', templateId, [{ type: 'TemplateCreated', data: { templateId, version: 1, template: template as never } }], 0, meta());
    const candidateId = `${runA}.draft.1.c0`;
    transcriptRef = await (await TranscriptStore.open(env.log)).put(conversation);
    aEvents = await env.log.append(
      'run',
      runA,
      [
        runStarted(runA, 'alpha'),
        { type: 'PhaseStarted', data: { phaseId: 'draft', attempt: 1 } },
        {
          type: 'CandidateRequested',
          data: {
            phaseId: 'draft', attempt: 1, round: 0, candidateId, slot: 0, provider: 'simulated', model: 'sim',
            prompt: { user: 'Write about bees' }, output: { artifact: 'text', schema: { type: 'object' } }, attemptToken: 'tok-1', timeoutSeconds: 60,
          },
        },
        {
          type: 'CandidateGenerated',
          data: { phaseId: 'draft', attempt: 1, candidateId, output: { text: 'bees are great' }, tokens: { input: 10, output: 20 }, costUsd: 0.01, durationMs: 120, workerId: 'w1', transcript: transcriptRef },
        },
        { type: 'ArtifactRecorded', data: { artifactId, phaseId: 'draft', attempt: 1, candidateId, artifactType: 'text', content: { text: 'bees are great' } } },
        { type: 'PhaseCompleted', data: { phaseId: 'draft', attempt: 1, artifactId } },
        { type: 'RunCompleted', data: {} },
      ],
      0,
      meta(),
    );
    // run B starts a millisecond later: newest first in the list
    await new Promise((r) => setTimeout(r, 5));
    bStarted = await env.log.append('run', runB, [runStarted(runB, 'beta')], 0, meta());
    await fold(env, [...created, ...aEvents, ...bStarted]);
  });
  afterAll(async () => {
    await gw?.close();
    await env?.dispose();
  });

  it('serves a run view', async () => {
    const res = await http(`${api}/runs/${runA}`);
    expect(res.status).toBe(200);
    const run = RunView.parse(res.body);
    expect(run).toEqual(expect.objectContaining({ id: runA, name: 'alpha', templateId, templateVersion: 1, status: 'completed', inputs: { topic: 'bees' }, sequence: aEvents.at(-1)!.sequence }));
    expect(run.phases).toEqual([
      expect.objectContaining({ id: 'draft', kind: 'llm', status: 'completed', attempt: 1, artifactId, candidates: [expect.objectContaining({ provider: 'simulated', model: 'sim', status: 'generated' })] }),
    ]);
  });

  it('serves the timeline, after a sequence and limited', async () => {
    const all = await http(`${api}/runs/${runA}/timeline`);
    expect(all.status).toBe(200);
    const items = (all.body.items as unknown[]).map((i) => TimelineEntry.parse(i));
    expect(items.map((i) => i.sequence)).toEqual(aEvents.map((e) => e.sequence));
    expect(items.map((i) => i.type)).toEqual(aEvents.map((e) => e.type));
    const since = aEvents[2]!.sequence;
    const after = await http(`${api}/runs/${runA}/timeline?since_sequence=${since}&limit=2`);
    expect(after.body.items.map((i: TimelineEntry) => i.sequence)).toEqual([aEvents[3]!.sequence, aEvents[4]!.sequence]);
    const none = await http(`${api}/runs/${runB}/timeline?since_sequence=${bStarted[0]!.sequence}`);
    expect(none.body).toEqual({ items: [] });
  });

  it('lists runs with filters and cursor paging', async () => {
    const all = await http(`${api}/runs`);
    expect(all.status).toBe(200);
    expect(all.body.items.map((r: unknown) => RunSummary.parse(r).id)).toEqual([runB, runA]);
    expect(all.body.nextCursor).toBeNull();
    const completed = await http(`${api}/runs?status=completed`);
    expect(completed.body.items.map((r: RunSummary) => r.id)).toEqual([runA]);
    const running = await http(`${api}/runs?status=running`);
    expect(running.body.items.map((r: RunSummary) => r.id)).toEqual([runB]);
    const byName = await http(`${api}/runs?q=BET`);
    expect(byName.body.items.map((r: RunSummary) => r.id)).toEqual([runB]);
    const byTemplate = await http(`${api}/runs?templateId=${templateId}`);
    expect(byTemplate.body.items).toHaveLength(2);
    expect((await http(`${api}/runs?templateId=other`)).body.items).toEqual([]);
    const page1 = await http(`${api}/runs?limit=1`);
    expect(page1.body.items.map((r: RunSummary) => r.id)).toEqual([runB]);
    expect(page1.body.nextCursor).toEqual(expect.any(String));
    const page2 = await http(`${api}/runs?limit=1&cursor=${encodeURIComponent(page1.body.nextCursor)}`);
    expect(page2.body.items.map((r: RunSummary) => r.id)).toEqual([runA]);
    expect(page2.body.nextCursor).toBeNull();
  });

  it('serves candidates and artifacts', async () => {
    const candidates = await http(`${api}/runs/${runA}/candidates?phase=draft`);
    expect(candidates.status).toBe(200);
    expect(candidates.body.items).toEqual([expect.objectContaining({ id: `${runA}.draft.1.c0`, phaseId: 'draft', status: 'generated', output: { text: 'bees are great' } })]);
    expect((await http(`${api}/runs/${runA}/candidates?phase=other`)).body).toEqual({ items: [] });
    expect((await http(`${api}/runs/${runA}/candidates`)).body.items).toHaveLength(1);
    const artifacts = await http(`${api}/runs/${runA}/artifacts`);
    expect(artifacts.body.items).toEqual([expect.objectContaining({ id: artifactId, runId: runA, phaseId: 'draft', artifactType: 'text' })]);
    const one = await http(`${api}/runs/${runA}/artifacts/${encodeURIComponent(artifactId)}`);
    expect(one.status).toBe(200);
    expect(one.body).toEqual(expect.objectContaining({ id: artifactId, content: { text: 'bees are great' } }));
    expect((await http(`${api}/runs/${runA}/artifacts/nope`)).status).toBe(404);
    expect((await http(`${api}/runs/${runB}/artifacts/${encodeURIComponent(artifactId)}`)).status).toBe(404);
  });

  it("serves a candidate's stored conversation, and a typed error when there is none or it was tampered with", async () => {
    const candidateId = `${runA}.draft.1.c0`;
    const listed = await http(`${api}/runs/${runA}/candidates`);
    expect(listed.body.items[0].transcript).toEqual(transcriptRef);
    const res = await http(`${api}/runs/${runA}/candidates/${candidateId}/transcript`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ runId: runA, candidateId, messages: conversation });
    const unknown = await http(`${api}/runs/${runA}/candidates/nope/transcript`);
    expect([unknown.status, unknown.body.error.code]).toEqual([404, 'not_found']);
    expect((await http(`${api}/runs/${randomUUID()}/candidates/${candidateId}/transcript`)).status).toBe(404);
    const bucket = await new Objm(env.log.js).open(env.log.names.buckets.transcripts);
    await bucket.putBlob({ name: transcriptRef.key }, new TextEncoder().encode('[]'));
    const tampered = await http(`${api}/runs/${runA}/candidates/${candidateId}/transcript`);
    expect([tampered.status, tampered.body.error.code]).toEqual([500, 'internal']);
    expect(JSON.stringify(tampered.body)).not.toContain('bees');
  });

  it('serves templates', async () => {
    const list = await http(`${api}/templates`);
    expect(list.body).toEqual({ items: [expect.objectContaining({ id: templateId, name: 'seeded', version: 1, description: 'seeded by the test', archived: false })] });
    const one = await http(`${api}/templates/${templateId}`);
    expect(one.status).toBe(200);
    expect(TemplateView.parse(one.body)).toEqual(expect.objectContaining({ id: templateId, versions: [1], template: expect.objectContaining({ name: 'seeded' }) }));
    expect((await http(`${api}/templates/${templateId}?version=1`)).status).toBe(200);
    expect((await http(`${api}/templates/${templateId}?version=2`)).status).toBe(404);
  });

  it('is ready when the projector has applied the log', async () => {
    const res = await http(`${api}/ready`);
    expect(res.status).toBe(200);
    const last = await env.log.lastSequence();
    expect(res.body).toEqual({ status: 'ok', service: 'gateway', checks: { nats: true, postgres: true, projector: true }, sequence: { log: last, applied: last }, durability: expect.any(Object) });
    expect(ReadyView.parse(res.body)).toEqual(res.body);
  });

  it("says which durability the running servers give: NATS by the connected server's version, Postgres by its own settings", async () => {
    const res = await http(`${api}/ready`);
    const version = (env.log.nc.info?.version ?? '').replace(/^v/, '');
    const client = new pg.Client({ connectionString: env.databaseUrl });
    await client.connect();
    const fsync = (await client.query<{ fsync: string }>('show fsync')).rows[0]!.fsync;
    const synchronousCommit = (await client.query<{ synchronous_commit: string }>('show synchronous_commit')).rows[0]!.synchronous_commit;
    await client.end();
    expect(res.body.durability.postgres).toEqual({ fsync, synchronous_commit: synchronousCommit });
    expect(res.body.durability.nats).toEqual(expect.objectContaining({ serverVersion: version, replicas: 1, detail: expect.stringContaining(supportsSyncAlways(version) ? 'CONCLAVE_NATS_SYNC' : `nats-server ${version} cannot fsync per message`) }));
    // this gateway is told nothing (no CONCLAVE_NATS_SYNC): a 2.9 server flushes on its interval, a newer one is not guessed
    expect(res.body.durability.nats.mode).toBe(supportsSyncAlways(version) ? 'unknown' : 'interval');
  });

  it('takes the deployment at its word only where the server can fsync per message (CONCLAVE_NATS_SYNC=always)', async () => {
    const announced = await startGateway(env, { CONCLAVE_NATS_SYNC: 'always' });
    try {
      const res = await http(`${announced.url}/api/v1/ready`);
      const version = (env.log.nc.info?.version ?? '').replace(/^v/, '');
      expect(res.body.durability.nats.mode).toBe(supportsSyncAlways(version) ? 'fsync-per-message' : 'interval');
      expect(res.body.durability.nats.serverVersion).toBe(version);
    } finally {
      await announced.close();
    }
  });

  it('waits for ?min_sequence until the fold happens, and is not ready meanwhile', async () => {
    const [paused] = await env.log.append('run', runB, [{ type: 'PhaseStarted', data: { phaseId: 'draft', attempt: 1 } }], bStarted[0]!.sequence, meta());
    const target = paused!.sequence;

    const ready = await http(`${api}/ready`);
    expect(ready.status).toBe(503);
    expect(ready.body.error).toEqual(expect.objectContaining({ code: 'unavailable', details: expect.objectContaining({ checks: { nats: true, postgres: true, projector: false }, down: ['projector'] }) }));
    expect(ready.body.error.message).toBe(`not ready: the projector is 1 commit behind the log (applied position ${bStarted[bStarted.length - 1]!.sequence} of ${target})`);

    const started = Date.now();
    const pending = http(`${api}/runs/${runB}?min_sequence=${target}`);
    const stale = await http(`${api}/runs/${runB}`); // no min_sequence: answers at once with the old view
    expect(stale.body.sequence).toBeLessThan(target);
    await new Promise((r) => setTimeout(r, 300));
    await fold(env, [paused!]);
    const res = await pending;
    expect(res.status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    expect(res.body.sequence).toBe(target);
    expect(res.body.phases[0].status).toBe('running');
    expect((await http(`${api}/runs/${runB}/timeline?min_sequence=${target}`)).body.items.map((i: TimelineEntry) => i.sequence)).toEqual([bStarted[0]!.sequence, target]);
  });

  it('answers 503 when ?min_sequence is not reached within the bound', async () => {
    const beyond = (await env.log.lastSequence()) + 1000;
    const started = Date.now();
    const res = await http(`${api}/templates?min_sequence=${beyond}`);
    const took = Date.now() - started;
    expect(res.status).toBe(503);
    expect(res.body.error).toEqual(expect.objectContaining({ code: 'unavailable', message: `read models have not caught up to sequence ${beyond}` }));
    expect(took).toBeGreaterThanOrEqual(1400);
    expect(took).toBeLessThan(4000);
    // an already-applied sequence answers at once
    expect((await http(`${api}/templates?min_sequence=1`)).status).toBe(200);
    // probes never wait
    expect((await http(`${api}/health?min_sequence=${beyond}`)).status).toBe(200);
  });
});
