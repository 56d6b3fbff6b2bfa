import 'reflect-metadata';
import fc from 'fast-check';
import { MESSAGE_MAPPING_METADATA, MESSAGE_METADATA } from '@nestjs/websockets/constants';
import { io, type Socket } from 'socket.io-client';
import type { z } from 'zod';
import { SubscribeAck, SubscribeMessage, type ClientToServerEvents, type ServerToClientEvents } from '@conclave/contracts';
import { createTestEnv, type TestEnv } from '@conclave/testing';
import { startFakeOrchestrator, startGateway, type FakeOrchestrator, type RunningGateway } from '../__tests__/harness';
import { deepJson, protoJsonText, prototypeSnapshot } from '../__tests__/fuzz';
import { LiveGateway } from './live.gateway';

/**
 * Issue 11 item 12 for socket.io: every message the gateway handles (found on LiveGateway's
 * @SubscribeMessage handlers, so a new one is fuzzed or fails the coverage check) gets arbitrary,
 * non-object, wrong-typed, huge, deep and `__proto__`-poisoned payloads — sent as raw socket.io
 * packets, so the JSON text is exactly what a hostile client writes. Each is answered with an
 * error ack (`bad_request`, or `rate_limited`, then paced and sent again: the per-socket limit's
 * numbers are not this test's business), the socket subscribes validly afterwards, the gateway
 * never crashes, Object.prototype is untouched and nothing is written. Packets socket.io itself
 * cannot decode (not JSON, reserved event names, over the 1 MB buffer) close that connection — the
 * transport's answer — and a new socket is served.
 */

type Client = Socket<ServerToClientEvents, ClientToServerEvents>;
const RUNS = Number(process.env.FUZZ_RUNS ?? 1);
const runs = (n: number) => Math.max(1, Math.round(n * RUNS));
const seed = process.env.FUZZ_SEED === undefined ? {} : { seed: Number(process.env.FUZZ_SEED) };
const property = <T>(arb: fc.Arbitrary<T>, numRuns: number, check: (value: T) => Promise<void>) => fc.assert(fc.asyncProperty(arb, check), { numRuns: runs(numRuns), ...seed });

/** The schema each handled message is parsed with; a handler missing here fails the coverage test. */
const PAYLOADS: Record<string, z.ZodType> = { subscribe: SubscribeMessage, unsubscribe: SubscribeMessage };

/** The events LiveGateway handles, read from Nest's @SubscribeMessage metadata. */
const handled: string[] = Object.getOwnPropertyNames(LiveGateway.prototype)
  .map((name) => (LiveGateway.prototype as unknown as Record<string, unknown>)[name])
  .filter((fn): fn is object => typeof fn === 'function' && Reflect.getMetadata(MESSAGE_MAPPING_METADATA, fn) === true)
  .map((fn) => Reflect.getMetadata(MESSAGE_METADATA, fn) as string);

interface RawClient {
  socket: Client;
  /** acks by packet id, as the raw JSON the server sent */
  acks: Map<number, unknown>;
}

type Outcome = { ack: unknown } | { closed: true } | { silent: true };

