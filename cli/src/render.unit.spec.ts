import { PhaseView, RunView, Template } from '@conclave/contracts';
import { ApiError } from './client';
import { errorText, formatCost, formatDuration, formatTokens, phaseProgress, planOf, progressKey, progressLine, table, templateErrorLine } from './render';
import { LineDisplay, nextPending, parseGateAnswer } from './watch';

const T0 = Date.parse('2026-01-01T10:00:00.000Z');
const at = (ms: number) => new Date(T0 + ms).toISOString();

const template = Template.parse({
  name: 't',
  phases: [
    { id: 'plan', kind: 'llm', prompt: { user: 'x' }, candidates: [{ provider: 'simulated', model: 'a' }, { provider: 'openai', model: 'gpt-4.1' }] },
    { id: 'solo', kind: 'llm', dependsOn: ['plan'], prompt: { user: 'x' }, candidates: [{ provider: 'simulated', model: 'a' }] },
    { id: 'review', kind: 'gate', dependsOn: ['plan'], message: 'Ship it?' },
  ],
});

function phase(over: Partial<PhaseView> & { id: string }): PhaseView {
  return PhaseView.parse({
    name: null, kind: 'llm', dependsOn: [], status: 'pending', attempt: 1, startedAt: null, completedAt: null, candidates: [], verdict: null,
    artifactId: null, costUsd: 0, tokens: { input: 0, output: 0 }, error: null, ...over,
  });
}
const candidate = (id: string, status: string, model = 'a', provider = 'simulated') => ({ id, slot: 0, provider, model, status, tokens: { input: 100, output: 50 }, costUsd: 0.001, durationMs: 10 });

describe('one progress line per phase', () => {
  const plans = planOf(template);

  it('counts candidates done of the template total and follows the judge', () => {
    const running = phase({ id: 'plan', status: 'running', startedAt: at(0), candidates: [candidate('c0', 'generated'), candidate('c1', 'requested', 'gpt-4.1', 'openai')] as never });
    const p = phaseProgress(running, plans.get('plan'), T0 + 2500);
    expect(p).toMatchObject({ phase: 'plan', status: 'running', done: 1, total: 2, judge: 'waiting', elapsed: '2.5s' });
    expect(progressLine(p, 6)).toMatch(/^plan {3}running {4}cand 1\/2 {3}judge waiting/);

    const judged = phase({
      id: 'plan', status: 'completed', startedAt: at(0), completedAt: at(4000), costUsd: 0.0123, tokens: { input: 1500, output: 700 },
      candidates: [candidate('c0', 'generated'), candidate('c1', 'generated', 'gpt-4.1', 'openai')] as never,
      verdict: { winnerId: 'c1', scores: {}, rationale: 'r', missing: [] },
    });
    expect(progressLine(phaseProgress(judged, plans.get('plan'), T0 + 99_000))).toMatch(/completed +cand 2\/2 +judge picked openai\/gpt-4\.1 +2\.2k tok +\$0\.0123 +4\.0s$/);
  });

  it('shows a pending phase with the candidates it will ask for, and no judge for a single candidate', () => {
    const p = phaseProgress(phase({ id: 'solo' }), plans.get('solo'), T0);
    expect(p).toMatchObject({ done: 0, total: 1, judge: '-', elapsed: '-' });
  });

  it('names what a waiting phase waits on', () => {
    const gate = phase({ id: 'review', kind: 'gate', status: 'waiting', startedAt: at(0), gate: { message: 'Ship it?', decision: null, comment: null } });
    const line = progressLine(phaseProgress(gate, plans.get('review'), T0 + 1000));
    expect(line).toMatch(/waiting +cand - +judge - .* gate: Ship it\?$/);
  });

  it('changes its key when a figure changes, not when only time passes', () => {
    const running = phase({ id: 'plan', status: 'running', startedAt: at(0) });
    const k1 = progressKey(phaseProgress(running, plans.get('plan'), T0 + 1000));
    expect(progressKey(phaseProgress(running, plans.get('plan'), T0 + 9000))).toBe(k1);
    expect(progressKey(phaseProgress({ ...running, candidates: [candidate('c0', 'generated')] as never }, plans.get('plan'), T0 + 9000))).not.toBe(k1);
  });
});

