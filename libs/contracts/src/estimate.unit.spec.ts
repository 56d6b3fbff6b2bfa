import { estimateCallUsd, estimateRun, priceLookupOf, previewFirstPrompts, Template, type PriceLookup, type RunEstimate, type TemplateInput } from './index';

/*
 * Hand-computed figures. One call = 2,000 input + 1,000 output tokens (EXPECTED_TOKENS):
 *   gpt-4.1            $2 / $8 per 1M      → 2000×2/1e6 + 1000×8/1e6   = 0.004 + 0.008   = $0.012
 *   claude-sonnet-4-5  $3 / $15 per 1M     → 0.006 + 0.015                               = $0.021
 *   gpt-4.1-mini       $0.4 / $1.6 per 1M  → 0.0008 + 0.0016                             = $0.0024
 *   gpt-4.1 capped at maxTokens 500        → 0.004 + 500×8/1e6 = 0.004 + 0.004           = $0.008
 */

const defaultPrices: PriceLookup = priceLookupOf([]);
const template = (phases: unknown[], extra: Partial<TemplateInput> = {}): Template => Template.parse({ name: 't', phases, ...extra });

function given(phases: unknown[], lookup: PriceLookup = defaultPrices): RunEstimate {
  const result = estimateRun(template(phases), lookup);
  if (!result.ok) throw new Error(`expected an estimate, got missing prices ${JSON.stringify(result.missing)}`);
  return result.estimate;
}

const gpt41 = { provider: 'openai', model: 'gpt-4.1' };
const sonnet = { provider: 'anthropic', model: 'claude-sonnet-4-5' };
const mini = { provider: 'openai', model: 'gpt-4.1-mini' };

