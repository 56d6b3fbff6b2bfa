import { Template, type CandidateResult, type TemplateInput } from '@conclave/contracts';
import { decide, type DecidedEvent, type DeciderInput } from '../decide';
import { evolve, initialRunState, type RunFact, type RunState } from '../run-state';

/** given(events).when(input) → the decided events (DeciderSpecification, STYLE.md). */
export const NOW = '2026-11-22T10:00:00.000Z';
/** accepts text artifacts and question lists; anything else fails validation */
export const ctx = { now: NOW, validate: (output: unknown) => (output && typeof output === 'object' && ('text' in output || 'questions' in output) ? [] : ['(root): must have text']) };
export const at = (offsetMs: number) => new Date(Date.parse(NOW) + offsetMs).toISOString();
export const given = (...events: RunFact[]) => ({
  when: (input: DeciderInput, now = NOW) => decide(events.reduce<RunState>((s, e) => evolve(s, e), initialRunState()), input, { ...ctx, now }),
});
export const types = (events: DecidedEvent[]) => events.map((e) => ((e.type !== 'RunFailed' && 'phaseId' in e.data ? `${e.type}:${(e.data as { phaseId: string }).phaseId}` : e.type)));
export const ofType = <T extends DecidedEvent['type']>(events: DecidedEvent[], type: T) =>
  events.filter((e): e is Extract<DecidedEvent, { type: T }> => e.type === type);

export const sim = (model: string) => ({ provider: 'simulated', model });
const pipeline: TemplateInput = {
  name: 'pipe',
  inputs: { type: 'object', properties: { idea: { type: 'string' } }, required: ['idea'] },
  phases: [
    { id: 'a', kind: 'llm', prompt: { user: 'Idea: {{inputs.idea}}' }, candidates: [sim('m1'), sim('m2')], judge: { provider: 'simulated', model: 'j' } },
    { id: 'b', kind: 'llm', prompt: { user: 'Also {{inputs.idea}}' }, candidates: [sim('m1')] },
    { id: 'c', kind: 'llm', dependsOn: ['a', 'b'], prompt: { user: 'From {{phases.a.output.text}}' }, candidates: [sim('m3')] },
  ],
};
export const RUN = 'r1';
export const start = (tpl: TemplateInput = pipeline): Extract<DeciderInput, { type: 'StartRun' }> => ({
  type: 'StartRun', runId: RUN, templateId: 't1', templateVersion: 1, template: Template.parse(tpl), name: null, inputs: { idea: 'kites' }, autoMode: true, budgetUsd: null,
});
/** Replays a decision's events so the next `given` continues from them. */
export const facts = (events: DecidedEvent[]): RunFact[] => events.map(({ id: _id, ...rest }) => rest as RunFact);

export const generated = (candidateId: string, phaseId: string, text: string, extra: Partial<CandidateResult> = {}): DeciderInput => ({
  type: 'CandidateResult',
  result: {
    type: 'CandidateResult', commandId: `${candidateId}:x`, runId: RUN, phaseId, attempt: 1, attemptToken: `${candidateId}@1`, workerId: 'w1',
    provider: 'simulated', model: 'm', durationMs: 5, candidateId,
    outcome: { status: 'generated', output: { text }, tokens: { input: 3, output: 4 }, costUsd: 0.01 }, ...extra,
  },
});
export const failed = (candidateId: string, phaseId: string): DeciderInput => ({
  type: 'CandidateResult',
  result: {
    type: 'CandidateResult', commandId: `${candidateId}:x`, runId: RUN, phaseId, attempt: 1, attemptToken: `${candidateId}@1`, workerId: 'w1',
    provider: 'simulated', model: 'm', durationMs: 5, candidateId, outcome: { status: 'failed', error: { code: 'http_500', message: 'boom', retryable: true } },
  },
});
export const verdict = (judgeId: string, phaseId: string, winnerId: string, scores: Record<string, number>, round = 0): DeciderInput => ({
  type: 'VerdictResult',
  result: {
    type: 'VerdictResult', commandId: `${judgeId}:x`, runId: RUN, phaseId, attempt: 1, attemptToken: `${judgeId}@1`, workerId: 'j1',
    provider: 'simulated', model: 'j', durationMs: 2, judgeId,
    outcome: {
      status: 'scored', winnerId, rationale: `round ${round}: needs more detail`, order: Object.keys(scores), tokens: { input: 1, output: 1 }, costUsd: 0,
      scores: Object.fromEntries(Object.entries(scores).map(([id, overall]) => [id, { overall, criteria: { quality: overall } }])),
    },
  },
});

/** Drive a decision sequence, accumulating every decided event as history. */
export function drive(first: DeciderInput, ...inputs: (DeciderInput | [DeciderInput, string])[]) {
  let history = facts(given().when(first));
  const decided: DecidedEvent[][] = [];
  for (const step of inputs) {
    const [input, now] = Array.isArray(step) ? step : [step, NOW];
    const out = given(...history).when(input, now);
    decided.push(out);
    history = [...history, ...facts(out)];
  }
  return { history, decided, last: decided[decided.length - 1] ?? [] };
}

export const C = (phase: string, slot: number, round = 0) => `${RUN}.${phase}.1${round ? `.r${round}` : ''}.c${slot}`;


/** A failed result of one dispatch (`token`: the n-th dispatch of the candidate, `@n`). */
export const failedWith = (
  candidateId: string,
  phaseId: string,
  error: { code: string; message?: string; retryable: boolean; retryAfterMs?: number },
  options: { token?: number; attempt?: number } = {},
): DeciderInput => ({
  type: 'CandidateResult',
  result: {
    type: 'CandidateResult', commandId: `${candidateId}@${options.token ?? 1}`, runId: RUN, phaseId, attempt: options.attempt ?? 1, attemptToken: `${candidateId}@${options.token ?? 1}`,
    workerId: 'w1', provider: 'simulated', model: 'm', durationMs: 5, candidateId, outcome: { status: 'failed', error: { message: error.code, ...error } },
  },
});

/**
 * Candidates that fail retryably on every try until dropped (the default policy: 3 tries): the
 * first failures at `from`, a Tick when each retry falls due (≤ 2.4 s, then ≤ 4.8 s later), the
 * next failures then. Returns the steps and the time of the last one.
 */
export function failEveryTry(candidates: [candidateId: string, phaseId: string][], error = { code: 'http_500', retryable: true }, from = 0, attempt = 1) {
  const steps: [DeciderInput, string][] = [];
  let t = from;
  for (let token = 1; token <= 3; token++) {
    if (token > 1) {
      t += token === 2 ? 2_500 : 5_000;
      steps.push([{ type: 'Tick' }, at(t)]);
    }
    for (const [candidateId, phaseId] of candidates) steps.push([failedWith(candidateId, phaseId, error, { token, attempt }), at(t)]);
  }
  return { steps, end: t };
}
