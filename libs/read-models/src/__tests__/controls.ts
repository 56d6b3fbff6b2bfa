import { Template, type JsonSchema, type NewEvent, type TemplateInput } from '@conclave/contracts';

/**
 * ask (interview) → review (gate) → write (llm) → route (condition: publish | redo). Events below
 * follow what the orchestrator's decider emits for these phase kinds and controls.
 */
export const controlsTemplate = Template.parse({
  name: 'controls',
  phases: [
    { id: 'ask', kind: 'interview', prompt: { user: 'What do you want?' }, candidates: [{ provider: 'simulated', model: 'sim-q' }] },
    { id: 'review', kind: 'gate', dependsOn: ['ask'], message: 'Approve the brief?' },
    { id: 'write', kind: 'llm', dependsOn: ['review'], prompt: { user: 'Write' }, candidates: [{ provider: 'simulated', model: 'sim-w' }] },
    { id: 'route', kind: 'condition', dependsOn: ['write'], expression: { '==': [1, 1] }, ifTrue: ['publish'], ifFalse: ['redo'] },
    { id: 'publish', kind: 'llm', dependsOn: ['route'], prompt: { user: 'Publish' }, candidates: [{ provider: 'simulated', model: 'sim-p' }] },
    { id: 'redo', kind: 'llm', dependsOn: ['route'], prompt: { user: 'Redo' }, candidates: [{ provider: 'simulated', model: 'sim-r' }] },
  ],
} satisfies TemplateInput);

const out = { artifact: 'text' as const, schema: { type: 'object' } as JsonSchema };
export const ccid = (runId: string, phaseId: string, attempt: number) => `${runId}.${phaseId}.${attempt}.c0`;
export const QUESTIONS = [{ id: 'q1', question: 'Audience?' }, { id: 'q2', question: 'Tone?', why: 'style' }];
export const ANSWERS = [{ question: 'Audience?', answer: 'devs' }, { question: 'Tone?', answer: 'dry' }];

export const started = (runId: string, templateId: string, origin: { kind: 'rerun' | 'fork'; runId: string } | null = null, budgetUsd: number | null = 10): NewEvent => ({
  type: 'RunStarted',
  data: { runId, templateId, templateVersion: 1, template: controlsTemplate, name: `controls ${runId}`, inputs: {}, autoMode: true, budgetUsd, origin },
});

export function candidate(runId: string, phaseId: string, attempt: number, model: string): NewEvent[] {
  return [
    {
      type: 'CandidateRequested',
      data: { phaseId, attempt, round: 0, candidateId: ccid(runId, phaseId, attempt), slot: 0, provider: 'simulated', model, prompt: { user: 'x' }, output: out, attemptToken: `t${attempt}`, timeoutSeconds: 60 },
    },
  ];
}

export function generated(runId: string, phaseId: string, attempt: number, output: unknown, toolCalls?: unknown[]): NewEvent {
  return {
    type: 'CandidateGenerated',
    data: {
      phaseId,
      attempt,
      candidateId: ccid(runId, phaseId, attempt),
      output,
      tokens: { input: 4, output: 4 },
      costUsd: 0.25,
      durationMs: 5,
      workerId: 'w',
      ...(toolCalls ? { toolCalls: toolCalls as never } : {}),
    },
  };
}

export const complete = (runId: string, phaseId: string, attempt: number, content: unknown = { text: phaseId }): NewEvent[] => [
  { type: 'ArtifactRecorded', data: { artifactId: `${runId}.${phaseId}.${attempt}.a`, phaseId, attempt, candidateId: null, artifactType: 'text', content } },
  { type: 'PhaseCompleted', data: { phaseId, attempt, artifactId: `${runId}.${phaseId}.${attempt}.a` } },
];

