import { round9, type FrontierModelRef, type FrontierPlaced, type FrontierRecommendation } from '@conclave/contracts';

/**
 * Scores are 3-decimal judge figures and their means; `best − epsilon` in doubles lands a hair off
 * (0.9 − 0.05 = 0.8500000000000001), which must not exclude a model at exactly 0.85.
 */
const TOLERANCE = 1e-9;

/** a model's identity in a phase: `provider/model` */
export const key = (m: FrontierModelRef) => `${m.provider}/${m.model}`;
const byName = (a: FrontierModelRef, b: FrontierModelRef) => key(a).localeCompare(key(b));
/** cheapest first; at one cost the better score, then by name (a total order: results do not depend on input order) */
const cheapestFirst = (a: FrontierPlaced, b: FrontierPlaced) => a.meanCostUsd - b.meanCostUsd || b.meanScore - a.meanScore || byName(a, b);

/** `a` dominates `b`: at most as costly, at least as good, and strictly better on one of the two. */
export function dominates(a: FrontierPlaced, b: FrontierPlaced): boolean {
  return a.meanCostUsd <= b.meanCostUsd && a.meanScore >= b.meanScore && (a.meanCostUsd < b.meanCostUsd || a.meanScore > b.meanScore);
}

/**
 * The Pareto frontier (lower cost AND higher mean score) of the placed models, cheapest first, and
 * for every dominated model the cheapest model that dominates it. Models with equal figures do not
 * dominate each other: both stay on the frontier.
 */
export function paretoFrontier(models: readonly FrontierPlaced[]): { frontier: FrontierPlaced[]; dominatedBy: Map<string, FrontierModelRef> } {
  const sorted = [...models].sort(cheapestFirst);
  const dominatedBy = new Map<string, FrontierModelRef>();
  for (const m of sorted) {
    const by = sorted.find((other) => dominates(other, m));
    if (by) dominatedBy.set(key(m), { provider: by.provider, model: by.model });
  }
  return { frontier: sorted.filter((m) => !dominatedBy.has(key(m))), dominatedBy };
}

/**
 * The cheapest model whose mean score is within `epsilon` of the best (ties: the better score, then
 * by name), with the figures behind the choice; null without a placed model. The choice is always
 * on the frontier: a model dominating it would be as cheap and better, hence chosen instead.
 */
export function recommend(models: readonly FrontierPlaced[], epsilon: number, describe: (m: FrontierModelRef) => string = key): FrontierRecommendation | null {
  if (models.length === 0) return null;
  const best = [...models].sort((a, b) => b.meanScore - a.meanScore || a.meanCostUsd - b.meanCostUsd || byName(a, b))[0]!;
  const threshold = best.meanScore - epsilon;
  const within = models.filter((m) => m.meanScore + TOLERANCE >= threshold).sort(cheapestFirst);
  const chosen = within[0]!;
  const savingUsd = round9(best.meanCostUsd - chosen.meanCostUsd);
  const savingRatio = best.meanCostUsd > 0 ? savingUsd / best.meanCostUsd : null;
  const scoreGap = round9(best.meanScore - chosen.meanScore);
  const place = (m: FrontierPlaced): FrontierPlaced => ({ provider: m.provider, model: m.model, meanScore: m.meanScore, meanCostUsd: m.meanCostUsd });
  const reason =
    key(chosen) === key(best)
      ? `${describe(best)} has the best mean score (${fixed(best.meanScore)}) and no model within ε = ${epsilon} of it is cheaper (${usd(best.meanCostUsd)} a candidate).`
      : `${describe(chosen)} scores ${fixed(chosen.meanScore)} on average, ${fixed(scoreGap)} below the best (${describe(best)}, ${fixed(best.meanScore)}) and within ε = ${epsilon}; ` +
        `at ${usd(chosen.meanCostUsd)} a candidate against ${usd(best.meanCostUsd)} it is the cheapest such model, saving ${usd(savingUsd)} a candidate` +
        (savingRatio === null ? '.' : ` (${Math.round(savingRatio * 100)}%).`);
  return {
    ...place(chosen),
    best: place(best),
    epsilon,
    threshold: round9(threshold),
    scoreGap,
    savingUsd,
    savingRatio,
    withinEpsilon: within.map(place),
    reason,
  };
}

const fixed = (score: number) => score.toFixed(3);
/** USD: cents from a dollar up, else 4 significant digits, never in exponent notation ($12.35, $0.125, $0.00000025) */
function usd(value: number): string {
  return `$${Math.abs(value) >= 1 ? value.toFixed(2) : value.toLocaleString('en-US', { maximumSignificantDigits: 4, useGrouping: false })}`;
}
