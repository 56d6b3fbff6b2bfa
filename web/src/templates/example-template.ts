/**
 * The "New template" form's starting point: small, valid, and runnable offline (simulated
 * provider only). A unit test keeps it valid against the contracts' validator.
 */
export const EXAMPLE_TEMPLATE = {
  name: 'idea-to-plan',
  description: 'Two simulated candidates draft a spec, a judge picks one, then a plan is written from it.',
  inputs: { type: 'object', properties: { idea: { type: 'string', description: 'What to build' } }, required: ['idea'] },
  phases: [
    {
      id: 'spec',
      name: 'Spec',
      kind: 'llm',
      dependsOn: [],
      prompt: { system: 'You are a product analyst.', user: 'Write a short spec for: {{inputs.idea}}' },
      candidates: [
        { provider: 'simulated', model: 'sim-a' },
        { provider: 'simulated', model: 'sim-b' },
      ],
      judge: { provider: 'simulated', model: 'sim-judge', criteria: ['correctness', 'completeness'] },
      output: { artifact: 'spec' },
    },
    {
      id: 'plan',
      name: 'Plan',
      kind: 'llm',
      dependsOn: ['spec'],
      prompt: { user: 'Plan the work for "{{phases.spec.output.title}}".' },
      candidates: [{ provider: 'simulated', model: 'sim' }],
      output: { artifact: 'plan' },
    },
  ],
};

export const EXAMPLE_TEMPLATE_JSON = JSON.stringify(EXAMPLE_TEMPLATE, null, 2);
