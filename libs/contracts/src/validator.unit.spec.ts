import { validateTemplate, type TemplateError, type TemplateInput } from './index';

const sim = { provider: 'simulated', model: 'sim' };
const llm = (id: string, dependsOn: string[] = [], user = 'do it') => ({ id, kind: 'llm' as const, dependsOn, prompt: { user }, candidates: [sim] });
const tpl = (phases: unknown[], extra: Partial<TemplateInput> = {}): unknown => ({ name: 't', phases, ...extra });
const errorsOf = (input: unknown): TemplateError[] => {
  const r = validateTemplate(input);
  if (r.valid) throw new Error('expected the template to be invalid');
  return r.errors;
};

describe('validateTemplate', () => {
  it('accepts the example of DESIGN.md and reports its execution levels', () => {
    const r = validateTemplate({
      name: 'feature-pipeline',
      description: 'Idea to reviewed plan',
      inputs: { type: 'object', properties: { idea: { type: 'string' } }, required: ['idea'] },
      defaults: { timeoutSeconds: 600, retry: { maxAttempts: 3, backoffSeconds: 2 }, autoProceed: true },
      phases: [
        {
          id: 'discovery', name: 'Discovery', kind: 'llm', dependsOn: [],
          prompt: { system: 'You are a product analyst.', user: 'Idea: {{inputs.idea}}' },
          candidates: [{ provider: 'anthropic', model: 'claude-sonnet-4-5' }, { provider: 'openai', model: 'gpt-4.1' }],
          judge: { provider: 'openai', model: 'gpt-4.1-mini', criteria: ['correctness', 'completeness'] },
          output: { artifact: 'spec' },
        },
        { id: 'review', kind: 'gate', dependsOn: ['discovery'], message: 'Approve the spec?' },
        {
          id: 'draft', kind: 'loop', dependsOn: ['review'],
          prompt: { user: 'Write the plan for {{phases.discovery.output.title}}' },
          candidates: [{ provider: 'simulated', model: 'sim' }],
          loop: { maxAttempts: 3, passThreshold: 0.8, evaluator: { provider: 'simulated', model: 'sim-judge', criteria: ['quality'] } },
          output: { schema: { type: 'object', properties: { steps: { type: 'array' } }, required: ['steps'] } },
        },
      ],
    });
    expect(r.errors).toEqual([]);
    expect(r.levels).toEqual([['discovery'], ['review'], ['draft']]);
  });

  it('groups independent phases on one level (they run in parallel)', () => {
    const r = validateTemplate(tpl([llm('a'), llm('b'), llm('c', ['a', 'b']), llm('d', ['a'])]));
    expect(r.levels).toEqual([['a', 'b'], ['c', 'd']]);
  });

  it('fills in defaults', () => {
    const r = validateTemplate(tpl([llm('a')]));
    if (!r.valid) throw new Error('invalid');
    expect(r.template.defaults).toEqual({ timeoutSeconds: 600, retry: { maxAttempts: 3, backoffSeconds: 2 }, autoProceed: true });
    expect(r.template.phases[0]).toMatchObject({ output: { artifact: 'text' } });
  });

  it('names the phase and field of a schema error', () => {
    const [e] = errorsOf(tpl([llm('a'), { ...llm('b'), candidates: [] }]));
    expect(e).toMatchObject({ code: 'schema', phaseId: 'b', field: 'candidates', path: ['phases', 1, 'candidates'] });
  });

  it('refuses unknown fields (a misspelt setting is an error, not ignored)', () => {
    const [e] = errorsOf(tpl([{ ...llm('a'), dependOn: ['x'] }]));
    expect(e).toMatchObject({ code: 'schema', phaseId: 'a' });
    expect(e!.message).toMatch(/dependOn/);
  });

  it('refuses an unknown phase kind and an unknown artifact type', () => {
    expect(errorsOf(tpl([{ id: 'a', kind: 'magic' }]))[0]).toMatchObject({ code: 'schema', phaseId: 'a' });
    expect(errorsOf(tpl([{ ...llm('a'), output: { artifact: 'poem' } }]))[0]).toMatchObject({ code: 'schema', phaseId: 'a', field: 'output' });
  });

  it('refuses duplicate phase ids', () => {
    expect(errorsOf(tpl([llm('a'), llm('a')]))).toEqual([
      expect.objectContaining({ code: 'duplicate_phase', phaseId: 'a', field: 'id', path: ['phases', 1, 'id'] }),
    ]);
  });

  it('refuses a dependency on an unknown phase, naming where', () => {
    expect(errorsOf(tpl([llm('a'), llm('b', ['a', 'ghost'])]))).toEqual([
      expect.objectContaining({ code: 'unknown_phase', phaseId: 'b', field: 'dependsOn[1]', path: ['phases', 1, 'dependsOn', 1] }),
    ]);
  });

  it('refuses a self-dependency', () => {
    expect(errorsOf(tpl([llm('a', ['a'])]))[0]).toMatchObject({ code: 'self_dependency', phaseId: 'a' });
  });

  it('reports a cycle with its members and the phases stuck behind it as unreachable', () => {
    const errors = errorsOf(tpl([llm('start'), llm('a', ['start', 'c']), llm('b', ['a']), llm('c', ['b']), llm('after', ['c'])]));
    const cycle = errors.find((e) => e.code === 'cycle')!;
    expect(cycle.message).toMatch(/a needs c needs b needs a|c needs b needs a needs c|b needs a needs c needs b/);
    expect(errors.filter((e) => e.code === 'unreachable').map((e) => e.phaseId)).toEqual(['after']);
  });

  it('checks input bindings against the inputs schema', () => {
    const errors = errorsOf(tpl([llm('a', [], 'Idea: {{inputs.idea}} and {{inputs.colour}}')], { inputs: { type: 'object', properties: { idea: { type: 'string' } } } }));
    expect(errors).toEqual([expect.objectContaining({ code: 'bad_binding', phaseId: 'a', field: 'prompt.user' })]);
    expect(errors[0]!.message).toMatch(/colour/);
  });

  it('allows phase bindings only to upstream phases', () => {
    const ok = validateTemplate(tpl([llm('a'), llm('b', ['a']), llm('c', ['b'], '{{phases.a.output.title}}')]));
    expect(ok.valid).toBe(true);
    const errors = errorsOf(tpl([llm('a'), llm('b', [], '{{phases.a.output}}'), llm('c', [], '{{phases.ghost.output}}')]));
    expect(errors.map((e) => [e.phaseId, e.message.includes('not upstream') || e.message.includes('unknown phase')])).toEqual([['b', true], ['c', true]]);
  });

  it('requires bindings to name an output, an interview for answers, and a known root', () => {
    const errors = errorsOf(
      tpl([
        llm('a'),
        { id: 'ask', kind: 'interview', prompt: { user: 'ask' } },
        llm('b', ['a', 'ask'], '{{phases.a.input}} {{answers.a}} {{secrets.key}} {{answers.ask}}'),
      ]),
    );
    expect(errors.map((e) => e.code)).toEqual(['bad_binding', 'bad_binding', 'bad_binding']);
    expect(errors.map((e) => e.message).join('\n')).toMatch(/only \{\{phases\.a\.output/);
    expect(errors.map((e) => e.message).join('\n')).toMatch(/not an interview/);
    expect(errors.map((e) => e.message).join('\n')).toMatch(/unknown binding root "secrets"/);
  });

  it('requires condition branches to exist and depend on the condition', () => {
    const errors = errorsOf(
      tpl([
        llm('a'),
        { id: 'route', kind: 'condition', dependsOn: ['a'], expression: { '==': [1, 1] }, ifTrue: ['yes', 'ghost'], ifFalse: ['no'] },
        llm('yes', ['route']),
        llm('no', ['a']),
      ]),
    );
    expect(errors).toEqual([
      expect.objectContaining({ code: 'unknown_phase', phaseId: 'route', field: 'ifTrue[1]' }),
      expect.objectContaining({ code: 'bad_branch', phaseId: 'route', field: 'ifFalse[0]' }),
    ]);
  });

  it('refuses a bad JSON Schema', () => {
    const [e] = errorsOf(tpl([{ ...llm('a'), output: { schema: { type: 'obj' } } }]));
    expect(e).toMatchObject({ code: 'schema', phaseId: 'a' });
    const [r] = errorsOf(tpl([llm('a')], { inputs: { type: 'object', properties: {}, required: ['idea'] } }));
    expect(r).toMatchObject({ code: 'schema', path: ['inputs', 'required'] });
  });

  it('refuses a JSON Schema that does not compile when given a compiler, naming the phase', () => {
    const compileSchema = (schema: unknown) => (JSON.stringify(schema).includes('"pattern":"(["') ? 'pattern is not a valid regular expression' : null);
    const input = tpl([{ ...llm('a'), output: { schema: { type: 'string', pattern: '([' } } }]);
    expect(validateTemplate(input).valid).toBe(true); // structure alone is fine
    const r = validateTemplate(input, { compileSchema });
    expect(r.valid).toBe(false);
    expect(r.errors).toEqual([expect.objectContaining({ code: 'schema', phaseId: 'a', field: 'output.schema', path: ['phases', 0, 'output', 'schema'] })]);
  });

  it('refuses what is not a template at all', () => {
    expect(errorsOf(null)[0]).toMatchObject({ code: 'schema' });
    expect(errorsOf({ name: 't', phases: [] })[0]).toMatchObject({ code: 'schema', field: 'phases' });
  });
});

describe('condition expressions (JSON Logic)', () => {
  const withCondition = (expression: unknown) => ({
    name: 'route',
    inputs: { type: 'object', properties: { level: { type: 'number' } } },
    phases: [
      { id: 'a', kind: 'llm', prompt: { user: 'x' }, candidates: [{ provider: 'simulated', model: 'm' }] },
      { id: 'later', kind: 'llm', dependsOn: ['route'], prompt: { user: 'y' }, candidates: [{ provider: 'simulated', model: 'm' }] },
      { id: 'route', kind: 'condition', dependsOn: ['a'], expression, ifTrue: ['later'], ifFalse: [] },
    ],
  });

  it('accepts known operators over inputs, upstream outputs and element-scoped vars', () => {
    const ok = validateTemplate(
      withCondition({ and: [{ '>=': [{ var: 'phases.a.output.score' }, 0.8] }, { '<': [{ var: ['inputs.level', 0] }, 3] }, { some: [{ var: 'phases.a.output.items' }, { '==': [{ var: 'ok' }, true] }] }] }),
    );
    expect(ok.errors).toEqual([]);
  });

  it('refuses an unknown operator, a var naming nothing upstream and a malformed operation, each located', () => {
    const bad = validateTemplate(withCondition({ and: [{ regex: ['x', 'y'] }, { '==': [{ var: 'phases.later.output' }, 1] }, { '>': [{ var: 'inputs.nope' }, 1] }, { '==': 1, '!=': 2 }] }));
    expect(bad.valid).toBe(false);
    expect(bad.errors.map((e) => [e.code, e.phaseId, e.field, e.path])).toEqual([
      ['bad_expression', 'route', 'expression', ['phases', 2, 'expression', 'and', 0, 'regex']],
      ['bad_expression', 'route', 'expression', ['phases', 2, 'expression', 'and', 1, '==', 0, 'var']],
      ['bad_expression', 'route', 'expression', ['phases', 2, 'expression', 'and', 2, '>', 0, 'var']],
      ['bad_expression', 'route', 'expression', ['phases', 2, 'expression', 'and', 3]],
    ]);
    expect(bad.errors[0]!.message).toContain('unknown operator "regex"');
    expect(bad.errors[1]!.message).toContain('not upstream');
  });
});

describe('budget policies (ADR 024)', () => {
  const withPolicy = (budgetPolicy: unknown) => tpl([llm('a')], { defaults: { budgetUsd: 1, budgetPolicy } as never });

  it('accepts pause, shrink, stop and a switch to a priced model (or the free simulated provider)', () => {
    const r = validateTemplate(
      withPolicy([
        { atPct: 50, action: 'switch', model: { provider: 'openai', model: 'gpt-4.1-nano' } },
        { atPct: 60, action: 'switch', model: { provider: 'simulated', model: 'anything' } },
        { atPct: 70, action: 'shrink' },
        { atPct: 90, action: 'pause' },
        { atPct: 100, action: 'stop' },
      ]),
    );
    expect(r.valid).toBe(true);
  });

  it('refuses a switch to a model with no price, naming the field', () => {
    expect(errorsOf(withPolicy([{ atPct: 80, action: 'shrink' }, { atPct: 50, action: 'switch', model: { provider: 'openai', model: 'gpt-unknown' } }]))).toEqual([
      {
        code: 'unpriced_model',
        message: expect.stringContaining('openai/gpt-unknown, which has no price'),
        path: ['defaults', 'budgetPolicy', 1, 'model'],
        field: 'defaults.budgetPolicy[1].model',
      },
    ]);
  });

  it('refuses a switch without a model, a model on another action, two rules at one threshold and thresholds out of (0, 100]', () => {
    const fields = (policy: unknown) => errorsOf(withPolicy(policy)).map((e) => e.field);
    expect(fields([{ atPct: 50, action: 'switch' }])).toEqual(['defaults.budgetPolicy[0].model']);
    expect(fields([{ atPct: 50, action: 'stop', model: { provider: 'openai', model: 'gpt-4.1' } }])).toEqual(['defaults.budgetPolicy[0].model']);
    expect(fields([{ atPct: 50, action: 'stop' }, { atPct: 50, action: 'pause' }])).toEqual(['defaults.budgetPolicy[1].atPct']);
    expect(fields([{ atPct: 0, action: 'stop' }])).toEqual(['defaults.budgetPolicy[0].atPct']);
    expect(fields([{ atPct: 120, action: 'stop' }])).toEqual(['defaults.budgetPolicy[0].atPct']);
    expect(fields([{ atPct: 50, action: 'halve' }])).toEqual(['defaults.budgetPolicy[0].action']);
  });
});
