import { CURRENT_SCHEMA_VERSION, ids, parseEvent, streamIdOf, Template, type Aggregate, type ConclaveEvent, type JsonSchema, type NewEvent, type Recorded, type TemplateInput } from '@conclave/contracts';

/** A 2-phase template: `draft` asks two models and a judge; `polish` asks one. */
export const TWO_PHASE_TEMPLATE: TemplateInput = {
  name: 'essay-pipeline',
  description: 'Draft, judge, polish',
  phases: [
    {
      id: 'draft',
      name: 'Draft',
      kind: 'llm',
      dependsOn: [],
      prompt: { user: 'Write about {{inputs.topic}}' },
      candidates: [
        { provider: 'simulated', model: 'sim-a' },
        { provider: 'simulated', model: 'sim-b' },
      ],
      judge: { provider: 'simulated', model: 'sim-judge', criteria: ['quality'] },
      output: { artifact: 'text' },
    },
    {
      id: 'polish',
      kind: 'llm',
      dependsOn: ['draft'],
      prompt: { user: 'Polish {{phases.draft.output.text}}' },
      candidates: [{ provider: 'simulated', model: 'sim-c' }],
      output: { artifact: 'text' },
    },
  ],
};

export const template = Template.parse(TWO_PHASE_TEMPLATE);

const out = { artifact: 'text' as const, schema: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] } as JsonSchema };
const prompt = { user: 'Write about cats' };

export const cid = (runId: string, phaseId: string, attempt: number, slot: number) => `${runId}.${phaseId}.${attempt}.c${slot}`;

function requested(runId: string, phaseId: string, attempt: number, slot: number, model: string): NewEvent {
  return {
    type: 'CandidateRequested',
    data: { phaseId, attempt, round: 0, candidateId: cid(runId, phaseId, attempt, slot), slot, provider: 'simulated', model, prompt, output: out, attemptToken: `tok-${attempt}`, timeoutSeconds: 60 },
  };
}

/** the conversation reference the fixture's "draft a" candidate carries */
export const DRAFT_A_TRANSCRIPT = { key: `sha256-${'d'.repeat(64)}`, bytes: 2048, messages: 3 };

function generated(runId: string, phaseId: string, attempt: number, slot: number, text: string, usage: { input: number; output: number; costUsd: number; durationMs: number }, transcript?: typeof DRAFT_A_TRANSCRIPT): NewEvent {
  return {
    type: 'CandidateGenerated',
    data: {
      phaseId,
      attempt,
      candidateId: cid(runId, phaseId, attempt, slot),
      output: { text },
      tokens: { input: usage.input, output: usage.output },
      costUsd: usage.costUsd,
      durationMs: usage.durationMs,
      workerId: 'w1',
      ...(transcript ? { transcript } : {}),
    },
  };
}

/**
 * The full life of a completed run: draft fails once (one candidate fails, the phase is retried),
 * attempt 2 produces two candidates and a verdict; polish has one output rejected, then succeeds.
 */
