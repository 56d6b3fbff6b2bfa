import { randomUUID } from 'node:crypto';
import { io, type Socket } from 'socket.io-client';
import type { ClientToServerEvents, LiveMessage, NewEvent, ServerToClientEvents, SocketEvent } from '@conclave/contracts';
import { createTestEnv, eventually, type TestEnv } from '@conclave/testing';
import { appendMeta as meta, http, startGateway, type RunningGateway } from '../__tests__/harness';
import { RelayService } from './relay.service';

type Client = Socket<ServerToClientEvents, ClientToServerEvents>;
const phaseStarted = (phaseId: string): NewEvent => ({ type: 'PhaseStarted', data: { phaseId, attempt: 1 } });

interface Recorder {
  socket: Client;
  events: SocketEvent[];
  live: LiveMessage[];
}

function connect(url: string, options: { token?: string; headers?: Record<string, string> } = {}): Promise<Recorder> {
  const socket: Client = io(url, {
    path: '/socket.io',
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    ...(options.token ? { auth: { token: options.token } } : {}),
    ...(options.headers ? { extraHeaders: options.headers } : {}),
  });
  const recorder: Recorder = { socket, events: [], live: [] };
  socket.on('event', (e) => recorder.events.push(e));
  socket.on('live', (m) => recorder.live.push(m));
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(recorder));
    socket.once('connect_error', (err) => {
      socket.close();
      reject(err);
    });
  });
}

