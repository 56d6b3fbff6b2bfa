import { randomUUID } from 'node:crypto';
import { ErrorEnvelope, Template, type AnalyticsView, type NewEvent, type TemplateInput } from '@conclave/contracts';
import type { AppendMeta } from '@conclave/event-log';
import { createTestEnv, type TestEnv } from '@conclave/testing';
import { fold, http, startGateway, type HttpResult, type RunningGateway } from '../__tests__/harness';

/*
 * GET /analytics against a handful of runs folded into the read models: completed, failed and
 * running runs of two templates, calls of two candidate models and a judge, over several days.
 * Every expected figure is computed here from the plan the events were written from (not read
 * back from the database), with the endpoint's documented bases: run figures over the runs started
 * in the range, model and daily figures over the calls made in it.
 */

const X = { provider: 'openai', model: 'gpt-x' };
const Y = { provider: 'anthropic', model: 'claude-y' };
const JUDGE = { provider: 'openai', model: 'judge-j' };

const ALPHA: TemplateInput = {
  name: 'alpha pipeline',
  phases: [
    { id: 'draft', name: 'Draft', kind: 'llm', prompt: { user: 'Draft' }, candidates: [X, Y], judge: { ...JUDGE, criteria: ['quality'] } },
    { id: 'polish', kind: 'llm', dependsOn: ['draft'], prompt: { user: 'Polish' }, candidates: [X] },
  ],
};
const BETA: TemplateInput = { name: 'beta pipeline', phases: [{ id: 'write', kind: 'llm', prompt: { user: 'Write' }, candidates: [Y] }] };

type Outcome = 'generated' | 'failed' | 'rejected';
interface CallPlan {
  model: typeof X;
  outcome: Outcome;
  costUsd: number;
  tokens: { input: number; output: number };
  durationMs: number;
}
interface PhasePlan {
  id: string;
  /** ms after the run's start */
  startMs: number;
  endMs: number;
  /** reused: a fork's phase completed from its source's output in the fork's first commit */
  status: 'completed' | 'failed' | 'running' | 'reused';
  calls: CallPlan[];
  verdict?: { costUsd: number; tokens: { input: number; output: number } };
}
interface RunPlan {
  id: string;
  template: 'alpha' | 'beta';
  name: string;
  start: string;
  status: 'completed' | 'failed' | 'running';
  phases: PhasePlan[];
  /** a fork of this run */
  forkOf?: string;
}

const call = (model: typeof X, outcome: Outcome, costUsd: number, input: number, output: number, durationMs: number): CallPlan => ({ model, outcome, costUsd, tokens: { input, output }, durationMs });

