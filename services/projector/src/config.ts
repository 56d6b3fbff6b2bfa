import { z } from 'zod';
import { BaseEnv } from '@conclave/service-kit';
import { DEFAULT_BATCH } from './projector';

/** The projector's environment, parsed once at boot. */
export const ProjectorEnv = BaseEnv.extend({
  /** most events folded in one transaction */
  PROJECTOR_BATCH: z.coerce.number().int().min(1).max(10_000).default(DEFAULT_BATCH),
  /** interface of the optional /health and /status server (HEALTH_PORT) */
  HEALTH_HOST: z.string().min(1).default('127.0.0.1'),
});
export type ProjectorEnv = z.infer<typeof ProjectorEnv>;
