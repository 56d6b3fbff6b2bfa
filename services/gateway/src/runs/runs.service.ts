import { Inject, Injectable } from '@nestjs/common';
import type { z } from 'zod';
import { CreatedResponse, type ArtifactView, type CreateRunBody, type RunListQuery, type RunView, type TimelineEntry } from '@conclave/contracts';
import { ReadModelQueries } from '@conclave/read-models';
import { OrchestratorClient } from '../orchestrator/orchestrator.client';
import { existingIdOr404, notFound } from '../http/ids';

export type RunCreated = z.infer<typeof CreatedResponse>;
export type RunListFilters = z.infer<typeof RunListQuery>;

@Injectable()
export class RunsService {
  constructor(
    @Inject(ReadModelQueries) private readonly queries: ReadModelQueries,
    @Inject(OrchestratorClient) private readonly orchestrator: OrchestratorClient,
  ) {}

  /** The orchestrator resolves the template (not_found → 404) and validates the inputs (422). */
  async start(body: CreateRunBody, requestId: string): Promise<RunCreated> {
    const reply = await this.orchestrator.send({ type: 'StartRun', ...body }, requestId);
    return CreatedResponse.parse({ id: reply.id, sequence: reply.sequence });
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

  async candidates(id: string, phaseId: string | undefined) {
    await this.mustExist(id);
    return this.queries.listCandidates(id, phaseId);
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
    const artifact = await this.queries.getArtifact(id, artifactId);
    if (!artifact) throw notFound('artifact', artifactId);
    return artifact;
  }

  private async mustExist(id: string): Promise<void> {
    if (!(await this.queries.runExists(existingIdOr404(id, 'run')))) throw notFound('run', id);
  }
}
