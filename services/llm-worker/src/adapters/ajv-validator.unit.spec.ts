import { AjvOutputValidator } from './ajv-validator';

describe('AjvOutputValidator', () => {
  const schema = (n: number) => ({ type: 'object' as const, properties: { n: { const: n } }, required: ['n'] });

  it('keeps validating correctly once more schemas than it keeps compiled have come and gone', () => {
    const v = new AjvOutputValidator(3);
    const first = schema(0);
    expect(v.validate(first, { n: 0 })).toEqual({ valid: true });
    for (let n = 1; n <= 20; n++) expect(v.check(schema(n), { n })).toBe(true);
    expect(v.validate(first, { n: 0 })).toEqual({ valid: true });
    expect(v.validate(first, { n: 1 })).toEqual({ valid: false, errors: ['/n: must be equal to constant'] });
    expect(v.validate({ type: 'no-such-type' } as never, {})).toMatchObject({ valid: false, schemaError: true });
  });
});
