import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Template, type RunView, type SocketEvent, type TimelineEntry } from '@conclave/contracts';
import { CHECKPOINT_EVERY, RunScrubber } from './fold';
import { UsageFold, usageUpTo } from './usage';
import { describeEvent, forkTargets, MAX_GAP_MS, nearestBoundary, parseAt, playDelay } from './scrub-model';

/**
 * A run recorded on the whole stack (e2e/scrub.e2e.spec.ts with SCRUB_FIXTURE set): a judged
 * phase, a gate approved with a comment, two parallel phases, a judged merge; its timeline as
 * `GET /runs/:id/timeline` served it and its view as `GET /runs/:id` served it at the end.
 */
const fixture = JSON.parse(readFileSync(join(__dirname, 'fixtures', 'gated-run.json'), 'utf8')) as { timeline: TimelineEntry[]; view: RunView };
const RUN = fixture.view.id;
const events: SocketEvent[] = fixture.timeline.map((e) => ({ sequence: e.sequence, type: e.type, runId: RUN, occurredAt: e.occurredAt, data: e.data }));

/** A field the gateway sends as null and the fold leaves out (an optional one, e.g. a candidate's `partial`) reads the same on the page. */
function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutNulls);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== null && v !== undefined).map(([k, v]) => [k, withoutNulls(v)]));
  return value;
}

const statuses = (view: RunView) => Object.fromEntries(view.phases.map((p) => [p.id, p.status]));
const indexOf = (type: string, phaseId?: string) => events.findIndex((e) => e.type === type && (phaseId === undefined || (e.data as { phaseId?: string }).phaseId === phaseId));

describe('the scrub fold', () => {
  it('given every event of a recorded run, it equals the view the gateway served at the end', () => {
    const scrubber = new RunScrubber(RUN);
    scrubber.setEvents(events);
    const folded = scrubber.viewAt(events.length - 1, fixture.view);
    expect(withoutNulls(folded)).toEqual(withoutNulls(fixture.view));
    // exactly, where the page reads them: statuses, candidates, winners, costs, the gate's outcome
    expect(folded.phases.map((p) => [p.id, p.status, p.attempt, p.verdict?.winnerId ?? null, p.artifactCandidateId ?? null, p.costUsd, p.tokens])).toEqual(
      fixture.view.phases.map((p) => [p.id, p.status, p.attempt, p.verdict?.winnerId ?? null, p.artifactCandidateId ?? null, p.costUsd, p.tokens]),
    );
    expect(folded.phases.find((p) => p.id === 'review')!.gate).toEqual({ message: 'Go on?', decision: 'approved', comment: 'go' });
    expect([folded.status, folded.costUsd, folded.tokens, folded.sequence, folded.completedAt]).toEqual([
      fixture.view.status,
      fixture.view.costUsd,
      fixture.view.tokens,
      fixture.view.sequence,
      fixture.view.completedAt,
    ]);
  });

  it('given the events up to a point, it shows the run as it was then', () => {
    const scrubber = new RunScrubber(RUN);
    scrubber.setEvents(events);
    expect(statuses(scrubber.viewAt(indexOf('PhaseStarted', 'draft')))).toEqual({ draft: 'running', review: 'pending', left: 'pending', right: 'pending', merge: 'pending' });
    const gate = scrubber.viewAt(indexOf('GateOpened', 'review'));
    expect(statuses(gate)).toEqual({ draft: 'completed', review: 'waiting', left: 'pending', right: 'pending', merge: 'pending' });
    expect(gate.status).toBe('waiting');
    expect(gate.pending.gates).toEqual([{ phaseId: 'review', message: 'Go on?' }]);
    expect(gate.phases.find((p) => p.id === 'review')!.gate).toEqual({ message: 'Go on?', decision: null, comment: null });
    // the draft's winner and spend are there, the merge's not yet
    const draft = gate.phases.find((p) => p.id === 'draft')!;
    expect(draft.verdict?.winnerId).toBe(fixture.view.phases.find((p) => p.id === 'draft')!.verdict!.winnerId);
    expect(gate.tokens).toEqual(draft.tokens);
    expect(gate.sequence).toBe(events[indexOf('GateOpened', 'review')]!.sequence);
    // before the first event: nothing
    expect(scrubber.viewAt(-1).phases).toEqual([]);
  });

  it('given a sequence between events, indexAt picks the last event at or before it', () => {
    const scrubber = new RunScrubber(RUN);
    scrubber.setEvents(events);
    expect(scrubber.indexAt(events[5]!.sequence)).toBe(5);
    expect(scrubber.indexAt(events[5]!.sequence + 1)).toBe(events[6]!.sequence === events[5]!.sequence + 1 ? 6 : 5);
    expect(scrubber.indexAt(0)).toBe(-1);
    expect(scrubber.indexAt(Number.MAX_SAFE_INTEGER)).toBe(events.length - 1);
  });

  it('takes what the log does not hold (archived, parked) from the live view', () => {
    const scrubber = new RunScrubber(RUN);
    scrubber.setEvents(events);
    expect(scrubber.viewAt(3, { ...fixture.view, archived: true }).archived).toBe(true);
    expect(scrubber.viewAt(3).archived).toBe(false);
  });
});

