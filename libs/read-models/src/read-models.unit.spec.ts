import { ConclaveError } from '@conclave/contracts';
import { decodeCursor, encodeCursor, escapeLike } from './cursor';
import type { CandidateRow, RunPhaseRow, RunRow, VerdictRow } from './entities';
import { jsonbSafe, jsonbSafeText } from './json';
import { isDeterministicDbError } from './projection';
import { bigintAsNumber as bigintAsNumberForTest } from './transformers';
import { toRunView } from './views';

describe('cursor', () => {
  it('round-trips and is opaque', () => {
    const c = { startedAt: '2026-01-01T00:00:00.123Z', id: 'run-1' };
    const raw = encodeCursor(c);
    expect(raw).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(raw)).toEqual(c);
  });

  it.each(['', 'not base64 !', Buffer.from('{"a":1}').toString('base64url'), Buffer.from('["not a date","x"]').toString('base64url'), Buffer.from('["2026-01-01T00:00:00Z",3]').toString('base64url')])(
    'refuses %p as bad_request',
    (raw) => {
      let error: unknown;
      try {
        decodeCursor(raw);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ConclaveError);
      expect((error as ConclaveError).code).toBe('bad_request');
    },
  );
});

describe('escapeLike', () => {
  it('escapes wildcards and the escape character', () => {
    expect(escapeLike('100%_done\\x')).toBe('100\\%\\_done\\\\x');
    expect(escapeLike('plain')).toBe('plain');
  });
});

describe('jsonbSafe', () => {
  it('returns the same value when there is no NUL', () => {
    const v = { a: ['x', 1, null, { b: true }] };
    expect(jsonbSafe(v)).toBe(v);
    expect(jsonbSafe(undefined)).toBeUndefined();
  });
  it('replaces NUL in strings and keys, deeply', () => {
    expect(jsonbSafe({ 'k\u0000': ['a\u0000b', { c: '\u0000' }], n: 1 })).toEqual({ 'k\uFFFD': ['a\uFFFDb', { c: '\uFFFD' }], n: 1 });
    expect(jsonbSafe('x\u0000')).toBe('x\uFFFD');
  });
  it('leaves an escaped backslash-u0000 text alone', () => {
    const v = { s: '\\u0000' }; // six characters, no NUL
    expect(jsonbSafe(v)).toEqual(v);
  });
});

describe('jsonbSafeText', () => {
  const roundTrip = (v: unknown) => JSON.parse(jsonbSafeText(JSON.stringify(v)));
  it('replaces NUL in serialised strings and keys as jsonbSafe does', () => {
    const v = { 'k\u0000': ['a\u0000b', { c: '\u0000' }], n: 1 };
    expect(roundTrip(v)).toEqual(jsonbSafe(v));
    expect(roundTrip('\u0000\u0000')).toBe('\uFFFD\uFFFD');
  });
  it('leaves escaped backslashes followed by u0000 alone, and finds a NUL right after them', () => {
    for (const s of ['\\u0000', '\\\\u0000', 'x\\', '\\\u0000', '\\\\\u0000']) {
      expect(roundTrip({ s })).toEqual(jsonbSafe({ s }));
    }
    expect(roundTrip('\\\u0000')).toBe('\\\uFFFD');
  });
  it('returns text without an escaped NUL unchanged', () => {
    const text = JSON.stringify({ a: 'plain', b: '\\u0001' });
    expect(jsonbSafeText(text)).toBe(text);
  });
});

describe('isDeterministicDbError', () => {
  it.each([
    [{ driverError: { code: '23505' } }, true],
    [{ driverError: { code: '22P05' } }, true],
    [{ code: '22003' }, true],
    [{ driverError: { code: '40001' } }, false],
    [{ driverError: { code: '57P01' } }, false],
    [{ code: 'ECONNREFUSED' }, false],
    [new Error('x'), false],
    [null, false],
  ])('%p → %p', (err, expected) => {
    expect(isDeterministicDbError(err)).toBe(expected);
  });
});

describe('bigint transformer', () => {
  it('reads int8 strings as numbers and refuses unsafe ones', () => {
    expect(bigintAsNumberForTest.from('42')).toBe(42);
    expect(bigintAsNumberForTest.from(null)).toBeNull();
    expect(() => bigintAsNumberForTest.from('9007199254740993')).toThrow(RangeError);
  });
});

