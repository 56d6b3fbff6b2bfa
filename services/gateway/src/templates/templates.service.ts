import { Inject, Injectable } from '@nestjs/common';
import type { z } from 'zod';
import { ConclaveError, TemplateCreatedResponse, validateTemplate, type TemplateSummary, type TemplateView } from '@conclave/contracts';
import { compileSchemaError } from './schema-compiler';
import { ReadModelQueries } from '@conclave/read-models';
import { OrchestratorClient } from '../orchestrator/orchestrator.client';
import { existingIdOr404, notFound } from '../http/ids';

export type TemplateCreated = z.infer<typeof TemplateCreatedResponse>;

@Injectable()
export class TemplatesService {
  constructor(
    @Inject(ReadModelQueries) private readonly queries: ReadModelQueries,
    @Inject(OrchestratorClient) private readonly orchestrator: OrchestratorClient,
  ) {}

  list(): Promise<TemplateSummary[]> {
    return this.queries.listTemplates();
  }

  async get(id: string, version: number | undefined): Promise<TemplateView> {
    const template = await this.queries.getTemplate(existingIdOr404(id, 'template'), version);
    if (!template) throw notFound(version === undefined ? 'template' : `version ${version} of template`, id);
    return template;
  }

  /** Validates first: an invalid template is a 422 with located errors and nothing is sent. */
  async create(input: unknown, requestId: string): Promise<TemplateCreated> {
    const result = validateTemplate(input, { compileSchema: compileSchemaError });
    if (!result.valid) {
      const first = result.errors[0];
      throw new ConclaveError('validation', `the template is invalid (${result.errors.length} error${result.errors.length === 1 ? '' : 's'})${first ? `: ${first.message}` : ''}`, {
        errors: result.errors,
      });
    }
    const reply = await this.orchestrator.send({ type: 'CreateTemplate', template: result.template }, requestId);
    // a new template is version 1 (TemplateCreated); the reply says so when the orchestrator knows better
    return TemplateCreatedResponse.parse({ id: reply.id, version: reply.version ?? 1, sequence: reply.sequence });
  }
}
