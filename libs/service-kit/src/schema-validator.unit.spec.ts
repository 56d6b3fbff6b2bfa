import type { JsonSchema } from '@conclave/contracts';
import { SchemaValidator } from './schema-validator';

describe('SchemaValidator', () => {
  const schema = (n: number): JsonSchema => ({ type: 'object', properties: { n: { const: n } }, required: ['n'] });

  it('validates against each schema, whether it is the same object, a copy of it or another one', () => {
    const v = new SchemaValidator();
    const one = schema(1);
    expect(v.validate({ n: 1 }, one)).toEqual([]);
    expect(v.validate({ n: 2 }, one)).toEqual(['/n: must be equal to constant']);
    expect(v.validate({ n: 1 }, schema(1))).toEqual([]); // same content, another object
    expect(v.validate({ n: 1 }, schema(2))).toEqual(['/n: must be equal to constant']);
    expect(v.validate({}, one)).toEqual(["(root): must have required property 'n'"]);
  });

  it('keeps validating correctly once more schemas than it keeps compiled have come and gone', () => {
    const v = new SchemaValidator();
    const first = schema(0);
    expect(v.validate({ n: 0 }, first)).toEqual([]);
    for (let n = 1; n <= 1200; n++) expect(v.validate({ n }, schema(n))).toEqual([]);
    expect(v.validate({ n: 0 }, first)).toEqual([]);
    expect(v.validate({ n: 1 }, first)).toEqual(['/n: must be equal to constant']);
    expect(v.validate({ n: 7 }, schema(7))).toEqual([]);
  });

  it('says why a schema does not compile', () => {
    expect(new SchemaValidator().compileError({ type: 'no-such-type' })).toMatch(/type/);
    expect(new SchemaValidator().compileError(schema(1))).toBeNull();
  });
});
