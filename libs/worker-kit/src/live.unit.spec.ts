import { DeltaCoalescer } from './live';

describe('DeltaCoalescer', () => {
  beforeEach(() => jest.useFakeTimers({ now: 0 }));
  afterEach(() => jest.useRealTimers());

  it('emits the first delta at the end of its turn with the rest of that turn, then at most once per interval, and flushes the rest on close', () => {
    const emitted: [number, string][] = [];
    const c = new DeltaCoalescer((d) => emitted.push([Date.now(), d]), 150, () => Date.now());
    c.push('a');
    c.push('b');
    expect(emitted).toEqual([]); // not yet: the rest of the burst may come in this turn
    jest.advanceTimersByTime(0);
    expect(emitted).toEqual([[0, 'ab']]);
    jest.advanceTimersByTime(50);
    c.push('c');
    jest.advanceTimersByTime(100);
    c.push('d');
    jest.advanceTimersByTime(20);
    c.close();
    c.push('ignored');
    jest.advanceTimersByTime(500);
    expect(emitted).toEqual([
      [0, 'ab'],
      [150, 'c'],
      [170, 'd'],
    ]);
  });

  it('a burst closed in the turn it came in is one emission (a provider that answers at once)', () => {
    const emitted: string[] = [];
    const c = new DeltaCoalescer((d) => emitted.push(d));
    for (const chunk of ['{"te', 'xt": ', '"hi"}']) c.push(chunk);
    c.close();
    jest.advanceTimersByTime(1_000);
    expect(emitted).toEqual(['{"text": "hi"}']);
  });

  it('a delta after a quiet period goes out within its turn, before any interval', () => {
    const emitted: [number, string][] = [];
    const c = new DeltaCoalescer((d) => emitted.push([Date.now(), d]), 150, () => Date.now());
    c.push('a');
    jest.advanceTimersByTime(1_000);
    c.push('b');
    jest.advanceTimersByTime(0);
    expect(emitted).toEqual([
      [0, 'a'],
      [1_000, 'b'],
    ]);
  });

  it('emits nothing for empty input', () => {
    const emitted: string[] = [];
    const c = new DeltaCoalescer((d) => emitted.push(d));
    c.push('');
    c.close();
    expect(emitted).toEqual([]);
  });
});
