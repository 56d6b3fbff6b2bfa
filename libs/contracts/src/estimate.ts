import { z } from 'zod';
import { ModelPrice } from './events';
import { round6 } from './money';
import { costUsd, expectedCallTokens, priceOf } from './prices';
import { interviewPrompt, renderPrompt } from './render';
import type { Phase, Template } from './template';

/**
 * What a run of a template is expected to cost before it starts (`POST /templates/:id/estimate`).
 *
 * Every call is priced the way the orchestrator reserves budget for it (`estimateCallUsd`): the
 * expected tokens of a call (EXPECTED_TOKENS, the output capped by the candidate's maxTokens; a
 * judge gets no cap) × the model's price. What differs between min, expected and max is only how
 * many times each call is made:
 * - llm: every candidate once, plus one judge call when there are two or more candidates (the
 *   template's judge, else the first candidate's model, as the orchestrator picks);
 * - loop: per round the candidates, the selecting judge (two or more candidates) and the evaluator;
 *   min 1 round (the first passes), expected ⌈(1 + maxAttempts) / 2⌉ rounds, max maxAttempts rounds;
 * - agent: a candidate is one call in min and expected (the reservation), up to maxIterations model
 *   turns (default 25) in max; judged like llm;
 * - interview: one call (its candidate, else the free simulated interviewer);
 * - gate, condition, tool: no LLM call.
 * Retries after failures and the branch a condition skips are not counted (every phase as if it runs once).
 */

/** Model turns an agent candidate may take when the phase does not say (the orchestrator's default). */
export const DEFAULT_AGENT_ITERATIONS = 25;

export const EstimateBody = z.strictObject({
  /** the template version (default: the latest) */
  version: z.number().int().positive().optional(),
  /** the run's inputs: checked against the inputs schema and rendered into the preview */
  inputs: z.record(z.string(), z.unknown()).optional(),
});
export type EstimateBody = z.infer<typeof EstimateBody>;

const Tokens = z.object({ input: z.number().int().nonnegative(), output: z.number().int().nonnegative() });
const Range = z.object({ min: z.number().nonnegative(), expected: z.number().nonnegative(), max: z.number().nonnegative() });
export const EstimateFigures = z.object({ usd: z.number().nonnegative(), tokens: Tokens, calls: z.number().int().nonnegative() });
export type EstimateFigures = z.infer<typeof EstimateFigures>;

export const EstimateCallRole = z.enum(['candidate', 'judge', 'evaluator', 'interviewer']);
export type EstimateCallRole = z.infer<typeof EstimateCallRole>;

/** One kind of call a phase makes, priced once and counted min / expected / max times. */
export const EstimatedCall = z.object({
  role: EstimateCallRole,
  provider: z.string(),
  model: z.string(),
  /** null: free (a simulated provider) */
  price: ModelPrice.nullable(),
  /** the expected tokens and cost of one call */
  tokens: Tokens,
  usd: z.number().nonnegative(),
  times: Range,
});
export type EstimatedCall = z.infer<typeof EstimatedCall>;

export const PhaseEstimate = z.object({
  phaseId: z.string(),
  name: z.string().nullable(),
  kind: z.string(),
  /** rounds of a loop phase (min 1, expected, max = maxAttempts); null for other kinds */
  rounds: Range.nullable(),
  calls: z.array(EstimatedCall),
  min: EstimateFigures,
  expected: EstimateFigures,
  max: EstimateFigures,
  /** how this phase's counts were chosen, in words */
  basis: z.string(),
});
export type PhaseEstimate = z.infer<typeof PhaseEstimate>;

export const PromptPreview = z.object({ phaseId: z.string(), name: z.string().nullable(), system: z.string().optional(), user: z.string() });
export type PromptPreview = z.infer<typeof PromptPreview>;

export const EstimateResponse = z.object({
  templateId: z.string(),
  version: z.number().int().positive(),
  currency: z.literal('USD'),
  min: EstimateFigures,
  expected: EstimateFigures,
  max: EstimateFigures,
  phases: z.array(PhaseEstimate),
  /** the template's default budget (a run without `budgetUsd` gets it), or null */
  defaultBudgetUsd: z.number().nullable(),
  assumptions: z.array(z.string()),
  /** the first prompts the run sends (phases with no dependencies), rendered with the inputs */
  preview: z.array(PromptPreview),
});
export type EstimateResponse = z.infer<typeof EstimateResponse>;

