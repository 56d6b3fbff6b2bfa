import { type ArtifactView, type CompareModel, type ComparePhase, type ComparePhaseRun, type CompareRun, type CompareScore, type PhaseView, type RunComparison, type RunView } from '@conclave/contracts';

/**
 * Two to four runs side by side (GET /runs/compare): pure, over the runs' REST views and their
 * artifacts. Phases are aligned by id, in the first run's order, then any phase only later runs
 * have, in theirs; a run without a phase gets null in that slot.
 */
export function compareRuns(runs: readonly RunView[], artifactsByRun: ReadonlyMap<string, readonly ArtifactView[]>): RunComparison {
  const order: { id: string; name: string | null; kind: string }[] = [];
  const seen = new Set<string>();
  for (const run of runs) {
    for (const phase of run.phases) {
      if (seen.has(phase.id)) continue;
      seen.add(phase.id);
      order.push({ id: phase.id, name: phase.name, kind: phase.kind });
    }
  }
  const phases: ComparePhase[] = order.map((p) => ({
    ...p,
    runs: runs.map((run) => {
      const phase = run.phases.find((x) => x.id === p.id);
      return phase ? comparePhase(phase, artifactsByRun.get(run.id) ?? []) : null;
    }),
  }));
  return { runs: runs.map(compareRun), phases };
}

function compareRun(run: RunView): CompareRun {
  // CompareRunHeader's fields of the RunView, picked as they are (the view was built to its contract)
  const { id, name, templateId, templateVersion, templateName, status, startedAt, completedAt } = run;
  return {
    id,
    name,
    templateId,
    templateVersion,
    templateName,
    status,
    startedAt,
    completedAt,
    origin: run.origin ?? null,
    totals: {
      costUsd: run.costUsd,
      tokens: run.tokens,
      durationMs: span(run.startedAt, run.completedAt),
      phasesCompleted: run.phases.filter((p) => p.status === 'completed').length,
      phasesTotal: run.phases.length,
    },
  };
}

function comparePhase(phase: PhaseView, artifacts: readonly ArtifactView[]): ComparePhaseRun {
  const candidates = [...phase.candidates].sort((a, b) => a.slot - b.slot);
  const models: CompareModel[] = [];
  for (const c of candidates) {
    if (!models.some((m) => m.provider === c.provider && m.model === c.model)) models.push({ provider: c.provider, model: c.model });
  }
  const artifact = phase.artifactId ? artifacts.find((a) => a.id === phase.artifactId) : undefined;
  const generated = candidates.filter((c) => c.status === 'generated');
  // the output taken names its candidate; before one is taken, the judge's pick; a lone candidate wins alone
  const winnerId = artifact?.candidateId ?? phase.verdict?.winnerId ?? (generated.length === 1 ? generated[0]!.id : null);
  const winner = winnerId ? candidates.find((c) => c.id === winnerId) : undefined;
  const scores: CompareScore[] = Object.entries(phase.verdict?.scores ?? {})
    .map(([candidateId, score]) => {
      const c = candidates.find((x) => x.id === candidateId);
      return { candidateId, provider: c?.provider ?? '?', model: c?.model ?? '?', overall: score.overall, criteria: score.criteria, winner: candidateId === winnerId };
    })
    .sort((a, b) => b.overall - a.overall || a.candidateId.localeCompare(b.candidateId));
  return {
    status: phase.status,
    models,
    winner: winner ? { candidateId: winner.id, provider: winner.provider, model: winner.model } : null,
    output: artifact ? artifact.content : (winner?.output ?? null),
    scores,
    score: winnerId && phase.verdict?.scores[winnerId] ? phase.verdict.scores[winnerId].overall : null,
    tokens: phase.tokens,
    costUsd: phase.costUsd,
    durationMs: span(phase.startedAt, phase.completedAt),
  };
}

function span(start: string | null, end: string | null): number | null {
  return start && end ? Date.parse(end) - Date.parse(start) : null;
}
