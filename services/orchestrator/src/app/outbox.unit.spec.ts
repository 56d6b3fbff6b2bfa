import { CURRENT_SCHEMA_VERSION, GenerateCandidate, JudgeCandidates, natsNames, parseEvent, type Recorded } from '@conclave/contracts';
import { C, drive, facts, generated, given, start } from '../domain/__tests__/spec-kit';
import type { DecidedEvent } from '../domain';
import { evolve, initialRunState } from '../domain/run-state';
import { outgoingOf, type RunSnapshot } from './outbox';

/**
 * Work commands are built from their events' data, not parsed again (issue 12 §4). What is built
 * must still be exactly what the command contract reads: the contract's parse changes nothing.
 */
const subjects = natsNames('t').subjects;
/** a decided event as the append records it (parsed: defaults applied, unknown keys dropped) */
const recorded = (e: DecidedEvent, index: number): Recorded =>
  ({ ...parseEvent({ id: e.id, type: e.type, schemaVersion: CURRENT_SCHEMA_VERSION[e.type], streamId: 'run:r1', occurredAt: '2026-11-22T10:00:00.000Z', correlationId: 'r1', causationId: null, actor: { kind: 'system', id: 't' }, data: e.data }), sequence: 1000 + index }) as Recorded;

describe('outbox: the commands events call for', () => {
  const { decided } = drive(start(), generated(C('a', 0), 'a', 'one'), generated(C('a', 1), 'a', 'two'));
  const all = [...given().when(start()), ...decided.flat()];
  const events = all.map(recorded);
  const run: RunSnapshot = { state: facts(all).reduce(evolve, initialRunState()), requests: new Map(events.flatMap((e) => (e.type === 'CandidateRequested' ? [[e.data.candidateId, e.data] as const] : []))) };

  it('a GenerateCandidate per CandidateRequested, equal to what its contract parses', () => {
    const commands = events.filter((e) => e.type === 'CandidateRequested').flatMap((e) => outgoingOf(e, 'r1', run, subjects));
    expect(commands).toHaveLength(3);
    for (const c of commands) {
      expect(c.subject).toBe(subjects.generate);
      expect(GenerateCandidate.parse(c.payload)).toEqual(c.payload);
      expect(c.msgId).toBe((c.payload as GenerateCandidate).attemptToken);
    }
  });

  it('a JudgeCandidates per JudgeRequested, and a re-dispatch repeating its request under the new token, both as their contracts read them', () => {
    const [judge] = events.filter((e) => e.type === 'JudgeRequested').flatMap((e) => outgoingOf(e, 'r1', run, subjects));
    expect(judge!.subject).toBe(subjects.judge);
    expect(JudgeCandidates.parse(judge!.payload)).toEqual(judge!.payload);
    expect((judge!.payload as JudgeCandidates).candidates.map((c) => c.candidateId)).toEqual([C('a', 0), C('a', 1)]);

    const redispatched = recorded({ id: 'x', type: 'CandidateRedispatched', data: { phaseId: 'a', attempt: 1, candidateId: C('a', 0), attemptToken: 'tok-2', reason: 'stalled' } } as DecidedEvent, 99);
    const [again] = outgoingOf(redispatched, 'r1', run, subjects);
    expect(GenerateCandidate.parse(again!.payload)).toEqual(again!.payload);
    expect(again!.payload).toMatchObject({ commandId: 'tok-2', attemptToken: 'tok-2', candidateId: C('a', 0), prompt: run.requests.get(C('a', 0))!.prompt });
  });
});