describe('the spend by model up to an event', () => {
  const total = (items: ReturnType<typeof usageUpTo>) =>
    items.reduce((t, i) => ({ calls: t.calls + i.calls, input: t.input + i.tokens.input, output: t.output + i.tokens.output, costUsd: t.costUsd + i.costUsd }), { calls: 0, input: 0, output: 0, costUsd: 0 });

  it('given every event, counts a call per candidate and per verdict and sums to the run', () => {
    const items = usageUpTo(events, events.length - 1);
    const key = (i: (typeof items)[number]) => `${i.role}:${i.provider}/${i.model}×${i.calls}`;
    expect(items.map(key).sort()).toEqual(['candidate:simulated/sim-a×2', 'candidate:simulated/sim-b×1', 'candidate:simulated/sim-c×1', 'candidate:simulated/sim-l×1', 'candidate:simulated/sim-r×1', 'judge:simulated/sim-judge×2']);
    const sum = total(items);
    expect({ input: sum.input, output: sum.output }).toEqual(fixture.view.tokens);
    expect(sum.costUsd).toBeCloseTo(fixture.view.costUsd, 10);
  });

  it('given the events up to the gate, has only the calls of the draft phase, summing to the view then', () => {
    const i = indexOf('GateOpened', 'review');
    const items = usageUpTo(events, i);
    expect(items.map((x) => `${x.role}:${x.model}`).sort()).toEqual(['candidate:sim-a', 'candidate:sim-b', 'judge:sim-judge']);
    const scrubber = new RunScrubber(RUN);
    scrubber.setEvents(events);
    const sum = total(items);
    expect({ input: sum.input, output: sum.output }).toEqual(scrubber.viewAt(i).tokens);
    expect(usageUpTo(events, -1)).toEqual([]);
  });

  it('folded incrementally, forward, back and with a late event, gives what a fold from the first event gives', () => {
    const fold = new UsageFold();
    const withoutOne = events.filter((_, i) => i !== indexOf('VerdictRecorded', 'draft'));
    fold.setEvents(withoutOne);
    for (let i = 0; i < withoutOne.length; i++) expect(fold.upTo(i)).toEqual(usageUpTo(withoutOne, i));
    fold.setEvents(events);
    for (const i of [events.length - 1, 3, 20, 12, events.length - 1]) expect(fold.upTo(i)).toEqual(usageUpTo(events, i));
    expect(fold.upTo(events.length - 1).find((x) => x.role === 'judge')!.calls).toBe(2);
  });
});

/* ------------------------------------------------------------- a 200-phase run */

