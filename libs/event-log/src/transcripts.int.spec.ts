import { Objm } from '@nats-io/obj';
import { TranscriptCorruptError, TranscriptStore, objectStoreStream } from '@conclave/event-log';
import { createTestEnv, type TestEnv } from '@conclave/testing';
import { INLINE_TRANSCRIPT_MAX_BYTES, TranscriptRef, type TranscriptMessage } from '@conclave/contracts';

const conversation: TranscriptMessage[] = [
  { role: 'system', content: 'You are a careful engineer.' },
  { role: 'user', content: 'Add a README.' },
  { role: 'thinking', content: 'I should look at the files first.' },
  { role: 'tool_call', tool: 'list_files', content: '{"path":"."}' },
  { role: 'tool_result', tool: 'list_files', content: 'package.json\nsrc/' },
  { role: 'assistant', content: 'x'.repeat(300_000) },
];

describe('TranscriptStore against JetStream', () => {
  let env: TestEnv;
  let store: TranscriptStore;
  beforeAll(async () => {
    env = await createTestEnv('transcripts', { database: false });
    store = await TranscriptStore.open(env.log);
  });
  afterAll(() => env.dispose());

  it('stores a large conversation by its hash and reads it back whole', async () => {
    const ref = await store.put(conversation);
    expect(ref.key).toMatch(/^sha256-[0-9a-f]{64}$/);
    expect(ref.messages).toBe(6);
    expect(ref.bytes).toBeGreaterThan(300_000);
    expect(await store.get(ref.key)).toEqual(conversation);
  });

  it('writes the same conversation once, whoever stores it again (a redelivered command)', async () => {
    const other = await TranscriptStore.open(env.log);
    const [a, b] = [await store.put(conversation.slice(0, 2)), await other.put(conversation.slice(0, 2))];
    expect(b).toEqual(a);
    const objects = await (await new Objm(env.log.js).open(env.log.names.buckets.transcripts)).list();
    expect(objects.filter((o) => o.name === a.key)).toHaveLength(1);
  });

  it('answers null for an unknown key and refuses bytes that do not match their key', async () => {
    expect(await store.get(`sha256-${'0'.repeat(64)}`)).toBeNull();
    const ref = await store.put(conversation.slice(0, 1));
    const raw = await new Objm(env.log.js).open(env.log.names.buckets.transcripts);
    await raw.putBlob({ name: ref.key }, new TextEncoder().encode(JSON.stringify([{ role: 'user', content: 'tampered' }])));
    await expect(store.get(ref.key)).rejects.toBeInstanceOf(TranscriptCorruptError);
  });

  it('stage: a small conversation travels inline (nothing stored), its key still the hash of its JSON', async () => {
    const small = conversation.slice(0, 5);
    const { ref, stored } = store.stage(small);
    await stored;
    const stable = await store.put(small); // the same key as when stored
    expect(ref).toEqual({ ...stable, inline: small });
    expect(ref.bytes).toBeLessThanOrEqual(INLINE_TRANSCRIPT_MAX_BYTES);
    expect(TranscriptRef.parse(ref)).toEqual(ref);
    expect(await store.read(ref)).toEqual(small);
    const fresh = store.stage([{ role: 'user', content: 'never stored' }]);
    await fresh.stored;
    expect(await store.get(fresh.ref.key)).toBeNull(); // inline only
    expect(await store.read(fresh.ref)).toEqual([{ role: 'user', content: 'never stored' }]);
  });

  it('stage: a large conversation gets its reference at once and is written in the background', async () => {
    const large = [...conversation.slice(0, 2), { role: 'assistant' as const, content: `${'y'.repeat(20_000)} (staged)` }];
    const { ref, stored } = store.stage(large);
    expect(ref).toEqual({ key: expect.stringMatching(/^sha256-[0-9a-f]{64}$/), bytes: expect.any(Number), messages: 3 });
    expect(ref.bytes).toBeGreaterThan(INLINE_TRANSCRIPT_MAX_BYTES);
    await stored;
    expect(await store.get(ref.key)).toEqual(large);
    expect(await store.read(ref)).toEqual(large);
  });

  it('reads a reference written before inlining (key only) from the store', async () => {
    const old = TranscriptRef.parse(JSON.parse(JSON.stringify(await store.put(conversation.slice(0, 3)))));
    expect(old.inline).toBeUndefined();
    expect(await store.read(old)).toEqual(conversation.slice(0, 3));
  });

  it('is created by ensureTopology and removed with the rest of the topology', async () => {
    const scratch = await createTestEnv('transcripts2', { database: false });
    const stream = objectStoreStream(scratch.log.names.buckets.transcripts);
    expect((await scratch.log.jsm.streams.info(stream)).config.name).toBe(stream);
    await scratch.dispose();
    await expect(env.log.jsm.streams.info(stream)).rejects.toThrow(/not found/i);
  });
});