describe('toRunView', () => {
  const d = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s));
  const run = {
    id: 'r', name: null, templateId: 't', templateVersion: 3, templateName: 'T', status: 'running', inputs: { a: 1 }, autoMode: true, budgetUsd: null,
    costUsd: 1.5, tokensInput: 10, tokensOutput: 20, startedAt: d(0), completedAt: null, error: null, sequence: 9, phasesTotal: 3, phasesDone: 1,
    pending: { gates: [{ phaseId: 'c', message: 'ok?' }], questions: [], continue: [] }, pauseReason: null, origin: null, workspace: null, filesChanged: 0, traceId: null, budgetPolicy: null,
  } as RunRow;
  const phase = (phaseId: string, position: number, status: RunPhaseRow['status'], attempt: number) =>
    ({
      runId: 'r', phaseId, position, name: null, kind: 'llm', dependsOn: [], status, attempt, startedAt: attempt ? d(position + 1) : null, completedAt: null,
      artifactId: null, costUsd: 0, tokensInput: 0, tokensOutput: 0, error: status === 'failed' ? { code: 'x', message: 'y' } : null,
      gate: null, interview: null, retryAt: null, retryOverride: null, condition: null, rolledBack: false, commit: null, artifactCandidateId: null, loop: null,
    }) as RunPhaseRow;
  const cand = (phaseId: string, attempt: number, slot: number) =>
    ({
      id: `${phaseId}.${attempt}.${slot}`, runId: 'r', phaseId, attempt, slot, provider: 'p', model: 'm', status: 'generated', output: { slot },
      tokensInput: 1, tokensOutput: 2, costUsd: 0.5, durationMs: 3, error: null, requestedAt: d(0),
    }) as CandidateRow;
  const verdict = (phaseId: string, attempt: number) =>
    ({
      runId: 'r', phaseId, attempt, winnerId: `${phaseId}.${attempt}.0`, scores: {}, rationale: `a${attempt}`, missing: [],
      provider: 'jp', model: `judge-${attempt}`, tokensInput: 7, tokensOutput: 8, costUsd: 0.25,
    }) as unknown as VerdictRow;

  it('orders phases by position, keeps the current attempt only, lists running/waiting phases', () => {
    const view = toRunView(
      run,
      [phase('c', 2, 'waiting', 1), phase('a', 0, 'running', 2), phase('b', 1, 'failed', 1)],
      [cand('a', 2, 1), cand('a', 1, 0), cand('a', 2, 0), cand('b', 1, 0)],
      [verdict('a', 1), verdict('a', 2)],
    );
    expect(view.phases.map((p) => p.id)).toEqual(['a', 'b', 'c']);
    expect(view.currentPhases).toEqual(['a', 'c']);
    expect(view.phases[0]!.candidates.map((c) => c.id)).toEqual(['a.2.0', 'a.2.1']);
    expect(view.phases[0]!.verdict).toEqual({
      winnerId: 'a.2.0', scores: {}, rationale: 'a2', missing: [],
      judge: { provider: 'jp', model: 'judge-2', tokens: { input: 7, output: 8 }, costUsd: 0.25 },
    });
    expect(view.phases[1]!.error).toEqual({ code: 'x', message: 'y' });
    expect(view.phases[2]).toMatchObject({ candidates: [], verdict: null, startedAt: d(3).toISOString() });
    expect(view).toMatchObject({ startedAt: d(0).toISOString(), completedAt: null, tokens: { input: 10, output: 20 }, sequence: 9 });
    expect(view.pending).toEqual({ gates: [{ phaseId: 'c', message: 'ok?' }], questions: [], continue: [] });
  });

  it('shows nothing of the last attempt of a rolled-back phase, and the gate, interview, retry and condition of others', () => {
    const rolled = { ...phase('a', 0, 'pending', 2), rolledBack: true, artifactId: null } as RunPhaseRow;
    const gate = { ...phase('b', 1, 'waiting', 1), kind: 'gate', gate: { message: 'ok?', decision: null, comment: null } } as RunPhaseRow;
    const retry = { ...phase('c', 2, 'pending', 1), retryAt: d(30), retryOverride: { provider: 'p', model: 'm2' } } as RunPhaseRow;
    const view = toRunView(run, [rolled, gate, retry], [cand('a', 2, 0), cand('c', 1, 0)], [verdict('a', 2)]);
    expect(view.phases[0]).toMatchObject({ status: 'pending', attempt: 2, candidates: [], verdict: null });
    expect(view.phases[1]!.gate).toEqual({ message: 'ok?', decision: null, comment: null });
    expect(view.phases[2]).toMatchObject({ retryAt: d(30).toISOString(), retryOverride: { provider: 'p', model: 'm2' }, candidates: [{ id: 'c.1.0' }] });
  });
});

