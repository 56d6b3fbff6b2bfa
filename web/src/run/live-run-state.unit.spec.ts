import { Template, type RunView, type SocketEvent } from '@conclave/contracts';
import { initialLiveRun, MAX_BUFFERED_EVENTS, withEvents, withSnapshot, type LiveRunState } from './live-run-state';
import { applyRunEvent, applyRunEvents, emptyRunView } from './run-reducer';

const RUN = 'run1';
const at = (s: number) => new Date(Date.parse('2025-01-01T10:00:00.000Z') + s * 1000).toISOString();
const ev = (sequence: number, type: string, data: unknown, runId: string = RUN): SocketEvent => ({ sequence, type, runId, occurredAt: at(sequence), data });

const template = Template.parse({
  name: 'two steps',
  inputs: { type: 'object' },
  phases: [
    { id: 'a', kind: 'llm', prompt: { user: 'A' }, candidates: [{ provider: 'simulated', model: 'sim' }] },
    { id: 'b', kind: 'llm', dependsOn: ['a'], prompt: { user: 'B' }, candidates: [{ provider: 'simulated', model: 'sim' }] },
  ],
});
const runStarted = ev(10, 'RunStarted', { runId: RUN, templateId: 't', templateVersion: 1, template, name: null, inputs: {}, autoMode: true, budgetUsd: null });

/** Sequences are the log's: global, so another run's events leave gaps between this run's. */
function phaseEvents(phaseId: string, from: number): SocketEvent[] {
  const candidateId = `${RUN}.${phaseId}.1.c0`;
  const output = { artifact: phaseId, schema: { type: 'object' as const } };
  return [
    ev(from, 'PhaseStarted', { phaseId, attempt: 1 }),
    ev(from + 2, 'CandidateRequested', { phaseId, attempt: 1, candidateId, slot: 0, provider: 'simulated', model: 'sim', prompt: { user: phaseId }, output, attemptToken: `tok-${from}`, timeoutSeconds: 60 }),
    ev(from + 4, 'CandidateGenerated', { phaseId, attempt: 1, candidateId, output: { ok: true }, tokens: { input: 1, output: 1 }, costUsd: 0.01, durationMs: 5, workerId: 'w' }),
    ev(from + 6, 'PhaseCompleted', { phaseId, attempt: 1, artifactId: null }),
  ];
}

/** The RunView REST serves right after RunStarted. */
const snapshotAtStart = (): RunView => applyRunEvent(emptyRunView(RUN), runStarted);
const phaseA = phaseEvents('a', 12); // 12..18
const phaseB = phaseEvents('b', 20); // 20..26
const runCompleted = ev(30, 'RunCompleted', {});
const statusOf = (view: RunView | undefined) => [view?.status, ...(view?.phases.map((p) => `${p.id}:${p.status}`) ?? [])];
const DONE = ['completed', 'a:completed', 'b:completed'];

describe('live run state (snapshot + events in sequence order)', () => {
  it('the old single-watermark fold lost a gap-fill page that arrived after a newer live event', () => {
    // what use-live-run did before: live events folded straight into the view, then the gap-fill
    const view = applyRunEvents(applyRunEvents(snapshotAtStart(), [...phaseB, runCompleted]), phaseA);
    expect(statusOf(view)).toEqual(['completed', 'a:pending', 'b:completed']); // every event of phase a was "stale"
  });

  it('folds a gap-fill page that lands after newer live events, in sequence order', () => {
    let state = withSnapshot(initialLiveRun(RUN), snapshotAtStart());
    state = withEvents(state, [...phaseB, runCompleted]); // live, ahead of the projector
    expect(statusOf(state.view)).toEqual(['completed', 'a:pending', 'b:completed']);
    state = withEvents(state, phaseA, 18); // the timeline page with what happened before the join
    expect(statusOf(state.view)).toEqual(DONE);
    expect(state.view!.sequence).toBe(30);
    expect(state.view!.costUsd).toBeCloseTo(0.02);
    expect(state.complete).toBe(18);
  });

  it('the same whatever the arrival order, with duplicates from both sources', () => {
    const all = [runStarted, ...phaseA, ...phaseB, runCompleted];
    const expected = applyRunEvents(emptyRunView(RUN), all);
    for (const order of [[...all].reverse(), [phaseB[1]!, phaseA[3]!, runCompleted, ...phaseA, ...phaseB, phaseA[0]!]]) {
      let state = withSnapshot(initialLiveRun(RUN), snapshotAtStart());
      for (const event of order) state = withEvents(state, [event]);
      expect(state.view).toEqual(expected);
    }
  });

  it('keeps what the socket delivered before the first snapshot landed (the prefetch in flight)', () => {
    let state = withEvents(initialLiveRun(RUN), [...phaseB, runCompleted]);
    expect(state.view).toBeUndefined();
    // the prefetched snapshot: the projector had applied phase a only
    state = withSnapshot(state, applyRunEvents(snapshotAtStart(), phaseA));
    expect(statusOf(state.view)).toEqual(DONE);
  });

  it('never lets an older snapshot replace newer state, and rebases on a newer one', () => {
    let state = withSnapshot(initialLiveRun(RUN), applyRunEvents(snapshotAtStart(), phaseA));
    state = withEvents(state, [...phaseB, runCompleted]);
    const shown = state.view;
    // a refetch (or a stale prefetch) answered by a projector still at RunStarted
    state = withSnapshot(state, snapshotAtStart());
    expect(state.view).toBe(shown);
    expect(statusOf(state.view)).toEqual(DONE);
    // a snapshot between the two: becomes the base, the buffered events after it are replayed
    state = withSnapshot(state, applyRunEvents(snapshotAtStart(), [...phaseA, ...phaseB]));
    expect(state.base!.sequence).toBe(26);
    expect(state.events.map((e) => e.sequence)).toEqual([30]);
    expect(statusOf(state.view)).toEqual(DONE);
    expect(state.view!.costUsd).toBeCloseTo(0.02); // nothing folded twice
  });

  it('ignores other runs’ events and asks for a refetch on an event it cannot fold', () => {
    let state = withSnapshot(initialLiveRun(RUN), snapshotAtStart());
    const before = state;
    state = withEvents(state, [ev(11, 'PhaseStarted', { phaseId: 'a', attempt: 1 }, 'other-run')]);
    expect(state).toBe(before);
    state = withEvents(state, [ev(12, 'SomethingNew', {})]);
    expect(state.refetchAtLeast).toBe(12);
    state = withSnapshot(state, { ...snapshotAtStart(), sequence: 12 });
    expect(state.refetchAtLeast).toBe(0);
  });

  it('bounds the buffer by folding contiguous events into the base', () => {
    let state: LiveRunState = withSnapshot(initialLiveRun(RUN), snapshotAtStart());
    const many = Array.from({ length: MAX_BUFFERED_EVENTS + 10 }, (_, i) => ev(100 + i, 'SomethingNew', {}));
    state = withEvents(state, many, 100 + MAX_BUFFERED_EVENTS + 9);
    expect(state.events).toHaveLength(MAX_BUFFERED_EVENTS);
    expect(state.base!.sequence).toBe(109);
    expect(state.view!.sequence).toBe(100 + MAX_BUFFERED_EVENTS + 9);
  });
});
