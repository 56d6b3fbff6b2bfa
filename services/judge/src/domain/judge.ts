import type { CandidateScore, JudgeCandidates, Tokens } from '@conclave/contracts';
import { isProviderError, type JudgeContext, type JudgeRegistry, type Verdict } from './judge-provider';

export type ScoredOutcome = {
  status: 'scored';
  winnerId: string;
  scores: Record<string, CandidateScore>;
  rationale: string;
  order: string[];
  tokens: Tokens;
  costUsd: number;
};
export type VerdictOutcome = ScoredOutcome | { status: 'failed'; error: { code: string; message: string; retryable: boolean; retryAfterMs?: number } };

/**
 * Judge the candidates of one command with the named provider. An unknown provider, a failure the
 * provider reported and an inconsistent verdict become failed outcomes; aborts and transient
 * errors propagate to the worker. Cost: the adapter's (0 for the simulated judge).
 */
export async function judgeCandidates(command: JudgeCandidates, deps: { judges: JudgeRegistry }, ctx: JudgeContext): Promise<VerdictOutcome> {
  const adapter = deps.judges.get(command.provider);
  if (!adapter) {
    const known = deps.judges.names().join(', ') || 'none';
    return failed('provider_not_configured', `judge provider "${command.provider}" is not configured on this worker (configured: ${known})`, false);
  }
  let verdict: Verdict;
  try {
    verdict = await adapter.judge(
      {
        provider: command.provider,
        model: command.model,
        judgeId: command.judgeId,
        criteria: command.criteria,
        candidates: command.candidates,
        task: command.task,
        purpose: command.purpose,
        ...(command.rubric ? { rubric: command.rubric } : {}),
      },
      ctx,
    );
  } catch (err) {
    if (isProviderError(err) && !ctx.signal.aborted) {
      const retryAfterMs = err.extra?.retryAfterMs;
      return { status: 'failed', error: { code: err.code, message: err.message, retryable: err.retryable, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) } };
    }
    throw err;
  }
  const problems = verdictProblems(verdict, command);
  if (problems.length > 0) return failed('verdict_invalid', problems.join('; '), true);
  const { costUsd, ...rest } = verdict;
  return { status: 'scored', ...rest, costUsd: costUsd ?? 0 };
}

/** A verdict must name a candidate as winner, score every candidate on every criterion, and show each once. */
export function verdictProblems(verdict: Verdict, command: Pick<JudgeCandidates, 'criteria' | 'candidates'>): string[] {
  const ids = command.candidates.map((c) => c.candidateId);
  const problems: string[] = [];
  if (!ids.includes(verdict.winnerId)) problems.push(`winner "${verdict.winnerId}" is not a candidate`);
  for (const id of ids) {
    const score = verdict.scores[id];
    if (!score) {
      problems.push(`no score for "${id}"`);
      continue;
    }
    const missing = command.criteria.filter((c) => typeof score.criteria[c] !== 'number');
    if (missing.length > 0) problems.push(`"${id}" lacks criteria ${missing.join(', ')}`);
  }
  if (verdict.order.length !== ids.length || [...verdict.order].sort().join('\u0000') !== [...ids].sort().join('\u0000')) {
    problems.push('the presentation order is not a permutation of the candidates');
  }
  return problems;
}

function failed(code: string, message: string, retryable: boolean): VerdictOutcome {
  return { status: 'failed', error: { code, message, retryable } };
}
