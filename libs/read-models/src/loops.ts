import type { LoopRoundView, LoopView, RunSummary } from '@conclave/contracts';
import type { DataSource } from 'typeorm';
import type { CandidateRow, LoopBounds, RunPhaseRow, VerdictRow } from './entities';

/**
 * Loop phases (producer → evaluator → reviser) as a reader follows them: every round of the
 * current attempt with its score and feedback, and which verdict names the phase's winner.
 * Pure mappers over rows of one phase's current attempt, plus the runs list's progress query.
 */

type PhaseRows = Pick<RunPhaseRow, 'artifactCandidateId' | 'loop'>;

/**
 * The verdict a phase shows: the latest one that named the candidate the phase took as its
 * artifact (for a loop stopped at maxAttempts, the best round's evaluation, not the last
 * verdict); before an artifact — or when none of its verdicts named that candidate — the latest.
 */
export function phaseVerdict(phase: PhaseRows, verdicts: readonly VerdictRow[]): VerdictRow | undefined {
  const latest = (list: readonly VerdictRow[]) => list.reduce<VerdictRow | undefined>((best, v) => (!best || v.sequence > best.sequence ? v : best), undefined);
  const taken = phase.artifactCandidateId;
  return (taken ? latest(verdicts.filter((v) => v.winnerId === taken)) : undefined) ?? latest(verdicts);
}

/** Every round of a loop phase's current attempt, in order; null for other kinds. `candidates` and `verdicts` are the attempt's. */
export function loopView(phase: PhaseRows, candidates: readonly Pick<CandidateRow, 'id' | 'round'>[], verdicts: readonly VerdictRow[]): LoopView | null {
  if (!phase.loop) return null;
  const numbers = new Set<number>([...candidates.map((c) => c.round), ...verdicts.map((v) => v.round)]);
  const rounds = [...numbers].sort((a, b) => a - b).map((round) => loopRound(round, candidates.filter((c) => c.round === round), verdicts.filter((v) => v.round === round)));
  return { maxRounds: phase.loop.maxRounds, passThreshold: phase.loop.passThreshold, rounds };
}

function loopRound(round: number, candidates: readonly Pick<CandidateRow, 'id'>[], verdicts: readonly VerdictRow[]): LoopRoundView {
  const evaluation = verdicts.find((v) => v.purpose === 'evaluate');
  const selection = verdicts.find((v) => v.purpose === 'select');
  const candidateId = evaluation?.winnerId ?? selection?.winnerId ?? (candidates.length === 1 ? candidates[0]!.id : null);
  const score = evaluation && candidateId ? evaluation.scores[candidateId] : undefined;
  return {
    round,
    candidateId,
    score: score?.overall ?? null,
    criteria: score?.criteria ?? {},
    feedback: evaluation?.rationale ?? null,
    evaluatedAt: evaluation ? new Date(evaluation.recordedAt).toISOString() : null,
  };
}

export type RunLoopProgress = NonNullable<RunSummary['loop']>;

/**
 * For the runs list: each listed run's loop phase that is running (else the last one started) —
 * its round (1-based), bounds and best evaluator score over the current attempt. One statement for
 * the page; runs without a started loop phase are absent.
 */
export async function loopProgress(ds: DataSource, runIds: readonly string[]): Promise<Map<string, RunLoopProgress>> {
  const out = new Map<string, RunLoopProgress>();
  if (runIds.length === 0) return out;
  const rows: { run_id: string; phase_id: string; loop: LoopBounds; round: number | null; best: number | null }[] = await ds.query(
    `SELECT DISTINCT ON (p.run_id) p.run_id, p.phase_id, p.loop,
            (SELECT max(c.round) FROM candidates c WHERE c.run_id = p.run_id AND c.phase_id = p.phase_id AND c.attempt = p.attempt) AS round,
            (SELECT max((v.scores -> v.winner_id ->> 'overall')::double precision) FROM verdicts v
              WHERE v.run_id = p.run_id AND v.phase_id = p.phase_id AND v.attempt = p.attempt AND v.purpose = 'evaluate') AS best
       FROM run_phases p
      WHERE p.run_id = ANY($1::text[]) AND p.loop IS NOT NULL AND p.attempt > 0 AND NOT p.rolled_back
      ORDER BY p.run_id, (p.status IN ('running', 'waiting')) DESC, p.started_at DESC NULLS LAST, p.position DESC`,
    [[...runIds]],
  );
  for (const r of rows) {
    out.set(r.run_id, {
      phaseId: r.phase_id,
      round: (r.round ?? 0) + 1,
      maxRounds: r.loop.maxRounds,
      bestScore: r.best === null ? null : Number(r.best),
      passThreshold: r.loop.passThreshold,
    });
  }
  return out;
}
