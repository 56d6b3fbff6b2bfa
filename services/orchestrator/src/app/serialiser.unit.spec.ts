import { KeyedSerialiser } from './serialiser';

describe('KeyedSerialiser', () => {
  it('runs the work of one key one at a time in order, after a failure too, and the work of other keys alongside', async () => {
    const turns = new KeyedSerialiser();
    const log: string[] = [];
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const first = turns.run('a', async () => {
      log.push('a1 start');
      await held;
      log.push('a1 end');
      throw new Error('a1 failed');
    });
    const second = turns.run('a', async () => {
      log.push('a2');
      return 2;
    });
    const other = turns.run('b', async () => {
      log.push('b1');
      return 'b';
    });
    expect(await other).toBe('b');
    expect(log).toEqual(['a1 start', 'b1']);
    release();
    await expect(first).rejects.toThrow('a1 failed');
    expect(await second).toBe(2);
    expect(log).toEqual(['a1 start', 'b1', 'a1 end', 'a2']);
  });

  it('holds nothing for a key once its work is done', async () => {
    const turns = new KeyedSerialiser();
    await turns.run('a', async () => 1);
    await turns.run('a', async () => Promise.reject(new Error('no'))).catch(() => undefined);
    await new Promise((resolve) => setImmediate(resolve));
    expect((turns as unknown as { tails: Map<string, unknown> }).tails.size).toBe(0);
  });
});
