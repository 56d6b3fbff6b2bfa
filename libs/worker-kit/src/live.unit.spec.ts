import { DeltaCoalescer } from './live';

describe('DeltaCoalescer', () => {
  beforeEach(() => jest.useFakeTimers({ now: 0 }));
  afterEach(() => jest.useRealTimers());

  it('emits the first delta at once, then at most once per interval, and flushes the rest on close', () => {
    const emitted: [number, string][] = [];
    const c = new DeltaCoalescer((d) => emitted.push([Date.now(), d]), 150, () => Date.now());
    c.push('a');
    c.push('b');
    jest.advanceTimersByTime(50);
    c.push('c');
    jest.advanceTimersByTime(100);
    c.push('d');
    jest.advanceTimersByTime(20);
    c.close();
    c.push('ignored');
    jest.advanceTimersByTime(500);
    expect(emitted).toEqual([
      [0, 'a'],
      [150, 'bc'],
      [170, 'd'],
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
