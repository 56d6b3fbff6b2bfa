import { randomUUID } from 'node:crypto';
import { ErrorEnvelope, Template, type FrontierModel, type FrontierView, type NewEvent, type TemplateInput } from '@conclave/contracts';
import type { AppendMeta } from '@conclave/event-log';
import { createDataSource, type DataSource } from '@conclave/read-models';
import { createTestEnv, type TestEnv } from '@conclave/testing';
import { fold, http, startGateway, type HttpResult, type RunningGateway } from '../__tests__/harness';

/*
 * GET /analytics/frontier over runs folded into the read models. Two proofs:
 * - every figure the endpoint gives equals what a plain SQL of this test computes from the tables
 *   (candidates, verdicts, artifacts), whatever the range, template and phase;
 * - on a constructed phase — a best but dear model, a cheaper one within ε, a dominated one and a
 *   cheap weak one — the frontier and the recommendation are the ones worked out by hand below.
 */

const BIG = { provider: 'openai', model: 'gpt-big' };
const MID = { provider: 'anthropic', model: 'claude-mid' };
const TINY = { provider: 'openai', model: 'gpt-tiny' };
const DOMINATED = { provider: 'gemini', model: 'gem-dominated' };
type Model = typeof BIG;

const TUNED: TemplateInput = {
  name: 'tuned pipeline',
  phases: [
    { id: 'draft', name: 'Draft', kind: 'llm', prompt: { user: 'Draft' }, candidates: [BIG, MID, TINY, DOMINATED], judge: { provider: 'simulated', model: 'sim-judge', criteria: ['quality'] } },
    { id: 'polish', kind: 'llm', dependsOn: ['draft'], prompt: { user: 'Polish' }, candidates: [MID] },
  ],
};
const OTHER: TemplateInput = {
  name: 'other pipeline',
  phases: [
    { id: 'draft', kind: 'llm', prompt: { user: 'Draft' }, candidates: [BIG, TINY], judge: { provider: 'simulated', model: 'sim-judge', criteria: ['quality'] } },
    { id: 'refine', kind: 'loop', dependsOn: ['draft'], prompt: { user: 'Refine' }, candidates: [MID], loop: { maxAttempts: 3, passThreshold: 0.8, evaluator: { provider: 'simulated', model: 'sim-judge', criteria: ['quality'] } } },
  ],
};

/** A producer call: how it ended, what it cost, how long it took and (generated in a judged round) its score. */
interface Call {
  model: Model;
  outcome: 'generated' | 'failed' | 'rejected' | 'in-flight';
  costUsd: number;
  durationMs: number;
  score?: number;
}
interface RunPlan {
  id: string;
  template: 'tuned' | 'other';
  start: string;
  /** the judged phase's candidates; the highest score wins */
  draft: Call[];
  /** tuned's unjudged single-candidate phase */
  polish?: Call;
  /** other's loop: one candidate a round, each scored by the evaluator; the best round's output is taken */
  refine?: Call[];
}

const g = (model: Model, costUsd: number, durationMs: number, score: number): Call => ({ model, outcome: 'generated', costUsd, durationMs, score });

/**
 * Mean scores and costs per candidate in January (costs are binary fractions, so means are exact):
 * BIG 0.9 at $0.5; MID 0.87 at $0.125; TINY 0.6 at $0.046875 (one failure in four);
 * DOMINATED 0.7 at $0.25 (one output rejected, billed). BIG wins three rounds, MID one.
 */
