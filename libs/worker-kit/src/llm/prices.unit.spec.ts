import { DEFAULT_PRICES as CONTRACT_PRICES } from '@conclave/contracts';
import { costOf, DEFAULT_PRICES, priceOf } from './prices';

describe('prices', () => {
  it("is the contracts' table (the orchestrator's reservations and the gateway's estimates price calls the same)", () => {
    expect(DEFAULT_PRICES).toBe(CONTRACT_PRICES);
    expect(CONTRACT_PRICES['o3']).toEqual({ inputPer1M: 2, outputPer1M: 8, cachedInputPer1M: 0.5 });
  });

  it('matches exact names and dated snapshots, never a looser prefix', () => {
    expect(priceOf('gpt-4.1')).toEqual({ inputPer1M: 2, outputPer1M: 8, cachedInputPer1M: 0.5 });
    expect(priceOf('claude-sonnet-4-5-20250929')).toMatchObject({ inputPer1M: 3, outputPer1M: 15 });
    expect(priceOf('gpt-4.1-2025-04-14')).toMatchObject({ inputPer1M: 2 });
    expect(priceOf('gpt-5.4')).toBeNull();
    expect(priceOf('my-local-model')).toBeNull();
  });

  it('lets the provider\'s prices override and extend the defaults', () => {
    expect(priceOf('gpt-4.1', { 'gpt-4.1': { inputPer1M: 1, outputPer1M: 1 } })).toEqual({ inputPer1M: 1, outputPer1M: 1 });
    expect(priceOf('llama', { llama: { inputPer1M: 0.1, outputPer1M: 0.2 } })).toEqual({ inputPer1M: 0.1, outputPer1M: 0.2 });
  });

  it('bills cached input at the cache-read price, and unknown prices at 0', () => {
    expect(costOf({ input: 1_000_000, output: 1_000_000, cached: 500_000 }, { inputPer1M: 2, outputPer1M: 8, cachedInputPer1M: 0.5 })).toBeCloseTo(1 + 0.25 + 8, 9);
    expect(costOf({ input: 10, output: 10, cached: 0 }, null)).toBe(0);
  });
});
