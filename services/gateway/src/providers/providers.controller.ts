import { Body, Controller, Delete, Get, Headers, HttpCode, Inject, Param, Patch, Post } from '@nestjs/common';
import { CreateProviderBody, UpdateProviderBody } from '@conclave/contracts';
import { jsonBody, parseOr400, RequestId } from '../http/parse';
import { ProvidersService } from './providers.service';
import { Idempotent } from '../http/idempotency.interceptor';

/** Request bodies are never logged (they may carry an API key); responses show at most its last 4. */
@Controller('providers')
export class ProvidersController {
  constructor(@Inject(ProvidersService) private readonly providers: ProvidersService) {}

  @Get()
  async list() {
    return { items: await this.providers.list() };
  }

  @Post()
  @Idempotent()
  @HttpCode(201)
  create(@Body() body: unknown, @RequestId() requestId: string, @Headers('idempotency-key') idempotencyKey?: string) {
    return this.providers.create(parseOr400(CreateProviderBody, jsonBody(body), 'provider'), requestId, idempotencyKey);
  }

  @Get(':id')
  get(@Param('id') id: string) {
    return this.providers.get(id);
  }

  @Patch(':id')
  update(@Param('id') id: string, @Body() body: unknown, @RequestId() requestId: string) {
    return this.providers.update(id, parseOr400(UpdateProviderBody, jsonBody(body), 'provider'), requestId);
  }

  @Delete(':id')
  @HttpCode(200)
  remove(@Param('id') id: string, @RequestId() requestId: string) {
    return this.providers.remove(id, requestId);
  }

  @Post(':id/test')
  @HttpCode(200)
  test(@Param('id') id: string) {
    return this.providers.test(id);
  }
}