const PLANS: RunPlan[] = [
  { id: `t1-${randomUUID()}`, template: 'tuned', start: '2026-01-05T10:00:00.000Z', draft: [g(BIG, 0.5, 4_000, 0.9), g(MID, 0.125, 2_000, 0.85), g(TINY, 0.0625, 500, 0.6), g(DOMINATED, 0.25, 3_000, 0.7)], polish: g(MID, 0.25, 1_000, 0) },
  { id: `t2-${randomUUID()}`, template: 'tuned', start: '2026-01-06T10:00:00.000Z', draft: [g(BIG, 0.5, 5_000, 0.92), g(MID, 0.125, 2_200, 0.87), g(TINY, 0.0625, 700, 0.55), g(DOMINATED, 0.25, 3_500, 0.72)], polish: g(MID, 0.125, 1_500, 0) },
  { id: `t3-${randomUUID()}`, template: 'tuned', start: '2026-01-07T10:00:00.000Z', draft: [g(BIG, 0.5, 4_500, 0.88), g(MID, 0.125, 2_400, 0.89), g(TINY, 0.0625, 600, 0.65), g(DOMINATED, 0.25, 2_800, 0.68)] },
  {
    id: `t4-${randomUUID()}`, template: 'tuned', start: '2026-01-08T10:00:00.000Z',
    draft: [g(BIG, 0.5, 6_000, 0.9), g(MID, 0.125, 1_800, 0.87), { model: TINY, outcome: 'failed', costUsd: 0, durationMs: 300 }, { model: DOMINATED, outcome: 'rejected', costUsd: 0.25, durationMs: 3_100 }],
  },
  // still running: its candidates are in flight and count nowhere
  { id: `t5-${randomUUID()}`, template: 'tuned', start: '2026-01-09T10:00:00.000Z', draft: [BIG, MID, TINY, DOMINATED].map((model) => ({ model, outcome: 'in-flight' as const, costUsd: 0, durationMs: 0 })) },
  // March, outside the January range: the dominated model shines there
  { id: `t6-${randomUUID()}`, template: 'tuned', start: '2026-03-02T10:00:00.000Z', draft: [g(BIG, 0.5, 4_000, 0.5), g(MID, 0.125, 2_000, 0.5), g(TINY, 0.0625, 500, 0.5), g(DOMINATED, 0.25, 3_000, 0.99)] },
  { id: `o1-${randomUUID()}`, template: 'other', start: '2026-01-06T12:00:00.000Z', draft: [g(BIG, 1, 8_000, 0.8), g(TINY, 0.125, 900, 0.79)], refine: [g(MID, 0.25, 2_000, 0.6), g(MID, 0.5, 2_500, 0.85)] },
];

const meta = (at: number): AppendMeta => ({ occurredAt: new Date(at).toISOString(), correlationId: randomUUID(), causationId: null, actor: { kind: 'system', id: 'test' } });

