import { Template, type JsonSchema, type NewEvent } from '@conclave/contracts';

/** One-phase template whose phase asks two models and a judge. */
export const template = Template.parse({
  name: 'projector-test',
  phases: [
    {
      id: 'draft',
      kind: 'llm',
      prompt: { user: 'Write about {{inputs.topic}}' },
      candidates: [
        { provider: 'simulated', model: 'sim-a' },
        { provider: 'simulated', model: 'sim-b' },
      ],
      judge: { provider: 'simulated', model: 'sim-judge' },
      output: { artifact: 'text' },
    },
    { id: 'polish', kind: 'llm', dependsOn: ['draft'], prompt: { user: 'Polish it' }, candidates: [{ provider: 'simulated', model: 'sim-c' }] },
  ],
});

const output = { artifact: 'text' as const, schema: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] } as JsonSchema };

/** Cost of one completed run in USD (binary-exact, so sums compare exactly). */
export const RUN_COST = 0.25 + 0.5 + 0.125 + 0.0625;
export const RUN_TOKENS = { input: 10 + 20 + 40 + 5, output: 1 + 2 + 4 + 8 };

/** The events of a completed 2-phase run, in order (14 events: 1 run, 2 phases, 3 candidates, 1 verdict, 1 artifact). */
export function runEvents(runId: string): NewEvent[] {
  const c = (phase: string, slot: number) => `${runId}.${phase}.1.c${slot}`;
  const requested = (phaseId: string, slot: number, model: string): NewEvent => ({
    type: 'CandidateRequested',
    data: { phaseId, attempt: 1, round: 0, candidateId: c(phaseId, slot), slot, provider: 'simulated', model, prompt: { user: 'p' }, output, attemptToken: 't', timeoutSeconds: 60 },
  });
  const generated = (phaseId: string, slot: number, costUsd: number, input: number, out: number): NewEvent => ({
    type: 'CandidateGenerated',
    data: { phaseId, attempt: 1, candidateId: c(phaseId, slot), output: { text: `${phaseId}-${slot}` }, tokens: { input, output: out }, costUsd, durationMs: 5, workerId: 'w' },
  });
  return [
    { type: 'RunStarted', data: { runId, templateId: 'tpl', templateVersion: 1, template, name: `run ${runId}`, inputs: { topic: 'x' }, autoMode: true, budgetUsd: null, origin: null } },
    { type: 'PhaseStarted', data: { phaseId: 'draft', attempt: 1 } },
    requested('draft', 0, 'sim-a'),
    requested('draft', 1, 'sim-b'),
    generated('draft', 0, 0.25, 10, 1),
    generated('draft', 1, 0.5, 20, 2),
    {
      type: 'VerdictRecorded',
      data: {
        phaseId: 'draft', attempt: 1, round: 0, judgeId: `${runId}.draft.1.judge`, purpose: 'select', winnerId: c('draft', 1),
        scores: { [c('draft', 0)]: { overall: 0.25, criteria: {} }, [c('draft', 1)]: { overall: 0.75, criteria: {} } },
        rationale: 'b', order: [c('draft', 0), c('draft', 1)], provider: 'simulated', model: 'sim-judge', tokens: { input: 40, output: 4 }, costUsd: 0.125, missing: [],
      },
    },
    { type: 'ArtifactRecorded', data: { artifactId: `${runId}.draft.1.artifact`, phaseId: 'draft', attempt: 1, candidateId: c('draft', 1), artifactType: 'text', content: { text: 'draft-1' } } },
    { type: 'PhaseCompleted', data: { phaseId: 'draft', attempt: 1, artifactId: `${runId}.draft.1.artifact` } },
    { type: 'PhaseStarted', data: { phaseId: 'polish', attempt: 1 } },
    requested('polish', 0, 'sim-c'),
    generated('polish', 0, 0.0625, 5, 8),
    { type: 'PhaseCompleted', data: { phaseId: 'polish', attempt: 1, artifactId: null } },
    { type: 'RunCompleted', data: {} },
  ];
}
