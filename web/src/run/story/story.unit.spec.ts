import { inputText } from './RunInputs';
import { interviewProgress } from './parts';
import { usageBars } from './usage';

describe('run inputs', () => {
  it('shows short values inline and folds long or multi-line ones with a preview', () => {
    expect(inputText('bees')).toEqual({ text: 'bees', folded: false, preview: 'bees' });
    const long = 'x'.repeat(500);
    expect(inputText(long)).toEqual({ text: long, folded: true, preview: `${'x'.repeat(100)}…` });
    expect(inputText('line one\nline two')).toEqual({ text: 'line one\nline two', folded: true, preview: 'line one …' });
    expect(inputText({ a: [1, 2] }).text).toContain('"a"');
    expect(inputText(3).text).toBe('3');
  });
});

describe('interview progress', () => {
  const questions = [
    { id: 'q1', question: 'Who?' },
    { id: 'q2', question: 'Why?' },
    { id: 'q3', question: 'When?' },
  ];
  it('counts the questions with a non-empty answer', () => {
    expect(interviewProgress({ questions, answers: null })).toEqual({ answered: 0, total: 3 });
    expect(interviewProgress({ questions, answers: [{ question: 'Who?', answer: 'me' }, { question: 'Why?', answer: '  ' }, { question: 'Elsewhere?', answer: 'x' }] })).toEqual({ answered: 1, total: 3 });
  });
});

describe('usage bars', () => {
  it('sorts by cost, labels judges and sums to the totals', () => {
    const { bars, total } = usageBars([
      { role: 'candidate', provider: 'simulated', model: 'a', calls: 2, tokens: { input: 10, output: 20 }, costUsd: 0.01 },
      { role: 'judge', provider: 'simulated', model: 'j', calls: 1, tokens: { input: 5, output: 1 }, costUsd: 0.03 },
    ]);
    expect(bars.map((b) => b.label)).toEqual(['simulated/j (judge)', 'simulated/a']);
    expect(total).toEqual({ costUsd: 0.04, input: 15, output: 21, calls: 3 });
  });
});