/** A run's commits as the orchestrator makes them: start, each phase's requests, then its results, verdict and artifact. */
function commitsOf(plan: RunPlan, templates: Record<RunPlan['template'], { id: string; template: Template }>): { at: number; events: NewEvent[] }[] {
  const t0 = Date.parse(plan.start);
  const { id: templateId, template } = templates[plan.template];
  const commits: { at: number; events: NewEvent[] }[] = [{ at: t0, events: [{ type: 'RunStarted', data: { runId: plan.id, templateId, templateVersion: 1, template, name: null, inputs: {}, autoMode: true, budgetUsd: null, origin: null } }] }];
  const phases = [{ id: 'draft', calls: plan.draft, judged: true }, ...(plan.polish ? [{ id: 'polish', calls: [plan.polish], judged: false }] : [])];
  phases.forEach((phase, index) => {
    const at = t0 + index * 60_000;
    const ids = phase.calls.map((_, slot) => `${plan.id}.${phase.id}.1.c${slot}`);
    commits.push({
      at,
      events: [
        { type: 'PhaseStarted', data: { phaseId: phase.id, attempt: 1 } },
        ...phase.calls.map((c, slot): NewEvent => ({ type: 'CandidateRequested', data: { phaseId: phase.id, attempt: 1, round: 0, candidateId: ids[slot]!, slot, ...c.model, prompt: { user: 'x' }, output: { schema: { type: 'object' } }, attemptToken: 't', timeoutSeconds: 60 } })),
      ],
    });
    if (phase.calls.some((c) => c.outcome === 'in-flight')) return;
    const end: NewEvent[] = phase.calls.flatMap((c, slot): NewEvent[] => {
      const base = { phaseId: phase.id, attempt: 1, candidateId: ids[slot]! };
      if (c.outcome === 'failed') return [{ type: 'CandidateFailed', data: { ...base, error: { code: 'provider', message: 'boom', retryable: false }, durationMs: c.durationMs } }];
      const generated: NewEvent = { type: 'CandidateGenerated', data: { ...base, output: { text: c.model.model }, tokens: { input: 10, output: 5 }, costUsd: c.costUsd, durationMs: c.durationMs, workerId: 'w' } };
      return c.outcome === 'rejected' ? [generated, { type: 'OutputRejected', data: { ...base, errors: ['text: too short'], raw: { text: 'x' } } }] : [generated];
    });
    const scored = phase.calls.flatMap((c, slot) => (c.score !== undefined && phase.judged ? [{ id: ids[slot]!, score: c.score }] : []));
    const winner = phase.judged ? [...scored].sort((a, b) => b.score - a.score)[0]!.id : ids[0]!;
    if (phase.judged) {
      end.push({
        type: 'VerdictRecorded',
        data: {
          phaseId: phase.id, attempt: 1, round: 0, judgeId: `${plan.id}.${phase.id}.1.judge`, purpose: 'select', winnerId: winner,
          scores: Object.fromEntries(scored.map((s) => [s.id, { overall: s.score, criteria: { quality: s.score } }])), rationale: 'r', order: scored.map((s) => s.id),
          provider: 'simulated', model: 'sim-judge', tokens: { input: 1, output: 1 }, costUsd: 0, missing: [],
        },
      });
    }
    const artifactId = `${plan.id}.${phase.id}.1.artifact`;
    end.push({ type: 'ArtifactRecorded', data: { artifactId, phaseId: phase.id, attempt: 1, candidateId: winner, artifactType: 'text', content: { text: 'x' } } });
    end.push({ type: 'PhaseCompleted', data: { phaseId: phase.id, attempt: 1, artifactId } });
    commits.push({ at: at + 30_000, events: end });
  });
  if (plan.refine) {
    const at = t0 + phases.length * 60_000;
    const ids = plan.refine.map((_, round) => `${plan.id}.refine.1.r${round}`);
    const best = ids[plan.refine.reduce((b, c, i) => (c.score! > plan.refine![b]!.score! ? i : b), 0)]!;
    commits.push({
      at,
      events: [
        { type: 'PhaseStarted', data: { phaseId: 'refine', attempt: 1 } },
        ...plan.refine.flatMap((c, round): NewEvent[] => [
          { type: 'CandidateRequested', data: { phaseId: 'refine', attempt: 1, round, candidateId: ids[round]!, slot: 0, ...c.model, prompt: { user: 'x' }, output: { schema: { type: 'object' } }, attemptToken: 't', timeoutSeconds: 60 } },
          { type: 'CandidateGenerated', data: { phaseId: 'refine', attempt: 1, candidateId: ids[round]!, output: { text: `round ${round}` }, tokens: { input: 10, output: 5 }, costUsd: c.costUsd, durationMs: c.durationMs, workerId: 'w' } },
          {
            type: 'VerdictRecorded',
            data: {
              phaseId: 'refine', attempt: 1, round, judgeId: `${plan.id}.refine.1.eval${round}`, purpose: 'evaluate', winnerId: ids[round]!,
              scores: { [ids[round]!]: { overall: c.score!, criteria: { quality: c.score! } } }, rationale: 'r', order: [ids[round]!],
              provider: 'simulated', model: 'sim-judge', tokens: { input: 1, output: 1 }, costUsd: 0, missing: [],
            },
          },
        ]),
        { type: 'ArtifactRecorded', data: { artifactId: `${plan.id}.refine.1.artifact`, phaseId: 'refine', attempt: 1, candidateId: best, artifactType: 'text', content: { text: 'x' } } },
        { type: 'PhaseCompleted', data: { phaseId: 'refine', attempt: 1, artifactId: `${plan.id}.refine.1.artifact` } },
      ],
    });
  }
  return commits;
}