/** Costs are binary fractions: sums are exact, so figures compare with toEqual. */
const PLANS: RunPlan[] = [
  {
    id: `a1-${randomUUID()}`, template: 'alpha', name: 'alpha one', start: '2026-01-10T10:00:00.000Z', status: 'completed',
    phases: [
      { id: 'draft', startMs: 0, endMs: 6_000, status: 'completed', calls: [call(X, 'generated', 0.5, 100, 50, 1_000), call(Y, 'generated', 0.25, 40, 20, 3_000)], verdict: { costUsd: 0.125, tokens: { input: 10, output: 5 } } },
      { id: 'polish', startMs: 6_000, endMs: 10_000, status: 'completed', calls: [call(X, 'generated', 0.0625, 20, 10, 4_000)] },
    ],
  },
  {
    id: `a2-${randomUUID()}`, template: 'alpha', name: 'alpha two', start: '2026-01-11T09:00:00.000Z', status: 'completed',
    phases: [
      { id: 'draft', startMs: 0, endMs: 8_000, status: 'completed', calls: [call(X, 'generated', 1, 200, 100, 7_000), call(Y, 'rejected', 0.375, 60, 30, 2_500)], verdict: { costUsd: 0.25, tokens: { input: 20, output: 8 } } },
      { id: 'polish', startMs: 9_000, endMs: 11_000, status: 'completed', calls: [call(X, 'generated', 0.125, 30, 15, 1_500)] },
    ],
  },
  {
    id: `a3-${randomUUID()}`, template: 'alpha', name: 'alpha three', start: '2026-01-12T15:30:00.000Z', status: 'failed',
    phases: [{ id: 'draft', startMs: 0, endMs: 4_000, status: 'failed', calls: [call(X, 'generated', 0.75, 150, 70, 3_500), call(Y, 'failed', 0, 0, 0, 500)] }],
  },
  {
    id: `b1-${randomUUID()}`, template: 'beta', name: 'beta one', start: '2026-01-11T20:00:00.000Z', status: 'completed',
    phases: [{ id: 'write', startMs: 0, endMs: 30_000, status: 'completed', calls: [call(Y, 'generated', 2, 500, 400, 29_000)] }],
  },
  {
    id: `b2-${randomUUID()}`, template: 'beta', name: 'beta two', start: '2026-01-12T08:00:00.000Z', status: 'failed',
    phases: [{ id: 'write', startMs: 0, endMs: 1_000, status: 'failed', calls: [call(Y, 'failed', 0, 0, 0, 900)] }],
  },
  {
    id: `b3-${randomUUID()}`, template: 'beta', name: 'beta three', start: '2026-01-20T12:00:00.000Z', status: 'running',
    phases: [{ id: 'write', startMs: 0, endMs: 0, status: 'running', calls: [call(Y, 'generated', 0, 0, 0, 0)] }],
  },
  {
    id: `a4-${randomUUID()}`, template: 'alpha', name: 'alpha four', start: '2026-02-05T07:00:00.000Z', status: 'completed',
    phases: [
      { id: 'draft', startMs: 0, endMs: 5_000, status: 'completed', calls: [call(X, 'generated', 0.5, 90, 45, 4_000), call(Y, 'generated', 0.5, 80, 40, 4_500)], verdict: { costUsd: 0.125, tokens: { input: 12, output: 6 } } },
      { id: 'polish', startMs: 5_000, endMs: 25_000, status: 'completed', calls: [call(X, 'generated', 0.25, 40, 20, 19_000)] },
    ],
  },
  {
    // a fork of a1 from polish: its draft is a1's, reused, and did not run here
    id: `f1-${randomUUID()}`, template: 'alpha', name: 'alpha one, forked', start: '2026-01-13T10:00:00.000Z', status: 'completed', forkOf: 'alpha one',
    phases: [
      { id: 'draft', startMs: 0, endMs: 0, status: 'reused', calls: [] },
      { id: 'polish', startMs: 0, endMs: 3_000, status: 'completed', calls: [call(X, 'generated', 0.125, 25, 12, 2_500)] },
    ],
  },
];

const meta = (at: number): AppendMeta => ({ occurredAt: new Date(at).toISOString(), correlationId: randomUUID(), causationId: null, actor: { kind: 'system', id: 'test' } });
const candidateId = (run: RunPlan, phase: PhasePlan, slot: number) => `${run.id}.${phase.id}.1.c${slot}`;
const isSettled = (plan: RunPlan, phase: PhasePlan) => phase.status !== 'running' || plan.status !== 'running';

