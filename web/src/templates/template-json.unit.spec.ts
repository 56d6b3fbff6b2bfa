import { validateTemplate } from '@conclave/contracts';
import { EXAMPLE_TEMPLATE } from './example-template';
import { inputsSkeleton, parseJson } from './template-json';

describe('template form helpers', () => {
  it('prefills a valid example template', () => {
    const result = validateTemplate(EXAMPLE_TEMPLATE);
    expect(result.errors).toEqual([]);
    expect(result.levels).toEqual([['spec'], ['plan']]);
  });

  it('builds run inputs from the inputs schema', () => {
    expect(
      inputsSkeleton({
        type: 'object',
        properties: {
          idea: { type: 'string' },
          count: { type: 'integer' },
          ratio: { type: 'number', default: 0.5 },
          mode: { type: 'string', enum: ['fast', 'slow'] },
          flags: { type: 'array' },
          nested: { type: 'object', properties: { on: { type: 'boolean' } } },
          either: { type: ['null', 'string'] },
        },
      }),
    ).toEqual({ idea: '', count: 0, ratio: 0.5, mode: 'fast', flags: [], nested: { on: false }, either: null });
    expect(inputsSkeleton(undefined)).toEqual({});
  });

  it('reports JSON errors with a line and column when it can', () => {
    expect(parseJson('{"a": 1}')).toEqual({ ok: true, value: { a: 1 } });
    const bad = parseJson('{\n  "a": 1,\n  oops\n}');
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.message).toMatch(/line 3/);
  });
});