export function completedRunEvents(runId: string, templateId: string): NewEvent[] {
  return [
    { type: 'RunStarted', data: { runId, templateId, templateVersion: 1, template, name: 'Cats essay', inputs: { topic: 'cats' }, autoMode: true, budgetUsd: null, origin: null } },
    { type: 'PhaseStarted', data: { phaseId: 'draft', attempt: 1 } },
    requested(runId, 'draft', 1, 0, 'sim-a'),
    requested(runId, 'draft', 1, 1, 'sim-b'),
    generated(runId, 'draft', 1, 0, 'first try', { input: 10, output: 20, costUsd: 0.125, durationMs: 100 }),
    { type: 'CandidateFailed', data: { phaseId: 'draft', attempt: 1, candidateId: cid(runId, 'draft', 1, 1), error: { code: 'provider', message: 'boom', retryable: true }, durationMs: 50 } },
    { type: 'PhaseFailed', data: { phaseId: 'draft', attempt: 1, reason: { code: 'candidates_failed', message: 'not enough candidates', retryable: true } } },
    { type: 'PhaseStarted', data: { phaseId: 'draft', attempt: 2 } },
    requested(runId, 'draft', 2, 0, 'sim-a'),
    requested(runId, 'draft', 2, 1, 'sim-b'),
    generated(runId, 'draft', 2, 1, 'draft b', { input: 100, output: 200, costUsd: 0.5, durationMs: 1500 }),
    generated(runId, 'draft', 2, 0, 'draft a', { input: 100, output: 150, costUsd: 0.25, durationMs: 1200 }, DRAFT_A_TRANSCRIPT),
    {
      type: 'JudgeRequested',
      data: {
        phaseId: 'draft',
        attempt: 2,
        round: 0,
        judgeId: `${runId}.draft.2.judge`,
        purpose: 'select',
        provider: 'simulated',
        model: 'sim-judge',
        criteria: ['quality'],
        task: 'Write about cats',
        candidates: [
          { candidateId: cid(runId, 'draft', 2, 0), output: { text: 'draft a' } },
          { candidateId: cid(runId, 'draft', 2, 1), output: { text: 'draft b' } },
        ],
        attemptToken: 'tok-2',
        missing: [],
      },
    },
    {
      type: 'VerdictRecorded',
      data: {
        phaseId: 'draft',
        attempt: 2,
        round: 0,
        judgeId: `${runId}.draft.2.judge`,
        purpose: 'select',
        winnerId: cid(runId, 'draft', 2, 1),
        scores: {
          [cid(runId, 'draft', 2, 0)]: { overall: 0.5, criteria: { quality: 0.5 } },
          [cid(runId, 'draft', 2, 1)]: { overall: 0.75, criteria: { quality: 0.75 } },
        },
        rationale: 'b is clearer',
        order: [cid(runId, 'draft', 2, 1), cid(runId, 'draft', 2, 0)],
        provider: 'simulated',
        model: 'sim-judge',
        tokens: { input: 300, output: 30 },
        costUsd: 0.0625,
        missing: [],
      },
    },
    { type: 'ArtifactRecorded', data: { artifactId: `${runId}.draft.2.artifact`, phaseId: 'draft', attempt: 2, candidateId: cid(runId, 'draft', 2, 1), artifactType: 'text', content: { text: 'draft b' } } },
    { type: 'PhaseCompleted', data: { phaseId: 'draft', attempt: 2, artifactId: `${runId}.draft.2.artifact` } },
    { type: 'PhaseStarted', data: { phaseId: 'polish', attempt: 1 } },
    requested(runId, 'polish', 1, 0, 'sim-c'),
    generated(runId, 'polish', 1, 0, '', { input: 5, output: 0, costUsd: 0.03125, durationMs: 10 }),
    { type: 'OutputRejected', data: { phaseId: 'polish', attempt: 1, candidateId: cid(runId, 'polish', 1, 0), errors: ['text: too short', 'text: empty'], raw: { text: '' } } },
    { type: 'PhaseStarted', data: { phaseId: 'polish', attempt: 2 } },
    requested(runId, 'polish', 2, 0, 'sim-c'),
    generated(runId, 'polish', 2, 0, 'polished b', { input: 50, output: 60, costUsd: 0.25, durationMs: 700 }),
    { type: 'ArtifactRecorded', data: { artifactId: `${runId}.polish.2.artifact`, phaseId: 'polish', attempt: 2, candidateId: cid(runId, 'polish', 2, 0), artifactType: 'text', content: { text: 'polished b' } } },
    { type: 'PhaseCompleted', data: { phaseId: 'polish', attempt: 2, artifactId: `${runId}.polish.2.artifact` } },
    { type: 'RunCompleted', data: {} },
  ];
}

/** A template with one loop phase: produce, evaluate, revise until the score passes. */
export const loopTemplate = Template.parse({
  name: 'loop-pipeline',
  phases: [
    {
      id: 'write',
      kind: 'loop',
      prompt: { user: 'Write a plan' },
      candidates: [{ provider: 'simulated', model: 'sim-w' }],
      loop: { maxAttempts: 3, passThreshold: 0.8, evaluator: { provider: 'simulated', model: 'sim-eval', criteria: ['quality'] } },
    },
  ],
} satisfies TemplateInput);

/** One round of the loop fixtures' `write` phase (attempt 1): a candidate, its evaluation request and verdict. */
function loopRound(runId: string, r: number, text: string, score: number, rationale: string): NewEvent[] {
  const candidate = ids.candidate(runId, 'write', 1, 0, r);
  const evalId = ids.judge(runId, 'write', 1, r, 'evaluate');
  return [
    {
      type: 'CandidateRequested',
      data: { phaseId: 'write', attempt: 1, round: r, candidateId: candidate, slot: 0, provider: 'simulated', model: 'sim-w', prompt, output: out, attemptToken: 'tok', timeoutSeconds: 60 },
    },
    {
      type: 'CandidateGenerated',
      data: { phaseId: 'write', attempt: 1, candidateId: candidate, output: { text }, tokens: { input: 10, output: 10 }, costUsd: 0.25, durationMs: 10, workerId: 'w' },
    },
    {
      type: 'JudgeRequested',
      data: {
        phaseId: 'write', attempt: 1, round: r, judgeId: evalId, purpose: 'evaluate', provider: 'simulated', model: 'sim-eval', criteria: ['quality'], task: 'Write a plan',
        candidates: [{ candidateId: candidate, output: { text } }], attemptToken: 'tok', missing: [],
      },
    },
    {
      type: 'VerdictRecorded',
      data: {
        phaseId: 'write', attempt: 1, round: r, judgeId: evalId, purpose: 'evaluate', winnerId: candidate,
        scores: { [candidate]: { overall: score, criteria: { quality: score } } }, rationale, order: [candidate],
        provider: 'simulated', model: 'sim-eval', tokens: { input: 5, output: 5 }, costUsd: 0.0625, missing: [],
      },
    },
  ];
}

