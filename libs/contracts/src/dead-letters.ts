import { z } from 'zod';

/**
 * Dead letters (issue 11 §2). Every durable consumer has a bounded `max_deliver`; a message that
 * exhausts it, or that does not decode, is copied to the DEAD_LETTERS stream (`dead.<consumer>`)
 * with its reason and origin, then acked, so one poison message can neither loop through every
 * worker nor hold a run. The projector folds these records into the `dead_letters` read model and
 * records an `Alert`; `POST /dead-letters/:id/redrive` asks the orchestrator to hand the original
 * message to its consumer again, which appends a `redriven` mark on the same subject.
 *
 * A record's id is its sequence in the DEAD_LETTERS stream (a decimal string).
 */
export const DeadLetterReason = z.enum([
  /** the consumer's deliveries are used up (handler kept failing, or the process kept dying on it) */
  'max_deliver',
  /** the payload is not JSON or not the contract of that subject */
  'undecodable',
  /** the handler refused it for good (term) */
  'rejected',
]);
export type DeadLetterReason = z.infer<typeof DeadLetterReason>;

/** the most payload bytes a record keeps (base64 of the original bytes) */
export const DEAD_LETTER_MAX_PAYLOAD = 512 * 1024;

export const DeadLetterRecord = z.object({
  kind: z.literal('dead'),
  /** the durable consumer that gave up (e.g. `llm-workers`, `dispatcher`) */
  consumer: z.string().min(1),
  /** where the message came from: stream, subject and its sequence there */
  stream: z.string().min(1),
  subject: z.string().min(1),
  streamSequence: z.number().int().nonnegative(),
  /** deliveries the server counted when it was dead-lettered */
  deliveries: z.number().int().nonnegative(),
  reason: DeadLetterReason,
  /** what went wrong (the last error or the decode failure), ≤ 2000 characters */
  error: z.string().max(2000),
  deadAt: z.string(),
  /** the run it belongs to when that can be told (subject `…results.<runId>`, `…events.run.<id>`, a command's runId) */
  runId: z.string().nullable(),
  /** the process that dead-lettered it (INSTANCE_ID) */
  by: z.string(),
  /** the original message: headers and base64 payload (cut at DEAD_LETTER_MAX_PAYLOAD: `truncated`) */
  headers: z.record(z.string(), z.array(z.string())),
  payload: z.string(),
  truncated: z.boolean(),
});
export type DeadLetterRecord = z.infer<typeof DeadLetterRecord>;

/** appended by the orchestrator after it handed the original message back to its consumer */
export const DeadLetterRedriven = z.object({
  kind: z.literal('redriven'),
  /** the dead letter's id (its DEAD_LETTERS sequence) */
  deadLetterId: z.string().regex(/^[1-9][0-9]{0,15}$/),
  at: z.string(),
  actor: z.object({ kind: z.string(), id: z.string() }),
});
export type DeadLetterRedriven = z.infer<typeof DeadLetterRedriven>;

export const DeadLetterMessage = z.discriminatedUnion('kind', [DeadLetterRecord, DeadLetterRedriven]);
export type DeadLetterMessage = z.infer<typeof DeadLetterMessage>;

/** `GET /api/v1/dead-letters` items (the payload as UTF-8 text, cut at 4 KiB; never the headers' secrets: none are kept) */
export const DeadLetterView = z.object({
  id: z.string(),
  consumer: z.string(),
  stream: z.string(),
  subject: z.string(),
  streamSequence: z.number().int(),
  deliveries: z.number().int(),
  reason: DeadLetterReason,
  error: z.string(),
  deadAt: z.string(),
  runId: z.string().nullable(),
  by: z.string(),
  payloadPreview: z.string(),
  truncated: z.boolean(),
  redrivenAt: z.string().nullable(),
  redrivenBy: z.string().nullable(),
});
export type DeadLetterView = z.infer<typeof DeadLetterView>;

export const DeadLetterListQuery = z.object({
  cursor: z.string().max(500).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  consumer: z.string().max(100).optional(),
  runId: z.string().max(200).optional(),
  /** `open` (not redriven yet, the default), `redriven` or `all` */
  state: z.enum(['open', 'redriven', 'all']).default('open'),
});
export type DeadLetterListQuery = z.infer<typeof DeadLetterListQuery>;
