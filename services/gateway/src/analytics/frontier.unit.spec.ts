import type { FrontierPlaced } from '@conclave/contracts';
import { dominates, paretoFrontier, recommend } from './frontier';

const m = (model: string, meanScore: number, meanCostUsd: number): FrontierPlaced => ({ provider: 'p', model, meanScore, meanCostUsd });

describe('the quality–cost frontier', () => {
  it('dominates only when at most as costly, at least as good and strictly better on one', () => {
    expect(dominates(m('a', 0.8, 1), m('b', 0.7, 2))).toBe(true);
    expect(dominates(m('a', 0.8, 1), m('b', 0.8, 2))).toBe(true);
    expect(dominates(m('a', 0.8, 1), m('b', 0.7, 1))).toBe(true);
    expect(dominates(m('a', 0.8, 1), m('b', 0.8, 1))).toBe(false);
    expect(dominates(m('a', 0.7, 1), m('b', 0.8, 2))).toBe(false);
  });

  it('keeps equal models both on the frontier and names the cheapest dominating model, whatever the input order', () => {
    const models = [m('dear', 0.9, 4), m('twin-b', 0.8, 1), m('twin-a', 0.8, 1), m('worse', 0.7, 3), m('worst', 0.5, 5)];
    for (const order of [models, [...models].reverse()]) {
      const { frontier, dominatedBy } = paretoFrontier(order);
      expect(frontier.map((x) => x.model)).toEqual(['twin-a', 'twin-b', 'dear']);
      expect(Object.fromEntries(dominatedBy)).toEqual({ 'p/worse': { provider: 'p', model: 'twin-a' }, 'p/worst': { provider: 'p', model: 'twin-a' } });
    }
  });

  it('recommends the cheapest within ε (the best itself when none is cheaper), on the frontier, and nothing without models', () => {
    const models = [m('best', 0.9, 1), m('close', 0.86, 0.25), m('far', 0.5, 0.01)];
    const rec = recommend(models, 0.05)!;
    expect([rec.model, rec.threshold, rec.savingUsd, rec.savingRatio, rec.withinEpsilon.map((x) => x.model)]).toEqual(['close', 0.85, 0.75, 0.75, ['close', 'best']]);
    expect(paretoFrontier(models).frontier.map((x) => x.model)).toContain(rec.model);
    expect(recommend(models, 0.01)!.model).toBe('best');
    // a free best: no ratio to give
    expect(recommend([m('free', 0.9, 0), m('other', 0.89, 0)], 0.05)).toEqual(expect.objectContaining({ model: 'free', savingUsd: 0, savingRatio: null }));
    expect(recommend([], 0.05)).toBeNull();
  });
});
