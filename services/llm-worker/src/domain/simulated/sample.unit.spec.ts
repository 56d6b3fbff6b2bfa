import Ajv2020 from 'ajv/dist/2020';
import Ajv from 'ajv';
import { artifactJsonSchema, ArtifactType, checkArtifact, type JsonSchema } from '@conclave/contracts';
import { sampleFromSchema } from './sample';
import { createRng } from './seed';
import { SimulatedProvider, simulateOutput } from './simulated-provider';
import { keywords } from './words';
import type { GenerateRequest } from '../provider';

const ajvOptions = { strict: false, allErrors: true, multipleOfPrecision: 9, logger: false as const, validateFormats: false };
const ajv2020 = new Ajv2020(ajvOptions);
const ajv7 = new Ajv(ajvOptions);
const compile = (schema: JsonSchema | boolean) =>
  typeof schema === 'object' && String(schema.$schema ?? '').includes('draft-07') ? ajv7.compile(schema) : ajv2020.compile(schema);
const check = (schema: JsonSchema | boolean, value: unknown) => compile(schema)(value);

function expectValid(schema: JsonSchema | boolean, value: unknown) {
  const validate = compile(schema);
  if (!validate(value)) throw new Error(`invalid sample ${JSON.stringify(value)}:\n${JSON.stringify(validate.errors, null, 2)}`);
}

const words = keywords('Idea: a recipe sharing app with offline sync and shopping lists', 'You are a product analyst.');
const SEEDS = Array.from({ length: 25 }, (_, i) => `seed-${i}`);

const request = (overrides: Partial<GenerateRequest> = {}): GenerateRequest => ({
  provider: 'simulated',
  model: 'sim-a',
  options: {},
  prompt: { system: 'You are a product analyst.', user: 'Idea: a recipe sharing app with offline sync' },
  output: { artifact: 'spec', schema: artifactJsonSchema('spec') },
  slot: 0,
  runId: 'run1',
  phaseId: 'p1',
  candidateId: 'run1.p1.1.c0',
  ...overrides,
});