/** A model the estimate could not price: named so the user can add its price to the provider. */
export interface MissingPrice {
  phaseId: string;
  role: EstimateCallRole;
  provider: string;
  model: string;
}

/** The price of a model at a provider: 'free' (simulated), a price, or undefined when unknown. */
export type PriceLookup = (provider: string, model: string) => ModelPrice | 'free' | undefined;

/**
 * Prices as the workers charge them: a provider's configured `prices` over the default table; the
 * provider named `simulated`, and any provider of kind `simulated`, is free. A provider the template
 * names but nobody configured is priced from the default table.
 */
export function priceLookupOf(providers: readonly { name: string; kind: string; prices: Record<string, ModelPrice> }[]): PriceLookup {
  const byName = new Map(providers.map((p) => [p.name, p]));
  return (provider, model) => {
    const config = byName.get(provider);
    if (provider === 'simulated' || config?.kind === 'simulated') return 'free';
    return priceOf(model, config?.prices ?? {});
  };
}

export type RunEstimate = Omit<EstimateResponse, 'templateId' | 'version' | 'currency' | 'preview'>;

export const ESTIMATE_ASSUMPTIONS: readonly string[] = [
  'Each call uses the tokens the orchestrator reserves budget for: 2,000 input and 1,000 output (less when a candidate sets maxTokens); judges are not capped.',
  "Prices are the provider's configured prices, else the default list prices; simulated providers are free.",
  'A phase with two or more candidates adds one judge call per round (the template judge, else the first candidate model).',
  'Loops: min = 1 round (the first round passes), expected = ⌈(1 + maxAttempts) / 2⌉ rounds, max = maxAttempts rounds; each round calls the candidates, the judge when there are several, and the evaluator.',
  'Agents: min and expected count one call per candidate (what the orchestrator reserves); max counts maxIterations model turns (default 25).',
  'Retries after failures are not counted; phases behind a condition are counted as if their branch is taken.',
];

/**
 * The estimate of one run of `template`, or the calls whose model has no price (the caller answers
 * 422 naming them). Pure: prices arrive through `lookup`.
 */
export function estimateRun(template: Template, lookup: PriceLookup): { ok: true; estimate: RunEstimate } | { ok: false; missing: MissingPrice[] } {
  const missing: MissingPrice[] = [];
  const phases = template.phases.map((phase) => estimatePhase(phase, lookup, missing));
  if (missing.length > 0) return { ok: false, missing };
  const sum = (pick: (p: PhaseEstimate) => EstimateFigures): EstimateFigures => addFigures(phases.map(pick));
  return {
    ok: true,
    estimate: {
      min: sum((p) => p.min),
      expected: sum((p) => p.expected),
      max: sum((p) => p.max),
      phases,
      defaultBudgetUsd: template.defaults.budgetUsd ?? null,
      assumptions: [...ESTIMATE_ASSUMPTIONS],
    },
  };
}

/** The prompts of the phases a run starts with, rendered with `inputs` exactly as the orchestrator renders them. */
export function previewFirstPrompts(template: Template, inputs: Record<string, unknown>): PromptPreview[] {
  const context = { inputs, phases: {}, answers: {} };
  return template.phases.flatMap((phase) => {
    if (phase.dependsOn.length > 0 || !('prompt' in phase)) return [];
    const rendered = renderPrompt(phase.prompt, context);
    const prompt = phase.kind === 'interview' ? interviewPrompt(rendered, phase.maxQuestions) : rendered;
    return [{ phaseId: phase.id, name: phase.name ?? null, ...prompt }];
  });
}

interface CallPlan {
  role: EstimateCallRole;
  provider: string;
  model: string;
  maxTokens?: number;
  times: { min: number; expected: number; max: number };
}

function estimatePhase(phase: Phase, lookup: PriceLookup, missing: MissingPrice[]): PhaseEstimate {
  const { plans, rounds, basis } = planCalls(phase);
  const calls = plans.flatMap((plan): EstimatedCall[] => {
    const price = lookup(plan.provider, plan.model);
    if (price === undefined) {
      missing.push({ phaseId: phase.id, role: plan.role, provider: plan.provider, model: plan.model });
      return [];
    }
    const tokens = expectedCallTokens(plan.maxTokens);
    return [{ role: plan.role, provider: plan.provider, model: plan.model, price: price === 'free' ? null : price, tokens, usd: price === 'free' ? 0 : round6(costUsd(tokens, price)), times: plan.times }];
  });
  const figures = (which: 'min' | 'expected' | 'max'): EstimateFigures =>
    addFigures(calls.map((c) => ({ usd: c.usd * c.times[which], tokens: { input: c.tokens.input * c.times[which], output: c.tokens.output * c.times[which] }, calls: c.times[which] })));
  return { phaseId: phase.id, name: phase.name ?? null, kind: phase.kind, rounds, calls, min: figures('min'), expected: figures('expected'), max: figures('max'), basis };
}