describe('loop phases in the run view', () => {
  const d = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s));
  const run = {
    id: 'r', name: null, templateId: 't', templateVersion: 1, templateName: 'T', status: 'completed', inputs: {}, autoMode: true, budgetUsd: null,
    costUsd: 0, tokensInput: 0, tokensOutput: 0, startedAt: d(0), completedAt: d(9), error: null, sequence: 9, phasesTotal: 1, phasesDone: 1,
    pending: { gates: [], questions: [], continue: [] }, pauseReason: null, origin: null, workspace: null, filesChanged: 0, traceId: null, budgetPolicy: null,
  } as RunRow;
  const loopPhase = (artifactCandidateId: string | null) =>
    ({
      runId: 'r', phaseId: 'w', position: 0, name: null, kind: 'loop', dependsOn: [], status: artifactCandidateId ? 'completed' : 'running', attempt: 1, startedAt: d(1), completedAt: null,
      artifactId: artifactCandidateId ? 'r.w.1.artifact' : null, costUsd: 0, tokensInput: 0, tokensOutput: 0, error: null,
      gate: null, interview: null, retryAt: null, retryOverride: null, condition: null, rolledBack: false, commit: null,
      artifactCandidateId, loop: { maxRounds: 3, passThreshold: 0.8 },
    }) as RunPhaseRow;
  const id = (round: number, slot = 0) => `r.w.1${round ? `.r${round}` : ''}.c${slot}`;
  const cand = (round: number, slot = 0) =>
    ({ id: id(round, slot), runId: 'r', phaseId: 'w', attempt: 1, round, slot, provider: 'p', model: 'm', status: 'generated', output: { round }, tokensInput: 1, tokensOutput: 1, costUsd: 0, durationMs: 1, error: null, requestedAt: d(round) }) as CandidateRow;
  const verdict = (round: number, purpose: 'select' | 'evaluate', winnerId: string, score: number, rationale: string, sequence: number) =>
    ({ runId: 'r', phaseId: 'w', attempt: 1, round, purpose, sequence, winnerId, scores: { [winnerId]: { overall: score, criteria: { quality: score } } }, rationale, missing: [], recordedAt: d(sequence) }) as unknown as VerdictRow;
  // three rounds, none passing 0.8; round 1 (0-based) is the best; round 1 had two candidates and a select verdict
  const verdicts = [
    verdict(0, 'evaluate', id(0), 0.5, 'needs detail', 3),
    verdict(1, 'select', id(1, 1), 0.9, 'slot 1 reads better', 5),
    verdict(1, 'evaluate', id(1, 1), 0.75, 'cite sources', 6),
    verdict(2, 'evaluate', id(2), 0.625, 'lost focus', 8),
  ];
  const candidates = [cand(0), cand(1, 0), cand(1, 1), cand(2)];

  it('stopped at max rounds: the verdict and winner are the round the artifact came from, not the last verdict', () => {
    const [phase] = toRunView(run, [loopPhase(id(1, 1))], candidates, verdicts).phases;
    expect(phase!.artifactCandidateId).toBe(id(1, 1));
    expect(phase!.verdict).toMatchObject({ winnerId: id(1, 1), rationale: 'cite sources', scores: { [id(1, 1)]: { overall: 0.75 } } });
  });

  it('folds every round: the candidate scored (the select winner when there were several), its score, feedback and time', () => {
    const [phase] = toRunView(run, [loopPhase(id(1, 1))], candidates, verdicts).phases;
    expect(phase!.loop).toEqual({
      maxRounds: 3,
      passThreshold: 0.8,
      rounds: [
        { round: 0, candidateId: id(0), score: 0.5, criteria: { quality: 0.5 }, feedback: 'needs detail', evaluatedAt: d(3).toISOString() },
        { round: 1, candidateId: id(1, 1), score: 0.75, criteria: { quality: 0.75 }, feedback: 'cite sources', evaluatedAt: d(6).toISOString() },
        { round: 2, candidateId: id(2), score: 0.625, criteria: { quality: 0.625 }, feedback: 'lost focus', evaluatedAt: d(8).toISOString() },
      ],
    });
    expect(phase!.candidates.map((c) => [c.id, c.round])).toEqual([
      [id(0), 0],
      [id(1, 0), 1],
      [id(1, 1), 1],
      [id(2), 2],
    ]);
  });

  it('a round still being generated or judged is listed without a score; before the artifact the latest verdict shows', () => {
    const [phase] = toRunView(run, [loopPhase(null)], [...candidates.slice(0, 3)], verdicts.slice(0, 2)).phases;
    expect(phase!.loop!.rounds.map((r) => [r.round, r.candidateId, r.score, r.feedback])).toEqual([
      [0, id(0), 0.5, 'needs detail'],
      [1, id(1, 1), null, null],
    ]);
    expect(phase!.verdict?.winnerId).toBe(id(1, 1));
    expect(phase!.artifactCandidateId).toBeNull();
  });

  it('other kinds have no loop', () => {
    const llm = { ...loopPhase(null), kind: 'llm', loop: null } as RunPhaseRow;
    expect(toRunView(run, [llm], [], []).phases[0]!.loop).toBeNull();
  });
});