/** The commits of one run, each at its time: the phase's start, then its end. */
function commitsOf(plan: RunPlan, templates: Record<'alpha' | 'beta', { id: string; template: Template }>): { at: number; events: NewEvent[] }[] {
  const t0 = Date.parse(plan.start);
  const { id: templateId, template } = templates[plan.template];
  const source = PLANS.find((p) => p.name === plan.forkOf);
  const reused = plan.phases.filter((p) => p.status === 'reused');
  const artifactOf = (runId: string, phaseId: string) => `${runId}.${phaseId}.1.artifact`;
  const commits: { at: number; events: NewEvent[] }[] = [
    {
      at: t0,
      events: [
        { type: 'RunStarted', data: { runId: plan.id, templateId, templateVersion: 1, template, name: plan.name, inputs: {}, autoMode: true, budgetUsd: null, origin: source ? { kind: 'fork', runId: source.id } : null } },
        // a fork: its source's outputs recorded and its reused phases completed in the same commit, as the decider does
        ...(source
          ? [
              {
                type: 'RunForked',
                data: { sourceRunId: source.id, sourceSequence: 1000, fromPhaseId: plan.phases.find((p) => p.status !== 'reused')!.id, reused: reused.map((p) => ({ phaseId: p.id, artifactId: artifactOf(source.id, p.id), artifactType: 'text', content: { text: 'x' } })) },
              } satisfies NewEvent,
              ...reused.flatMap((p): NewEvent[] => [
                { type: 'PhaseStarted', data: { phaseId: p.id, attempt: 1 } },
                { type: 'ArtifactRecorded', data: { artifactId: artifactOf(plan.id, p.id), phaseId: p.id, attempt: 1, candidateId: null, artifactType: 'text', content: { text: 'x' } } },
                { type: 'PhaseCompleted', data: { phaseId: p.id, attempt: 1, artifactId: artifactOf(plan.id, p.id) } },
              ]),
            ]
          : []),
      ],
    },
  ];
  for (const phase of plan.phases) {
    if (phase.status === 'reused') continue;
    const def = template.phases.find((p) => p.id === phase.id)!;
    const output = { schema: { type: 'object' as const } };
    commits.push({
      at: t0 + phase.startMs,
      events: [
        { type: 'PhaseStarted', data: { phaseId: phase.id, attempt: 1 } },
        ...phase.calls.map((c, slot): NewEvent => ({
          type: 'CandidateRequested',
          data: { phaseId: phase.id, attempt: 1, round: 0, candidateId: candidateId(plan, phase, slot), slot, ...c.model, prompt: def.kind === 'llm' ? def.prompt : { user: 'x' }, output, attemptToken: 't', timeoutSeconds: 60 },
        })),
      ],
    });
    if (phase.status === 'running') continue;
    const end: NewEvent[] = [];
    phase.calls.forEach((c, slot) => {
      const id = candidateId(plan, phase, slot);
      if (c.outcome === 'failed') {
        end.push({ type: 'CandidateFailed', data: { phaseId: phase.id, attempt: 1, candidateId: id, error: { code: 'provider', message: 'boom', retryable: false }, durationMs: c.durationMs } });
        return;
      }
      end.push({ type: 'CandidateGenerated', data: { phaseId: phase.id, attempt: 1, candidateId: id, output: { text: 'x' }, tokens: c.tokens, costUsd: c.costUsd, durationMs: c.durationMs, workerId: 'w' } });
      if (c.outcome === 'rejected') end.push({ type: 'OutputRejected', data: { phaseId: phase.id, attempt: 1, candidateId: id, errors: ['text: too short'], raw: { text: 'x' } } });
    });
    const winner = candidateId(plan, phase, phase.calls.findIndex((c) => c.outcome === 'generated'));
    if (phase.verdict) {
      const scored = phase.calls.map((_, slot) => candidateId(plan, phase, slot));
      end.push({
        type: 'VerdictRecorded',
        data: {
          phaseId: phase.id, attempt: 1, round: 0, judgeId: `${plan.id}.${phase.id}.1.judge`, purpose: 'select', winnerId: winner,
          scores: Object.fromEntries(scored.map((id) => [id, { overall: 0.5, criteria: { quality: 0.5 } }])), rationale: 'r', order: scored,
          ...JUDGE, tokens: phase.verdict.tokens, costUsd: phase.verdict.costUsd, missing: [],
        },
      });
    }
    if (phase.status === 'completed') {
      const artifactId = artifactOf(plan.id, phase.id);
      end.push({ type: 'ArtifactRecorded', data: { artifactId, phaseId: phase.id, attempt: 1, candidateId: winner, artifactType: 'text', content: { text: 'x' } } });
      end.push({ type: 'PhaseCompleted', data: { phaseId: phase.id, attempt: 1, artifactId } });
    } else {
      end.push({ type: 'PhaseFailed', data: { phaseId: phase.id, attempt: 1, reason: { code: 'candidates_failed', message: 'no candidate', retryable: false } } });
    }
    commits.push({ at: t0 + phase.endMs, events: end });
  }
  const last = plan.phases[plan.phases.length - 1]!;
  if (plan.status === 'completed') commits.push({ at: t0 + last.endMs, events: [{ type: 'RunCompleted', data: {} }] });
  if (plan.status === 'failed') commits.push({ at: t0 + last.endMs, events: [{ type: 'RunFailed', data: { reason: { code: 'phase_failed', message: `${last.id} failed`, retryable: false }, phaseId: last.id } }] });
  return commits;
}

/* ---------------------------------------------------------------- the expected figures, by arithmetic */

/** percentile_cont: linear interpolation between the closest ranks, rounded to whole ms as the API does. */
function percentile(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const pos = p * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return Math.round(sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo));
}
const stats = (values: number[]) => ({ p50: percentile(values, 0.5), p95: percentile(values, 0.95), samples: values.length });
const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
/** the API's USD precision (1e-9) */
const usd = (value: number) => Math.round(value * 1e9) / 1e9;
const addTokens = (list: { input: number; output: number }[]) => ({ input: sum(list.map((t) => t.input)), output: sum(list.map((t) => t.output)) });

interface Flat {
  run: RunPlan;
  phase: PhasePlan;
  at: number;
  provider: string;
  model: string;
  status: Outcome | 'requested' | 'verdict';
  costUsd: number;
  tokens: { input: number; output: number };
  durationMs: number | null;
}