interface SqlRow {
  template_id: string;
  phase_id: string;
  provider: string;
  model: string;
  candidates: string;
  judged: string;
  wins: string;
  scored: string;
  mean_score: number | null;
  mean_cost: number;
  failed: string;
  p50: number | null;
  p95: number | null;
  samples: string;
}

/**
 * The figures by this test's own SQL: candidates LEFT JOIN their round's select verdict, its
 * evaluate verdict (a loop's) and the artifact taken from them, the select verdict's judgement
 * first, grouped by template, phase and model.
 */
async function figuresBySql(db: DataSource, range: { from?: string; to?: string; templateId?: string; phaseId?: string }): Promise<Record<string, Omit<FrontierModel, 'onFrontier' | 'dominatedBy'>>> {
  const rows = (await db.query(
    `SELECT r.template_id, c.phase_id, c.provider, c.model,
            count(*) AS candidates,
            count(COALESCE(vs.winner_id, ve.winner_id)) AS judged,
            count(COALESCE(vs.winner_id, ve.winner_id)) FILTER (WHERE a.id IS NOT NULL) AS wins,
            count(COALESCE(vs.scores, ve.scores) -> c.id) AS scored,
            avg((COALESCE(vs.scores, ve.scores) -> c.id ->> 'overall')::numeric)::float8 AS mean_score,
            avg(c.cost_usd)::float8 AS mean_cost,
            sum(CASE WHEN c.status IN ('failed', 'rejected') THEN 1 ELSE 0 END) AS failed,
            percentile_cont(0.5) WITHIN GROUP (ORDER BY c.duration_ms) AS p50,
            percentile_cont(0.95) WITHIN GROUP (ORDER BY c.duration_ms) AS p95,
            count(c.duration_ms) AS samples
       FROM candidates c
       JOIN runs r ON r.id = c.run_id
       LEFT JOIN verdicts vs ON vs.run_id = c.run_id AND vs.phase_id = c.phase_id AND vs.attempt = c.attempt AND vs.round = c.round AND vs.purpose = 'select'
       LEFT JOIN verdicts ve ON ve.run_id = c.run_id AND ve.phase_id = c.phase_id AND ve.attempt = c.attempt AND ve.round = c.round AND ve.purpose = 'evaluate'
       LEFT JOIN artifacts a ON a.run_id = c.run_id AND a.phase_id = c.phase_id AND a.candidate_id = c.id
      WHERE c.status IN ('generated', 'failed', 'rejected')
        AND c.requested_at >= COALESCE($1::timestamptz, '-infinity') AND c.requested_at < COALESCE($2::timestamptz, 'infinity')
        AND r.template_id = COALESCE($3, r.template_id) AND c.phase_id = COALESCE($4, c.phase_id)
      GROUP BY 1, 2, 3, 4`,
    [range.from ?? null, range.to ?? null, range.templateId ?? null, range.phaseId ?? null],
  )) as SqlRow[];
  const round9 = (v: number) => Math.round(v * 1e9) / 1e9;
  return Object.fromEntries(
    rows.map((r) => {
      const meanScore = r.mean_score === null ? null : round9(r.mean_score);
      return [
        `${r.template_id} ${r.phase_id} ${r.provider}/${r.model}`,
        {
          provider: r.provider,
          model: r.model,
          candidates: Number(r.candidates),
          judged: Number(r.judged),
          wins: Number(r.wins),
          winRate: Number(r.judged) > 0 ? Number(r.wins) / Number(r.judged) : null,
          scored: Number(r.scored),
          meanScore,
          meanCostUsd: round9(r.mean_cost),
          costPerScorePointUsd: meanScore ? round9(round9(r.mean_cost) / meanScore) : null,
          latencyMs: { p50: r.p50 === null ? null : Math.round(r.p50), p95: r.p95 === null ? null : Math.round(r.p95), samples: Number(r.samples) },
          failed: Number(r.failed),
          failureRate: Number(r.failed) / Number(r.candidates),
        },
      ];
    }),
  );
}