describe('simulated sample generator', () => {
  describe.each(ArtifactType.options)('built-in artifact %s', (type) => {
    it('is valid (ajv and the zod contract) for many seeds', () => {
      const schema = artifactJsonSchema(type);
      for (const seed of SEEDS) {
        const value = sampleFromSchema(schema, { rng: createRng(seed), words });
        expectValid(schema, value);
        expect(checkArtifact(type, value)).toEqual([]);
      }
    });
  });

  it('reads like the prompt', () => {
    const spec = simulateOutput(request()) as { title: string; requirements: string[] };
    expect(spec.title.toLowerCase()).toMatch(/recipe|sharing|offline|sync|idea/);
    expect(spec.requirements[0]).toMatch(/^The system must /);
    const plan = simulateOutput(request({ output: { artifact: 'plan', schema: artifactJsonSchema('plan') } })) as { steps: { id: string }[] };
    expect(plan.steps.map((s) => s.id)).toEqual(plan.steps.map((_, i) => `step-${i + 1}`));
  });

  const tricky: Record<string, JsonSchema> = {
    'nested objects, closed, all required': {
      type: 'object',
      additionalProperties: false,
      required: ['meta', 'items'],
      properties: {
        meta: { type: 'object', required: ['owner', 'tags'], additionalProperties: false, properties: { owner: { type: 'string', minLength: 3 }, tags: { type: 'array', items: { type: 'string' }, minItems: 2, maxItems: 2, uniqueItems: true } } },
        items: { type: 'array', minItems: 5, maxItems: 7, items: { type: 'object', required: ['n'], properties: { n: { type: 'integer', minimum: 10, maximum: 12 } } } },
      },
    },
    'string lengths, enum, const': {
      type: 'object',
      required: ['short', 'long', 'exact', 'mode', 'kind'],
      properties: {
        short: { type: 'string', minLength: 1, maxLength: 5 },
        long: { type: 'string', minLength: 400 },
        exact: { type: 'string', minLength: 7, maxLength: 7 },
        mode: { enum: ['fast', 'slow', 42, null] },
        kind: { const: { fixed: true } },
      },
    },
    'numbers: bounds, exclusive bounds, multipleOf': {
      type: 'object',
      required: ['a', 'b', 'c', 'd', 'e', 'f', 'g'],
      properties: {
        a: { type: 'number', minimum: -5, maximum: -4 },
        b: { type: 'integer', exclusiveMinimum: 0, exclusiveMaximum: 2 },
        c: { type: 'number', multipleOf: 0.01, minimum: 0.05, maximum: 0.09 },
        d: { type: 'integer', multipleOf: 7, minimum: 100 },
        e: { type: 'number', exclusiveMinimum: 1, exclusiveMaximum: 1.001 },
        f: { type: 'integer', maximum: -1000 },
        g: { type: 'number', minimum: 1e6 },
      },
    },
    'booleans, nulls, type arrays, nullable': {
      type: 'object',
      required: ['flag', 'nothing', 'either', 'maybe'],
      properties: {
        flag: { type: 'boolean' },
        nothing: { type: 'null' },
        either: { type: ['integer', 'string'], minimum: 3, maximum: 3, minLength: 2 },
        maybe: { type: 'string', nullable: true, minLength: 1 },
      },
    },
    'anyOf and oneOf (overlapping branches)': {
      type: 'object',
      required: ['any', 'one', 'tagged'],
      properties: {
        any: { anyOf: [{ type: 'string', maxLength: 3 }, { type: 'integer', minimum: 5 }] },
        one: { oneOf: [{ type: 'string' }, { type: 'string', minLength: 1000 }, { type: 'number' }] },
        tagged: {
          oneOf: [
            { type: 'object', required: ['kind', 'radius'], properties: { kind: { const: 'circle' }, radius: { type: 'number', minimum: 0 } }, additionalProperties: false },
            { type: 'object', required: ['kind', 'side'], properties: { kind: { const: 'square' }, side: { type: 'number', minimum: 0 } }, additionalProperties: false },
          ],
        },
      },
    },
    'allOf, $defs and $ref, recursion': {
      $defs: {
        node: { type: 'object', required: ['label'], properties: { label: { type: 'string', minLength: 1 }, children: { type: 'array', items: { $ref: '#/$defs/node' } } } },
        named: { type: 'object', required: ['name'], properties: { name: { type: 'string', minLength: 2 } } },
      },
      allOf: [{ $ref: '#/$defs/named' }, { type: 'object', required: ['tree', 'size'], properties: { tree: { $ref: '#/$defs/node' }, size: { type: 'integer', minimum: 1 } } }],
    },
    'open maps: additionalProperties schema, min/maxProperties, propertyNames enum': {
      type: 'object',
      required: ['scores', 'labels', 'bounded'],
      properties: {
        scores: { type: 'object', additionalProperties: { type: 'number', minimum: 0, maximum: 1 }, minProperties: 4 },
        labels: { type: 'object', propertyNames: { enum: ['x', 'y', 'z'] }, additionalProperties: { type: 'string' }, minProperties: 2 },
        bounded: { type: 'object', properties: { a: { type: 'string' }, b: { type: 'string' }, c: { type: 'string' } }, maxProperties: 1 },
      },
    },
    'tuples, contains, formats, empty arrays': {
      type: 'object',
      required: ['pair', 'nums', 'none', 'when', 'mail', 'id', 'site'],
      properties: {
        pair: { type: 'array', prefixItems: [{ type: 'string' }, { type: 'integer' }], items: false as unknown as JsonSchema, minItems: 2 },
        nums: { type: 'array', contains: { type: 'integer', minimum: 100 }, items: { type: 'integer' } },
        none: { type: 'array', maxItems: 0 },
        when: { type: 'string', format: 'date-time' },
        mail: { type: 'string', format: 'email' },
        id: { type: 'string', format: 'uuid' },
        site: { type: 'string', format: 'uri' },
      },
    },
    'draft-07 tuple with additionalItems and definitions': {
      $schema: 'http://json-schema.org/draft-07/schema#',
      definitions: { point: { type: 'array', items: [{ type: 'number' }, { type: 'number' }], additionalItems: false, minItems: 2 } },
      type: 'object',
      required: ['path'],
      properties: { path: { type: 'array', items: { $ref: '#/definitions/point' }, minItems: 1 } },
    },
    'schema without types': { required: ['anything'], properties: { anything: {}, list: { items: { minimum: 2 } } } },
    'top-level array of strings': { type: 'array', items: { type: 'string', enum: ['a', 'b', 'c'] }, minItems: 3, uniqueItems: true },
    'top-level scalar': { type: 'integer', minimum: 1, maximum: 1 },
  };

  describe.each(Object.entries(tricky))('tricky schema: %s', (_name, schema) => {
    it('is valid for many seeds (with the ajv check for anyOf / oneOf)', () => {
      for (const seed of SEEDS) expectValid(schema, sampleFromSchema(schema, { rng: createRng(seed), words, check }));
    });
  });

  it('follows the design example schema { steps: array }', () => {
    const schema: JsonSchema = { type: 'object', properties: { steps: { type: 'array' } }, required: ['steps'] };
    const value = sampleFromSchema(schema, { rng: createRng('x'), words }) as { steps: unknown[] };
    expectValid(schema, value);
    expect(value.steps.length).toBeGreaterThan(0);
  });

  it('is deterministic for a seed and varies across seeds', () => {
    for (const type of ArtifactType.options) {
      const schema = artifactJsonSchema(type);
      const a = sampleFromSchema(schema, { rng: createRng('same'), words });
      const b = sampleFromSchema(schema, { rng: createRng('same'), words });
      expect(b).toEqual(a);
    }
    const outputs = new Set(SEEDS.map((seed) => JSON.stringify(sampleFromSchema(artifactJsonSchema('spec'), { rng: createRng(seed), words }))));
    expect(outputs.size).toBe(SEEDS.length);
  });
});

