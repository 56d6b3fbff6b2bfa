import { randomUUID } from 'node:crypto';
import type { NewEvent, Recorded, RunComparison, RunSummary, RunView } from '@conclave/contracts';
import { createTestEnv, type TestEnv } from '@conclave/testing';
import { fold, http, startGateway, type RunningGateway } from '../__tests__/harness';

/**
 * GET /runs sorted, filtered and paged, and GET /runs/compare, over runs seeded into the log with
 * known times, costs, tokens, verdicts and artifacts. Expected orders and figures are computed
 * here from the seed, not read back from the API.
 */
const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const T0 = Date.parse('2026-03-01T00:00:00.000Z');

interface SeedCandidate {
  provider: string;
  model: string;
  costUsd: number;
  tokens: { input: number; output: number };
  output: unknown;
}
interface SeedPhase {
  id: string;
  durationMs: number;
  candidates: SeedCandidate[];
  /** index of the winner; with a judge when there are two candidates or more */
  winner: number;
  scores?: number[];
  judgeCostUsd?: number;
}
interface SeedRun {
  id: string;
  name: string | null;
  templateId: string;
  startedAt: number;
  phases: SeedPhase[];
  end: 'completed' | 'failed' | null;
  origin?: { kind: 'fork' | 'rerun'; runId: string } | null;
}

const phaseTemplate = (id: string, candidates = 1) => ({ id, kind: 'llm', prompt: { user: `Write ${id}` }, candidates: Array.from({ length: candidates }, () => ({ provider: 'simulated', model: 'sim' })) });

