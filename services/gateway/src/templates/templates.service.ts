import { Inject, Injectable } from '@nestjs/common';
import type { z } from 'zod';
import { ConclaveError, TemplateCreatedResponse, validateTemplate, type EstimateBody, type EstimateResponse, type TemplateSummary, type TemplateView } from '@conclave/contracts';
import { compileSchemaError } from './schema-compiler';
import { ReadModelQueries } from '@conclave/read-models';
import { OrchestratorClient } from '../orchestrator/orchestrator.client';
import { existingIdOr404, notFound } from '../http/ids';
import { ProvidersService } from '../providers/providers.service';
import { estimateTemplate } from './estimate';

export type TemplateCreated = z.infer<typeof TemplateCreatedResponse>;

@Injectable()
export class TemplatesService {
  constructor(
    @Inject(ReadModelQueries) private readonly queries: ReadModelQueries,
    @Inject(OrchestratorClient) private readonly orchestrator: OrchestratorClient,
    @Inject(ProvidersService) private readonly providers: ProvidersService,
  ) {}

  list(): Promise<TemplateSummary[]> {
    return this.queries.listTemplates();
  }

  async get(id: string, version: number | undefined): Promise<TemplateView> {
    const template = await this.queries.getTemplate(existingIdOr404(id, 'template'), version);
    if (!template) throw notFound(version === undefined ? 'template' : `version ${version} of template`, id);
    return template;
  }

  /** The cost of a run of this version (404 unknown template or version, 422 bad inputs or an unpriced model) and its first prompts. */
  async estimate(id: string, body: EstimateBody): Promise<EstimateResponse> {
    const view = await this.get(id, body.version);
    return estimateTemplate(view, await this.providers.list(), body.inputs);
  }

  /** Validates first: an invalid template is a 422 with located errors and nothing is sent. */
  async create(input: unknown, requestId: string): Promise<TemplateCreated> {
    const template = validOr422(input);
    const reply = await this.orchestrator.send({ type: 'CreateTemplate', template }, requestId);
    // a new template is version 1 (TemplateCreated); the reply says so when the orchestrator knows better
    return TemplateCreatedResponse.parse({ id: reply.id, version: reply.version ?? 1, sequence: reply.sequence });
  }

  /** A new version of an existing template (runs already started keep the version they froze). */
  async addVersion(id: string, input: unknown, requestId: string): Promise<TemplateCreated> {
    const templateId = existingIdOr404(id, 'template'); // the orchestrator answers not_found (it reads the log, never behind)
    const template = validOr422(input);
    const reply = await this.orchestrator.send({ type: 'AddTemplateVersion', templateId, template }, requestId);
    return TemplateCreatedResponse.parse({ id: reply.id, version: reply.version, sequence: reply.sequence });
  }

  /** A new template from a version of an existing one (the latest unless `version` is given). */
  async clone(id: string, body: { name?: string; version?: number }, requestId: string): Promise<TemplateCreated> {
    const source = await this.get(id, body.version);
    const copy = { ...source.template, name: body.name ?? `${source.template.name} (copy)` };
    return this.create(copy, requestId);
  }

  /** Archive (DESIGN.md: DELETE archives): hidden from the list, refused for new runs. */
  async archive(id: string, requestId: string): Promise<{ sequence: number }> {
    const templateId = existingIdOr404(id, 'template'); // the orchestrator answers not_found
    const reply = await this.orchestrator.send({ type: 'ArchiveTemplate', templateId }, requestId);
    return { sequence: reply.sequence };
  }
}

function validOr422(input: unknown) {
  const result = validateTemplate(input, { compileSchema: compileSchemaError });
  if (!result.valid) {
    const first = result.errors[0];
    throw new ConclaveError('validation', `the template is invalid (${result.errors.length} error${result.errors.length === 1 ? '' : 's'})${first ? `: ${first.message}` : ''}`, {
      errors: result.errors,
    });
  }
  return result.template;
}
