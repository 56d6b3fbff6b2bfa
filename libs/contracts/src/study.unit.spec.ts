import { kendallTau, phaseReport, wilsonInterval, type StudyItemView } from './study';

describe('study report maths (ADR 023)', () => {
  it('Wilson score interval: known values, bounded to [0, 1], [0, 1] with no trials', () => {
    // 8 of 10 at 95 %: 0.4902 – 0.9433 (the textbook figures)
    const ci = wilsonInterval(8, 10);
    expect(ci.low).toBeCloseTo(0.4902, 4);
    expect(ci.high).toBeCloseTo(0.9433, 4);
    expect(wilsonInterval(0, 20).low).toBe(0);
    expect(wilsonInterval(20, 20).high).toBe(1);
    expect(wilsonInterval(0, 0)).toEqual({ low: 0, high: 1 });
  });

  it('Kendall tau-b: 1 for the same order, −1 reversed, null when one judge scored all alike', () => {
    expect(kendallTau([0.1, 0.5, 0.9], [0.2, 0.3, 0.4])).toBe(1);
    expect(kendallTau([0.1, 0.5, 0.9], [0.9, 0.5, 0.1])).toBe(-1);
    expect(kendallTau([0.5, 0.5], [0.1, 0.9])).toBeNull();
    expect(kendallTau([0.1, 0.5, 0.9], [0.1, 0.9, 0.5])).toBeCloseTo(1 / 3, 9);
  });

  it('a phase report: flips, flip rate with its interval, score shift per criterion, agreement and the flip matrix by model', () => {
    const score = (a: number, b: number) => ({ overall: (a + b) / 2, criteria: { x: a, y: b } });
    const item = (n: number, oldWinner: string, newWinner: string | null): StudyItemView => ({
      itemId: `i${n}`,
      runId: `r${n}`,
      phaseId: 'p',
      attempt: 1,
      status: newWinner ? 'judged' : 'requested',
      attempts: 1,
      candidates: [
        { candidateId: 'a', provider: 'sim', model: 'A' },
        { candidateId: 'b', provider: 'sim', model: 'B' },
      ],
      oldWinnerId: oldWinner,
      newWinnerId: newWinner,
      flipped: newWinner === null ? null : newWinner !== oldWinner,
      oldScores: { a: score(0.8, 0.6), b: score(0.2, 0.4) },
      newScores: newWinner === null ? null : newWinner === 'a' ? { a: score(0.9, 0.7), b: score(0.1, 0.3) } : { a: score(0.2, 0.4), b: score(0.8, 0.6) },
      rationale: null,
      error: null,
      costUsd: 0.5,
    });
    const report = phaseReport('p', [item(1, 'a', 'b'), item(2, 'a', 'a'), item(3, 'a', null)], (i, id) => `${i.candidates.find((c) => c.candidateId === id)!.model}`);
    expect(report).toMatchObject({ phaseId: 'p', items: 3, judged: 2, flips: 1, flipRate: 0.5, sameWinner: 0.5, kendallTau: 0, costUsd: 1.5 });
    expect(report.flipRateCi).toEqual(wilsonInterval(1, 2));
    // x: (0.2−0.8 + 0.8−0.2 + 0.9−0.8 + 0.1−0.2) / 4 = 0; y: (0.4−0.6 + 0.6−0.4 + 0.7−0.6 + 0.3−0.4) / 4 = 0
    expect(report.scoreShift.x).toBeCloseTo(0, 9);
    expect(report.scoreShift.y).toBeCloseTo(0, 9);
    expect(report.matrix).toEqual([
      { oldModel: 'A', newModel: 'A', count: 1 },
      { oldModel: 'A', newModel: 'B', count: 1 },
    ]);
  });
});
