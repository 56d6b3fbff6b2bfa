import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Put, Query } from '@nestjs/common';
import { z } from 'zod';
import { EstimateBody, validateTemplate, type EstimateResponse, type TemplateValidation } from '@conclave/contracts';
import { compileSchemaError } from './schema-compiler';
import { jsonBody, parseOr400, RequestId } from '../http/parse';
import { TemplatesService } from './templates.service';
import { Idempotent } from '../http/idempotency.interceptor';

const TemplateQuery = z.object({ version: z.coerce.number().int().positive().optional() });
const CloneBody = z.strictObject({ name: z.string().min(1).max(120).optional(), version: z.number().int().positive().optional() });

@Controller('templates')
export class TemplatesController {
  constructor(@Inject(TemplatesService) private readonly templates: TemplatesService) {}

  @Get()
  async list() {
    return { items: await this.templates.list() };
  }

  /** Errors and execution levels of a template as a user writes it; nothing is stored. */
  @Post('validate')
  @HttpCode(200)
  validate(@Body() body: unknown): TemplateValidation {
    const { valid, errors, levels } = validateTemplate(jsonBody(body), { compileSchema: compileSchemaError });
    return { valid, errors, levels };
  }

  @Post()
  @Idempotent()
  @HttpCode(201)
  create(@Body() body: unknown, @RequestId() requestId: string) {
    return this.templates.create(jsonBody(body), requestId);
  }

  @Get(':id')
  get(@Param('id') id: string, @Query() query: unknown) {
    const { version } = parseOr400(TemplateQuery, query, 'query');
    return this.templates.get(id, version);
  }

  /**
   * What a run would cost (min / expected / max, per phase, with the assumptions) and its first
   * prompts rendered with `inputs`. Nothing is stored or sent.
   */
  @Post(':id/estimate')
  @HttpCode(200)
  estimate(@Param('id') id: string, @Body() body: unknown): Promise<EstimateResponse> {
    return this.templates.estimate(id, parseOr400(EstimateBody, body ?? {}, 'body'));
  }

  /** A new version (the body is a whole template as a user writes it). */
  @Put(':id')
  @Idempotent()
  @HttpCode(200)
  addVersion(@Param('id') id: string, @Body() body: unknown, @RequestId() requestId: string) {
    return this.templates.addVersion(id, jsonBody(body), requestId);
  }

  @Post(':id/clone')
  @HttpCode(201)
  clone(@Param('id') id: string, @Body() body: unknown, @RequestId() requestId: string) {
    return this.templates.clone(id, parseOr400(CloneBody, body ?? {}, 'body'), requestId);
  }

  /** Archives the template (runs keep their frozen snapshot). */
  @Delete(':id')
  @HttpCode(202)
  archive(@Param('id') id: string, @RequestId() requestId: string) {
    return this.templates.archive(id, requestId);
  }
}