describe('plain progress (stdout not a terminal)', () => {
  const run = (status: RunView['status'], phases: PhaseView[]) =>
    RunView.parse({
      id: 'r1', name: null, templateId: 't1', templateVersion: 1, templateName: 't', status, inputs: {}, phases, currentPhases: [],
      costUsd: 0, tokens: { input: 0, output: 0 }, startedAt: at(0), completedAt: null, sequence: 1, error: null,
    });

  it('prints a line per change and nothing when only the clock moved', () => {
    const lines: string[] = [];
    const display = new LineDisplay({ write: (s: string) => lines.push(s) } as never);
    const plans = planOf(template);
    const first = run('running', [phase({ id: 'plan', status: 'running', startedAt: at(0) }), phase({ id: 'review', kind: 'gate' })]);
    display.render(first, plans, T0 + 100);
    expect(lines).toHaveLength(3);
    display.render(first, plans, T0 + 5000);
    expect(lines).toHaveLength(3);
    const next = run('running', [phase({ id: 'plan', status: 'running', startedAt: at(0), candidates: [candidate('c0', 'generated')] as never }), phase({ id: 'review', kind: 'gate' })]);
    display.render(next, plans, T0 + 6000);
    expect(lines).toHaveLength(4);
    expect(lines[3]).toMatch(/^plan +running +cand 1\/2/);
  });

  it('asks about gates first, then questions, then a manual continue, each once', () => {
    const waiting = RunView.parse({
      ...run('waiting', [phase({ id: 'review', kind: 'gate', status: 'waiting' }), phase({ id: 'ask', kind: 'interview', status: 'waiting' })]),
      pending: { gates: [{ phaseId: 'review', message: 'Ship it?' }], questions: [{ phaseId: 'ask', questions: [{ id: 'q1', question: 'Where?' }] }], continue: ['next'] },
    });
    const decided = new Set<string>();
    const order: string[] = [];
    for (let next = nextPending(waiting, decided); next; next = nextPending(waiting, decided)) {
      order.push(`${next.command}:${next.phaseId ?? '-'}`);
      decided.add(next.key);
    }
    expect(order).toEqual(['approve:review', 'answer:ask', 'continue:-']);
    expect(nextPending({ ...waiting, status: 'running' }, new Set())).toBeNull();
  });

  it('reads a gate answer as a decision and an optional comment', () => {
    expect(parseGateAnswer('y')).toEqual({ decision: 'approve' });
    expect(parseGateAnswer('Yes  looks right ')).toEqual({ decision: 'approve', comment: 'looks right' });
    expect(parseGateAnswer('n misses the budget')).toEqual({ decision: 'reject', comment: 'misses the budget' });
    expect(parseGateAnswer('maybe')).toBeNull();
    expect(parseGateAnswer('')).toBeNull();
  });
});

describe('formatting', () => {
  it('formats figures compactly', () => {
    expect([formatTokens(999), formatTokens(1234), formatTokens(2_500_000)]).toEqual(['999', '1.2k', '2.5M']);
    expect(formatCost(0.01234)).toBe('$0.0123');
    expect([formatDuration(950), formatDuration(61_000), formatDuration(3_700_000)]).toEqual(['0.9s', '1m01s', '1h01m']);
  });

  it('pads table columns to the widest cell', () => {
    expect(table(['ID', 'NAME'], [['a', 'x'], ['long-id', 'y']])).toBe('ID       NAME\na        x\nlong-id  y');
  });

  it('locates a template error by phase and field', () => {
    expect(templateErrorLine({ code: 'unknown_phase', message: 'dependsOn names "nope"', path: ['phases', 1, 'dependsOn', 0], phaseId: 'review', field: 'dependsOn' })).toBe(
      'phase "review", field dependsOn: dependsOn names "nope" [unknown_phase]',
    );
    expect(templateErrorLine({ code: 'schema', message: 'Required', path: ['phases', 0, 'prompt'] })).toBe('phase #1, field prompt: Required [schema]');
    expect(templateErrorLine({ code: 'schema', message: 'Required', path: ['name'] })).toBe('template, field name: Required [schema]');
  });

  it("prints an API error with its message, code, status and request id, and the template's located errors", () => {
    const err = new ApiError(422, 'validation', 'the template is invalid (1 error)', 'req-42', {
      errors: [{ code: 'cycle', message: 'a cycle: a → b → a', path: ['phases', 0, 'dependsOn'], phaseId: 'a', field: 'dependsOn' }],
    });
    expect(errorText(err)).toBe('error: the template is invalid (1 error)\n  validation (HTTP 422), request id req-42\n  - phase "a", field dependsOn: a cycle: a → b → a [cycle]');
  });
});