/** Every call of the plans as the read models hold it: candidates at their phase's start, verdicts at its end. */
function allCalls(): Flat[] {
  return PLANS.flatMap((run) =>
    run.phases.flatMap((phase) => {
      const t0 = Date.parse(run.start);
      const settled = isSettled(run, phase);
      const candidates = phase.calls.map((c): Flat => ({
        run, phase, at: t0 + phase.startMs, ...c.model, status: settled ? c.outcome : 'requested',
        costUsd: settled ? c.costUsd : 0, tokens: settled && c.outcome !== 'failed' ? c.tokens : { input: 0, output: 0 }, durationMs: settled ? c.durationMs : null,
      }));
      const verdicts = phase.verdict ? [{ run, phase, at: t0 + phase.endMs, ...JUDGE, status: 'verdict' as const, costUsd: phase.verdict.costUsd, tokens: phase.verdict.tokens, durationMs: null }] : [];
      return [...candidates, ...verdicts];
    }),
  );
}

function expected(templates: Record<'alpha' | 'beta', { id: string; template: Template }>, range: { from?: string; to?: string; templateId?: string }): AnalyticsView {
  const inRange = (ms: number) => (range.from === undefined || ms >= Date.parse(range.from)) && (range.to === undefined || ms < Date.parse(range.to));
  const ofTemplate = (run: RunPlan) => range.templateId === undefined || templates[run.template].id === range.templateId;
  const runs = PLANS.filter((r) => inRange(Date.parse(r.start)) && ofTemplate(r));
  const calls = allCalls().filter((c) => inRange(c.at) && ofTemplate(c.run));
  const runCost = (r: RunPlan) => sum(allCalls().filter((c) => c.run === r).map((c) => c.costUsd));
  const runTokens = (r: RunPlan) => addTokens(allCalls().filter((c) => c.run === r).map((c) => c.tokens));
  const runEnd = (r: RunPlan) => (r.status === 'running' ? null : Date.parse(r.start) + r.phases[r.phases.length - 1]!.endMs);
  const groupBy = <T, K extends string>(items: T[], key: (item: T) => K) => {
    const groups = new Map<K, T[]>();
    for (const item of items) groups.set(key(item), [...(groups.get(key(item)) ?? []), item]);
    return [...groups.entries()];
  };

  const templateRows = groupBy(runs, (r) => r.template).map(([name, list]) => {
    const finished = list.filter((r) => r.status !== 'running').length;
    const completed = list.filter((r) => r.status === 'completed');
    const failed = list.filter((r) => r.status === 'failed').length;
    const cost = sum(list.map(runCost));
    return {
      templateId: templates[name].id,
      templateName: templates[name].template.name,
      runs: list.length,
      completed: completed.length,
      failed,
      cancelled: 0,
      active: list.length - finished,
      successRate: finished > 0 ? completed.length / finished : null,
      failureRate: finished > 0 ? failed / finished : null,
      durationMs: stats(completed.map((r) => runEnd(r)! - Date.parse(r.start))),
      costUsd: cost,
      costPerRunUsd: usd(cost / list.length),
      tokens: addTokens(list.map(runTokens)),
    };
  });
  templateRows.sort((a, b) => b.costUsd - a.costUsd || a.templateId.localeCompare(b.templateId));

  // every phase of a run's template has its row from the start (pending until reached); a fork's
  // reused phase did not run in the fork and is not counted
  const phaseRows = groupBy(
    runs.flatMap((run) =>
      templates[run.template].template.phases.map((def) => ({ run, def, phase: run.phases.find((p) => p.id === def.id) ?? null })).filter((l) => l.phase?.status !== 'reused'),
    ),
    ({ run, def }) => `${templates[run.template].id} ${def.id}`,
  ).map(([, list]) => {
    const { run, def } = list[0]!;
    const reached = list.flatMap((l) => (l.phase ? [l.phase] : []));
    const own = allCalls().filter((c) => list.some((l) => l.run === c.run && l.phase === c.phase));
    return {
      templateId: templates[run.template].id,
      phaseId: def.id,
      name: def.name ?? null,
      kind: def.kind,
      completed: reached.filter((p) => p.status === 'completed').length,
      failed: reached.filter((p) => p.status === 'failed').length,
      durationMs: stats(reached.filter((p) => p.status === 'completed').map((p) => p.endMs - p.startMs)),
      costUsd: sum(own.map((c) => c.costUsd)),
      tokens: addTokens(own.map((c) => c.tokens)),
      position: templates[run.template].template.phases.indexOf(def),
    };
  });
  phaseRows.sort((a, b) => a.templateId.localeCompare(b.templateId) || a.position - b.position);

  const modelRows = groupBy(calls, (c) => `${c.provider} ${c.model}` as string).map(([, list]) => {
    const settled = list.filter((c) => c.status !== 'requested');
    const failed = list.filter((c) => c.status === 'failed' || c.status === 'rejected').length;
    const runIds = new Set(list.map((c) => c.run.id)).size;
    const cost = sum(list.map((c) => c.costUsd));
    return {
      provider: list[0]!.provider,
      model: list[0]!.model,
      runs: runIds,
      calls: settled.length,
      failed,
      successRate: settled.length > 0 ? (settled.length - failed) / settled.length : null,
      failureRate: settled.length > 0 ? failed / settled.length : null,
      durationMs: stats(settled.filter((c) => c.durationMs !== null).map((c) => c.durationMs!)),
      costUsd: cost,
      costPerRunUsd: usd(cost / runIds),
      tokens: addTokens(list.map((c) => c.tokens)),
    };
  });
  modelRows.sort((a, b) => b.costUsd - a.costUsd || a.provider.localeCompare(b.provider) || a.model.localeCompare(b.model));

  const top = [...runs].sort((a, b) => runCost(b) - runCost(a) || Date.parse(b.start) - Date.parse(a.start) || a.id.localeCompare(b.id)).slice(0, 10);
  const daily = groupBy(calls, (c) => new Date(c.at).toISOString().slice(0, 10))
    .map(([day, list]) => ({ day, costUsd: sum(list.map((c) => c.costUsd)), tokens: addTokens(list.map((c) => c.tokens)), calls: list.filter((c) => c.status !== 'requested').length }))
    .sort((a, b) => a.day.localeCompare(b.day));

  return {
    from: range.from === undefined ? null : new Date(range.from).toISOString(),
    to: range.to === undefined ? null : new Date(range.to).toISOString(),
    templateId: range.templateId ?? null,
    totals: { runs: runs.length, costUsd: sum(runs.map(runCost)), tokens: addTokens(runs.map(runTokens)) },
    templates: templateRows,
    phases: phaseRows.map(({ position: _position, ...row }) => row),
    models: modelRows,
    topRuns: top.map((r) => ({
      id: r.id,
      name: r.name,
      templateId: templates[r.template].id,
      templateName: templates[r.template].template.name,
      status: r.status,
      costUsd: runCost(r),
      tokens: runTokens(r),
      startedAt: r.start,
      completedAt: runEnd(r) === null ? null : new Date(runEnd(r)!).toISOString(),
      durationMs: runEnd(r) === null ? null : runEnd(r)! - Date.parse(r.start),
    })),
    daily,
  };
}

