import { SIMULATED_REVERSE_RUBRIC, type CandidateScore } from '@conclave/contracts';
import type { JudgeAdapter, JudgeContext, JudgeRequest, Verdict } from '../judge-provider';
import { canonicalJson, hashHex, hashUnit } from './hash';

export const SIMULATED_JUDGE = 'simulated';

export const TIE_RULE = 'on equal overall scores the candidate listed earliest in the request wins';

/**
 * The offline judge (demos, benchmarks, tests). Deterministic:
 * - presentation order: the candidates sorted by sha256(judgeId, candidateId) — a shuffle seeded
 *   by the judge id, recorded in `order` (the position-bias guard of the LLM judges);
 * - score of a criterion: a number in [0, 1] (3 decimals) from sha256(criterion, the candidate's
 *   canonical JSON output): equal outputs score equally, whoever produced them and wherever shown;
 * - overall: the mean of the criteria (3 decimals); winner: the highest overall; ties: the
 *   candidate listed earliest in the command wins (TIE_RULE, stated in the rationale).
 * - a rubric containing the word "reverse" (SIMULATED_REVERSE_RUBRIC, a study's) scores every
 *   criterion 1 − its usual score: the order is reversed, equal scores stay equal.
 * Tokens are estimated at ~4 characters a token; it costs nothing.
 */
export class SimulatedJudge implements JudgeAdapter {
  readonly name = SIMULATED_JUDGE;

  async judge(request: JudgeRequest, ctx: JudgeContext): Promise<Verdict> {
    ctx.signal.throwIfAborted();
    return simulateVerdict(request);
  }
}

export function simulateVerdict(request: Pick<JudgeRequest, 'judgeId' | 'criteria' | 'candidates' | 'rubric'>): Verdict {
  const { judgeId, criteria, candidates } = request;
  const reverse = request.rubric !== undefined && SIMULATED_REVERSE_RUBRIC.test(request.rubric);
  if (candidates.length === 0) throw new Error('nothing to judge');
  const order = presentationOrder(judgeId, candidates.map((c) => c.candidateId));

  const scores: Record<string, CandidateScore> = {};
  let inputChars = criteria.join(', ').length;
  for (const candidate of candidates) {
    const canonical = canonicalJson(candidate.output);
    inputChars += canonical.length;
    const perCriterion = Object.fromEntries(criteria.map((criterion) => [criterion, round3(reverse ? 1 - round3(hashUnit(criterion, canonical)) : hashUnit(criterion, canonical))]));
    const values = Object.values(perCriterion);
    scores[candidate.candidateId] = { overall: round3(values.reduce((a, b) => a + b, 0) / values.length), criteria: perCriterion };
  }

  // Strictly greater replaces the leader, so among equal overalls the earliest listed stays.
  let winnerId = candidates[0]!.candidateId;
  for (const { candidateId } of candidates) if (scores[candidateId]!.overall > scores[winnerId]!.overall) winnerId = candidateId;

  const rationale = candidates.length === 1 ? evaluationRationale(scores[winnerId]!) : selectionRationale(winnerId, candidates.map((c) => c.candidateId), scores, order);
  return {
    winnerId,
    scores,
    rationale,
    order,
    tokens: { input: Math.ceil(inputChars / 4), output: Math.ceil(rationale.length / 4) },
  };
}

/** A permutation of the ids seeded by the judge id (independent of the order they came in). */
export function presentationOrder(judgeId: string, candidateIds: string[]): string[] {
  const keyed = candidateIds.map((id) => ({ id, key: hashHex(judgeId, id) }));
  keyed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return keyed.map((k) => k.id);
}

function selectionRationale(winnerId: string, listed: string[], scores: Record<string, CandidateScore>, order: string[]): string {
  const best = scores[winnerId]!;
  const others = listed.filter((id) => id !== winnerId);
  const margins = others.map((id) => `+${fmt(round3(best.overall - scores[id]!.overall))} over ${id} (${fmt(scores[id]!.overall)})`);
  const tied = others.filter((id) => scores[id]!.overall === best.overall);
  const parts = [
    `Winner: ${winnerId} with overall ${fmt(best.overall)} (${describeCriteria(best)}).`,
    `Margins: ${margins.join('; ')}.`,
  ];
  if (tied.length > 0) parts.push(`${winnerId} tied with ${tied.join(', ')} and wins as the earliest listed.`);
  parts.push(`Presented in the order ${order.join(', ')}.`);
  parts.push(`Tie rule: ${TIE_RULE}.`);
  return parts.join(' ');
}

/** A single candidate (an evaluator in a loop): the rationale is feedback for the reviser. */
function evaluationRationale(score: CandidateScore): string {
  const entries = Object.entries(score.criteria).sort((a, b) => a[1] - b[1] || a[0].localeCompare(b[0]));
  const [weakest, weakestScore] = entries[0]!;
  const [strongest, strongestScore] = entries[entries.length - 1]!;
  // no ids in the feedback: it reaches the reviser's prompt, and simulated runs must stay deterministic
  const parts = [`Overall ${fmt(score.overall)} (${describeCriteria(score)}).`];
  if (entries.length > 1) parts.push(`Strongest on ${strongest} (${fmt(strongestScore)}); improve ${weakest} (${fmt(weakestScore)}) first.`);
  else parts.push(`Improve ${weakest} to raise the score.`);
  return parts.join(' ');
}

function describeCriteria(score: CandidateScore): string {
  return Object.entries(score.criteria)
    .map(([name, value]) => `${name} ${fmt(value)}`)
    .join(', ');
}

const round3 = (n: number) => Math.round(n * 1000) / 1000;
const fmt = (n: number) => n.toFixed(3);