function planCalls(phase: Phase): { plans: CallPlan[]; rounds: PhaseEstimate['rounds']; basis: string } {
  const once = { min: 1, expected: 1, max: 1 };
  switch (phase.kind) {
    case 'llm': {
      const plans = [...candidatePlans(phase.candidates, once), ...selectJudgePlan(phase.candidates, phase.judge, once)];
      return { plans, rounds: null, basis: phase.candidates.length > 1 ? `${phase.candidates.length} candidates once, then the judge once` : 'one candidate once, no judge' };
    }
    case 'agent': {
      const iterations = phase.maxIterations ?? DEFAULT_AGENT_ITERATIONS;
      const turns = { min: 1, expected: 1, max: iterations };
      const plans = [...candidatePlans(phase.candidates, turns), ...selectJudgePlan(phase.candidates, phase.judge, once)];
      return { plans, rounds: null, basis: `each candidate: 1 model turn (min, expected) to ${iterations} (max)${phase.candidates.length > 1 ? ', then the judge once' : ''}` };
    }
    case 'loop': {
      const max = phase.loop.maxAttempts;
      const rounds = { min: 1, expected: Math.ceil((1 + max) / 2), max };
      const plans = [
        ...candidatePlans(phase.candidates, rounds),
        ...selectJudgePlan(phase.candidates, undefined, rounds), // a loop has no judge of its own: the first candidate's model selects
        { role: 'evaluator' as const, provider: phase.loop.evaluator.provider, model: phase.loop.evaluator.model, times: rounds },
      ];
      return { plans, rounds, basis: `${rounds.min} round (min), ${rounds.expected} (expected), ${rounds.max} (max = maxAttempts); each round: ${phase.candidates.length > 1 ? 'the candidates, the judge and' : 'the candidate and'} the evaluator` };
    }
    case 'interview': {
      const interviewer = phase.candidates?.[0] ?? { provider: 'simulated', model: 'sim-interviewer' };
      return { plans: [{ role: 'interviewer', provider: interviewer.provider, model: interviewer.model, maxTokens: interviewer.options?.maxTokens, times: once }], rounds: null, basis: 'one call that asks the questions' };
    }
    case 'gate':
    case 'condition':
    case 'tool':
      return { plans: [], rounds: null, basis: phase.kind === 'tool' ? 'runs a tool, no LLM call' : `a ${phase.kind}, no LLM call` };
    default: {
      const never: never = phase;
      throw new Error(`unknown phase kind ${JSON.stringify(never)}`);
    }
  }
}

type Candidates = Extract<Phase, { kind: 'llm' }>['candidates'];
type Judge = Extract<Phase, { kind: 'llm' }>['judge'];

function candidatePlans(candidates: Candidates, times: CallPlan['times']): CallPlan[] {
  return candidates.map((c) => ({ role: 'candidate', provider: c.provider, model: c.model, maxTokens: c.options?.maxTokens, times }));
}

/** The orchestrator's selecting judge: only with two or more candidates; the template's, else the first candidate's model. */
function selectJudgePlan(candidates: Candidates, judge: Judge, times: CallPlan['times']): CallPlan[] {
  if (candidates.length < 2) return [];
  const spec = judge ?? candidates[0]!;
  return [{ role: 'judge', provider: spec.provider, model: spec.model, times }];
}

function addFigures(all: EstimateFigures[]): EstimateFigures {
  const total = all.reduce<EstimateFigures>(
    (sum, f) => ({ usd: sum.usd + f.usd, tokens: { input: sum.tokens.input + f.tokens.input, output: sum.tokens.output + f.tokens.output }, calls: sum.calls + f.calls }),
    { usd: 0, tokens: { input: 0, output: 0 }, calls: 0 },
  );
  return { ...total, usd: round6(total.usd) };
}