describe('GET /analytics', () => {
  let env: TestEnv;
  let gw: RunningGateway;
  let api: string;
  const templates = {
    alpha: { id: `alpha-${randomUUID()}`, template: Template.parse(ALPHA) },
    beta: { id: `beta-${randomUUID()}`, template: Template.parse(BETA) },
  };
  const get = (query: string) => http<AnalyticsView>(`${api}/analytics${query}`);
  const expectError = (res: HttpResult, status: number, code: string) => expect({ status: res.status, code: ErrorEnvelope.safeParse(res.body).data?.error.code }).toEqual({ status, code });

  beforeAll(async () => {
    env = await createTestEnv('gwanalytics');
    gw = await startGateway(env);
    api = `${gw.url}/api/v1`;
    for (const plan of PLANS) for (const commit of commitsOf(plan, templates)) await env.log.append('run', plan.id, commit.events, 'any', meta(commit.at));
    await fold(env, await env.log.readAll(0, 10_000));
  });
  afterAll(async () => {
    await gw?.close();
    await env?.dispose();
  });

  it('reports every template, phase, model, costly run and day of the whole log', async () => {
    const res = await get('');
    expect(res.status).toBe(200);
    const want = expected(templates, {});
    expect(res.body).toEqual(want);
    // the plan has what the figures are about: both outcomes, both templates, two candidate models and a judge, an active run
    expect(want.templates.map((t) => [t.completed, t.failed, t.active])).toEqual([
      [4, 1, 0],
      [1, 1, 1],
    ]);
    expect(want.models.map((m) => m.model).sort()).toEqual(['claude-y', 'gpt-x', 'judge-j']);
    expect(want.topRuns[0]!.name).toBe('beta one');
    // alpha's draft ran in four runs (the fork reused a1's): three completed, one failed
    expect(want.phases.find((p) => p.templateId === templates.alpha.id && p.phaseId === 'draft')).toEqual(expect.objectContaining({ completed: 3, failed: 1 }));
    // the same spend as GET /costs, per model and per day
    const byModel = await http<{ items: { key: string; costUsd: number }[] }>(`${api}/costs?groupBy=model`);
    expect(Object.fromEntries(byModel.body.items.map((i) => [i.key, i.costUsd]))).toEqual(Object.fromEntries(res.body.models.map((m) => [m.model, m.costUsd])));
    const byDay = await http<{ items: { key: string; costUsd: number }[] }>(`${api}/costs?groupBy=day`);
    expect(byDay.body.items.filter((i) => i.costUsd > 0).map((i) => [i.key, i.costUsd])).toEqual(res.body.daily.filter((d) => d.costUsd > 0).map((d) => [d.day, d.costUsd]));
  });

  it('restricts runs to those started in [from, to) and calls to those made in it', async () => {
    const ranges: Record<string, string>[] = [
      { from: '2026-01-11', to: '2026-01-13' },
      { from: '2026-01-11T20:00:00Z', to: '2026-01-20T12:00:00.000Z' },
      { from: '2026-01-12T16:30:00+01:00' },
      { to: '2026-01-11T09:00:08.000Z' },
    ];
    for (const range of ranges) {
      const query = new URLSearchParams(range).toString();
      const res = await get(`?${query}`);
      expect({ query, status: res.status, body: res.body }).toEqual({ query, status: 200, body: expected(templates, range) });
    }
    // the bound in the middle of run a2's draft: its candidates (requested at 09:00:00) count, its verdict (08 s later) does not
    const cut = await get('?to=2026-01-11T09:00:08.000Z');
    expect(cut.body.models.find((m) => m.model === 'judge-j')).toEqual(expect.objectContaining({ calls: 1, costUsd: 0.125 }));
    expect(cut.body.totals.runs).toBe(2);
    const bounded = await get('?from=2026-01-11&to=2026-01-13');
    expect(bounded.body.topRuns.map((r) => r.name)).toEqual(['beta one', 'alpha two', 'alpha three', 'beta two']);
    expect(bounded.body.daily.map((d) => d.day)).toEqual(['2026-01-11', '2026-01-12']);
    // an empty range is not an error
    const empty = await get('?from=2026-01-11&to=2026-01-11');
    expect(empty.body).toEqual(expect.objectContaining({ totals: { runs: 0, costUsd: 0, tokens: { input: 0, output: 0 } }, templates: [], phases: [], models: [], topRuns: [], daily: [] }));
  });

  it('narrows to one template', async () => {
    const ranges: Record<string, string>[] = [{ templateId: templates.beta.id }, { templateId: templates.alpha.id, from: '2026-01-11', to: '2026-02-01' }];
    for (const range of ranges) {
      const res = await get(`?${new URLSearchParams(range).toString()}`);
      expect(res.body).toEqual(expected(templates, range));
    }
    const beta = (await get(`?templateId=${templates.beta.id}`)).body;
    expect(beta.models.map((m) => m.model)).toEqual(['claude-y']);
    expect(beta.templates).toHaveLength(1);
    expect((await get('?templateId=no-such-template')).body.templates).toEqual([]);
  });

  it('refuses a range that is not ISO or runs backwards with a 422 naming the field, other bad queries with a 400', async () => {
    for (const [query, field] of [
      ['from=yesterday', 'from'],
      ['to=2026-02-30', 'to'],
      ['from=2026-01-10T10:00:00', 'from'],
      ['to=1767225600', 'to'],
      ['from=2026-01-01&from=2026-01-02', 'from'],
    ] as const) {
      const res = await get(`?${query}`);
      expectError(res, 422, 'validation');
      expect({ query, field: (res.body as unknown as { error: { details: { field: string } } }).error.details.field }).toEqual({ query, field });
    }
    for (const query of ['from=2026-01-13&to=2026-01-12', 'from=2026-01-12T00:00:00.001Z&to=2026-01-12']) {
      const res = await get(`?${query}`);
      expectError(res, 422, 'validation');
      expect(res.body).toEqual({ error: expect.objectContaining({ message: 'from must not be after to' }) });
    }
    expectError(await get('?templateId='), 400, 'bad_request');
  });
});
