import type { JudgeCandidates } from '@conclave/contracts';
import { judgeCandidates } from '../judge';
import { JudgeRegistry, ProviderError, type JudgeAdapter } from '../judge-provider';
import { canonicalJson, hashUnit } from './hash';
import { presentationOrder, SimulatedJudge, simulateVerdict, TIE_RULE } from './simulated-judge';

const criteria = ['correctness', 'completeness', 'clarity'];
const outputs = [{ title: 'Alpha', steps: ['a', 'b'] }, { title: 'Beta', steps: ['c'] }, { title: 'Gamma', steps: [] }, { text: 'delta' }];
const candidates = outputs.map((output, i) => ({ candidateId: `run1.p1.1.c${i}`, output }));

describe('simulated judge', () => {
  it('scores each criterion in [0, 1] from (criterion, canonical output) and averages them', () => {
    const verdict = simulateVerdict({ judgeId: 'j1', criteria, candidates });
    for (const c of candidates) {
      const score = verdict.scores[c.candidateId]!;
      expect(Object.keys(score.criteria)).toEqual(criteria);
      for (const criterion of criteria) {
        const value = score.criteria[criterion]!;
        expect(value).toBeGreaterThanOrEqual(0);
        expect(value).toBeLessThanOrEqual(1);
        expect(value).toBe(Math.round(hashUnit(criterion, canonicalJson(c.output)) * 1000) / 1000);
      }
      const mean = criteria.reduce((sum, k) => sum + score.criteria[k]!, 0) / criteria.length;
      expect(score.overall).toBe(Math.round(mean * 1000) / 1000);
    }
  });

  it('honours a rubric asking to reverse: every criterion scores 1 − its usual score, so the usual loser wins (studies, ADR 023)', () => {
    const usual = simulateVerdict({ judgeId: 'j1', criteria, candidates });
    const reversed = simulateVerdict({ judgeId: 'j1', criteria, candidates, rubric: 'Please REVERSE the order you would give.' });
    for (const c of candidates) {
      for (const criterion of criteria) expect(reversed.scores[c.candidateId]!.criteria[criterion]).toBeCloseTo(1 - usual.scores[c.candidateId]!.criteria[criterion]!, 9);
    }
    const lowest = Math.min(...candidates.map((c) => usual.scores[c.candidateId]!.overall));
    expect(usual.scores[reversed.winnerId]!.overall).toBe(lowest);
    expect(reversed.winnerId).not.toBe(usual.winnerId);
    // any other rubric changes nothing; "reverse" must be a word of it
    expect(simulateVerdict({ judgeId: 'j1', criteria, candidates, rubric: 'be strict about irreversible steps' }).scores).toEqual(usual.scores);
  });

  it('scores depend on the output only: key order, candidate id and judge id do not matter', () => {
    const a = simulateVerdict({ judgeId: 'j1', criteria, candidates: [{ candidateId: 'x', output: { a: 1, b: [1, { c: 2, d: 3 }] } }] });
    const b = simulateVerdict({ judgeId: 'j2', criteria, candidates: [{ candidateId: 'y', output: { b: [1, { d: 3, c: 2 }], a: 1 } }] });
    expect(a.scores.x).toEqual(b.scores.y);
  });

  it('picks the highest overall and names it with the margins in the rationale', () => {
    const verdict = simulateVerdict({ judgeId: 'j1', criteria, candidates });
    const overalls = candidates.map((c) => verdict.scores[c.candidateId]!.overall);
    const best = Math.max(...overalls);
    expect(verdict.scores[verdict.winnerId]!.overall).toBe(best);
    expect(verdict.winnerId).toBe(candidates[overalls.indexOf(best)]!.candidateId);
    expect(verdict.rationale).toContain(`Winner: ${verdict.winnerId} with overall ${best.toFixed(3)}`);
    for (const c of candidates.filter((c) => c.candidateId !== verdict.winnerId)) {
      const margin = (Math.round((best - verdict.scores[c.candidateId]!.overall) * 1000) / 1000).toFixed(3);
      expect(verdict.rationale).toContain(`+${margin} over ${c.candidateId}`);
    }
    expect(verdict.rationale).toContain(TIE_RULE);
  });

  it('breaks ties in favour of the candidate listed earliest in the command', () => {
    const same = { title: 'Same', steps: ['x'] };
    const tied = [
      { candidateId: 'late-id-but-first', output: same },
      { candidateId: 'a-early-id-but-second', output: { steps: ['x'], title: 'Same' } },
    ];
    const verdict = simulateVerdict({ judgeId: 'j-tie', criteria, candidates: tied });
    expect(verdict.scores['late-id-but-first']).toEqual(verdict.scores['a-early-id-but-second']);
    expect(verdict.winnerId).toBe('late-id-but-first');
    expect(verdict.rationale).toContain('late-id-but-first tied with a-early-id-but-second and wins as the earliest listed');
    const reversed = simulateVerdict({ judgeId: 'j-tie', criteria, candidates: [...tied].reverse() });
    expect(reversed.winnerId).toBe('a-early-id-but-second');
  });

  it('presents the candidates in a shuffle seeded by the judge id (recorded in order)', () => {
    const ids = candidates.map((c) => c.candidateId);
    const verdict = simulateVerdict({ judgeId: 'j1', criteria, candidates });
    expect([...verdict.order].sort()).toEqual([...ids].sort());
    expect(verdict.order).toEqual(presentationOrder('j1', ids));
    expect(simulateVerdict({ judgeId: 'j1', criteria, candidates }).order).toEqual(verdict.order);
    expect(presentationOrder('j1', [...ids].reverse())).toEqual(verdict.order);
    const orders = new Set(Array.from({ length: 20 }, (_, i) => presentationOrder(`judge-${i}`, ids).join(',')));
    expect(orders.size).toBeGreaterThan(5);
    expect(verdict.rationale).toContain(`Presented in the order ${verdict.order.join(', ')}`);
  });

  it('is deterministic as a whole and estimates tokens', () => {
    const a = simulateVerdict({ judgeId: 'j1', criteria, candidates });
    const b = simulateVerdict({ judgeId: 'j1', criteria, candidates });
    expect(b).toEqual(a);
    expect(a.tokens.output).toBe(Math.ceil(a.rationale.length / 4));
    expect(a.tokens.input).toBeGreaterThan(0);
  });

  it('evaluates a single candidate with feedback on its weakest criterion', () => {
    const verdict = simulateVerdict({ judgeId: 'j1', criteria, candidates: [candidates[0]!] });
    expect(verdict.winnerId).toBe(candidates[0]!.candidateId);
    expect(verdict.rationale).toMatch(/^Overall \d\.\d{3} .*improve \w+ \(\d\.\d{3}\) first\.$/);
    // the feedback reaches the reviser's prompt: no run-specific ids, so simulated loops are deterministic
    expect(verdict.rationale).not.toContain('run1');
  });
});

