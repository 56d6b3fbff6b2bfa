import type { ValueTransformer } from 'typeorm';

/**
 * node-postgres returns int8 as a string (it may exceed 2^53). Stream sequences stay far below
 * Number.MAX_SAFE_INTEGER, so read models expose them as numbers; a value above it throws rather
 * than silently losing precision.
 */
export const bigintAsNumber: ValueTransformer = {
  to: (value: number | null | undefined) => value,
  from: (value: string | number | null) => {
    if (value === null || value === undefined) return value;
    const n = Number(value);
    if (!Number.isSafeInteger(n)) throw new RangeError(`int8 value ${value} is not a safe JS integer`);
    return n;
  },
};
