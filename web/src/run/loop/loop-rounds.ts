import type { CandidateView, EventData, LoopRoundView, LoopView, PhaseView } from '@conclave/contracts';

/**
 * Loop phases (producer → evaluator → reviser) as the run page reads them: every round of the
 * current attempt labelled "Round n of N" with its score against the threshold and the
 * evaluator's feedback, and the ★ winner that names the candidate the artifact was taken from.
 * Pure: the REST view's `loop` and the live events fold through here.
 */

/** A round as shown: 1-based label, pass/fail against the threshold, and whether it became the artifact. */
export interface RoundRow extends LoopRoundView {
  label: string;
  /** the round's candidates (several when the template asks more than one model per round) */
  candidateIds: string[];
  /** score ≥ passThreshold (null until evaluated) */
  passed: boolean | null;
  /** its candidate's output is the phase's artifact */
  taken: boolean;
  /** the highest score so far (earliest round on ties, as the orchestrator picks) */
  best: boolean;
}

export const roundLabel = (round: number, maxRounds: number) => `Round ${round + 1} of ${maxRounds}`;

/** Candidate ids are `<run>.<phase>.<attempt>[.r<round>].c<slot>` (contracts `ids.candidate`). */
export function roundOfId(candidateId: string): number {
  return Number(/\.r(\d+)\.c\d+$/.exec(candidateId)?.[1] ?? 0);
}

export function candidateRound(c: Pick<CandidateView, 'id' | 'round'>): number {
  return c.round ?? roundOfId(c.id);
}

export function loopRounds(phase: Pick<PhaseView, 'loop' | 'candidates' | 'artifactCandidateId'>): RoundRow[] {
  const loop = phase.loop;
  if (!loop) return [];
  let bestScore = -Infinity;
  let bestRound: number | null = null;
  for (const r of loop.rounds) {
    if (r.score !== null && r.score > bestScore) {
      bestScore = r.score;
      bestRound = r.round;
    }
  }
  const taken = phase.artifactCandidateId ?? null;
  return loop.rounds.map((r) => {
    const candidateIds = phase.candidates.filter((c) => candidateRound(c) === r.round).map((c) => c.id);
    return {
      ...r,
      label: roundLabel(r.round, loop.maxRounds),
      candidateIds,
      passed: r.score === null ? null : r.score >= loop.passThreshold,
      taken: taken !== null && (r.candidateId === taken || candidateIds.includes(taken)),
      best: bestRound === r.round,
    };
  });
}

/**
 * The phase's ★ winner: the candidate its artifact was taken from. Before the artifact, a loop has
 * none (its rounds show their scores); other kinds show the judge's pick, which the artifact follows.
 */
export function phaseWinnerId(phase: Pick<PhaseView, 'artifactCandidateId' | 'loop' | 'verdict' | 'kind'>): string | null {
  if (phase.artifactCandidateId) return phase.artifactCandidateId;
  if (phase.kind === 'loop' || phase.loop) return null;
  return phase.verdict?.winnerId ?? null;
}

/** The score a candidate card shows: its round's evaluation in a loop, else the phase verdict's. */
export function candidateScore(phase: Pick<PhaseView, 'loop' | 'verdict'>, candidateId: string): number | undefined {
  const round = phase.loop?.rounds.find((r) => r.candidateId === candidateId);
  if (round) return round.score ?? undefined;
  return phase.verdict?.scores[candidateId]?.overall;
}

/** "Round 2 of 5" for a loop phase's candidate; null for other kinds. */
export function candidateRoundLabel(phase: Pick<PhaseView, 'loop'>, c: Pick<CandidateView, 'id' | 'round'>): string | null {
  return phase.loop ? roundLabel(candidateRound(c), phase.loop.maxRounds) : null;
}

/* ------------------------------------------------------------------ live folding (run-reducer) */

type Rounds = LoopView['rounds'];

function upsertRound(rounds: Rounds, round: number, change: (r: LoopRoundView) => LoopRoundView): Rounds {
  const existing = rounds.find((r) => r.round === round);
  const base: LoopRoundView = existing ?? { round, candidateId: null, score: null, criteria: {}, feedback: null, evaluatedAt: null };
  const next = change(base);
  return existing ? rounds.map((r) => (r.round === round ? next : r)) : [...rounds, next].sort((a, b) => a.round - b.round);
}

/** CandidateRequested: the round appears (a single candidate is the one the evaluator will score). */
export function foldLoopRequested(phase: PhaseView, d: EventData<'CandidateRequested'>): PhaseView {
  if (!phase.loop) return phase;
  const rounds = upsertRound(phase.loop.rounds, d.round, (r) => {
    const others = phase.candidates.filter((c) => c.id !== d.candidateId && candidateRound(c) === d.round);
    return { ...r, candidateId: r.candidateId ?? (others.length === 0 ? d.candidateId : null) };
  });
  return { ...phase, loop: { ...phase.loop, rounds } };
}

/**
 * VerdictRecorded, after the reducer set the phase's verdict (`folded`, from `before`): a loop
 * round's selection names the candidate evaluated; its evaluation adds the score, criteria and
 * feedback. Earlier rounds stay. Once an artifact named the winner, a verdict naming another
 * candidate does not replace the winner's verdict.
 */
export function foldLoopVerdict(before: PhaseView, folded: PhaseView, d: EventData<'VerdictRecorded'>, occurredAt: string): PhaseView {
  const keep = before.artifactCandidateId && before.verdict?.winnerId === before.artifactCandidateId && d.winnerId !== before.artifactCandidateId;
  const next = keep ? { ...folded, verdict: before.verdict } : folded;
  if (!before.loop) return next;
  const score = d.scores[d.winnerId];
  const rounds = upsertRound(before.loop.rounds, d.round, (r) =>
    d.purpose === 'evaluate'
      ? { ...r, candidateId: d.winnerId, score: score?.overall ?? null, criteria: score?.criteria ?? {}, feedback: d.rationale, evaluatedAt: occurredAt }
      : { ...r, candidateId: d.winnerId },
  );
  return { ...next, loop: { ...before.loop, rounds } };
}

/**
 * ArtifactRecorded (the phase's own artifact, not a losing agent's diff): its candidate is the
 * winner; in a loop stopped at max rounds that is the best round, so the verdict shown becomes
 * that round's evaluation instead of the last one.
 */
export function foldLoopArtifact(phase: PhaseView, d: EventData<'ArtifactRecorded'>): PhaseView {
  const next: PhaseView = { ...phase, artifactId: d.artifactId, artifactCandidateId: d.candidateId };
  if (!phase.loop || d.candidateId === null) return next;
  const round = phase.loop.rounds.find((r) => r.candidateId === d.candidateId);
  if (!round || round.score === null) return next;
  return {
    ...next,
    verdict: { winnerId: d.candidateId, scores: { [d.candidateId]: { overall: round.score, criteria: round.criteria } }, rationale: round.feedback ?? '', missing: [] },
  };
}

/** A new attempt (or a rollback) starts the loop's rounds afresh. */
export function resetLoop(phase: PhaseView): Pick<PhaseView, 'loop' | 'artifactCandidateId'> {
  return { loop: phase.loop ? { ...phase.loop, rounds: [] } : (phase.loop ?? null), artifactCandidateId: null };
}
