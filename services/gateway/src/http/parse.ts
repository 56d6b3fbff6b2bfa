import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import type { z } from 'zod';
import { ConclaveError } from '@conclave/contracts';
import { requestIdOf } from './request-context';

/** Parse with a contract schema; a failure is a 400 `bad_request` carrying zod's issues. */
export function parseOr400<S extends z.ZodType>(schema: S, value: unknown, what: string): z.infer<S> {
  const result = schema.safeParse(value);
  if (!result.success) {
    const first = result.error.issues[0];
    const where = first && first.path.length > 0 ? ` at ${first.path.map(String).join('.')}` : '';
    throw new ConclaveError('bad_request', `invalid ${what}${first ? `: ${first.message}${where}` : ''}`, { issues: result.error.issues });
  }
  return result.data;
}

/**
 * The JSON body of a request. The JSON parser is the only body parser: any other content type
 * leaves the body undefined, which is a 400 rather than an empty object.
 */
export function jsonBody(body: unknown): unknown {
  if (body === undefined) throw new ConclaveError('bad_request', 'expected a JSON body (Content-Type: application/json)');
  return body;
}

/** The request id of the current REST request (see requestContext). */
export const RequestId = createParamDecorator((_data: unknown, ctx: ExecutionContext): string => requestIdOf(ctx.switchToHttp().getRequest<Request>()));