function bigRun(phases: number): SocketEvent[] {
  const template = Template.parse({
    name: 'big',
    phases: Array.from({ length: phases }, (_, i) => ({
      id: `p${i}`,
      kind: 'llm',
      dependsOn: i === 0 ? [] : [`p${Math.floor((i - 1) / 2)}`],
      prompt: { user: 'x' },
      candidates: [{ provider: 'simulated', model: 'sim' }],
    })),
  });
  let seq = 1000;
  let second = 0;
  const out: SocketEvent[] = [];
  const ev = (type: string, data: unknown) => out.push({ sequence: (seq += 1000), type, runId: 'big', occurredAt: new Date(Date.UTC(2026, 0, 1) + second++ * 100).toISOString(), data });
  ev('RunStarted', { runId: 'big', templateId: 't', templateVersion: 1, template, name: null, inputs: {}, autoMode: true, budgetUsd: null });
  for (let i = 0; i < phases; i++) {
    const phaseId = `p${i}`;
    const candidateId = `big.${phaseId}.1.c0`;
    ev('PhaseStarted', { phaseId, attempt: 1 });
    ev('CandidateRequested', { phaseId, attempt: 1, candidateId, slot: 0, provider: 'simulated', model: 'sim', prompt: { user: 'x' }, output: { schema: { type: 'object' } }, attemptToken: `t${i}`, timeoutSeconds: 60 });
    ev('CandidateGenerated', { phaseId, attempt: 1, candidateId, output: { text: 'y' }, tokens: { input: 10, output: 5 }, costUsd: 0.001, durationMs: 100, workerId: 'w' });
    ev('ArtifactRecorded', { artifactId: `big:${phaseId}:1`, phaseId, attempt: 1, candidateId, artifactType: 'json', content: { text: 'y' } });
    ev('PhaseCompleted', { phaseId, attempt: 1, artifactId: `big:${phaseId}:1` });
  }
  ev('RunCompleted', {});
  return out;
}

describe('scrubbing a 200-phase run', () => {
  const big = bigRun(200);
  /** The run after event `i`, folded from scratch (no memo to go wrong). */
  const fresh = (list: readonly SocketEvent[], i: number) => {
    const once = new RunScrubber('big');
    once.setEvents(list.slice(0, i + 1));
    return once.viewAt(i);
  };

  it('folds each event once moving forward, and at most a checkpoint interval moving back', () => {
    const scrubber = new RunScrubber('big');
    scrubber.setEvents(big);
    for (let i = 0; i < big.length; i++) scrubber.viewAt(i);
    expect(scrubber.folds).toBe(big.length);
    const end = scrubber.viewAt(big.length - 1);
    expect(end.status).toBe('completed');
    expect(end.phases.every((p) => p.status === 'completed')).toBe(true);
    expect(end.costUsd).toBeCloseTo(0.2, 10);

    // random jumps: each costs at most one checkpoint interval, and lands on the same view as a fold from scratch
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let n = 0; n < 50; n++) {
      const i = Math.floor(random() * big.length);
      const before = scrubber.folds;
      const view = scrubber.viewAt(i);
      expect(scrubber.folds - before).toBeLessThan(CHECKPOINT_EVERY);
      if (n % 10 === 0) expect(view).toEqual(fresh(big, i));
    }
  });

  it('is fast: the whole run folded, then 500 random positions, well under the time of a frame each', () => {
    const scrubber = new RunScrubber('big');
    scrubber.setEvents(big);
    const t0 = performance.now();
    scrubber.viewAt(big.length - 1);
    for (let n = 0; n < 500; n++) scrubber.viewAt((n * 7919) % big.length);
    const ms = performance.now() - t0;
    // ~1,000 events once, then ≤ 63 per jump; generous for a loaded CI machine
    expect(ms).toBeLessThan(5000);
  });

  it('keeps its memos when the timeline grows, and drops those after an event landing inside it', () => {
    const scrubber = new RunScrubber('big');
    scrubber.setEvents(big.slice(0, 600));
    scrubber.viewAt(599);
    scrubber.setEvents(big);
    const before = scrubber.folds;
    scrubber.viewAt(big.length - 1);
    expect(scrubber.folds - before).toBe(big.length - 600);

    // an event arrives late, inside what was folded: views after it are folded again, with it
    const withoutOne = big.filter((_, i) => i !== 300);
    expect(big[300]).toMatchObject({ type: 'PhaseCompleted', data: { phaseId: 'p59' } });
    const late = new RunScrubber('big');
    late.setEvents(withoutOne);
    late.viewAt(withoutOne.length - 1);
    expect(late.viewAt(400).phases.find((p) => p.id === 'p59')!.status).toBe('running');
    late.setEvents(big);
    expect(late.viewAt(big.length - 1)).toEqual(fresh(big, big.length - 1));
    expect(late.viewAt(400)).toEqual(fresh(big, 400));
    expect(late.viewAt(400).phases.find((p) => p.id === 'p59')!.status).toBe('completed');
  });
});

