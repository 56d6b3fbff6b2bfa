/**
 * Rounds to 1e-6: a millionth of a dollar for money (estimates, costs, budget messages), and the
 * precision the study report gives its averages. One definition so every figure rounds alike.
 */
export const round6 = (n: number): number => Math.round(n * 1e6) / 1e6;

/**
 * Rounds to 1e-9: the analytics API's precision for money and means computed from sums of doubles
 * (which drift in the last digits). `Number()` because Postgres aggregates may arrive as text.
 */
export const round9 = (n: number): number => Math.round(Number(n) * 1e9) / 1e9;
