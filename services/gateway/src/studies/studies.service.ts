import { Inject, Injectable } from '@nestjs/common';
import {
  ConclaveError,
  STUDY_MAX_ITEMS,
  phaseReport,
  priceLookupOf,
  type StudyBody,
  type StudyEstimate,
  type StudyItemView,
  type StudySummary,
  type StudyView,
  wilsonInterval,
} from '@conclave/contracts';
import { StudyItemRow, StudyRow, type DataSource } from '@conclave/read-models';
import type { GatewayConfig } from '../config';
import { OrchestratorClient } from '../orchestrator/orchestrator.client';
import { ProvidersService } from '../providers/providers.service';
import { CONFIG, DATA_SOURCE } from '../tokens';
import { planStudy, type StudyPlan } from './plan';

/**
 * Re-judging studies (issue 15 §1, ADR 023). The gateway chooses what a study re-judges from the
 * read models (planStudy), prices it, and refuses — before anything is dispatched — an unknown or
 * disabled judge provider, a judge model with no price, and a study over STUDY_CONFIRM_CANDIDATES
 * candidates without `confirm: true`. The orchestrator decides the study (events.study.<id>); the
 * report is computed here from the studies read model.
 */
@Injectable()
export class StudiesService {
  constructor(
    @Inject(DATA_SOURCE) private readonly db: DataSource,
    @Inject(CONFIG) private readonly config: GatewayConfig,
    @Inject(OrchestratorClient) private readonly orchestrator: OrchestratorClient,
    @Inject(ProvidersService) private readonly providers: ProvidersService,
  ) {}

  async estimate(body: StudyBody): Promise<{ estimate: StudyEstimate; plan: StudyPlan }> {
    const { judge } = body;
    const providers = await this.providers.list();
    const configured = providers.find((p) => p.name === judge.provider);
    if (judge.provider !== 'simulated' && !configured) {
      const known = ['simulated', ...providers.map((p) => p.name).filter((n) => n !== 'simulated')];
      throw new ConclaveError('validation', `unknown judge provider "${judge.provider}" (configured: ${known.join(', ')})`, { field: 'judge.provider', known });
    }
    if (configured && !configured.enabled) throw new ConclaveError('validation', `the judge provider "${judge.provider}" is disabled`, { field: 'judge.provider' });
    const price = priceLookupOf(providers)(judge.provider, judge.model);
    if (price === undefined) {
      throw new ConclaveError('validation', `no price for the judge ${judge.provider}/${judge.model}: add its inputPer1M and outputPer1M to the provider's prices`, { field: 'judge.model', problem: 'missing_price' });
    }
    const plan = await planStudy(this.db, body, price === 'free' ? null : price);
    if (plan.items.length > STUDY_MAX_ITEMS) {
      throw new ConclaveError('validation', `the study would judge ${plan.items.length} verdicts again, over the ${STUDY_MAX_ITEMS} one study may hold: narrow its runs or phases`, { field: 'runs', items: plan.items.length, max: STUDY_MAX_ITEMS });
    }
    const threshold = this.config.STUDY_CONFIRM_CANDIDATES;
    return {
      plan,
      estimate: {
        items: plan.items.length,
        candidates: plan.candidates,
        runs: plan.runs,
        estimateUsd: plan.estimateUsd,
        tokens: plan.tokens,
        skipped: plan.skipped,
        confirmRequired: plan.candidates > threshold,
        confirmThreshold: threshold,
      },
    };
  }

  async start(body: StudyBody, requestId: string): Promise<{ id: string; sequence: number; estimate: StudyEstimate }> {
    const { estimate, plan } = await this.estimate(body);
    if (estimate.confirmRequired && body.confirm !== true) {
      throw new ConclaveError(
        'validation',
        `the study judges ${estimate.candidates} candidates (over ${estimate.confirmThreshold}, estimated $${estimate.estimateUsd}): read its estimate, then send it again with confirm: true`,
        { field: 'confirm', estimate },
      );
    }
    const accepted = await this.orchestrator.send(
      {
        type: 'StartStudy',
        name: body.name ?? null,
        judge: body.judge,
        runs: body.runs,
        phases: body.phases ?? null,
        items: plan.items,
        skipped: plan.skipped,
        estimateUsd: plan.estimateUsd,
        budgetUsd: body.budgetUsd ?? null,
      },
      requestId,
    );
    return { id: accepted.id, sequence: accepted.sequence, estimate };
  }

  async list(limit: number): Promise<{ items: StudySummary[] }> {
    const rows = await this.db.getRepository(StudyRow).find({ order: { startedAt: 'DESC', id: 'DESC' }, take: limit });
    return { items: rows.map(toSummary) };
  }

  async get(id: string): Promise<StudyView> {
    const row = await this.db.getRepository(StudyRow).findOne({ where: { id } });
    if (!row) throw new ConclaveError('not_found', `study ${id} does not exist`);
    const items = (await this.db.getRepository(StudyItemRow).find({ where: { studyId: id } })).sort((a, b) => Number(a.itemId.slice(1)) - Number(b.itemId.slice(1))).map(toItemView);
    const phaseIds = [...new Set(items.map((i) => i.phaseId))];
    const modelOf = (item: StudyItemView, candidateId: string) => {
      const c = item.candidates.find((x) => x.candidateId === candidateId);
      return c ? `${c.provider}/${c.model}` : candidateId;
    };
    const phases = phaseIds.map((phaseId) => phaseReport(phaseId, items.filter((i) => i.phaseId === phaseId), modelOf));
    const judged = phases.reduce((n, p) => n + p.judged, 0);
    const flips = phases.reduce((n, p) => n + p.flips, 0);
    return {
      ...toSummary(row),
      report: { phases, judged, flips, flipRate: judged ? flips / judged : null, flipRateCi: wilsonInterval(flips, judged) },
      itemsList: items,
    };
  }
}

function toSummary(row: StudyRow): StudySummary {
  return {
    id: row.id,
    name: row.name,
    status: row.status,
    judge: row.judge,
    items: row.itemsTotal,
    judged: row.itemsJudged,
    failed: row.itemsFailed,
    skipped: row.skipped,
    estimateUsd: row.estimateUsd,
    costUsd: row.costUsd,
    budgetUsd: row.budgetUsd,
    startedAt: row.startedAt.toISOString(),
    completedAt: row.completedAt?.toISOString() ?? null,
    sequence: row.sequence,
  };
}

function toItemView(row: StudyItemRow): StudyItemView {
  return {
    itemId: row.itemId,
    runId: row.runId,
    phaseId: row.phaseId,
    attempt: row.attempt,
    status: row.status,
    attempts: row.attempts,
    candidates: row.candidates,
    oldWinnerId: row.oldWinnerId,
    newWinnerId: row.newWinnerId,
    flipped: row.newWinnerId === null ? null : row.newWinnerId !== row.oldWinnerId,
    oldScores: row.oldScores,
    newScores: row.newScores,
    rationale: row.rationale,
    error: row.error,
    costUsd: row.costUsd,
  };
}
