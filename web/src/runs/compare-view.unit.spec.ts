import { bestIndices, lineDiff, outputText } from './compare-view';

describe('compare page helpers', () => {
  it('marks the lowest cost or duration and the highest score, ties all, nothing when there is no choice', () => {
    expect([...bestIndices([0.3, 0.1, null, 0.2], 'min')]).toEqual([1]);
    expect([...bestIndices([0.7, 0.95, 0.95], 'max')]).toEqual([1, 2]);
    expect([...bestIndices([5, 5], 'min')]).toEqual([]);
    expect([...bestIndices([5, null], 'min')]).toEqual([]);
    expect([...bestIndices([undefined, 3, 1], 'min')]).toEqual([2]);
  });

  it('diffs outputs as text: strings and one-field objects as their text, the rest as key-sorted JSON', () => {
    expect(outputText('plain')).toBe('plain');
    expect(outputText({ text: 'bees dance' })).toBe('bees dance');
    expect(outputText({ b: 1, a: [{ d: 2, c: 3 }] })).toBe('{\n  "a": [\n    {\n      "c": 3,\n      "d": 2\n    }\n  ],\n  "b": 1\n}');
    expect(outputText(null)).toBe('');
  });

  it('gives one row per line with both sides’ line numbers', () => {
    expect(lineDiff('one\ntwo\nthree', 'one\n2\nthree\nfour')).toEqual([
      { kind: 'context', text: 'one', left: 1, right: 1 },
      { kind: 'del', text: 'two', left: 2, right: null },
      { kind: 'add', text: '2', left: null, right: 2 },
      { kind: 'context', text: 'three', left: 3, right: 3 },
      { kind: 'add', text: 'four', left: null, right: 4 },
    ]);
    expect(lineDiff('same', 'same').every((r) => r.kind === 'context')).toBe(true);
  });
});
