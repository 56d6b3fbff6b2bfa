import type { PhaseView, ProviderView, RunView } from '@conclave/contracts';

/**
 * Which controls the run's state allows (DESIGN.md "Run controls"). The orchestrator decides for
 * real (a stale page gets a typed 409); this only keeps impossible buttons off the screen.
 */
export function allowedRunActions(view: RunView) {
  const terminal = view.status === 'completed' || view.status === 'failed' || view.status === 'cancelled';
  return {
    pause: view.status === 'running' || view.status === 'waiting',
    resume: view.status === 'paused',
    cancel: !terminal,
    continue: !terminal && view.status !== 'paused' && view.pending.continue.length > 0,
    rollback: view.status !== 'cancelled' && view.status !== 'running',
    rerun: true,
  };
}

const GENERATIVE = new Set(['llm', 'agent', 'loop', 'interview', 'tool']);

/** A candidate whose output failed the phase's schema, in the orchestrator (rejected) or in the worker. */
export function hasOutputToFix(phase: PhaseView): boolean {
  return phase.candidates.some((c) => c.status === 'rejected' || c.error?.code === 'output_invalid');
}

export function allowedPhaseActions(view: RunView, phase: PhaseView) {
  const cancelled = view.status === 'cancelled';
  // A failed phase may be skipped too: its dependants then run without its output.
  const finished = phase.status === 'completed' || phase.status === 'skipped' || phase.status === 'cancelled';
  return {
    // The orchestrator refuses a retry of any phase that is not failed (409).
    retry: !cancelled && GENERATIVE.has(phase.kind) && phase.status === 'failed',
    skip: !cancelled && view.status !== 'completed' && !finished,
    // The orchestrator accepts an output for a failed phase: the rejected one (as is or edited), or
    // one typed in when the worker refused its own output (output_invalid: no raw output recorded).
    accept: !cancelled && phase.status === 'failed' && hasOutputToFix(phase),
    // A fork reuses the recorded upstream outputs: every dependency must have completed.
    fork: phase.dependsOn.every((d) => view.phases.find((p) => p.id === d)?.status === 'completed'),
  };
}

/**
 * The models the retry picker offers for `provider`: the provider's configured models and price
 * list, then the ones this run already used with it (in phase order), without repeats.
 */
export function modelChoices(configured: Pick<ProviderView, 'models' | 'prices'> | undefined, view: RunView, provider: string): string[] {
  if (!provider) return [];
  const used = view.phases.flatMap((p) => p.candidates.filter((c) => c.provider === provider).map((c) => c.model));
  return [...new Set([...(configured?.models ?? []), ...Object.keys(configured?.prices ?? {}), ...used])];
}
