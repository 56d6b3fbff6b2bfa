import type { PhaseView, Template } from '@conclave/contracts';

type TemplatePhase = Template['phases'][number];

/** A phase as it is before anything happened to it: the node of a template preview or a fresh run. */
export function pendingPhase(phase: TemplatePhase): PhaseView {
  return {
    id: phase.id,
    name: phase.name ?? null,
    kind: phase.kind,
    dependsOn: [...(phase.dependsOn ?? [])],
    status: 'pending',
    attempt: 0,
    startedAt: null,
    completedAt: null,
    candidates: [],
    verdict: null,
    artifactId: null,
    costUsd: 0,
    tokens: { input: 0, output: 0 },
    error: null,
    artifactCandidateId: null,
    // loop phases: "Round n of maxRounds" and the threshold line before the first round is folded in
    loop: phase.kind === 'loop' ? { maxRounds: phase.loop.maxAttempts, passThreshold: phase.loop.passThreshold, rounds: [] } : null,
  };
}

export function pendingPhases(template: Pick<Template, 'phases'>): PhaseView[] {
  return template.phases.map(pendingPhase);
}
