import type { OverviewRun, OverviewView, SocketEvent, WorkerView } from '@conclave/contracts';
import { affectsOverview, fleetHealth, foldOverview, patchOverview } from './overview-fold';

const run = (id: string, change: Partial<OverviewRun> = {}): OverviewRun => ({
  id,
  name: `run ${id}`,
  templateId: 'tpl',
  templateName: 'Template',
  status: 'running',
  startedAt: '2026-12-04T09:00:00.000Z',
  costUsd: 0.5,
  budgetUsd: null,
  phasesTotal: 3,
  phasesDone: 0,
  sequence: 10,
  running: [{ phaseId: 'draft', phaseName: 'Draft', kind: 'llm', startedAt: '2026-12-04T09:00:01.000Z' }],
  waitingOn: [],
  ...change,
});

const view = (change: Partial<OverviewView['runs']> = {}): OverviewView => ({
  generatedAt: '2026-12-04T10:00:00.000Z',
  sequence: 100,
  timeZone: 'UTC',
  runs: { total: 3, counts: { running: 1, waiting: 0, paused: 0 }, active: [run('r1')], limit: 50, recent: [], ...change },
  spend: {
    today: { from: '2026-12-04T00:00:00.000Z', to: '2026-12-05T00:00:00.000Z', costUsd: 1 },
    month: { month: '2026-12', from: '2026-12-01T00:00:00.000Z', to: '2027-01-01T00:00:00.000Z', costUsd: 5 },
    budgets: { global: { monthlyUsd: 10, spentUsd: 5 }, templates: [{ templateId: 'tpl', templateName: 'Template', monthlyUsd: 4, spentUsd: 3 }, { templateId: 'other', templateName: null, monthlyUsd: 4, spentUsd: 2 }] },
  },
  failures: [],
});

let seq = 100;
const ev = (type: string, data: unknown = {}, runId = 'r1', occurredAt = '2026-12-04T10:01:00.000Z'): SocketEvent => ({ sequence: ++seq, type, runId, occurredAt, data });

