import { headers } from '@nats-io/transport-node';
import { GenerateCandidate, WorkResult, type CandidateResult } from '@conclave/contracts';
import { CONTRACTS_HEADER, contractsFingerprint, contractsHeaders, decodeContract, hasContractsFingerprint } from './fingerprint';

const encode = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

const result: CandidateResult = {
  type: 'CandidateResult',
  commandId: 'c1',
  runId: 'r1',
  phaseId: 'a',
  attempt: 1,
  attemptToken: 'c1',
  workerId: 'w1',
  provider: 'simulated',
  model: 'sim',
  durationMs: 3,
  candidateId: 'r1.a.1.0',
  outcome: { status: 'generated', output: { text: 'hi' }, tokens: { input: 1, output: 2 }, costUsd: 0 },
};

describe('contracts fingerprint (validate once on the hot path)', () => {
  afterEach(() => jest.restoreAllMocks());

  it('is stable within a process and carried by contractsHeaders (a fresh MsgHdrs each time)', () => {
    expect(contractsFingerprint()).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(contractsFingerprint()).toBe(contractsFingerprint());
    const a = contractsHeaders();
    const b = contractsHeaders();
    expect(a).not.toBe(b);
    expect(a.get(CONTRACTS_HEADER)).toBe(contractsFingerprint());
    expect(hasContractsFingerprint(a)).toBe(true);
    expect(hasContractsFingerprint(undefined)).toBe(false);
  });

  it('a message carrying this build\'s fingerprint is taken with JSON.parse alone: no zod', () => {
    const parse = jest.spyOn(WorkResult, 'safeParse');
    const decoded = decodeContract(WorkResult, encode(result), contractsHeaders());
    expect(decoded).toEqual({ value: result });
    expect(parse).not.toHaveBeenCalled();
  });

  it('without the header, or with another build\'s fingerprint, the message is validated in full', () => {
    const parse = jest.spyOn(WorkResult, 'safeParse');
    expect(decodeContract(WorkResult, encode(result), undefined)).toEqual({ value: result });
    const foreign = headers();
    foreign.set(CONTRACTS_HEADER, 'another-build');
    expect(decodeContract(WorkResult, encode(result), foreign)).toEqual({ value: result });
    expect(parse).toHaveBeenCalledTimes(2);
  });

  it('refuses poison that does not carry the fingerprint: not the contract, or not JSON', () => {
    const foreign = headers();
    foreign.set(CONTRACTS_HEADER, 'another-build');
    const bad = decodeContract(WorkResult, encode({ type: 'CandidateResult', nonsense: true }), foreign);
    expect(bad).toEqual({ issues: expect.stringContaining('commandId: ') });
    expect(decodeContract(GenerateCandidate, encode({ type: 'GenerateCandidate' }), undefined)).toEqual({ issues: expect.stringContaining('runId: ') });
    expect(decodeContract(WorkResult, new TextEncoder().encode('{not json'), contractsHeaders())).toEqual({ notJson: true });
  });

  it('a header on something that is not a JSON object still goes through the contract', () => {
    const parse = jest.spyOn(WorkResult, 'safeParse');
    expect(decodeContract(WorkResult, encode(['x']), contractsHeaders())).toEqual({ issues: expect.any(String) });
    expect(decodeContract(WorkResult, encode(null), contractsHeaders())).toEqual({ issues: expect.any(String) });
    expect(parse).toHaveBeenCalledTimes(2);
  });
});