describe('judgeCandidates', () => {
  const command = (provider: string): JudgeCandidates =>
    ({
      type: 'JudgeCandidates',
      commandId: 'cmd-1',
      runId: 'run1',
      phaseId: 'p1',
      attempt: 1,
      judgeId: 'run1.p1.1.judge',
      provider,
      model: 'sim-judge',
      criteria,
      candidates: candidates.slice(0, 2),
      attemptToken: 'tok',
    }) as JudgeCandidates;
  const ctx = { signal: new AbortController().signal };

  it('returns a scored outcome from the simulated judge, cost 0', async () => {
    const outcome = await judgeCandidates(command('simulated'), { judges: new JudgeRegistry([new SimulatedJudge()]) }, ctx);
    expect(outcome.status).toBe('scored');
    if (outcome.status === 'scored') {
      expect(outcome.costUsd).toBe(0);
      expect(Object.keys(outcome.scores).sort()).toEqual(candidates.slice(0, 2).map((c) => c.candidateId).sort());
    }
  });

  it('answers an unknown provider with a typed, non-retryable failure', async () => {
    const outcome = await judgeCandidates(command('openai'), { judges: new JudgeRegistry([new SimulatedJudge()]) }, ctx);
    expect(outcome).toEqual({ status: 'failed', error: expect.objectContaining({ code: 'provider_not_configured', retryable: false }) });
  });

  it('maps a provider error to a failed outcome and refuses an inconsistent verdict', async () => {
    const failing: JudgeAdapter = { name: 'x', judge: async () => Promise.reject(new ProviderError('rate_limited', 'slow down', true)) };
    expect(await judgeCandidates(command('x'), { judges: new JudgeRegistry([failing]) }, ctx)).toEqual({
      status: 'failed',
      error: { code: 'rate_limited', message: 'slow down', retryable: true },
    });
    const sloppy: JudgeAdapter = {
      name: 'x',
      judge: async () => ({ winnerId: 'nobody', scores: {}, rationale: '', order: [], tokens: { input: 0, output: 0 } }),
    };
    const outcome = await judgeCandidates(command('x'), { judges: new JudgeRegistry([sloppy]) }, ctx);
    expect(outcome.status === 'failed' && outcome.error.code).toBe('verdict_invalid');
  });
});