const placed = (m: Model, meanScore: number, meanCostUsd: number) => ({ ...m, meanScore, meanCostUsd });

describe('GET /analytics/frontier', () => {
  let env: TestEnv;
  let gw: RunningGateway;
  let db: DataSource;
  let api: string;
  const templates = {
    tuned: { id: `tuned-${randomUUID()}`, template: Template.parse(TUNED) },
    other: { id: `other-${randomUUID()}`, template: Template.parse(OTHER) },
  };
  const get = (query: Record<string, string>) => http<FrontierView>(`${api}/analytics/frontier?${new URLSearchParams(query).toString()}`);
  const expectError = (res: HttpResult, status: number, code: string) => expect({ status: res.status, code: ErrorEnvelope.safeParse(res.body).data?.error.code }).toEqual({ status, code });
  const JANUARY = { from: '2026-01-01', to: '2026-02-01' };

  beforeAll(async () => {
    env = await createTestEnv('gwfrontier');
    gw = await startGateway(env);
    api = `${gw.url}/api/v1`;
    for (const t of Object.values(templates)) await env.log.append('template', t.id, [{ type: 'TemplateCreated', data: { templateId: t.id, version: 1, template: t.template } }], 'any', meta(Date.parse('2026-01-01T00:00:00Z')));
    for (const plan of PLANS) for (const commit of commitsOf(plan, templates)) await env.log.append('run', plan.id, commit.events, 'any', meta(commit.at));
    await fold(env, await env.log.readAll(0, 10_000));
    db = createDataSource(env.databaseUrl, { poolSize: 1 });
    await db.initialize();
  });
  afterAll(async () => {
    await db?.destroy();
    await gw?.close();
    await env?.dispose();
  });

  it('gives per template phase and model the figures a plain SQL over the read models computes', async () => {
    const queries: Record<string, string>[] = [
      {},
      JANUARY,
      { ...JANUARY, templateId: templates.tuned.id },
      { templateId: templates.tuned.id, phaseId: 'polish' },
      { phaseId: 'draft', to: '2026-01-07' },
      { from: '2026-01-06T11:00:00+01:00', to: '2026-01-08T10:00:00Z' },
    ];
    for (const query of queries) {
      const res = await get(query);
      expect({ query, status: res.status }).toEqual({ query, status: 200 });
      const byEndpoint = Object.fromEntries(res.body.phases.flatMap((p) => p.models.map(({ onFrontier: _f, dominatedBy: _d, ...m }) => [`${p.templateId} ${p.phaseId} ${m.provider}/${m.model}`, m])));
      const bySql = await figuresBySql(db, { ...query, from: query.from && new Date(query.from.length === 10 ? `${query.from}T00:00:00Z` : query.from).toISOString(), to: query.to && new Date(query.to.length === 10 ? `${query.to}T00:00:00Z` : query.to).toISOString() });
      expect({ query, figures: byEndpoint }).toEqual({ query, figures: bySql });
      expect(Object.keys(bySql).length).toBeGreaterThan(0);
      // every phase lists its models cheapest first
      for (const p of res.body.phases) expect(p.models.map((m) => m.meanCostUsd)).toEqual([...p.models.map((m) => m.meanCostUsd)].sort((a, b) => a - b));
    }
  });

  it('draws the Pareto frontier and recommends the cheapest model within ε of the best, on a constructed phase', async () => {
    const res = await get({ ...JANUARY, templateId: templates.tuned.id });
    expect(res.body).toEqual(expect.objectContaining({ from: '2026-01-01T00:00:00.000Z', to: '2026-02-01T00:00:00.000Z', templateId: templates.tuned.id, phaseId: null, epsilon: 0.05 }));
    expect(res.body.phases.map((p) => [p.phaseId, p.name, p.kind, p.templateName, p.judgedRounds])).toEqual([
      ['draft', 'Draft', 'llm', 'tuned pipeline', 4],
      ['polish', null, 'llm', 'tuned pipeline', 0],
    ]);
    const draft = res.body.phases[0]!;
    const model = (m: Model) => draft.models.find((x) => x.model === m.model)!;
    // the figures worked out by hand (see PLANS)
    expect(draft.models.map((m) => [m.model, m.candidates, m.judged, m.wins, m.winRate, m.scored, m.meanScore, m.meanCostUsd, m.failed, m.failureRate])).toEqual([
      ['gpt-tiny', 4, 4, 0, 0, 3, 0.6, 0.046875, 1, 0.25],
      ['claude-mid', 4, 4, 1, 0.25, 4, 0.87, 0.125, 0, 0],
      ['gem-dominated', 4, 4, 0, 0, 3, 0.7, 0.25, 1, 0.25],
      ['gpt-big', 4, 4, 3, 0.75, 4, 0.9, 0.5, 0, 0],
    ]);
    expect(model(BIG).costPerScorePointUsd).toBeCloseTo(0.5 / 0.9, 9);
    expect(model(BIG).latencyMs).toEqual({ p50: 4_750, p95: 5_850, samples: 4 });
    // the frontier: TINY (cheapest), MID, BIG; DOMINATED costs more than MID and scores less
    expect(draft.frontier).toEqual([placed(TINY, 0.6, 0.046875), placed(MID, 0.87, 0.125), placed(BIG, 0.9, 0.5)]);
    expect(draft.models.map((m) => [m.model, m.onFrontier, m.dominatedBy])).toEqual([
      ['gpt-tiny', true, null],
      ['claude-mid', true, null],
      ['gem-dominated', false, MID],
      ['gpt-big', true, null],
    ]);
    // ε = 0.05: the threshold is 0.85; MID (0.87) clears it at a quarter of BIG's cost
    expect(draft.recommendation).toEqual({
      ...placed(MID, 0.87, 0.125),
      best: placed(BIG, 0.9, 0.5),
      epsilon: 0.05,
      threshold: 0.85,
      scoreGap: 0.03,
      savingUsd: 0.375,
      savingRatio: 0.75,
      withinEpsilon: [placed(MID, 0.87, 0.125), placed(BIG, 0.9, 0.5)],
      reason: expect.stringContaining('claude-mid (anthropic) scores 0.870 on average, 0.030 below the best (gpt-big (openai), 0.900)'),
    });
    // the unjudged phase has figures but no scores: nothing to place, nothing to recommend
    const polish = res.body.phases[1]!;
    expect(polish.models.map((m) => [m.model, m.candidates, m.judged, m.winRate, m.meanScore, m.meanCostUsd, m.onFrontier])).toEqual([['claude-mid', 2, 0, null, null, 0.1875, false]]);
    expect([polish.frontier, polish.recommendation]).toEqual([[], null]);
    // a loop: each round's candidate judged by the evaluator, the best round's taken as the output
    const refine = (await get({ ...JANUARY, templateId: templates.other.id, phaseId: 'refine' })).body.phases[0]!;
    expect([refine.kind, refine.judgedRounds]).toEqual(['loop', 2]);
    expect(refine.models.map((m) => [m.model, m.candidates, m.judged, m.wins, m.winRate, m.scored, m.meanScore, m.meanCostUsd])).toEqual([['claude-mid', 2, 2, 1, 0.5, 2, 0.725, 0.375]]);
    expect(refine.recommendation).toEqual(expect.objectContaining({ model: 'claude-mid', savingUsd: 0, withinEpsilon: [placed(MID, 0.725, 0.375)] }));
  });

  it('moves the recommendation with ε: none keeps the best, a wide one reaches the cheap model exactly at the threshold', async () => {
    const pick = async (epsilon: string) => (await get({ ...JANUARY, templateId: templates.tuned.id, phaseId: 'draft', epsilon })).body.phases[0]!.recommendation!;
    const none = await pick('0');
    expect([none.model, none.savingUsd, none.withinEpsilon.map((m) => m.model), none.reason]).toEqual(['gpt-big', 0, ['gpt-big'], expect.stringContaining('has the best mean score (0.900)')]);
    // 0.9 − 0.3 is 0.6000000000000001 in doubles: TINY's 0.6 is within it
    const wide = await pick('0.3');
    expect([wide.model, wide.threshold, wide.withinEpsilon.map((m) => m.model)]).toEqual(['gpt-tiny', 0.6, ['gpt-tiny', 'claude-mid', 'gem-dominated', 'gpt-big']]);
    expect((await pick('1')).model).toBe('gpt-tiny');
    // the whole log: March's 0.99 lifts the dominated model's mean to 0.7725, still below MID's (0.796) at twice its cost
    const all = (await get({ templateId: templates.tuned.id, phaseId: 'draft' })).body.phases[0]!;
    expect(all.frontier.map((m) => m.model)).toEqual(['gpt-tiny', 'claude-mid', 'gpt-big']);
    expect(all.models.find((m) => m.model === 'gem-dominated')!.meanScore).toBe(0.7725);
    // one phase id across templates: both templates' drafts (in template id order)
    const drafts = (await get({ phaseId: 'draft', ...JANUARY })).body.phases;
    const want = [
      [templates.tuned.id, 'tuned pipeline', 'claude-mid'],
      [templates.other.id, 'other pipeline', 'gpt-tiny'],
    ].sort((a, b) => a[0]!.localeCompare(b[0]!));
    expect(drafts.map((p) => [p.templateId, p.templateName, p.recommendation?.model])).toEqual(want);
  });

  it('refuses bad input with a 422 naming the field and unknown ids with a 404', async () => {
    for (const [query, field] of [
      [{ epsilon: '1.5' }, 'epsilon'],
      [{ epsilon: '-0.1' }, 'epsilon'],
      [{ epsilon: 'abc' }, 'epsilon'],
      [{ epsilon: '' }, 'epsilon'],
      [{ epsilon: 'NaN' }, 'epsilon'],
      [{ templateId: '' }, 'templateId'],
      [{ phaseId: '' }, 'phaseId'],
      [{ from: 'yesterday' }, 'from'],
      [{ to: '2026-02-30' }, 'to'],
    ] as [Record<string, string>, string][]) {
      const res = await get(query);
      expectError(res, 422, 'validation');
      expect({ query, field: (res.body as unknown as { error: { details: { field: string } } }).error.details.field }).toEqual({ query, field });
    }
    const backwards = await get({ from: '2026-02-01', to: '2026-01-01' });
    expectError(backwards, 422, 'validation');
    expect(backwards.body).toEqual({ error: expect.objectContaining({ message: 'from must not be after to' }) });
    const repeated = await http(`${api}/analytics/frontier?epsilon=0.1&epsilon=0.2`);
    expectError(repeated, 422, 'validation');
    expectError(await get({ templateId: 'no-such-template' }), 404, 'not_found');
    expectError(await get({ templateId: templates.other.id, phaseId: 'polish' }), 404, 'not_found');
    expectError(await get({ phaseId: 'nowhere' }), 404, 'not_found');
  });
});