describe('gateway socket.io relay', () => {
  let env: TestEnv;
  let gw: RunningGateway;
  const clients: Client[] = [];
  const open = async (options?: Parameters<typeof connect>[1]) => {
    const r = await connect(gw.url, options);
    clients.push(r.socket);
    return r;
  };

  beforeAll(async () => {
    env = await createTestEnv('gwlive');
    gw = await startGateway(env);
  });
  afterEach(() => {
    for (const c of clients.splice(0)) c.close();
  });
  afterAll(async () => {
    await gw?.close();
    await env?.dispose();
  });

  it('relays a run\'s events, with their sequence, to run:<id> only, and every run event to runs', async () => {
    const runA = randomUUID();
    const runB = randomUUID();
    const a = await open();
    const all = await open();
    expect(await a.socket.timeout(2000).emitWithAck('subscribe', { room: `run:${runA}` })).toEqual({ ok: true, room: `run:${runA}` });
    expect(await all.socket.timeout(2000).emitWithAck('subscribe', { room: 'runs' })).toEqual({ ok: true, room: 'runs' });

    const a1 = await env.log.append('run', runA, [phaseStarted('p1'), phaseStarted('p2')], 'any', meta());
    const b1 = await env.log.append('run', runB, [phaseStarted('q1')], 'any', meta());
    const a2 = await env.log.append('run', runA, [phaseStarted('p3')], 'any', meta());
    const aSequences = [...a1, ...a2].map((e) => e.sequence);

    await eventually(async () => a.events.length >= 3, 'run A events');
    await eventually(async () => all.events.length >= 4, 'all run events');
    expect(a.events.map((e) => e.sequence)).toEqual(aSequences);
    expect(a.events.every((e) => e.runId === runA)).toBe(true);
    expect(a.events[0]).toEqual({ sequence: a1[0]!.sequence, type: 'PhaseStarted', runId: runA, occurredAt: a1[0]!.occurredAt, data: { phaseId: 'p1', attempt: 1 } });
    // B's event was relayed before A's last one: had it been sent to run:A, it would be here
    expect(all.events.map((e) => e.sequence)).toEqual([...a1.map((e) => e.sequence), b1[0]!.sequence, a2[0]!.sequence]);
  });

  it('refuses invalid subscriptions with { ok: false } and stops relaying after unsubscribe', async () => {
    const c = await open();
    for (const bad of [{ room: 'run:' }, { room: 'everything' }, { room: 'run:a b' }, { room: 'runs', extra: 1 }, {}, 'runs', null]) {
      const ack = await c.socket.timeout(2000).emitWithAck('subscribe', bad as never);
      expect(ack).toEqual({ ok: false, error: { code: 'bad_request', message: expect.any(String) } });
    }
    const runA = randomUUID();
    expect(await c.socket.timeout(2000).emitWithAck('subscribe', { room: `run:${runA}` })).toEqual({ ok: true, room: `run:${runA}` });
    await env.log.append('run', runA, [phaseStarted('p1')], 'any', meta());
    await eventually(async () => c.events.length === 1, 'first event');
    expect(await c.socket.timeout(2000).emitWithAck('unsubscribe', { room: `run:${runA}` })).toEqual({ ok: true, room: `run:${runA}` });
    const watcher = await open();
    await watcher.socket.timeout(2000).emitWithAck('subscribe', { room: `run:${runA}` });
    await env.log.append('run', runA, [phaseStarted('p2')], 'any', meta());
    await eventually(async () => watcher.events.length === 1, 'the watcher to get the second event');
    expect(c.events).toHaveLength(1);
  });

  it('relays live deltas: live.run.<id> → run:<id>, live.worker.<id> → fleet, dropping invalid ones', async () => {
    const runA = randomUUID();
    const runClient = await open();
    const fleet = await open();
    await runClient.socket.timeout(2000).emitWithAck('subscribe', { room: `run:${runA}` });
    await fleet.socket.timeout(2000).emitWithAck('subscribe', { room: 'fleet' });
    const { subjects } = env.log.names;
    const at = new Date().toISOString();
    const tokens: LiveMessage = { kind: 'tokens', runId: runA, phaseId: 'p1', candidateId: 'c0', delta: 'Hel', at };
    const heartbeat: LiveMessage = { kind: 'heartbeat', workerId: 'w1', role: 'llm-worker', host: 'h', status: 'busy', inFlight: 1, done: 2, failed: 0, at };
    env.log.nc.publish(subjects.liveRun(runA), JSON.stringify({ kind: 'tokens', runId: runA })); // invalid: dropped
    env.log.nc.publish(subjects.liveRun(runA), 'not json'); // dropped
    env.log.nc.publish(subjects.liveRun(runA), JSON.stringify(tokens));
    env.log.nc.publish(subjects.liveWorker('w1'), JSON.stringify(heartbeat));
    await eventually(async () => runClient.live.length >= 1 && fleet.live.length >= 1, 'live messages');
    await new Promise((r) => setTimeout(r, 100));
    expect(runClient.live).toEqual([tokens]);
    expect(fleet.live).toEqual([heartbeat]);
  });

  it('restarts a failed relay from the last relayed sequence + 1, without gaps or duplicates', async () => {
    const runA = randomUUID();
    const c = await open();
    await c.socket.timeout(2000).emitWithAck('subscribe', { room: `run:${runA}` });
    const relay = gw.app.get(RelayService);
    const before = await env.log.append('run', runA, [phaseStarted('p1')], 'any', meta());
    await eventually(async () => c.events.length === 1, 'event before the failure');
    const restarts = relay.restartCount;
    // the consumer dies under the relay (as on a lost connection) …
    await (relay as unknown as { messages: { close(): Promise<void> } }).messages.close();
    // … and events appended meanwhile are relayed once it is back
    const during = await env.log.append('run', runA, [phaseStarted('p2'), phaseStarted('p3')], 'any', meta());
    await eventually(async () => relay.restartCount > restarts, 'relay restart');
    const after = await env.log.append('run', runA, [phaseStarted('p4')], 'any', meta());
    await eventually(async () => c.events.length >= 4, 'events after the restart');
    await new Promise((r) => setTimeout(r, 100));
    expect(c.events.map((e) => e.sequence)).toEqual([...before, ...during, ...after].map((e) => e.sequence));
  });
});

describe('gateway socket.io handshake with CONCLAVE_API_TOKEN', () => {
  let env: TestEnv;
  let gw: RunningGateway;
  const token = randomUUID();

  beforeAll(async () => {
    env = await createTestEnv('gwlivetok');
    gw = await startGateway(env, { CONCLAVE_API_TOKEN: token });
  });
  afterAll(async () => {
    await gw?.close();
    await env?.dispose();
  });

  it('refuses a handshake without the right token', async () => {
    await expect(connect(gw.url)).rejects.toThrow('unauthorized');
    await expect(connect(gw.url, { token: 'wrong' })).rejects.toThrow('unauthorized');
    await expect(connect(gw.url, { headers: { authorization: 'Bearer wrong' } })).rejects.toThrow('unauthorized');
  });

  it('accepts auth.token or the Authorization header', async () => {
    const viaAuth = await connect(gw.url, { token });
    expect(await viaAuth.socket.timeout(2000).emitWithAck('subscribe', { room: 'runs' })).toEqual({ ok: true, room: 'runs' });
    viaAuth.socket.close();
    const viaHeader = await connect(gw.url, { headers: { authorization: `Bearer ${token}` } });
    expect(viaHeader.socket.connected).toBe(true);
    viaHeader.socket.close();
  });

  it('returns 401 on REST without the token', async () => {
    const res = await http(`${gw.url}/api/v1/runs/${randomUUID()}`);
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('unauthorized');
  });
});

