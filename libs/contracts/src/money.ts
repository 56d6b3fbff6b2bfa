/**
 * Rounds to 1e-6: a millionth of a dollar for money (estimates, costs, budget messages), and the
 * precision the study report gives its averages. One definition so every figure rounds alike.
 */
export const round6 = (n: number): number => Math.round(n * 1e6) / 1e6;
