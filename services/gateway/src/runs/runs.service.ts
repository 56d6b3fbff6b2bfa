import { Inject, Injectable } from '@nestjs/common';
import type { z } from 'zod';
import { ConclaveError, CreatedResponse, unpricedBudgetRules, type ArtifactView, type CandidateTranscript, type CreateRunBody, type RunListQuery, type RunView, type TimelineEntry } from '@conclave/contracts';
import { TranscriptCorruptError, TranscriptStore } from '@conclave/event-log';
import { ReadModelQueries } from '@conclave/read-models';
import { OrchestratorClient } from '../orchestrator/orchestrator.client';
import { TemplateCache } from './template-cache';
import { WorkersService } from '../fleet/workers.service';
import { WorkspacesService } from '../workspaces/workspaces.service';
import { derivedIdOr404, existingIdOr404, notFound } from '../http/ids';

const isAggregateId = (id: string) => /^[A-Za-z0-9_-]{1,128}$/.test(id);

export type RunCreated = z.infer<typeof CreatedResponse>;
export type RunListFilters = z.infer<typeof RunListQuery>;

@Injectable()
export class RunsService {
  constructor(
    @Inject(ReadModelQueries) private readonly queries: ReadModelQueries,
    @Inject(OrchestratorClient) private readonly orchestrator: OrchestratorClient,
    @Inject(TranscriptStore) private readonly transcripts: TranscriptStore,
    @Inject(WorkspacesService) private readonly workspaces: WorkspacesService,
    @Inject(WorkersService) private readonly workers: WorkersService,
    @Inject(TemplateCache) private readonly templates: TemplateCache,
  ) {}

  /**
   * The orchestrator resolves the template (not_found → 404) and validates the inputs (422).
   * Before that the gateway resolves the workspace (the body's, else the template version's
   * default, else a fresh repository) and refuses, with nothing sent, a workspace that is not a
   * repository under a root with a commit to branch from, agent/tool phases when the fleet's
   * llm-workers report no sandbox, or a budget policy switching to a model with no price (ADR 024).
   */
  async start(body: CreateRunBody, requestId: string): Promise<RunCreated> {
    const unpriced = unpricedBudgetRules(body.budgetPolicy)[0];
    if (unpriced !== undefined) {
      const { index, model } = unpriced;
      const field = `budgetPolicy[${index}].model`;
      throw new ConclaveError('validation', `${field}: ${model.provider}/${model.model} has no price; a switch rule names a model with a list price (or the simulated provider)`, { field });
    }
    const { workspace: requested, ...rest } = body;
    // the read models' view of the template; when it is not there (yet), the orchestrator decides
    const template = isAggregateId(body.templateId)
      ? ((await this.templates.get(body.templateId, body.templateVersion, async () => (await this.queries.getTemplate(body.templateId, body.templateVersion))?.template ?? null)) ?? undefined)
      : undefined;
    const workspace = await this.workspaces.resolve(requested ?? template?.workspace).catch((err: unknown) => {
      if (!requested && err instanceof ConclaveError) throw new ConclaveError(err.code, `the template's default workspace: ${err.message}`, err.details);
      throw err;
    });
    if (template?.phases.some((p) => p.kind === 'agent' || p.kind === 'tool') && this.sandboxStatus() === 'unavailable') {
      throw new ConclaveError(
        'validation',
        'this template has agent or tool phases, and no llm-worker can sandbox tool processes (bubblewrap with user namespaces is unavailable on every live worker); ' +
          'install bubblewrap and allow unprivileged user namespaces on the workers, or run templates without agent and tool phases',
        { problem: 'sandbox_unavailable', roots: this.workspaces.configuredRoots },
      );
    }
    const reply = await this.orchestrator.send({ type: 'StartRun', ...rest, workspace }, requestId);
    return CreatedResponse.parse({ id: reply.id, sequence: reply.sequence });
  }

  private sandboxStatus(): 'ok' | 'unavailable' | 'unknown' {
    const fleet = this.workers as Partial<Pick<WorkersService, 'sandboxStatus'>>;
    return typeof fleet.sandboxStatus === 'function' ? fleet.sandboxStatus() : 'unknown';
  }

  /** The run branch against its base as a `git format-patch` series ('' when nothing was committed). */
  async patch(id: string): Promise<string> {
    return this.workspaces.patch(await this.get(id));
  }

  list(filters: RunListFilters) {
    return this.queries.listRuns(filters);
  }

  async get(id: string): Promise<RunView> {
    const run = await this.queries.getRun(existingIdOr404(id, 'run'));
    if (!run) throw notFound('run', id);
    return run;
  }

  async timeline(id: string, sinceSequence: number, limit: number): Promise<TimelineEntry[]> {
    await this.mustExist(id);
    return this.queries.timeline(id, sinceSequence, limit);
  }

  async candidates(id: string, phaseId: string | undefined, attempt?: number) {
    await this.mustExist(id);
    return this.queries.listCandidates(id, phaseId, attempt);
  }

  async verdicts(id: string, phaseId: string | undefined, attempt?: number) {
    await this.mustExist(id);
    return this.queries.listVerdicts(id, phaseId, attempt);
  }

  async usage(id: string) {
    await this.mustExist(id);
    return this.queries.runUsage(id);
  }

  /**
   * The candidate's recorded conversation: inline in its reference (small ones), else from the
   * transcripts store (large ones, and every one recorded before inlining). 404 when the run, the
   * candidate or a stored transcript is missing.
   */
  async transcript(id: string, candidateId: string): Promise<CandidateTranscript> {
    await this.mustExist(id);
    const candidate = await this.queries.getCandidate(id, derivedIdOr404(candidateId, 'candidate'));
    if (!candidate) throw notFound('candidate', candidateId);
    if (!candidate.transcript) throw new ConclaveError('not_found', `candidate "${candidateId}" has no stored transcript`);
    let messages;
    try {
      messages = await this.transcripts.read(candidate.transcript);
    } catch (err) {
      if (err instanceof TranscriptCorruptError) throw new ConclaveError('internal', `the stored transcript of candidate "${candidateId}" is corrupt`);
      throw err;
    }
    if (!messages) throw new ConclaveError('not_found', `the transcript of candidate "${candidateId}" is no longer stored`);
    return { runId: id, candidateId, messages };
  }

  async checkpoints(id: string) {
    await this.mustExist(id);
    return this.queries.listCheckpoints(id);
  }

  async toolCalls(id: string) {
    await this.mustExist(id);
    return this.queries.listToolCalls(id);
  }

  async artifacts(id: string) {
    await this.mustExist(id);
    return this.queries.listArtifacts(id);
  }

  async artifact(id: string, artifactId: string): Promise<ArtifactView> {
    await this.mustExist(id);
    const artifact = await this.queries.getArtifact(id, derivedIdOr404(artifactId, 'artifact'));
    if (!artifact) throw notFound('artifact', artifactId);
    return artifact;
  }

  private async mustExist(id: string): Promise<void> {
    if (!(await this.queries.runExists(existingIdOr404(id, 'run')))) throw notFound('run', id);
  }
}
