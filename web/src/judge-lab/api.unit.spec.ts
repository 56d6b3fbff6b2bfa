import { sawSequence, seenForStudy, STUDIES_REMEMBERED } from './api';

describe("the Judge lab's memory of the newest study event seen", () => {
  it('keeps the newest position per study, whatever order they come in', () => {
    sawSequence(5000, 'a');
    sawSequence(3000, 'a');
    sawSequence(7000, 'b');
    expect(seenForStudy('a')).toBe(5000);
    expect(seenForStudy('b')).toBe(7000);
    expect(seenForStudy('never')).toBe(0);
  });

  it('remembers only the studies told about last, however many a tab hears of', () => {
    sawSequence(10_000, 'kept'); // told about first …
    for (let i = 0; i < STUDIES_REMEMBERED - 1; i++) sawSequence(20_000 + i, `s${i}`);
    sawSequence(30_000, 'kept'); // … and again: now among the newest
    sawSequence(40_000, 'one more');
    expect(seenForStudy('kept')).toBe(30_000);
    expect(seenForStudy('one more')).toBe(40_000);
    // the oldest went to make room: one of the first of the loop
    const remembered = Array.from({ length: STUDIES_REMEMBERED - 1 }, (_, i) => seenForStudy(`s${i}`)).filter((n) => n > 0);
    expect(remembered.length).toBeLessThan(STUDIES_REMEMBERED - 1);
    expect(seenForStudy('s0')).toBe(0);
    expect(seenForStudy(`s${STUDIES_REMEMBERED - 2}`)).toBe(20_000 + STUDIES_REMEMBERED - 2);
  });
});
