import { compileSchemaError, schemaErrors } from './schema-compiler';

describe('schema-compiler', () => {
  const schema = (n: number) => ({ type: 'object', properties: { n: { const: n } }, required: ['n'] });

  it('says why a schema does not compile, and checks the same schema again alike', () => {
    const bad = { type: 'no-such-type' };
    expect(compileSchemaError(bad)).toMatch(/type/);
    expect(compileSchemaError(bad)).toMatch(/type/);
    const good = schema(1);
    expect(compileSchemaError(good)).toBeNull();
    expect(compileSchemaError(good)).toBeNull();
    expect(schemaErrors({ n: 1 }, good)).toEqual([]);
  });

  it("answers in the orchestrator's words, and stays right once more schemas than it keeps have come and gone", () => {
    const first = schema(0);
    expect(schemaErrors({ n: 0 }, first)).toEqual([]);
    for (let n = 1; n <= 450; n++) expect(schemaErrors({ n }, schema(n))).toEqual([]);
    expect(schemaErrors({ n: 0 }, first)).toEqual([]);
    expect(schemaErrors({ n: 1 }, first)).toEqual(['/n: must be equal to constant']);
    expect(schemaErrors({}, first)).toEqual(["(root): must have required property 'n'"]);
  });
});