/* ------------------------------------------------------------- playback, boundaries, links */

describe('the scrub bar model', () => {
  const at = (ms: number): SocketEvent => ({ sequence: ms, type: 'PhaseStarted', runId: 'r', occurredAt: new Date(ms).toISOString(), data: {} });

  it('plays the recorded gaps scaled by the speed, long ones capped', () => {
    expect(playDelay(at(1000), at(1600), 1)).toBe(600);
    expect(playDelay(at(1000), at(1600), 2)).toBe(300);
    expect(playDelay(at(1000), at(2000), 20)).toBe(50);
    expect(playDelay(at(0), at(3_600_000), 20)).toBe(MAX_GAP_MS);
    expect(playDelay(at(2000), at(1000), 1)).toBe(0);
    expect(playDelay(undefined, at(1000), 1)).toBe(0);
  });

  it('offers to fork from the phases whose dependencies had completed and that had not finished', () => {
    const scrubber = new RunScrubber(RUN);
    scrubber.setEvents(events);
    const ids = (i: number) => forkTargets(scrubber.viewAt(i)).map((p) => p.id);
    expect(ids(indexOf('RunStarted'))).toEqual(['draft']);
    expect(ids(indexOf('PhaseCompleted', 'draft'))).toEqual(['review']);
    expect(ids(indexOf('PhaseCompleted', 'review'))).toEqual(['left', 'right']);
    expect(ids(events.length - 1)).toEqual([]);
  });

  it('finds the phase boundaries around a point', () => {
    const gate = indexOf('GateOpened', 'review');
    expect(events[nearestBoundary(events, gate, -1)!]!.type).toBe('PhaseCompleted');
    expect(nearestBoundary(events, gate, -1)).toBe(indexOf('PhaseCompleted', 'draft'));
    expect(nearestBoundary(events, gate, 1)).toBe(indexOf('PhaseCompleted', 'review'));
    expect(nearestBoundary(events, 0, -1)).toBeUndefined();
    expect(nearestBoundary(events, events.length - 1, 1)).toBeUndefined();
  });

  it('reads ?at= as a sequence, and describes an event for the slider', () => {
    expect(parseAt('12000')).toBe(12000);
    expect(parseAt('0')).toBe(0);
    for (const bad of [null, '', '-1', '1.5', 'abc', '1e3', ' 12', '99999999999999999']) expect(parseAt(bad)).toBeUndefined();
    expect(describeEvent(events[indexOf('GateOpened')], 12, 40)).toBe('event 13 of 40 · GateOpened · review');
    expect(describeEvent(events[0], 0, 40)).toBe('event 1 of 40 · RunStarted');
    expect(describeEvent(undefined, -1, 40)).toBe('before the first of 40 events');
  });
});
