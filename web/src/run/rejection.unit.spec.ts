import { rejectionOf } from './RejectionDetails';

const schema = { type: 'object', properties: { summary: { type: 'string' } }, required: ['summary'] };
const requested = (candidateId: string) => ({ type: 'CandidateRequested', data: { candidateId, output: { schema } } });

describe('rejectionOf', () => {
  it("pairs the candidate's latest rejection with the schema it was asked for", () => {
    const entries = [
      requested('c0'),
      requested('c1'),
      { type: 'OutputRejected', data: { candidateId: 'c1', errors: ['/summary: must be string'], raw: { summary: 42 } } },
      { type: 'OutputRejected', data: { candidateId: 'c0', errors: ['first'], raw: 1 } },
      { type: 'OutputRejected', data: { candidateId: 'c0', errors: ['second'], raw: 2 } },
    ];
    expect(rejectionOf(entries, 'c1')).toEqual({ schema, errors: ['/summary: must be string'], raw: { summary: 42 } });
    expect(rejectionOf(entries, 'c0')).toMatchObject({ errors: ['second'], raw: 2 });
  });

  it('is null for a candidate that was not rejected, and tolerates a missing request', () => {
    expect(rejectionOf([requested('c0')], 'c0')).toBeNull();
    expect(rejectionOf([{ type: 'OutputRejected', data: { candidateId: 'c9', errors: ['x'], raw: null } }], 'c9')).toEqual({ schema: null, errors: ['x'], raw: null });
  });
});
