import { randomUUID } from 'node:crypto';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { EventLog, OutboxLeases, TranscriptStore } from '@conclave/event-log';
import { NATS_SERVICE_USERS, type NatsUser } from '@conclave/contracts';
import { startAuthNats, type AuthNats } from '@conclave/testing';

/**
 * Least-privilege NATS (issue 10 §6) on a real nats-server started with the generated config
 * (renderNatsConfig → natsPermissions): nothing connects anonymously, each service user can do its
 * job and no more. Without the feature (an anonymous server, or permissions that allow everything)
 * the refusals below succeed and the test fails.
 */
const meta = { occurredAt: new Date().toISOString(), correlationId: 'c1', causationId: null, actor: { kind: 'system' as const, id: 'test' } };
const encoder = new TextEncoder();

describe('NATS permissions (generated config, one user per service)', () => {
  let nats: AuthNats;
  let admin: EventLog;
  const logs = new Map<NatsUser, EventLog>();
  const prefix = `perm${randomUUID().slice(0, 8)}`;
  const as = (user: NatsUser) => logs.get(user)!;
  /** a JetStream publish or core request refused by the server (or never answered) */
  const refused = (p: Promise<unknown>) => expect(p).rejects.toThrow(/permission|timeout|TIMEOUT|no responders/i);

  beforeAll(async () => {
    nats = await startAuthNats(prefix);
    admin = await EventLog.connect({ servers: nats.url, prefix, name: 'perm-admin', user: 'admin', pass: nats.passwords.admin });
    await admin.ensureTopology({ ackWaitMs: 2_000 });
    for (const user of NATS_SERVICE_USERS) {
      logs.set(user, await EventLog.connect({ servers: nats.url, prefix, name: `perm-${user}`, user, pass: nats.passwords[user] }));
    }
  }, 30_000);

  afterAll(async () => {
    for (const log of logs.values()) await log.close().catch(() => undefined);
    await admin?.close().catch(() => undefined);
    await nats?.stop(); // by its PID
  });

  describe('authentication', () => {
    it('refuses a client with no credentials', async () => {
      await expect(connect({ servers: nats.url, reconnect: false, timeout: 2_000 })).rejects.toThrow(/authorization/i);
    });

    it('refuses a wrong password, and a right password for another user', async () => {
      await expect(connect({ servers: nats.url, user: 'llm-worker', pass: 'not-the-password', reconnect: false, timeout: 2_000 })).rejects.toThrow(/authorization/i);
      await expect(connect({ servers: nats.url, user: 'admin', pass: nats.passwords['llm-worker'], reconnect: false, timeout: 2_000 })).rejects.toThrow(/authorization/i);
    });
  });

  describe('refusals', () => {
    it('the llm-worker cannot append to the events stream (run, template or provider events)', async () => {
      const before = await admin.lastSequence();
      for (const subject of [`${prefix}.events.run.x`, admin.names.subjects.aggregateEvents('template', 't'), admin.names.subjects.aggregateEvents('provider', 'p')]) {
        await refused(as('llm-worker').js.publish(subject, encoder.encode('{}'), { msgID: randomUUID(), timeout: 1_500 }));
      }
      await refused(as('llm-worker').append('run', 'x', [{ type: 'PhaseStarted', data: { phaseId: 'a', attempt: 1 } }], 'any', meta));
      expect(await admin.lastSequence()).toBe(before);
    });

    it('the llm-worker and the judge cannot send the orchestrator commands; the projector cannot either', async () => {
      const received: string[] = [];
      const responder = as('orchestrator').nc.subscribe(admin.names.subjects.orchestrator, { queue: 'orchestrator', callback: (_e, m) => void (received.push(m.string()), m.respond('{}')) });
      await as('orchestrator').nc.flush();
      for (const user of ['llm-worker', 'judge', 'projector'] as const) {
        await refused(as(user).nc.request(admin.names.subjects.orchestrator, '{"forged":true}', { timeout: 1_500 }));
      }
      expect(received).toEqual([]);
      // the gateway can (positive control: the responder works)
      await expect(as('gateway').nc.request(admin.names.subjects.orchestrator, '{"ok":true}', { timeout: 2_000 })).resolves.toBeDefined();
      expect(received).toEqual(['{"ok":true}']);
      responder.unsubscribe();
    });

    it('the gateway cannot pull (or look up) the work consumers of the commands stream', async () => {
      const { streams, consumers, subjects } = admin.names;
      await as('orchestrator').publish(subjects.generate, { probe: true }, randomUUID());
      const pending = (await admin.jsm.consumers.info(streams.commands, consumers.generateWorkers)).num_pending;
      expect(pending).toBeGreaterThan(0);
      for (const durable of [consumers.generateWorkers, consumers.judgeWorkers, consumers.toolRunners, consumers.workspaceTasks]) {
        await refused(as('gateway').nc.request(`$JS.API.CONSUMER.MSG.NEXT.${streams.commands}.${durable}`, JSON.stringify({ batch: 1, expires: 500_000_000 }), { timeout: 1_500 }));
        await refused(as('gateway').js.consumers.get(streams.commands, durable).then((c) => c.info()));
      }
      // nor can it make a consumer of its own on the commands stream
      await refused(as('gateway').jsm.consumers.add(streams.commands, { name: 'sneaky', filter_subject: subjects.generate }));
      expect((await admin.jsm.consumers.info(streams.commands, consumers.generateWorkers)).num_pending).toBe(pending);
      // and the projector cannot either
      await refused(as('projector').nc.request(`$JS.API.CONSUMER.MSG.NEXT.${streams.commands}.${consumers.generateWorkers}`, JSON.stringify({ batch: 1 }), { timeout: 1_500 }));
    });

    it('other services cannot pull or delete the orchestrator\'s durables, nor write, read or purge its outbox leases', async () => {
      const { streams, consumers, subjects } = admin.names;
      const lease = { key: 'orch-1', watermark: 1, beat: 1 };
      expect(await new OutboxLeases(as('orchestrator')).write(lease, 0)).toBeGreaterThan(0);
      for (const user of ['gateway', 'projector', 'llm-worker', 'judge'] as const) {
        await refused(as(user).nc.request(`$JS.API.CONSUMER.MSG.NEXT.${streams.commands}.${consumers.timers}`, JSON.stringify({ batch: 1 }), { timeout: 1_500 }));
        await refused(as(user).nc.request(`$JS.API.CONSUMER.DELETE.${streams.commands}.${consumers.timers}`, '', { timeout: 1_500 }));
        // a forged lease would make a live orchestrator skip a dead one's commits
        await refused(as(user).js.publish(subjects.outbox('orch-1'), encoder.encode(JSON.stringify({ ...lease, watermark: 1e9 })), { timeout: 1_500 }));
        await refused(new OutboxLeases(as(user)).list());
        await refused(new OutboxLeases(as(user)).remove('orch-1'));
      }
      expect((await admin.jsm.consumers.info(streams.commands, consumers.timers)).name).toBe(consumers.timers);
      expect((await new OutboxLeases(admin).list()).map((l) => l.lease)).toEqual([lease]);
    });

    it('no service user can change or delete a stream', async () => {
      const { streams } = admin.names;
      for (const user of NATS_SERVICE_USERS) {
        await refused(as(user).nc.request(`$JS.API.STREAM.DELETE.${streams.events}`, '', { timeout: 1_000 }));
        await refused(as(user).nc.request(`$JS.API.STREAM.PURGE.${streams.commands}`, '', { timeout: 1_000 }));
      }
      expect((await admin.jsm.streams.info(streams.events)).config.name).toBe(streams.events);
    });

    it('only the llm-worker and the judge can request provider credentials (the gateway serves them)', async () => {
      const asked: string[] = [];
      const responder = as('gateway').nc.subscribe(admin.names.subjects.credentials, {
        queue: 'gateway',
        callback: (_e, m) => {
          asked.push(m.json<{ provider: string }>().provider);
          m.respond(JSON.stringify({ ok: true, apiKey: 'sk-secret' }));
        },
      });
      await as('gateway').nc.flush();
      for (const user of ['llm-worker', 'judge'] as const) {
        const reply = await as(user).nc.request(admin.names.subjects.credentials, JSON.stringify({ provider: user }), { timeout: 2_000 });
        expect(reply.json()).toEqual({ ok: true, apiKey: 'sk-secret' });
      }
      for (const user of ['projector', 'orchestrator', 'gateway'] as const) {
        await refused(as(user).nc.request(admin.names.subjects.credentials, JSON.stringify({ provider: user }), { timeout: 1_500 }));
      }
      expect(asked).toEqual(['llm-worker', 'judge']);
      responder.unsubscribe();
    });

    it('no service user can read another user\'s inbox: the projector cannot sniff the keys the gateway sends a worker', async () => {
      const responder = as('gateway').nc.subscribe(admin.names.subjects.credentials, { queue: 'gateway', callback: (_e, m) => void m.respond(JSON.stringify({ ok: true, apiKey: 'sk-secret' })) });
      await as('gateway').nc.flush();
      const sniffed: string[] = [];
      const refusedSubs: string[] = [];
      const spy = as('projector').nc;
      const subs = ['_INBOX.>', '_INBOX.llm-worker.>', '>'].map((subject) =>
        spy.subscribe(subject, { callback: (err, m) => void (err ? refusedSubs.push(subject) : sniffed.push(m.string())) }),
      );
      await spy.flush();
      const reply = await as('llm-worker').nc.request(admin.names.subjects.credentials, JSON.stringify({ provider: 'openai' }), { timeout: 2_000 });
      expect(reply.subject.startsWith('_INBOX.llm-worker.')).toBe(true);
      await new Promise((r) => setTimeout(r, 300));
      expect(sniffed).toEqual([]);
      expect(refusedSubs.sort()).toEqual(['>', '_INBOX.>', '_INBOX.llm-worker.>']);
      for (const sub of subs) sub.unsubscribe();
      responder.unsubscribe();
    });

    it('only the llm-worker and the judge can send results in one hop; only the orchestrator serves them', async () => {
      const { subjects, queues } = admin.names;
      const applied: string[] = [];
      const responder = as('orchestrator').nc.subscribe(subjects.directResult, {
        queue: queues.orchestrator,
        callback: (_e, m) => void (applied.push(m.json<{ from: string }>().from), m.respond(JSON.stringify({ ok: true, appended: 1 }))),
      });
      await as('orchestrator').nc.flush();
      for (const user of ['llm-worker', 'judge'] as const) {
        const reply = await as(user).nc.request(subjects.directResult, JSON.stringify({ from: user }), { timeout: 2_000 });
        expect(reply.json()).toEqual({ ok: true, appended: 1 });
      }
      for (const user of ['gateway', 'projector'] as const) {
        await refused(as(user).nc.request(subjects.directResult, JSON.stringify({ from: user }), { timeout: 1_500 }));
      }
      expect(applied).toEqual(['llm-worker', 'judge']);
      // a worker cannot serve the subject (it would answer `ok` for results nobody applied)
      const errors: string[] = [];
      const impostor = as('judge').nc.subscribe(subjects.directResult, { queue: queues.orchestrator, callback: (err) => void (err && errors.push(err.message)) });
      await as('judge').nc.flush();
      await new Promise((r) => setTimeout(r, 200));
      expect(impostor.isClosed() || errors.length > 0).toBe(true);
      responder.unsubscribe();
    });

    it('only the gateway can serve the credentials subject (a worker cannot impersonate it)', async () => {
      const errors: string[] = [];
      const worker: NatsConnection = as('llm-worker').nc;
      const sub = worker.subscribe(admin.names.subjects.credentials, { callback: (err) => void (err && errors.push(err.message)) });
      await worker.flush();
      await new Promise((r) => setTimeout(r, 200));
      expect(sub.isClosed() || errors.length > 0).toBe(true);
    });
  });

  describe('each service user does its job', () => {
    it('orchestrator appends run events and dispatches; llm-worker pulls, acks and publishes a result; orchestrator pulls the result', async () => {
      const runId = randomUUID();
      const { streams, consumers, subjects } = admin.names;
      const recorded = await as('orchestrator').append('run', runId, [{ type: 'PhaseStarted', data: { phaseId: 'a', attempt: 1 } }], 0, meta);
      expect(recorded[0]!.sequence).toBeGreaterThan(0);
      expect(await as('orchestrator').read('run', runId)).toHaveLength(1);
      // drain what earlier tests left, as the admin
      const drain = await admin.js.consumers.get(streams.commands, consumers.generateWorkers);
      for (let m = await drain.next({ expires: 1_000 }); m; m = await drain.next({ expires: 1_000 })) m.ack();

      await as('orchestrator').publish(subjects.generate, { runId }, `cmd-${runId}`);
      const worker = await as('llm-worker').js.consumers.get(streams.commands, consumers.generateWorkers);
      const m = await worker.next({ expires: 5_000 });
      expect(m?.json()).toEqual({ runId });
      m!.working();
      await m!.ackAck();
      await as('llm-worker').publish(subjects.result(runId), { runId, ok: true }, `res-${runId}`);
      as('llm-worker').nc.publish(subjects.liveRun(runId), '{}');

      const results = await as('orchestrator').js.consumers.get(streams.results, consumers.orchestratorResults);
      const r = await results.next({ expires: 5_000 });
      expect(r?.json()).toEqual({ runId, ok: true });
      await r!.ackAck();
    });

    it('orchestrator keeps its outbox lease (compare-and-set), lists the others, takes one over, removes it, and scans the run log (ADR 025)', async () => {
      const leases = new OutboxLeases(as('orchestrator'));
      const first = await leases.write({ key: 'orch-a', watermark: 5, beat: 1 }, 0);
      expect(first).toBeGreaterThan(0);
      expect(await leases.write({ key: 'orch-a', watermark: 6, beat: 2 }, 0)).toBeNull(); // not the last message any more
      const taken = await leases.write({ key: 'orch-a', watermark: 5, beat: 1, sweptBy: 'orch-b' }, first!);
      expect(taken).toBeGreaterThan(first!);
      expect((await leases.list()).find((l) => l.lease.key === 'orch-a')).toEqual({ lease: { key: 'orch-a', watermark: 5, beat: 1, sweptBy: 'orch-b' }, seq: taken });
      await leases.remove('orch-a');
      expect((await leases.list()).some((l) => l.lease.key === 'orch-a')).toBe(false);
      const runId = randomUUID();
      const [appended] = await as('orchestrator').append('run', runId, [{ type: 'PhaseStarted', data: { phaseId: 'a', attempt: 1 } }], 0, meta);
      const seen: string[] = [];
      const at = Math.floor(appended!.sequence / 1000);
      await as('orchestrator').scan(admin.names.subjects.aggregateEvents('run', '*'), at, at, async (m) => void seen.push(m.subject));
      expect(seen).toEqual([admin.names.subjects.aggregateEvents('run', runId)]);
    });

    it('judge pulls judge commands; the tool and workspace queues are the llm-worker\'s', async () => {
      const { streams, consumers, subjects } = admin.names;
      await as('orchestrator').publish(subjects.judge, { j: 1 }, randomUUID());
      const judge = await as('judge').js.consumers.get(streams.commands, consumers.judgeWorkers);
      const m = await judge.next({ expires: 5_000 });
      expect(m?.json()).toEqual({ j: 1 });
      await m!.ackAck();
      await as('judge').publish(subjects.result('r1'), { j: 1 }, randomUUID());
      for (const [subject, durable] of [[subjects.tool, consumers.toolRunners], [subjects.workspace, consumers.workspaceTasks]] as const) {
        await as('orchestrator').publish(subject, { d: durable }, randomUUID());
        const c = await as('llm-worker').js.consumers.get(streams.commands, durable);
        const w = await c.next({ expires: 5_000 });
        expect(w?.json()).toEqual({ d: durable });
        await w!.ackAck();
        await refused(as('judge').js.consumers.get(streams.commands, durable).then((x) => x.info()));
      }
      // a judge cannot publish work commands, a worker cannot either
      await refused(as('judge').publish(subjects.generate, {}, randomUUID()));
      await refused(as('llm-worker').publish(subjects.tool, {}, randomUUID()));
    });

    it('gateway and projector read the log (ordered consumers, last sequence); the gateway appends provider events', async () => {
      const runId = randomUUID();
      await as('orchestrator').append('run', runId, [{ type: 'PhaseStarted', data: { phaseId: 'a', attempt: 1 } }], 0, meta);
      for (const user of ['gateway', 'projector'] as const) {
        expect(await as(user).read('run', runId)).toHaveLength(1);
        expect(await as(user).lastSequence()).toBeGreaterThan(0);
        expect((await as(user).readAll(0, 5)).length).toBeGreaterThan(0);
      }
      const providerId = randomUUID();
      await as('gateway').append('provider', providerId, [{ type: 'ProviderRemoved', data: { providerId } }], 0, meta);
      expect(await admin.read('provider', providerId)).toHaveLength(1);
      await refused(as('gateway').append('run', runId, [{ type: 'PhaseStarted', data: { phaseId: 'b', attempt: 1 } }], 'any', meta));
      await refused(as('projector').append('provider', randomUUID(), [{ type: 'ProviderRemoved', data: { providerId } }], 0, meta));
    });

    it('the llm-worker stores a transcript the gateway reads; live deltas reach the gateway, cancels reach the workers', async () => {
      const messages = [{ role: 'user' as const, content: 'hello' }];
      const ref = await new TranscriptStore(as('llm-worker')).put(messages as never);
      expect(await new TranscriptStore(as('gateway')).get(ref.key)).toEqual(messages);

      const live: string[] = [];
      const liveSub = as('gateway').nc.subscribe(admin.names.subjects.allLive, { callback: (_e, m) => void live.push(m.subject) });
      const cancels: string[] = [];
      const cancelSubs = (['llm-worker', 'judge'] as const).map((u) => as(u).nc.subscribe(admin.names.subjects.cancel, { callback: () => void cancels.push(u) }));
      const stalls: string[] = [];
      const stallSub = as('orchestrator').nc.subscribe(admin.names.subjects.liveWorker('*'), { callback: (_e, m) => void stalls.push(m.subject) });
      for (const u of ['gateway', 'llm-worker', 'judge', 'orchestrator'] as const) await as(u).nc.flush();
      as('judge').nc.publish(admin.names.subjects.liveWorker('w1'), '{}');
      as('orchestrator').nc.publish(admin.names.subjects.cancel, '{"runId":"r"}');
      for (const u of ['judge', 'orchestrator'] as const) await as(u).nc.flush();
      await new Promise((r) => setTimeout(r, 300));
      expect(live).toEqual([admin.names.subjects.liveWorker('w1')]);
      expect(stalls).toEqual([admin.names.subjects.liveWorker('w1')]);
      expect(cancels.sort()).toEqual(['judge', 'llm-worker']);
      for (const s of [liveSub, stallSub, ...cancelSubs]) s.unsubscribe();
    });
  });
});