describe('GET /runs (sort, filters, range, cursor) and GET /runs/compare', () => {
  let env: TestEnv;
  let gw: RunningGateway;
  let api: string;
  const tplA = `tpl-a-${randomUUID()}`;
  const tplB = `tpl-b-${randomUUID()}`;
  const templates: Record<string, object> = {
    [tplA]: { name: 'alpha-template', description: '', inputs: { type: 'object' }, phases: [phaseTemplate('draft', 2), { ...phaseTemplate('review'), dependsOn: ['draft'] }] },
    [tplB]: { name: 'beta-template', description: '', inputs: { type: 'object' }, phases: [phaseTemplate('draft', 2), { ...phaseTemplate('summary'), dependsOn: ['draft'] }] },
  };
  const cand = (model: string, costUsd: number, input: number, output: number, text: string): SeedCandidate => ({ provider: 'simulated', model, costUsd, tokens: { input, output }, output: { text } });
  const draft = (durationMs: number, a: SeedCandidate, b: SeedCandidate, winner: number, scores: number[], judgeCostUsd: number): SeedPhase => ({ id: 'draft', durationMs, candidates: [a, b], winner, scores, judgeCostUsd });
  const single = (id: string, durationMs: number, c: SeedCandidate): SeedPhase => ({ id, durationMs, candidates: [c], winner: 0 });
  const tag = randomUUID().slice(0, 8);
  const runs: SeedRun[] = [
    { id: `${tag}-r1`, name: 'alpha', templateId: tplA, startedAt: T0 + HOUR, end: 'completed',
      phases: [draft(4 * MIN, cand('fast', 0.1, 100, 200, 'bees dance'), cand('slow', 0.12, 120, 220, 'bees sing'), 0, [0.9, 0.6], 0.02), single('review', 6 * MIN, cand('sim', 0.06, 50, 60, 'fine'))] },
    { id: `${tag}-r2`, name: 'bravo', templateId: tplA, startedAt: T0 + 2 * HOUR, end: null, phases: [single('draft', 1 * MIN, cand('fast', 0.05, 10, 10, 'x'))] },
    { id: `${tag}-r3`, name: 'charlie', templateId: tplB, startedAt: T0 + DAY, end: 'completed',
      phases: [draft(1 * MIN, cand('fast', 0.03, 30, 40, 'ants march'), cand('slow', 0.04, 30, 50, 'ants sing'), 1, [0.5, 0.8], 0.01), single('summary', 1 * MIN, cand('sim', 0.02, 5, 5, 'short'))] },
    { id: `${tag}-r4`, name: 'delta', templateId: tplB, startedAt: T0 + 2 * DAY, end: 'failed', phases: [single('draft', 30 * MIN, cand('fast', 0.2, 10, 10, 'y'))] },
    { id: `${tag}-r5`, name: null, templateId: tplA, startedAt: T0 + 3 * DAY, end: 'completed', origin: { kind: 'fork', runId: `${tag}-r1` },
      phases: [draft(30_000, cand('fast', 0.08, 90, 150, 'bees dance'), cand('slow', 0.1, 100, 180, 'bees hum loudly'), 1, [0.7, 0.95], 0.03), single('review', 30_000, cand('sim', 0.09, 40, 40, 'fine too'))] },
    { id: `${tag}-r6`, name: 'echo', templateId: tplA, startedAt: T0 + 5 * DAY, end: 'completed', phases: [single('draft', 5 * MIN, cand('fast', 0.01, 1, 1, 'z'))] },
  ];
  const ids = runs.map((r) => r.id);
  const costOf = (r: SeedRun) => r.phases.reduce((s, p) => s + p.candidates.reduce((c, x) => c + x.costUsd, 0) + (p.judgeCostUsd ?? 0), 0);
  const endOf = (r: SeedRun) => r.phases.reduce((t, p) => t + p.durationMs, r.startedAt);
  let views: Map<string, RunView>;

  const meta = (at: number) => ({ occurredAt: new Date(at).toISOString(), correlationId: randomUUID(), causationId: null, actor: { kind: 'system' as const, id: 'test' } });

  async function seed(run: SeedRun): Promise<Recorded[]> {
    const out: Recorded[] = [];
    const append = async (events: NewEvent[], at: number) => out.push(...(await env.log.append('run', run.id, events, 'any', meta(at))));
    const data = { runId: run.id, templateId: run.templateId, templateVersion: 1, template: templates[run.templateId] as never, name: run.name, inputs: {}, autoMode: true, budgetUsd: null, origin: run.origin ?? null };
    await append([{ type: 'RunStarted', data }], run.startedAt);
    let at = run.startedAt;
    for (const phase of run.phases) {
      const cid = (i: number) => `${run.id}.${phase.id}.1.c${i}`;
      const artifactId = `${run.id}.${phase.id}.1.artifact`;
      const events: NewEvent[] = [{ type: 'PhaseStarted', data: { phaseId: phase.id, attempt: 1 } }];
      phase.candidates.forEach((c, i) =>
        events.push({
          type: 'CandidateRequested',
          data: { phaseId: phase.id, attempt: 1, round: 0, candidateId: cid(i), slot: i, provider: c.provider, model: c.model, prompt: { user: 'go' }, output: { artifact: 'text', schema: { type: 'object' } }, attemptToken: `tok-${i}`, timeoutSeconds: 60 },
        }),
      );
      phase.candidates.forEach((c, i) =>
        events.push({ type: 'CandidateGenerated', data: { phaseId: phase.id, attempt: 1, candidateId: cid(i), output: c.output, tokens: c.tokens, costUsd: c.costUsd, durationMs: 1000, workerId: 'w1' } }),
      );
      if (phase.scores) {
        events.push({
          type: 'VerdictRecorded',
          data: {
            phaseId: phase.id, attempt: 1, round: 0, judgeId: `${run.id}.${phase.id}.1.j0`, purpose: 'select', winnerId: cid(phase.winner),
            scores: Object.fromEntries(phase.scores.map((s, i) => [cid(i), { overall: s, criteria: { quality: s } }])),
            rationale: 'the better one', order: phase.candidates.map((_, i) => cid(i)), missing: [], provider: 'simulated', model: 'sim-judge', tokens: { input: 7, output: 3 }, costUsd: phase.judgeCostUsd ?? 0,
          },
        });
      }
      events.push({ type: 'ArtifactRecorded', data: { artifactId, phaseId: phase.id, attempt: 1, candidateId: cid(phase.winner), artifactType: 'text', content: phase.candidates[phase.winner]!.output } });
      await append(events, at);
      at += phase.durationMs;
      await append([{ type: 'PhaseCompleted', data: { phaseId: phase.id, attempt: 1, artifactId } }], at);
    }
    if (run.end === 'completed') await append([{ type: 'RunCompleted', data: {} }], at);
    if (run.end === 'failed') await append([{ type: 'RunFailed', data: { reason: { code: 'provider', message: 'boom', retryable: false }, phaseId: null } } as NewEvent], at);
    return out;
  }

  beforeAll(async () => {
    env = await createTestEnv('gwsortcmp');
    gw = await startGateway(env);
    api = `${gw.url}/api/v1`;
    const events: Recorded[] = [];
    for (const [id, template] of Object.entries(templates)) events.push(...(await env.log.append('template', id, [{ type: 'TemplateCreated', data: { templateId: id, version: 1, template: template as never } }], 0, meta(T0))));
    for (const run of runs) events.push(...(await seed(run)));
    await fold(env, events);
    views = new Map();
    for (const id of ids) views.set(id, (await http<RunView>(`${api}/runs/${id}`)).body);
  });
  afterAll(async () => {
    await gw?.close();
    await env?.dispose();
  });

  /** Every page of a query, limit 2, following nextCursor. */
  async function allPages(query: string): Promise<RunSummary[]> {
    const items: RunSummary[] = [];
    let cursor: string | null = null;
    for (let pages = 0; pages < 20; pages++) {
      const res: { status: number; body: { items: RunSummary[]; nextCursor: string | null } } = await http(`${api}/runs?limit=2&${query}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      expect(res.status).toBe(200);
      items.push(...res.body.items.filter((r) => ids.includes(r.id)));
      cursor = res.body.nextCursor;
      if (!cursor) return items;
    }
    throw new Error('more than 20 pages');
  }

  const byStarted = (a: SeedRun, b: SeedRun) => a.startedAt - b.startedAt;
  const rank = { running: 0, waiting: 1, paused: 2, failed: 3, cancelled: 4, completed: 5 } as const;
  const statusOf = (r: SeedRun) => (r.end ?? 'running') as keyof typeof rank;
  const tie = (a: SeedRun, b: SeedRun) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

  it.each([
    ['started', byStarted],
    ['cost', (a: SeedRun, b: SeedRun) => costOf(a) - costOf(b) || tie(a, b)],
    ['status', (a: SeedRun, b: SeedRun) => rank[statusOf(a)] - rank[statusOf(b)] || tie(a, b)],
    ['name', (a: SeedRun, b: SeedRun) => ((a.name ?? a.id) < (b.name ?? b.id) ? -1 : 1)],
  ] as const)('sorts by %s both ways, paging by cursor without a repeat or a gap', async (sort, compare) => {
    const asc = [...runs].sort(compare).map((r) => r.id);
    expect((await allPages(`sort=${sort}&order=asc`)).map((r) => r.id)).toEqual(asc);
    expect((await allPages(`sort=${sort}&order=desc`)).map((r) => r.id)).toEqual([...asc].reverse());
  });

  it('sorts by duration, an unsettled run measured to the first page’s clock (so it is the longest: started in March)', async () => {
    const settled = runs.filter((r) => r.end).sort((a, b) => endOf(a) - endOf(b) - (a.startedAt - b.startedAt) || tie(a, b));
    const running = runs.filter((r) => !r.end).map((r) => r.id);
    expect((await allPages('sort=duration&order=asc')).map((r) => r.id)).toEqual([...settled.map((r) => r.id), ...running]);
    expect((await allPages('sort=duration&order=desc')).map((r) => r.id)).toEqual([...running, ...settled.map((r) => r.id).reverse()]);
  });

  it('lists the seeded costs and durations the sort used', async () => {
    const listed = await allPages('sort=cost&order=asc');
    for (const row of listed) {
      const seeded = runs.find((r) => r.id === row.id)!;
      expect(row.costUsd).toBeCloseTo(costOf(seeded), 10);
      expect(row.completedAt).toBe(seeded.end ? new Date(endOf(seeded)).toISOString() : null);
    }
  });

  it('filters by template, status and started range, under any sort, across pages', async () => {
    expect((await allPages(`templateId=${tplB}&sort=cost&order=desc`)).map((r) => r.id)).toEqual([`${tag}-r4`, `${tag}-r3`]);
    const completedA = runs.filter((r) => r.end === 'completed' && r.templateId === tplA).sort((a, b) => ((a.name ?? a.id) < (b.name ?? b.id) ? -1 : 1));
    expect(completedA.map((r) => r.id).sort()).toEqual([`${tag}-r1`, `${tag}-r5`, `${tag}-r6`]);
    expect((await allPages(`status=completed&templateId=${tplA}&sort=name&order=asc`)).map((r) => r.id)).toEqual(completedA.map((r) => r.id));
    // from inclusive, to exclusive; a bare date is midnight UTC
    const inMarch2to4 = runs.filter((r) => r.startedAt >= Date.parse('2026-03-02') && r.startedAt < Date.parse('2026-03-04')).map((r) => r.id);
    expect(inMarch2to4).toEqual([`${tag}-r3`, `${tag}-r4`]);
    expect((await allPages('from=2026-03-02&to=2026-03-04&sort=started&order=asc')).map((r) => r.id)).toEqual(inMarch2to4);
    expect((await allPages('from=2026-03-02&to=2026-03-04')).map((r) => r.id)).toEqual([...inMarch2to4].reverse());
    const t = new Date(T0 + 2 * HOUR).toISOString();
    expect((await allPages(`from=${encodeURIComponent(t)}&to=2026-03-02T00:00:00Z&sort=cost`)).map((r) => r.id)).toEqual([`${tag}-r2`]);
  });

  it('exports what the list shows: the same filters and sort', async () => {
    const res = await http<RunSummary[]>(`${api}/runs/export?format=json&templateId=${tplA}&sort=cost&order=asc`);
    expect(res.status).toBe(200);
    expect(res.body.map((r) => r.id)).toEqual(runs.filter((r) => r.templateId === tplA).sort((a, b) => costOf(a) - costOf(b)).map((r) => r.id));
    const csv = await http(`${api}/runs/export?format=csv&from=2026-03-02&to=2026-03-04&sort=started&order=asc`);
    expect(csv.text.trim().split('\n').slice(1).map((line) => line.split(',')[0])).toEqual([`${tag}-r3`, `${tag}-r4`]);
  });

  it.each([
    ['sort=fastest', 'sort'],
    ['order=up', 'order'],
    ['from=yesterday', 'from'],
    ['to=2026-13-45', 'to'],
    ['from=2026-03-04&to=2026-03-02', 'from'],
  ])('refuses %s with a 422 naming the field', async (query, field) => {
    for (const path of ['/runs', '/runs/export']) {
      const res = await http<{ error: { code: string; message: string } }>(`${api}${path}?${query}`);
      expect(res.status).toBe(422);
      expect(res.body.error.code).toBe('validation');
      expect(res.body.error.message).toContain(field);
    }
  });

  it('refuses a cursor of another sort (400) rather than paging the wrong order', async () => {
    const first = await http<{ nextCursor: string }>(`${api}/runs?limit=1&sort=cost&order=asc`);
    const res = await http(`${api}/runs?limit=1&sort=name&order=asc&cursor=${encodeURIComponent(first.body.nextCursor)}`);
    expect(res.status).toBe(400);
    expect((await http(`${api}/runs?limit=1&sort=cost&order=asc&cursor=garbage`)).status).toBe(400);
  });

  it('compares two runs phase by phase with the seeded figures', async () => {
    const [r1, r5] = [runs[0]!, runs[4]!];
    const res = await http<RunComparison>(`${api}/runs/compare?runs=${r1.id},${r5.id}`);
    expect(res.status).toBe(200);
    const { runs: compared, phases } = res.body;
    expect(compared.map((r) => r.id)).toEqual([r1.id, r5.id]);
    expect(compared[1]!.origin).toEqual({ kind: 'fork', runId: r1.id });
    expect(phases.map((p) => p.id)).toEqual(['draft', 'review']);
    for (const [k, seeded] of [r1, r5].entries()) {
      const totals = compared[k]!.totals;
      expect(totals.costUsd).toBeCloseTo(costOf(seeded), 10);
      expect(totals.durationMs).toBe(endOf(seeded) - seeded.startedAt);
      expect(totals.tokens).toEqual(views.get(seeded.id)!.tokens);
      expect(totals.phasesCompleted).toBe(2);
      seeded.phases.forEach((sp, i) => {
        const got = phases[i]!.runs[k]!;
        const winner = sp.candidates[sp.winner]!;
        expect(got.status).toBe('completed');
        expect(got.models).toEqual(sp.candidates.map((c) => ({ provider: c.provider, model: c.model })).filter((m, j, all) => all.findIndex((x) => x.model === m.model) === j));
        expect(got.winner).toEqual({ candidateId: `${seeded.id}.${sp.id}.1.c${sp.winner}`, provider: winner.provider, model: winner.model });
        expect(got.output).toEqual(winner.output);
        expect(got.costUsd).toBeCloseTo(sp.candidates.reduce((s, c) => s + c.costUsd, 0) + (sp.judgeCostUsd ?? 0), 10);
        expect(got.tokens.input).toBe(sp.candidates.reduce((s, c) => s + c.tokens.input, 0) + (sp.scores ? 7 : 0));
        expect(got.durationMs).toBe(sp.durationMs);
        expect(got.score).toBe(sp.scores ? sp.scores[sp.winner] : null);
        expect(got.scores.map((s) => s.overall)).toEqual([...(sp.scores ?? [])].sort((a, b) => b - a));
      });
    }
    // r1's draft took the fast model's text, r5's the slow one's: the outputs the page diffs
    expect(phases[0]!.runs.map((r) => r!.output)).toEqual([{ text: 'bees dance' }, { text: 'bees hum loudly' }]);
  });

  it('aligns phases by id across templates: a phase missing from a run’s template is null there', async () => {
    const [r1, r3, r6] = [runs[0]!, runs[2]!, runs[5]!];
    const res = await http<RunComparison>(`${api}/runs/compare?runs=${r1.id},${r3.id},${r6.id}`);
    expect(res.status).toBe(200);
    expect(res.body.phases.map((p) => [p.id, p.runs.map((r) => (r ? r.status : null))])).toEqual([
      ['draft', ['completed', 'completed', 'completed']],
      // r6's template has a review it never reached
      ['review', ['completed', null, 'pending']],
      ['summary', [null, 'completed', null]],
    ]);
    expect(res.body.runs[1]!.templateName).toBe('beta-template');
  });

  it('refuses fewer than 2 or more than 4 runs, or one twice (422), and names an unknown run (404)', async () => {
    for (const query of ['', `runs=${ids[0]}`, `runs=${ids.slice(0, 5).join(',')}`, `runs=${ids[0]},${ids[0]}`]) {
      const res = await http<{ error: { code: string } }>(`${api}/runs/compare?${query}`);
      expect([query, res.status]).toEqual([query, query === '' ? 400 : 422]);
    }
    const missing = `${tag}-nope`;
    const res = await http<{ error: { code: string; message: string } }>(`${api}/runs/compare?runs=${ids[0]},${missing}`);
    expect(res.status).toBe(404);
    expect(res.body.error.message).toContain(missing);
  });
});