describe('estimateRun', () => {
  it('given an llm phase with two candidates and a judge, when estimated, then min = expected = max = both candidates + one judge call', () => {
    const estimate = given([{ id: 'draft', kind: 'llm', prompt: { user: 'x' }, candidates: [gpt41, sonnet], judge: mini }]);

    // 0.012 + 0.021 + 0.0024
    expect(estimate.expected).toEqual({ usd: 0.0354, tokens: { input: 6000, output: 3000 }, calls: 3 });
    expect(estimate.min).toEqual(estimate.expected);
    expect(estimate.max).toEqual(estimate.expected);
    expect(estimate.phases[0]!.calls.map((c) => [c.role, c.model, c.usd, c.times.expected])).toEqual([
      ['candidate', 'gpt-4.1', 0.012, 1],
      ['candidate', 'claude-sonnet-4-5', 0.021, 1],
      ['judge', 'gpt-4.1-mini', 0.0024, 1],
    ]);
  });

  it('given a single candidate, when estimated, then there is no judge call', () => {
    const estimate = given([{ id: 'draft', kind: 'llm', prompt: { user: 'x' }, candidates: [gpt41], judge: mini }]);
    expect(estimate.expected).toEqual({ usd: 0.012, tokens: { input: 2000, output: 1000 }, calls: 1 });
  });

  it("given two candidates and no judge, when estimated, then the first candidate's model judges (as the orchestrator picks)", () => {
    const estimate = given([{ id: 'draft', kind: 'llm', prompt: { user: 'x' }, candidates: [sonnet, gpt41] }]);
    // 0.021 + 0.012 + judge on claude-sonnet-4-5 0.021
    expect(estimate.expected.usd).toBe(0.054);
    expect(estimate.phases[0]!.calls.at(-1)).toMatchObject({ role: 'judge', model: 'claude-sonnet-4-5' });
  });

  it('given a loop of maxAttempts 4, when estimated, then min = 1 round, expected = 3 rounds, max = 4 rounds of candidate + evaluator', () => {
    const estimate = given([
      { id: 'refine', kind: 'loop', prompt: { user: 'x' }, candidates: [gpt41], loop: { maxAttempts: 4, passThreshold: 0.8, evaluator: mini } },
    ]);

    // a round: gpt-4.1 0.012 + evaluator gpt-4.1-mini 0.0024 = 0.0144
    expect(estimate.phases[0]!.rounds).toEqual({ min: 1, expected: 3, max: 4 });
    expect(estimate.min).toEqual({ usd: 0.0144, tokens: { input: 4000, output: 2000 }, calls: 2 });
    expect(estimate.expected).toEqual({ usd: 0.0432, tokens: { input: 12000, output: 6000 }, calls: 6 });
    expect(estimate.max).toEqual({ usd: 0.0576, tokens: { input: 16000, output: 8000 }, calls: 8 });
  });

  it('given a loop with two candidates, when estimated, then each round adds the selecting judge (first candidate) and the evaluator', () => {
    const estimate = given([
      { id: 'refine', kind: 'loop', prompt: { user: 'x' }, candidates: [gpt41, sonnet], loop: { maxAttempts: 3, passThreshold: 0.8, evaluator: mini } },
    ]);
    // a round: 0.012 + 0.021 + judge gpt-4.1 0.012 + evaluator 0.0024 = 0.0474; expected ⌈(1+3)/2⌉ = 2 rounds
    expect([estimate.min.usd, estimate.expected.usd, estimate.max.usd]).toEqual([0.0474, 0.0948, 0.1422]);
    expect([estimate.min.calls, estimate.expected.calls, estimate.max.calls]).toEqual([4, 8, 12]);
  });

  it("given a candidate's maxTokens, when estimated, then its output tokens are capped as the budget reservation caps them", () => {
    const estimate = given([{ id: 'draft', kind: 'llm', prompt: { user: 'x' }, candidates: [{ ...gpt41, options: { maxTokens: 500 } }] }]);
    expect(estimate.expected).toEqual({ usd: 0.008, tokens: { input: 2000, output: 500 }, calls: 1 });
    // the same figure the orchestrator reserves before dispatching the call
    expect(estimate.expected.usd).toBe(estimateCallUsd('openai', 'gpt-4.1', 500));
  });

  it('given an agent phase, when estimated, then max counts maxIterations model turns per candidate', () => {
    const estimate = given([{ id: 'code', kind: 'agent', prompt: { user: 'x' }, candidates: [gpt41], maxIterations: 5 }]);
    expect([estimate.min.usd, estimate.expected.usd, estimate.max.usd]).toEqual([0.012, 0.012, 0.06]);
  });

  it('given gates, conditions, tools and simulated models, when estimated, then they cost nothing and the phases add up', () => {
    const estimate = given([
      { id: 'ask', kind: 'interview', prompt: { user: 'x' } },
      { id: 'sim', kind: 'llm', dependsOn: ['ask'], prompt: { user: 'x' }, candidates: [{ provider: 'simulated', model: 'sim' }] },
      { id: 'ok', kind: 'gate', dependsOn: ['sim'], message: 'go?' },
      { id: 'paid', kind: 'llm', dependsOn: ['ok'], prompt: { user: 'x' }, candidates: [mini] },
    ]);
    expect(estimate.phases.map((p) => [p.phaseId, p.expected.usd, p.expected.calls])).toEqual([
      ['ask', 0, 1],
      ['sim', 0, 1],
      ['ok', 0, 0],
      ['paid', 0.0024, 1],
    ]);
    expect(estimate.phases[1]!.calls[0]!.price).toBeNull();
    expect(estimate.expected).toEqual({ usd: 0.0024, tokens: { input: 6000, output: 3000 }, calls: 3 });
  });

  it('given a model with no price anywhere, when estimated, then every unpriced call is named (phase, role, provider, model)', () => {
    const result = estimateRun(
      template([
        { id: 'a', kind: 'llm', prompt: { user: 'x' }, candidates: [{ provider: 'openai', model: 'gpt-9' }, gpt41], judge: { provider: 'local', model: 'llama-3' } },
        { id: 'b', kind: 'llm', prompt: { user: 'x' }, candidates: [gpt41] },
      ]),
      defaultPrices,
    );
    expect(result).toEqual({
      ok: false,
      missing: [
        { phaseId: 'a', role: 'candidate', provider: 'openai', model: 'gpt-9' },
        { phaseId: 'a', role: 'judge', provider: 'local', model: 'llama-3' },
      ],
    });
  });

  it("given a provider's configured prices, when estimated, then they override the defaults and price models the table lacks", () => {
    const lookup = priceLookupOf([
      { name: 'openai', kind: 'openai', prices: { 'gpt-4.1': { inputPer1M: 1, outputPer1M: 4 } } },
      { name: 'local', kind: 'openai', prices: { 'llama-3': { inputPer1M: 0.5, outputPer1M: 0.5 } } },
      { name: 'fake', kind: 'simulated', prices: {} },
    ]);
    const estimate = given(
      [{ id: 'a', kind: 'llm', prompt: { user: 'x' }, candidates: [gpt41, { provider: 'fake', model: 'claude-opus-4-1' }], judge: { provider: 'local', model: 'llama-3' } }],
      lookup,
    );
    // gpt-4.1 at $1/$4: 0.002 + 0.004 = 0.006; a simulated-kind provider: 0; llama-3 at $0.5/$0.5: 0.001 + 0.0005 = 0.0015
    expect(estimate.phases[0]!.calls.map((c) => c.usd)).toEqual([0.006, 0, 0.0015]);
    expect(estimate.expected.usd).toBe(0.0075);
  });

  it("given a dated model name, when estimated, then it is priced as its base model (as the workers charge it)", () => {
    const estimate = given([{ id: 'a', kind: 'llm', prompt: { user: 'x' }, candidates: [{ provider: 'anthropic', model: 'claude-sonnet-4-5-20250929' }] }]);
    expect(estimate.expected.usd).toBe(0.021);
  });
});

describe('previewFirstPrompts', () => {
  it('given inputs, when previewed, then the phases without dependencies render them as the orchestrator will send them', () => {
    const t = template(
      [
        { id: 'plan', name: 'Plan', kind: 'llm', prompt: { system: 'You plan for {{inputs.team}}.', user: 'Idea: {{inputs.idea}}\nLimits: {{inputs.limits}}' }, candidates: [gpt41] },
        { id: 'ask', kind: 'interview', prompt: { user: 'About {{inputs.idea}}' }, maxQuestions: 3 },
        { id: 'later', kind: 'llm', dependsOn: ['plan'], prompt: { user: '{{phases.plan.output.text}}' }, candidates: [gpt41] },
        { id: 'gate', kind: 'gate', message: 'go?' },
      ],
      { inputs: { type: 'object', properties: { idea: { type: 'string' }, team: { type: 'string' }, limits: { type: 'object' } } } },
    );
    expect(previewFirstPrompts(t, { idea: 'a bike map', limits: { weeks: 2 } })).toEqual([
      { phaseId: 'plan', name: 'Plan', system: 'You plan for .', user: 'Idea: a bike map\nLimits: {\n  "weeks": 2\n}' },
      { phaseId: 'ask', name: null, user: 'About a bike map\n\nAsk at most 3 questions whose answers you need before the work can start.' },
    ]);
  });
});
