import type { TimelineRow } from './timeline';
import { describeRow, timelineContext } from './timeline-details';

const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 10, 0, s)).toISOString();
let seq = 0;
const row = (type: string, s: number, data: Record<string, unknown>): TimelineRow => ({ sequence: ++seq, type, occurredAt: at(s), phaseId: (data.phaseId as string) ?? null, actor: null, data });
const c0 = 'r.draft.1.c0';
const c1 = 'r.draft.1.c1';

const rows: TimelineRow[] = [
  row('RunStarted', 0, { runId: 'r', template: { name: 'feature' }, templateVersion: 3, inputs: { idea: 'x', tone: 'dry' }, autoMode: true }),
  row('PhaseStarted', 1, { phaseId: 'draft', attempt: 1 }),
  row('CandidateRequested', 1, { phaseId: 'draft', attempt: 1, candidateId: c0, slot: 0, provider: 'openai', model: 'gpt-4.1' }),
  row('CandidateRequested', 1, { phaseId: 'draft', attempt: 1, candidateId: c1, slot: 1, provider: 'anthropic', model: 'claude' }),
  row('CandidateGenerated', 3, { phaseId: 'draft', attempt: 1, candidateId: c0, tokens: { input: 1200, output: 300 }, costUsd: 0.0123, durationMs: 2400 }),
  row('CandidateFailed', 4, { phaseId: 'draft', attempt: 1, candidateId: c1, error: { code: 'rate_limited', message: '429 slow down' }, retry: { number: 1, of: 3, notBefore: at(9) } }),
  row('VerdictRecorded', 6, { phaseId: 'draft', attempt: 1, winnerId: c0, scores: { [c0]: { overall: 0.82 } }, provider: 'openai', model: 'gpt-4.1-mini', tokens: { input: 500, output: 50 }, costUsd: 0.001 }),
  row('PhaseFailed', 7, { phaseId: 'draft', attempt: 1, reason: { code: 'output_rejected', message: 'missing "title"' } }),
  row('PhaseRetryScheduled', 7, { phaseId: 'draft', attempt: 2, notBefore: at(12), cause: 'policy', override: null }),
  row('RunCompleted', 30, {}),
];
const ctx = timelineContext(rows);
const details = (type: string) => describeRow(rows.find((r) => r.type === type)!, ctx);

describe('timeline row details', () => {
  it('names the model behind a candidate result, with its duration, tokens and cost', () => {
    expect(details('CandidateGenerated')).toEqual(
      expect.objectContaining({ model: 'openai/gpt-4.1', durationMs: 2400, tokens: { input: 1200, output: 300 }, costUsd: 0.0123, error: null }),
    );
    expect(details('CandidateRequested')).toEqual(expect.objectContaining({ model: 'openai/gpt-4.1', summary: 'slot 1' }));
  });

  it('shows a failure with its error text and the retry it scheduled', () => {
    expect(details('CandidateFailed')).toEqual(
      expect.objectContaining({ model: 'anthropic/claude', error: { code: 'rate_limited', message: '429 slow down' }, retryAt: at(9), summary: 'retry 1 of 3' }),
    );
    expect(details('PhaseFailed')).toEqual(expect.objectContaining({ error: { code: 'output_rejected', message: 'missing "title"' }, durationMs: 6000, summary: 'attempt 1' }));
    expect(details('PhaseRetryScheduled')).toEqual(expect.objectContaining({ retryAt: at(12), summary: 'attempt 2 (policy)' }));
  });

  it("gives a verdict's winner by model with its score, and the judge's model, tokens and cost", () => {
    expect(details('VerdictRecorded')).toEqual(
      expect.objectContaining({ winner: { label: 'openai/gpt-4.1', score: 0.82 }, model: 'openai/gpt-4.1-mini', tokens: { input: 500, output: 50 }, costUsd: 0.001 }),
    );
  });

  it('summarises the run start and times the run', () => {
    expect(details('RunStarted').summary).toBe('feature v3 · 2 inputs');
    expect(details('RunCompleted').durationMs).toBe(30_000);
  });

  it('names a candidate from the run view when its request is not among the rows, and falls back to the id', () => {
    const late = row('CandidateGenerated', 5, { phaseId: 'draft', candidateId: 'r.draft.2.c0', tokens: { input: 1, output: 1 }, costUsd: 0, durationMs: 1 });
    expect(describeRow(late, timelineContext([], [{ id: 'r.draft.2.c0', provider: 'gemini', model: 'flash' }])).model).toBe('gemini/flash');
    const verdict = row('VerdictRecorded', 5, { phaseId: 'draft', winnerId: 'unknown.c9', scores: {} });
    expect(describeRow(verdict, timelineContext([])).winner).toEqual({ label: 'unknown.c9', score: null });
  });

  it('has nothing to add for an event without details, and never throws on odd data', () => {
    expect(describeRow(row('RunResumed', 1, {}), ctx)).toEqual(expect.objectContaining({ summary: null, model: null, error: null }));
    expect(() => describeRow({ ...row('CandidateFailed', 1, {}), data: null }, ctx)).not.toThrow();
  });

  it('says what a budget policy decision did, with the figures that triggered it and the model it switched to', () => {
    const decision = (action: string, extra: Record<string, unknown> = {}) =>
      describeRow(
        row('BudgetPolicyApplied', 8, { ruleIndex: 0, thresholdPct: 50, action, budgetUsd: 0.05, spentUsd: 0.001, reservedUsd: 0.012, estimateUsd: 0.024, phaseId: 'b', phaseIds: ['b', 'c'], ...extra }),
        ctx,
      );
    expect(decision('switch', { model: { provider: 'openai', model: 'gpt-4.1-nano' } })).toEqual(
      expect.objectContaining({
        summary: 'budget policy at 50%: later phases (b, c) switch to openai/gpt-4.1-nano (reserved $0.0370 of $0.05 when phase b dispatched)',
        model: 'openai/gpt-4.1-nano',
        costUsd: 0.001,
      }),
    );
    expect(decision('shrink').summary).toBe('budget policy at 50%: later phases (b, c) run one candidate and no judge (reserved $0.0370 of $0.05 when phase b dispatched)');
    expect(decision('stop', { phaseIds: [] }).summary).toBe('budget policy at 50%: the run stopped (reserved $0.0370 of $0.05 when phase b dispatched)');
  });
});
