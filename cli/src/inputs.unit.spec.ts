import { buildInputs, coerceInput, parseAnswerPairs, readTemplateFile, splitPair, UsageError } from './inputs';

const schema = {
  type: 'object',
  properties: {
    idea: { type: 'string' },
    weeks: { type: 'integer' },
    ratio: { type: 'number' },
    draft: { type: 'boolean' },
    tags: { type: 'array', items: { type: 'string' } },
    meta: { type: ['object', 'null'] },
  },
};

describe('--input key=value', () => {
  it('types each value by the template inputs schema', () => {
    expect(coerceInput('idea', '42', schema)).toBe('42');
    expect(coerceInput('weeks', '3', schema)).toBe(3);
    expect(coerceInput('ratio', '0.25', schema)).toBe(0.25);
    expect(coerceInput('draft', 'false', schema)).toBe(false);
    expect(coerceInput('tags', '["a","b"]', schema)).toEqual(['a', 'b']);
    expect(coerceInput('meta', '{"k":1}', schema)).toEqual({ k: 1 });
    expect(coerceInput('unknown', 'true', schema)).toBe('true');
  });

  it('refuses a value its declared type cannot hold, naming the input', () => {
    expect(() => coerceInput('weeks', 'three', schema)).toThrow(/--input weeks: "three" is not a number/);
    expect(() => coerceInput('weeks', '', schema)).toThrow(UsageError);
    expect(() => coerceInput('draft', 'yes', schema)).toThrow(/not true or false/);
    expect(() => coerceInput('tags', '[a', schema)).toThrow(/--input tags: .* is not JSON/);
  });

  it('splits at the first = only and refuses a pair without a key', () => {
    expect(splitPair('q=a=b')).toEqual(['q', 'a=b']);
    expect(splitPair('q=')).toEqual(['q', '']);
    expect(() => splitPair('novalue')).toThrow(/expected key=value/);
    expect(() => splitPair('=x')).toThrow(/expected key=value/);
  });

  it('lays --input over --inputs-file', () => {
    const files: Record<string, string> = { 'in.json': '{"idea":"bikes","weeks":2}', 'list.json': '[1]', 'bad.json': '{' };
    const read = (p: string) => files[p]!;
    expect(buildInputs(['weeks=5'], 'in.json', schema, read)).toEqual({ idea: 'bikes', weeks: 5 });
    expect(() => buildInputs([], 'list.json', schema, read)).toThrow(/expected a JSON object/);
    expect(() => buildInputs([], 'bad.json', schema, read)).toThrow(/--inputs-file bad.json/);
  });
});

describe('template files', () => {
  it('reads JSON and says which file is not', () => {
    expect(readTemplateFile('t.json', () => '{"name":"x"}')).toEqual({ name: 'x' });
    expect(() => readTemplateFile('t.yaml', () => 'name: x')).toThrow(/t\.yaml is not JSON .* POST \/api\/v1\/templates/);
    expect(() =>
      readTemplateFile('missing.json', () => {
        throw Object.assign(new Error('nope'), { code: 'ENOENT' });
      }),
    ).toThrow(/cannot read missing.json: ENOENT/);
  });
});

describe('--answer N=text', () => {
  it('numbers answers from 1 and refuses numbers outside the questions', () => {
    expect([...parseAnswerPairs(['2=Lisbon', '1=May = spring'], 2)]).toEqual([
      [2, 'Lisbon'],
      [1, 'May = spring'],
    ]);
    expect(() => parseAnswerPairs(['3=x'], 2)).toThrow(/from 1 to 2/);
    expect(() => parseAnswerPairs(['x=y'], 2)).toThrow(UsageError);
  });
});
