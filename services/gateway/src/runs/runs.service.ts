import { Inject, Injectable } from '@nestjs/common';
import type { z } from 'zod';
import { ConclaveError, CreatedResponse, type ArtifactView, type CandidateTranscript, type CreateRunBody, type RunListQuery, type RunView, type TimelineEntry } from '@conclave/contracts';
import { TranscriptCorruptError, TranscriptStore } from '@conclave/event-log';
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
    @Inject(TranscriptStore) private readonly transcripts: TranscriptStore,
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

  /** The candidate's stored conversation: 404 when the run, the candidate or a stored transcript is missing. */
  async transcript(id: string, candidateId: string): Promise<CandidateTranscript> {
    await this.mustExist(id);
    const candidate = await this.queries.getCandidate(id, candidateId);
    if (!candidate) throw notFound('candidate', candidateId);
    if (!candidate.transcript) throw new ConclaveError('not_found', `candidate "${candidateId}" has no stored transcript`);
    let messages;
    try {
      messages = await this.transcripts.get(candidate.transcript.key);
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
    const artifact = await this.queries.getArtifact(id, artifactId);
    if (!artifact) throw notFound('artifact', artifactId);
    return artifact;
  }

  private async mustExist(id: string): Promise<void> {
    if (!(await this.queries.runExists(existingIdOr404(id, 'run')))) throw notFound('run', id);
  }
}