/** A loop phase that passes in round 1 of attempt 1: two candidates and two evaluations. */
export function loopRunEvents(runId: string, templateId: string): NewEvent[] {
  const candidate = (round: number) => ids.candidate(runId, 'write', 1, 0, round);
  return [
    { type: 'RunStarted', data: { runId, templateId, templateVersion: 1, template: loopTemplate, name: 'loop', inputs: {}, autoMode: true, budgetUsd: null, origin: null } },
    { type: 'PhaseStarted', data: { phaseId: 'write', attempt: 1 } },
    ...loopRound(runId, 0, 'rough', 0.5, 'needs detail'),
    ...loopRound(runId, 1, 'detailed', 0.875, 'good'),
    { type: 'ArtifactRecorded', data: { artifactId: ids.artifact(runId, 'write', 1), phaseId: 'write', attempt: 1, candidateId: candidate(1), artifactType: 'text', content: { text: 'detailed' } } },
    { type: 'PhaseCompleted', data: { phaseId: 'write', attempt: 1, artifactId: ids.artifact(runId, 'write', 1) } },
    { type: 'RunCompleted', data: {} },
  ];
}

/**
 * A loop phase that reaches maxAttempts (3) without passing (0.8): round 2 (index 1) scores best,
 * the last round scores lower, and the orchestrator takes the best round's output as the artifact
 * (decide.ts bestLoopRound) — the last verdict names another candidate than the artifact.
 */
export function loopMaxRoundsEvents(runId: string, templateId: string): NewEvent[] {
  const best = ids.candidate(runId, 'write', 1, 0, 1);
  return [
    { type: 'RunStarted', data: { runId, templateId, templateVersion: 1, template: loopTemplate, name: 'loop at max rounds', inputs: {}, autoMode: true, budgetUsd: null, origin: null } },
    { type: 'PhaseStarted', data: { phaseId: 'write', attempt: 1 } },
    ...loopRound(runId, 0, 'rough', 0.5, 'needs detail'),
    ...loopRound(runId, 1, 'detailed', 0.75, 'almost: cite sources'),
    ...loopRound(runId, 2, 'rambling', 0.625, 'lost focus'),
    { type: 'ArtifactRecorded', data: { artifactId: ids.artifact(runId, 'write', 1), phaseId: 'write', attempt: 1, candidateId: best, artifactType: 'text', content: { text: 'detailed' } } },
    { type: 'PhaseCompleted', data: { phaseId: 'write', attempt: 1, artifactId: ids.artifact(runId, 'write', 1) } },
    { type: 'RunCompleted', data: {} },
  ];
}

/** A run that fails in its first phase. */
export function failedRunEvents(runId: string, templateId: string, name: string | null = null): NewEvent[] {
  return [
    { type: 'RunStarted', data: { runId, templateId, templateVersion: 1, template, name, inputs: { topic: 'dogs' }, autoMode: true, budgetUsd: 5, origin: null } },
    { type: 'PhaseStarted', data: { phaseId: 'draft', attempt: 1 } },
    { type: 'PhaseFailed', data: { phaseId: 'draft', attempt: 1, reason: { code: 'timeout', message: 'too slow', retryable: false } } },
    { type: 'PhaseSkipped', data: { phaseId: 'polish', reason: 'upstream failed' } },
    { type: 'RunFailed', data: { reason: { code: 'phase_failed', message: 'draft failed', retryable: false }, phaseId: 'draft' } },
  ];
}

export const T0 = Date.parse('2026-01-01T00:00:00.000Z');

/**
 * Stamp envelopes and consecutive sequences on events (what the log would return), validating
 * each against the catalog. Event k occurs at `startMs + k` seconds.
 */
export class Recorder {
  private sequence: number;
  constructor(
    start = 1,
    private readonly startMs = T0,
  ) {
    this.sequence = start - 1;
  }
  /** `atMs` stamps every event with that time instead */
  record(aggregate: Aggregate, id: string, events: NewEvent[], atMs?: number): Recorded[] {
    return events.map((event) => {
      this.sequence += 1;
      const envelope = {
        id: `evt-${this.sequence}`,
        type: event.type,
        schemaVersion: CURRENT_SCHEMA_VERSION[event.type],
        streamId: streamIdOf(aggregate, id),
        occurredAt: new Date(atMs ?? this.startMs + this.sequence * 1000).toISOString(),
        correlationId: 'corr',
        causationId: null,
        actor: { kind: 'system', id: 'test' },
        data: event.data,
      };
      return { ...parseEvent(envelope), sequence: this.sequence } as Recorded<ConclaveEvent>;
    });
  }
  get last(): number {
    return this.sequence;
  }
}

export const at = (sequence: number, startMs = T0) => new Date(startMs + sequence * 1000).toISOString();