describe('gateway socket.io limits: messages per second and rooms per socket', () => {
  let env: TestEnv;
  let gw: RunningGateway;
  const clients: Client[] = [];
  const open = async () => {
    const r = await connect(gw.url);
    clients.push(r.socket);
    return r;
  };

  beforeAll(async () => {
    env = await createTestEnv('gwlivelimits');
    gw = await startGateway(env, { SOCKET_MESSAGES_PER_SECOND: '1', SOCKET_MESSAGE_BURST: '10', SOCKET_MAX_ROOMS: '3' });
  });
  afterEach(() => {
    for (const c of clients.splice(0)) c.close();
  });
  afterAll(async () => {
    await gw?.close();
    await env?.dispose();
  });

  it('caps the rooms of one socket: one more is refused until another is left; another socket has its own', async () => {
    const a = await open();
    const sub = (room: string, socket = a.socket) => socket.timeout(2000).emitWithAck('subscribe', { room } as never);
    expect(await sub('runs')).toEqual({ ok: true, room: 'runs' });
    expect(await sub('fleet')).toEqual({ ok: true, room: 'fleet' });
    expect(await sub('run:r1')).toEqual({ ok: true, room: 'run:r1' });
    expect(await sub('run:r1')).toEqual({ ok: true, room: 'run:r1' }); // already in it: not one more
    expect(await sub('costs')).toEqual({ ok: false, error: { code: 'too_many_rooms', message: expect.stringContaining('at most 3 rooms') } });
    expect(await a.socket.timeout(2000).emitWithAck('unsubscribe', { room: 'fleet' })).toEqual({ ok: true, room: 'fleet' });
    expect(await sub('costs')).toEqual({ ok: true, room: 'costs' });
    const b = await open();
    expect(await sub('fleet', b.socket)).toEqual({ ok: true, room: 'fleet' });
  });

  it('refuses messages over the rate (ack or `refused` event), serves the socket again once it slows down', async () => {
    const a = await open();
    const refused: unknown[] = [];
    a.socket.on('refused', (r) => refused.push(r));
    const pending = Array.from({ length: 14 }, () => a.socket.timeout(2000).emitWithAck('subscribe', { room: 'runs' }));
    // the 15th in the same burst, without an ack: its refusal comes as an event
    a.socket.emit('unsubscribe', { room: 'runs' });
    const acks = await Promise.all(pending);
    const limited = acks.filter((ack) => !ack.ok);
    expect(acks.filter((ack) => ack.ok)).toHaveLength(10); // the burst
    expect(limited).toHaveLength(4);
    expect(limited[0]).toEqual({ ok: false, error: { code: 'rate_limited', message: expect.stringContaining('at most 1 per second') } });
    await eventually(async () => refused.length === 1, 'the refused event');
    expect(refused[0]).toEqual({ code: 'rate_limited', message: expect.stringContaining('per socket'), event: 'unsubscribe' });
    // the bucket refills: 1 per second (slow enough that a loaded machine's scheduling cannot refill it mid-burst)
    await new Promise((r) => setTimeout(r, 1100));
    expect(await a.socket.timeout(2000).emitWithAck('subscribe', { room: 'fleet' })).toEqual({ ok: true, room: 'fleet' });
    expect(a.socket.connected).toBe(true);
  });

  it('disconnects a socket that keeps sending while refused', async () => {
    const a = await open();
    const other = await open();
    const disconnected = new Promise<string>((resolve) => a.socket.once('disconnect', (reason) => resolve(reason)));
    for (let i = 0; i < 60; i += 1) a.socket.emit('subscribe', { room: 'runs' });
    expect(await disconnected).toBe('io server disconnect');
    // other sockets are untouched
    expect(await other.socket.timeout(2000).emitWithAck('subscribe', { room: 'runs' })).toEqual({ ok: true, room: 'runs' });
  });
});