/** Interview answered, gate approved: the run reaches `write`. */
export function throughGate(runId: string, templateId: string): NewEvent[] {
  return [
    started(runId, templateId),
    { type: 'PhaseStarted', data: { phaseId: 'ask', attempt: 1 } },
    ...candidate(runId, 'ask', 1, 'sim-q'),
    generated(runId, 'ask', 1, { questions: QUESTIONS }),
    { type: 'QuestionsAsked', data: { phaseId: 'ask', attempt: 1, questions: QUESTIONS } },
    { type: 'AnswersSubmitted', data: { phaseId: 'ask', attempt: 1, answers: ANSWERS } },
    ...complete(runId, 'ask', 1, { questions: QUESTIONS, answers: ANSWERS }),
    { type: 'CheckpointCreated', data: { checkpointId: 'ask@1', phaseId: 'ask', completedPhaseIds: ['ask'] } },
    { type: 'PhaseStarted', data: { phaseId: 'review', attempt: 1 } },
    { type: 'GateOpened', data: { phaseId: 'review', attempt: 1, message: 'Approve the brief?' } },
    { type: 'GateApproved', data: { phaseId: 'review', attempt: 1, comment: 'looks good' } },
    { type: 'PhaseCompleted', data: { phaseId: 'review', attempt: 1, artifactId: null } },
    { type: 'CheckpointCreated', data: { checkpointId: 'review@1', phaseId: 'review', completedPhaseIds: ['ask', 'review'] } },
  ];
}

/**
 * `write` fails validation, the run fails, a user retries with another model (attempt 2 passes),
 * the condition routes to `publish`, `redo` is skipped, then a rollback to `review@1` resets
 * write/route/publish/redo and the run runs again.
 */
export function retryAndRollback(runId: string, templateId: string): NewEvent[] {
  return [
    ...throughGate(runId, templateId),
    { type: 'PhaseStarted', data: { phaseId: 'write', attempt: 1 } },
    ...candidate(runId, 'write', 1, 'sim-w'),
    generated(runId, 'write', 1, { nope: true }),
    { type: 'OutputRejected', data: { phaseId: 'write', attempt: 1, candidateId: ccid(runId, 'write', 1), errors: ['text: required'], raw: { nope: true } } },
    { type: 'PhaseFailed', data: { phaseId: 'write', attempt: 1, reason: { code: 'output_invalid', message: 'no valid output', retryable: true } } },
    { type: 'RunFailed', data: { reason: { code: 'phase_failed', message: 'write failed', retryable: false }, phaseId: 'write' } },
    {
      type: 'PhaseRetryScheduled',
      data: { phaseId: 'write', attempt: 2, notBefore: '2026-01-01T01:00:00.000Z', cause: 'user', override: { provider: 'simulated', model: 'sim-w2' } },
    },
    { type: 'PhaseStarted', data: { phaseId: 'write', attempt: 2 } },
    ...candidate(runId, 'write', 2, 'sim-w2'),
    generated(runId, 'write', 2, { text: 'ok' }),
    ...complete(runId, 'write', 2),
    { type: 'CheckpointCreated', data: { checkpointId: 'write@2', phaseId: 'write', completedPhaseIds: ['ask', 'review', 'write'] } },
    { type: 'PhaseStarted', data: { phaseId: 'route', attempt: 1 } },
    { type: 'ConditionEvaluated', data: { phaseId: 'route', attempt: 1, result: true, skippedPhaseIds: ['redo'] } },
    { type: 'PhaseSkipped', data: { phaseId: 'redo', reason: 'condition "route" was true' } },
    ...complete(runId, 'route', 1, { result: true }),
    { type: 'PhaseStarted', data: { phaseId: 'publish', attempt: 1 } },
    ...candidate(runId, 'publish', 1, 'sim-p'),
    generated(runId, 'publish', 1, { text: 'published' }),
    ...complete(runId, 'publish', 1),
    { type: 'RunCompleted', data: {} },
    { type: 'RolledBack', data: { checkpointId: 'review@1', resetPhaseIds: ['write', 'route', 'publish', 'redo'] } },
  ];
}
