// Completed runs written straight into a bench's log: P llm phases in a chain, each with two
// candidates, a judge, a verdict, an artifact and a checkpoint (10 events per phase, 32 events for
// a 3-phase run), appended by 64 concurrent writers so runs interleave in the log as live ones do,
// committed as the orchestrator groups them (ADR 014; decisionsOf).
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** The events of one completed run of `template` (see benchTemplate). */
export function completedRunEvents(runId, n, template) {
  const output = { artifact: 'text', schema: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] } };
  const text = (k) => `lorem ipsum dolor sit amet `.repeat(k);
  const events = [{ type: 'RunStarted', data: { runId, templateId: `tpl-${template.name}`, templateVersion: 1, template, name: `bench run ${n}`, inputs: { topic: `topic ${n}` }, autoMode: true, budgetUsd: 10, origin: null } }];
  const done = [];
  for (const { id: phaseId } of template.phases) {
    const c = (slot) => `${runId}.${phaseId}.1.c${slot}`;
    events.push({ type: 'PhaseStarted', data: { phaseId, attempt: 1 } });
    for (const slot of [0, 1]) {
      events.push({
        type: 'CandidateRequested',
        data: { phaseId, attempt: 1, round: 0, candidateId: c(slot), slot, provider: 'simulated', model: slot ? 'sim-b' : 'sim-a', prompt: { user: `${phaseId} for topic ${n}` }, output, attemptToken: randomUUID(), timeoutSeconds: 60 },
      });
    }
    for (const slot of [0, 1]) {
      events.push({
        type: 'CandidateGenerated',
        data: { phaseId, attempt: 1, candidateId: c(slot), output: { text: text(8 + slot) }, tokens: { input: 120 + slot, output: 300 + slot }, costUsd: 0.001953125 * (slot + 1), durationMs: 800 + slot, workerId: 'w-1' },
      });
    }
    events.push({ type: 'JudgeRequested', data: { phaseId, attempt: 1, round: 0, judgeId: `${runId}.${phaseId}.1.judge`, purpose: 'select', provider: 'simulated', model: 'sim-judge', criteria: ['quality'], task: phaseId, candidates: [0, 1].map((slot) => ({ candidateId: c(slot), output: { text: text(8 + slot) } })), attemptToken: randomUUID() } });
    events.push({
      type: 'VerdictRecorded',
      data: {
        phaseId, attempt: 1, round: 0, judgeId: `${runId}.${phaseId}.1.judge`, purpose: 'select', winnerId: c(1),
        scores: { [c(0)]: { overall: 0.25, criteria: { quality: 0.25 } }, [c(1)]: { overall: 0.75, criteria: { quality: 0.75 } } },
        rationale: 'the second is clearer', order: [c(0), c(1)], provider: 'simulated', model: 'sim-judge', tokens: { input: 400, output: 40 }, costUsd: 0.0009765625,
      },
    });
    const artifactId = `${runId}.${phaseId}.1.artifact`;
    events.push({ type: 'ArtifactRecorded', data: { artifactId, phaseId, attempt: 1, candidateId: c(1), artifactType: 'text', content: { text: text(9) } } });
    events.push({ type: 'PhaseCompleted', data: { phaseId, attempt: 1, artifactId } });
    done.push(phaseId);
    events.push({ type: 'CheckpointCreated', data: { checkpointId: `${runId}.cp.${phaseId}`, phaseId, completedPhaseIds: [...done] } });
  }
  events.push({ type: 'RunCompleted', data: {} });
  return events;
}

/** A chain of `phases` llm phases with two candidates and a judge each. */
export function benchTemplate(phases) {
  const { Template } = require('@conclave/contracts');
  const phaseIds = phases === 3 ? ['discover', 'spec', 'build'] : Array.from({ length: phases }, (_, i) => `phase-${i + 1}`);
  return Template.parse({
    name: `bench-${phases}x2`,
    phases: phaseIds.map((pid, i) => ({
      id: pid,
      kind: 'llm',
      dependsOn: i === 0 ? [] : [phaseIds[i - 1]],
      prompt: { user: `${pid} for {{inputs.topic}}` },
      candidates: [
        { provider: 'simulated', model: 'sim-a' },
        { provider: 'simulated', model: 'sim-b' },
      ],
      judge: { provider: 'simulated', model: 'sim-judge' },
    })),
  });
}

/**
 * The commits (ADR 014) the orchestrator appends for one completed run, as it groups them: the
 * start with the first phase's start and requests; both candidates' results with the judge's
 * request (they arrive together and share a commit: ADR 014 §12, the group commit per run); the
 * verdict with the artifact, the completion, the checkpoint and the next phase's start and
 * requests (or the run's completion). 7 commits for a 3-phase run. `resultsApart` cuts the first
 * result into a commit of its own, as before the group commit (10 commits for a 3-phase run).
 */
export function decisionsOf(events, { resultsApart = false } = {}) {
  const commits = [];
  let current = [];
  const cut = () => {
    if (current.length > 0) commits.push(current);
    current = [];
  };
  for (const event of events) {
    // a commit starts with a phase's results and with each verdict
    if (event.type === 'CandidateGenerated' && event.data.candidateId.endsWith('.c0')) cut();
    if (resultsApart && event.type === 'CandidateGenerated' && event.data.candidateId.endsWith('.c1')) cut();
    if (event.type === 'VerdictRecorded') cut();
    current.push(event);
  }
  cut();
  return commits;
}

/**
 * Append `count` completed runs of `phases` phases, committed as the orchestrator groups them
 * (decisionsOf; `resultsApart` as before the group commit), each run's commits in order; returns
 * their ids and the number of events appended.
 */
export async function writeCompletedRuns(eventLog, count, phases = 3, { resultsApart = false } = {}) {
  const template = benchTemplate(phases);
  const runIds = Array.from({ length: count }, () => randomUUID());
  let next = 0;
  let events = 0;
  const meta = () => ({ occurredAt: new Date().toISOString(), correlationId: randomUUID(), causationId: null, actor: { kind: 'system', id: 'bench' } });
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      while (next < runIds.length) {
        const n = next++;
        for (const commit of decisionsOf(completedRunEvents(runIds[n], n, template), { resultsApart })) {
          await eventLog.append('run', runIds[n], commit, 'any', meta());
          events += commit.length;
        }
      }
    }),
  );
  return Object.assign(runIds, { events });
}