describe('SimulatedProvider', () => {
  const ctx = (onDelta: (t: string) => void = () => undefined, signal = new AbortController().signal) => ({ signal, onDelta });

  it('gives the same output for the same (model, prompt, slot) and others for other models or slots', async () => {
    const provider = new SimulatedProvider({ check });
    const a = await provider.generate(request(), ctx());
    const again = await provider.generate(request(), ctx());
    const otherModel = await provider.generate(request({ model: 'sim-b' }), ctx());
    const otherSlot = await provider.generate(request({ slot: 1 }), ctx());
    const otherPrompt = await provider.generate(request({ prompt: { user: 'Idea: a bike repair marketplace' } }), ctx());
    expect(again.output).toEqual(a.output);
    expect(otherModel.output).not.toEqual(a.output);
    expect(otherSlot.output).not.toEqual(a.output);
    expect(otherPrompt.output).not.toEqual(a.output);
    expectValid(artifactJsonSchema('spec'), a.output);
  });

  it('streams its text in a few deltas and estimates tokens at ceil(chars / 4)', async () => {
    const deltas: string[] = [];
    const r = await new SimulatedProvider().generate(request(), ctx((t) => deltas.push(t)));
    expect(deltas.length).toBeGreaterThanOrEqual(2);
    expect(deltas.length).toBeLessThanOrEqual(6);
    expect(deltas.join('')).toBe(r.text);
    expect(JSON.parse(r.text)).toEqual(r.output);
    expect(r.tokens.output).toBe(Math.ceil(r.text.length / 4));
    const prompt = request().prompt;
    expect(r.tokens.input).toBe(Math.ceil(`${prompt.system}${prompt.user}`.length / 4));
  });

  it('takes latencyMs and stops as soon as the signal is aborted', async () => {
    const provider = new SimulatedProvider();
    const started = Date.now();
    await provider.generate(request({ options: { latencyMs: 200 } }), ctx());
    expect(Date.now() - started).toBeGreaterThanOrEqual(180);

    const controller = new AbortController();
    const reason = new Error('stop');
    const slow = provider.generate(request({ options: { latencyMs: 5_000 } }), ctx(undefined, controller.signal));
    const abortedAt = Date.now();
    setTimeout(() => controller.abort(reason), 50);
    await expect(slow).rejects.toBe(reason);
    expect(Date.now() - abortedAt).toBeLessThan(500);
  });
});
