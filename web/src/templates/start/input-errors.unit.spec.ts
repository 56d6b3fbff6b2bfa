import { fieldErrorsOf, inputErrorsOf } from './input-errors';

describe("placing the gateway's input errors on the generated form", () => {
  it('puts each error on the field its instance path names; a missing required property on that property', () => {
    expect(
      fieldErrorsOf([
        "(root): must have required property 'idea'",
        '/weeks: must be >= 1',
        '/team/0/name: must be string',
        "/team/1: must have required property 'role'",
        '/a~1b: must be number',
        '(root): must NOT have additional properties',
      ]),
    ).toEqual({
      __errors: ['must NOT have additional properties'],
      idea: { __errors: ['is required'] },
      weeks: { __errors: ['must be >= 1'] },
      team: { 0: { name: { __errors: ['must be string'] } }, 1: { role: { __errors: ['is required'] } } },
      'a/b': { __errors: ['must be number'] },
    });
  });

  it("reads details.errors of a 422, ignoring anything that is not a list of strings", () => {
    expect(inputErrorsOf({ errors: ['/x: bad', 3] })).toEqual(['/x: bad']);
    expect(inputErrorsOf({ problem: 'missing_price', missing: [] })).toEqual([]);
    expect(inputErrorsOf(null)).toEqual([]);
  });
});