describe('overview live fold', () => {
  beforeEach(() => {
    seq = 100;
  });

  it('adds a priced call to today, the month, the budgets of its template and its run — once', () => {
    const call = ev('CandidateGenerated', { phaseId: 'draft', costUsd: 0.25 });
    const once = patchOverview(view(), call);
    expect(once.spend.today.costUsd).toBe(1.25);
    expect(once.spend.month.costUsd).toBe(5.25);
    expect(once.spend.budgets.global.spentUsd).toBe(5.25);
    expect(once.spend.budgets.templates.map((t) => [t.templateId, t.spentUsd])).toEqual([
      ['tpl', 3.25],
      ['other', 2],
    ]);
    expect(once.runs.active[0]!.costUsd).toBe(0.75);
    expect(once.sequence).toBe(call.sequence);
    // the same event through the `costs` room after the `runs` room: already counted
    expect(patchOverview(once, call)).toBe(once);
  });

  it('counts a call of yesterday in the month only, and skips events the snapshot already holds', () => {
    const yesterday = patchOverview(view(), ev('VerdictRecorded', { costUsd: 1 }, 'r1', '2026-12-03T23:59:59.000Z'));
    expect([yesterday.spend.today.costUsd, yesterday.spend.month.costUsd]).toEqual([1, 6]);
    const old: SocketEvent = { sequence: 99, type: 'CandidateGenerated', runId: 'r1', occurredAt: '2026-12-04T10:00:00.000Z', data: { costUsd: 7 } };
    expect(patchOverview(view(), old)).toEqual(view());
  });

  it('follows a run from started to waiting on a gate, back to running, and to completed', () => {
    const template = { name: 'Gated', phases: [{ id: 'draft' }, { id: 'review' }] };
    const events = [
      ev('RunStarted', { runId: 'r2', templateId: 'gated', template, name: 'new one', budgetUsd: 2 }, 'r2', '2026-12-04T10:02:00.000Z'),
      ev('PhaseStarted', { phaseId: 'draft', attempt: 1 }, 'r2'),
      ev('PhaseCompleted', { phaseId: 'draft', attempt: 1 }, 'r2'),
      ev('PhaseStarted', { phaseId: 'review', attempt: 1 }, 'r2'),
      ev('GateOpened', { phaseId: 'review', attempt: 1, message: 'Ship it?' }, 'r2'),
    ];
    const waiting = foldOverview(view(), events);
    expect(waiting.runs.total).toBe(4);
    expect(waiting.runs.counts).toEqual({ running: 1, waiting: 1, paused: 0 });
    const r2 = waiting.runs.active.find((r) => r.id === 'r2')!;
    expect(r2).toMatchObject({ name: 'new one', templateName: 'Gated', status: 'waiting', phasesTotal: 2, phasesDone: 1, budgetUsd: 2, running: [] });
    expect(r2.waitingOn).toEqual([{ kind: 'gate', phaseId: 'review', phaseName: null, message: 'Ship it?', at: null }]);
    // a run waiting on a human comes before the running ones
    expect(waiting.runs.active.map((r) => r.id)).toEqual(['r2', 'r1']);

    const approved = patchOverview(waiting, ev('GateApproved', { phaseId: 'review', attempt: 1, comment: null }, 'r2'));
    expect(approved.runs.active.find((r) => r.id === 'r2')).toMatchObject({ status: 'running', waitingOn: [], running: [{ phaseId: 'review' }] });
    expect(approved.runs.counts).toEqual({ running: 2, waiting: 0, paused: 0 });

    const done = foldOverview(approved, [ev('PhaseCompleted', { phaseId: 'review', attempt: 1 }, 'r2'), ev('RunCompleted', {}, 'r2', '2026-12-04T10:05:00.000Z')]);
    expect(done.runs.active.map((r) => r.id)).toEqual(['r1']);
    expect(done.runs.counts).toEqual({ running: 1, waiting: 0, paused: 0 });
    expect(done.runs.recent).toEqual([{ id: 'r2', name: 'new one', templateId: 'gated', templateName: 'Gated', status: 'completed', startedAt: '2026-12-04T10:02:00.000Z', costUsd: 0, completedAt: '2026-12-04T10:05:00.000Z' }]);
  });

  it('shows questions, manual continues, pauses and scheduled retries as what the run waits for', () => {
    const asked = patchOverview(view(), ev('QuestionsAsked', { phaseId: 'draft', questions: [{ id: 'a', question: 'A?' }, { id: 'b', question: 'B?' }] }));
    expect(asked.runs.active[0]).toMatchObject({ status: 'waiting', running: [], waitingOn: [{ kind: 'questions', phaseId: 'draft', phaseName: 'Draft', message: '2 questions to answer' }] });
    const answered = patchOverview(asked, ev('AnswersSubmitted', { phaseId: 'draft', answers: [] }));
    // the interview works again with the answers
    expect(answered.runs.active[0]).toMatchObject({ status: 'running', waitingOn: [], running: [{ phaseId: 'draft', phaseName: 'Draft' }] });

    const paused = patchOverview(answered, ev('RunPaused', { reason: { code: 'budget', message: 'the run reached its budget' } }));
    expect(paused.runs.active[0]).toMatchObject({ status: 'paused', waitingOn: [{ kind: 'paused', message: 'Paused: budget reached — the run reached its budget' }] });
    expect(paused.runs.counts).toEqual({ running: 0, waiting: 0, paused: 1 });
    // a manual continue asked while paused: the pause still leads
    const both = patchOverview(paused, ev('ContinueRequired', { phaseIds: ['review'] }));
    expect(both.runs.active[0]!.status).toBe('paused');
    expect(both.runs.active[0]!.waitingOn.map((w) => w.kind)).toEqual(['paused', 'continue']);
    const resumed = patchOverview(both, ev('RunResumed'));
    expect(resumed.runs.active[0]).toMatchObject({ status: 'waiting' });
    const continued = patchOverview(resumed, ev('RunContinued', { phaseIds: ['review'] }));
    expect(continued.runs.active[0]).toMatchObject({ status: 'running', waitingOn: [] });

    const retry = patchOverview(continued, ev('PhaseRetryScheduled', { phaseId: 'draft', attempt: 2, notBefore: '2026-12-04T10:10:00.000Z', cause: 'policy', override: null }));
    expect(retry.runs.active[0]!.waitingOn).toEqual([{ kind: 'retry', phaseId: 'draft', phaseName: 'Draft', message: 'Retry scheduled', at: '2026-12-04T10:10:00.000Z' }]);
    expect(retry.runs.active[0]!.running).toEqual([]);
    expect(patchOverview(retry, ev('PhaseStarted', { phaseId: 'draft', attempt: 2 })).runs.active[0]!.waitingOn).toEqual([]);
  });

  it('lists a failed phase, then replaces it with its run’s failure when the run fails', () => {
    const phaseFailed = patchOverview(view(), ev('PhaseFailed', { phaseId: 'draft', attempt: 1, reason: { code: 'provider', message: 'openai answered 500' } }));
    expect(phaseFailed.failures).toEqual([
      { runId: 'r1', runName: 'run r1', templateId: 'tpl', templateName: 'Template', runStatus: 'running', phaseId: 'draft', phaseName: 'Draft', error: { code: 'provider', message: 'openai answered 500' }, at: '2026-12-04T10:01:00.000Z' },
    ]);
    const runFailed = patchOverview(phaseFailed, ev('RunFailed', { reason: { code: 'provider', message: 'phase "draft" failed: openai answered 500' }, phaseId: 'draft' }));
    expect(runFailed.failures).toHaveLength(1);
    expect(runFailed.failures[0]).toMatchObject({ runStatus: 'failed', phaseId: 'draft', phaseName: 'Draft', error: { message: 'phase "draft" failed: openai answered 500' } });
    expect(runFailed.runs.active).toEqual([]);
    expect(runFailed.runs.counts.running).toBe(0);
    expect(runFailed.runs.recent[0]).toMatchObject({ id: 'r1', status: 'failed' });
  });

  it('leaves runs it does not list to the refetch, and tells which events matter', () => {
    const other = view();
    expect(patchOverview(other, ev('GateOpened', { phaseId: 'x', message: 'm' }, 'r9')).runs).toBe(other.runs);
    expect(affectsOverview(ev('CandidateRequested'))).toBe(false);
    expect(affectsOverview(ev('CandidateGenerated'))).toBe(true);
    expect(affectsOverview({ ...ev('TemplateCreated'), runId: null })).toBe(false);
  });
});

describe('fleet health', () => {
  const now = Date.parse('2026-12-04T10:00:00.000Z');
  const worker = (id: string, status: WorkerView['status'], inFlight: number, secondsAgo: number): WorkerView => ({
    id,
    role: 'llm-worker',
    host: 'h',
    status,
    inFlight,
    done: 0,
    failed: 0,
    lastHeartbeatAt: new Date(now - secondsAgo * 1000).toISOString(),
  });

  it('counts workers up, busy, in flight and stalled (silent ones are stalled, draining ones stop)', () => {
    expect(
      fleetHealth([worker('a', 'busy', 2, 1), worker('b', 'idle', 0, 2), worker('c', 'busy', 3, 120), worker('d', 'draining', 1, 120), worker('e', 'draining', 1, 1)], now),
    ).toEqual({ workers: 5, up: 2, busy: 1, inFlight: 3, stalled: 1 });
    expect(fleetHealth([], now)).toEqual({ workers: 0, up: 0, busy: 0, inFlight: 0, stalled: 0 });
  });
});