describe('fuzzing the socket.io messages', () => {
  let env: TestEnv;
  let gw: RunningGateway;
  let fake: FakeOrchestrator;
  let lastSequence: number;
  const prototypeBefore = prototypeSnapshot();
  const clients: Client[] = [];
  let nextId = 900_000;

  const connect = async (): Promise<RawClient> => {
    const socket: Client = io(gw.url, { path: '/socket.io', transports: ['websocket'], reconnection: false, forceNew: true });
    clients.push(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', reject);
    });
    const acks = new Map<number, unknown>();
    // replies to raw packets: ids the client's own ack table does not know, so read off the engine
    socket.io.engine.on('packet', (packet: { type: string; data?: unknown }) => {
      if (packet.type !== 'message' || typeof packet.data !== 'string') return;
      const match = /^3(\d+)([\s\S]*)$/.exec(packet.data);
      if (match) acks.set(Number(match[1]), JSON.parse(match[2]!));
    });
    return { socket, acks };
  };

  /** One raw socket.io EVENT packet with an ack id: `2<id>[<event>, <payload>]`, its JSON as given. */
  const sendRaw = async (client: RawClient, argsJson: string, waitMs = 3000): Promise<Outcome> => {
    const id = nextId++;
    client.socket.io.engine.write(`2${id}${argsJson}`);
    const deadline = Date.now() + waitMs;
    while (Date.now() < deadline) {
      if (client.acks.has(id)) return { ack: client.acks.get(id) };
      if (!client.socket.connected) return { closed: true };
      await new Promise((r) => setTimeout(r, 5));
    }
    return { silent: true };
  };

  /** Sent until it is not rate limited (paced): the answer the handler gave. */
  const answer = async (client: RawClient, argsJson: string, waitMs?: number): Promise<Outcome> => {
    for (let attempt = 0; ; attempt += 1) {
      const outcome = await sendRaw(client, argsJson, waitMs);
      const ack = 'ack' in outcome ? (outcome.ack as [SubscribeAck])[0] : undefined;
      if (!(ack && !ack.ok && ack.error.code === 'rate_limited') || attempt >= 50) return outcome;
      await new Promise((r) => setTimeout(r, 100 * Math.min(attempt + 1, 5)));
    }
  };

  const expectRefusedAck = (event: string, what: string, outcome: Outcome) => {
    if (!('ack' in outcome)) throw new Error(`${event} with ${what}: no ack (${JSON.stringify(outcome)})`);
    const [ack, ...rest] = outcome.ack as unknown[];
    const parsed = SubscribeAck.safeParse(ack);
    if (!parsed.success || parsed.data.ok || parsed.data.error.code !== 'bad_request' || rest.length > 0) {
      throw new Error(`${event} with ${what} was answered ${JSON.stringify(outcome.ack).slice(0, 300)}`);
    }
  };

  /** The socket (or, when the server closed it, a new one) still subscribes, and nothing leaked. */
  const expectServing = async (client: RawClient): Promise<RawClient> => {
    const usable = client.socket.connected ? client : await connect();
    const outcome = await answer(usable, JSON.stringify(['subscribe', { room: 'runs' }]));
    expect(outcome).toEqual({ ack: [{ ok: true, room: 'runs' }] });
    expect(prototypeSnapshot()).toEqual(prototypeBefore);
    return usable;
  };

  const covered = new Map<string, Set<string>>();
  const cover = (event: string, category: string) => covered.set(event, (covered.get(event) ?? new Set()).add(category));
  const CATEGORIES = ['json', 'shape', 'proto', 'huge', 'deep'];

  beforeAll(async () => {
    env = await createTestEnv('gwlivefuzz');
    fake = await startFakeOrchestrator(env);
    fake.behave(() => ({ ok: false, error: { code: 'not_found', message: 'fake orchestrator' } }));
    gw = await startGateway(env);
    lastSequence = await env.log.lastSequence();
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    expect(await env.log.lastSequence()).toBe(lastSequence);
    expect(fake.requests).toEqual([]);
  });
  afterAll(async () => {
    await gw?.close();
    await fake?.close();
    await env?.dispose();
  });

  describe.each(handled.map((event) => [event] as const))('%s', (event) => {
    const schema = PAYLOADS[event];
    const invalid = (json: string) => {
      try {
        return !(schema?.safeParse(JSON.parse(json)).success ?? false);
      } catch {
        return true;
      }
    };
    const args = (payloadJson: string) => `[${JSON.stringify(event)},${payloadJson}]`;
    const refuses = async (category: string, arb: fc.Arbitrary<string>, numRuns: number) => {
      let client = await connect();
      await property(arb.filter(invalid), numRuns, async (payload) => {
        expectRefusedAck(event, `${category} ${payload.slice(0, 120)}`, await answer(client, args(payload)));
      });
      client = await expectServing(client);
      cover(event, category);
    };

    it('refuses arbitrary JSON, non-objects included, with a bad_request ack', () => refuses('json', fc.jsonValue().map((v) => JSON.stringify(v)), 40));

    it('refuses wrong room types, malformed rooms and unknown fields', () =>
      refuses(
        'shape',
        fc
          .record({
            room: fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.string(), fc.constantFrom('run:', 'run:a b', 'RUNS', 'runs ', 'run:../x', `run:${'x'.repeat(81)}`, 'fleet\u0000', 'costs,runs')),
            extra: fc.option(fc.dictionary(fc.string({ minLength: 1, maxLength: 10 }), fc.jsonValue({ maxDepth: 1 }), { minKeys: 1, maxKeys: 3 })),
          })
          .map(({ room, extra }) => JSON.stringify({ ...extra, room })),
        30,
      ));

    it('refuses __proto__ / constructor.prototype keys sent as raw JSON, Object.prototype untouched', () =>
      refuses('proto', fc.oneof(protoJsonText(['room']), fc.constantFrom('{"__proto__":{"room":"runs"}}', '{"room":"runs","__proto__":{"polluted":1}}', '{"constructor":{"prototype":{"room":"runs"}}}')), 25));

    it('refuses huge payloads (up to the 1 MB buffer) with an ack', () =>
      refuses(
        'huge',
        fc.oneof(
          // bytes on the wire stay under the 1 MB buffer: one byte a character
          fc.integer({ min: 100_000, max: 900_000 }).map((n) => JSON.stringify({ room: `run:${'x'.repeat(n)}` })),
          fc.integer({ min: 100_000, max: 900_000 }).map((n) => JSON.stringify('r'.repeat(n))),
          fc.integer({ min: 10_000, max: 60_000 }).map((n) => JSON.stringify({ room: 'runs', ...Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, i])) })),
        ),
        4,
      ));

    it('refuses payloads nested 1,000+ levels deep', () =>
      refuses(
        'deep',
        fc.tuple(deepJson, fc.boolean()).map(([deep, inRoom]) => (inRoom ? `{"room":${deep.text}}` : deep.text)),
        6,
      ));
  });

  it('survives packets socket.io cannot decode, reserved and unknown event names: the server answers or closes that socket, and serves a new one', async () => {
    // every one of these is sent at least once, then as many random ones
    const fixed = ['2["error",{}]', '27["error"]', '2["connect",{}]', '2["disconnect"]', '2["disconnecting"]', '2["newListener","subscribe"]', '2["removeListener","subscribe"]', '2["__proto__",{"polluted":1}]', '2["constructor",{}]', '2["toString"]', '2[{"a":1}]', '2[]', '2{}', '2"subscribe"', '2[1,2]', '9', '3', '31[]', '0{}', '2[null]', '1'];
    const packets = fc.oneof(
      fc.string({ maxLength: 60 }).map((s) => `2${s}`), // an EVENT with whatever follows
      fc.constantFrom(...fixed),
      fc.oneof(fc.constantFrom('error', '__proto__', 'constructor', 'toString', 'hasOwnProperty', 'prototype', 'then', 'subscribe.', 'SUBSCRIBE'), fc.string({ maxLength: 20 })).chain((name) =>
        fc.jsonValue({ maxDepth: 2 }).map((v) => `2${JSON.stringify([name, v])}`),
      ),
    );
    let client = await connect();
    const survives = async (packet: string) => {
      client.socket.io.engine.write(packet);
      // the next packet on the same socket: answered (the bad one was ignored), or the socket was closed for it
      // (or left the namespace: '1' is the client's own DISCONNECT); then a new socket must be served
      const probe = await answer(client, JSON.stringify(['subscribe', { room: 'runs' }]), 1000);
      if (!('ack' in probe)) {
        client.socket.close();
        client = await expectServing(await connect());
      } else expect(probe).toEqual({ ack: [{ ok: true, room: 'runs' }] });
      expect(prototypeSnapshot()).toEqual(prototypeBefore);
    };
    for (const packet of fixed) await survives(packet);
    await property(packets, 40, survives);
  });

  it('closes a socket that sends more than the 1 MB buffer, and serves a new one', async () => {
    const client = await connect();
    const outcome = await sendRaw(client, args2('subscribe', JSON.stringify({ room: 'x'.repeat(1_100_000) })), 5000);
    expect(outcome).toEqual({ closed: true });
    await expectServing(client);
  });

  it('fuzzed every message the gateway handles', () => {
    expect(handled.length).toBeGreaterThan(0);
    expect(handled.filter((event) => !PAYLOADS[event])).toEqual([]);
    expect(handled.flatMap((event) => CATEGORIES.filter((c) => !covered.get(event)?.has(c)).map((c) => `${event}: ${c}`))).toEqual([]);
  });
});

const args2 = (event: string, payloadJson: string) => `[${JSON.stringify(event)},${payloadJson}]`;
