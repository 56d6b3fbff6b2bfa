import { CURRENT_SCHEMA_VERSION, parseEvent } from './events';

const envelope = (type: string, schemaVersion: number, data: unknown) => ({
  id: 'e1',
  type,
  schemaVersion,
  streamId: 'run:r1',
  occurredAt: '2026-01-01T00:00:00.000Z',
  correlationId: 'c',
  causationId: null,
  actor: { kind: 'system', id: 'test' },
  data,
});

describe('parseEvent upcasts stored versions to the current catalog', () => {
  it('reads a v1 ConditionEvaluated (skipped) as v2 (skippedPhaseIds)', () => {
    const event = parseEvent(envelope('ConditionEvaluated', 1, { phaseId: 'route', attempt: 1, result: false, skipped: ['deep', 'deeper'] }));
    expect(event.schemaVersion).toBe(2);
    expect(event.data).toEqual({ phaseId: 'route', attempt: 1, result: false, skippedPhaseIds: ['deep', 'deeper'] });
  });

  it('reads current events as they are and refuses a version it has no upcaster for', () => {
    expect(CURRENT_SCHEMA_VERSION.ConditionEvaluated).toBe(2);
    const current = { phaseId: 'route', attempt: 1, result: true, skippedPhaseIds: [] };
    expect(parseEvent(envelope('ConditionEvaluated', 2, current)).data).toEqual(current);
    expect(parseEvent(envelope('RunResumed', 1, {})).schemaVersion).toBe(1);
    expect(() => parseEvent(envelope('ConditionEvaluated', 0, current))).toThrow(/no upcaster for ConditionEvaluated v0/);
    // a v2 shape stamped v1 is upcast as v1 and then fails validation: a wrong stamp is never silently accepted
    expect(() => parseEvent(envelope('ConditionEvaluated', 1, current))).toThrow();
  });
});
