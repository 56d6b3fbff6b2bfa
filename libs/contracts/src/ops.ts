import { z } from 'zod';
import { ModelPrice, ProviderConfiguredData, ProviderKind, Tokens } from './events';
import { RunListQuery } from './api';

/**
 * REST shapes of providers, costs, budgets, alerts, workers, exports and archives (DESIGN.md's
 * external interface). Request bodies are strict; API keys are write-only.
 */

/** Provider names are their ids (`events.provider.<name>`), so they are stream-id safe. */
export const ProviderName = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'lowercase letters, digits, "_" and "-" (at most 63)');
const ApiKey = z.string().min(1).max(4096).regex(/^\S+$/, 'an API key has no whitespace');
const BaseUrl = z.url({ protocol: /^https?$/ }).max(2000);

export const CreateProviderBody = z.strictObject({
  name: ProviderName,
  kind: ProviderKind,
  apiKey: ApiKey.optional(),
  baseUrl: BaseUrl.optional(),
  models: z.array(z.string().min(1).max(200)).max(200).optional(),
  enabled: z.boolean().optional(),
  prices: z.record(z.string().min(1).max(200), ModelPrice).optional(),
});
export type CreateProviderBody = z.infer<typeof CreateProviderBody>;

/** `null` clears an optional field (`apiKey: null` deletes the stored key). The name is the id: not editable. */
export const UpdateProviderBody = z.strictObject({
  kind: ProviderKind.optional(),
  apiKey: ApiKey.nullable().optional(),
  baseUrl: BaseUrl.nullable().optional(),
  models: z.array(z.string().min(1).max(200)).max(200).optional(),
  enabled: z.boolean().optional(),
  prices: z.record(z.string().min(1).max(200), ModelPrice).optional(),
});
export type UpdateProviderBody = z.infer<typeof UpdateProviderBody>;

export const ProviderFailure = z.object({ code: z.string(), message: z.string(), at: z.string(), runId: z.string() });
export type ProviderFailure = z.infer<typeof ProviderFailure>;
/** A provider as REST shows it: its configuration (as logged), never its key. */
export const ProviderView = ProviderConfiguredData.omit({ providerId: true, source: true }).extend({
  id: z.string(),
  /** the only part of the key ever returned */
  apiKeyLast4: z.string().nullable(),
  /** `builtin`: the always-present simulated provider; `env`: configured from *_API_KEY */
  source: z.enum(['builtin', 'api', 'env']),
  sequence: z.number().int().nonnegative(),
  updatedAt: z.string().nullable(),
  /**
   * Set when a call through this provider was refused for its credentials (401/403): the key is
   * wrong or revoked, so every call will fail until it is changed. Cleared by a later successful
   * call or a new configuration.
   */
  failure: ProviderFailure.nullable().default(null),
  /**
   * In a PATCH response: the change moved the provider to another endpoint (baseUrl or kind), so
   * its stored key was deleted rather than sent there — enter the key again.
   */
  keyCleared: z.boolean().optional(),
});
export type ProviderView = z.infer<typeof ProviderView>;

export const ProviderTestResult = z.object({
  ok: z.boolean(),
  latencyMs: z.number().int().nonnegative(),
  error: z.string().optional(),
  /** `auth_failed` when the provider refused the credentials (401 / 403) */
  code: z.string().optional(),
});
export type ProviderTestResult = z.infer<typeof ProviderTestResult>;

/** NATS request/reply (`subjects.credentials`), served by the gateway to workers on the same NATS. */
export const CredentialsRequest = z.strictObject({ provider: z.string().min(1).max(63) });
export type CredentialsRequest = z.infer<typeof CredentialsRequest>;
export const CredentialsReply = z.discriminatedUnion('ok', [
  z.object({
    ok: z.literal(true),
    kind: ProviderKind,
    apiKey: z.string().nullable(),
    baseUrl: z.string().nullable(),
    models: z.array(z.string()),
    prices: z.record(z.string(), ModelPrice),
    enabled: z.boolean(),
  }),
  z.object({ ok: z.literal(false), error: z.object({ code: z.string(), message: z.string() }) }),
]);
export type CredentialsReply = z.infer<typeof CredentialsReply>;

/* ------------------------------------------------------------------ costs, budgets, alerts */
export const CostGroupBy = z.enum(['provider', 'model', 'template', 'day']);
export type CostGroupBy = z.infer<typeof CostGroupBy>;
const IsoDateTime = z.union([z.iso.datetime({ offset: true }), z.iso.date()]);
export const CostsQuery = z.object({
  groupBy: CostGroupBy.default('provider'),
  /** inclusive lower bound (ISO date or date-time) */
  from: IsoDateTime.optional(),
  /** exclusive upper bound */
  to: IsoDateTime.optional(),
});
export type CostsQuery = z.infer<typeof CostsQuery>;
export const CostItem = z.object({ key: z.string(), costUsd: z.number(), tokens: Tokens, calls: z.number().int().nonnegative() });
export type CostItem = z.infer<typeof CostItem>;
export const CostsView = z.object({ groupBy: CostGroupBy, items: z.array(CostItem) });

const Usd = z.number().nonnegative().max(1_000_000_000);
export const PutBudgetsBody = z.strictObject({
  /** monthly budget of all runs together; null = none */
  globalMonthlyUsd: Usd.nullable(),
  templates: z
    .array(z.strictObject({ templateId: z.string().min(1).max(128).refine((id) => !id.includes('\u0000'), 'a template id has no NUL character (budgets are stored as text)'), monthlyUsd: Usd }))
    .max(1000)
    .refine((items) => new Set(items.map((i) => i.templateId)).size === items.length, 'a template appears twice')
    .default([]),
});
export type PutBudgetsBody = z.infer<typeof PutBudgetsBody>;
export const BudgetsView = z.object({
  /** the calendar month (UTC) the spend figures cover, `YYYY-MM` */
  month: z.string(),
  global: z.object({ monthlyUsd: z.number().nullable(), spentUsd: z.number() }),
  templates: z.array(z.object({ templateId: z.string(), monthlyUsd: z.number(), spentUsd: z.number() })),
  updatedAt: z.string().nullable(),
});
export type BudgetsView = z.infer<typeof BudgetsView>;

/**
 * An operator alert (GET /alerts). `kind` is one of ALERT_KINDS for alerts recorded as events, or a
 * process alert's kind (`projection_halted`, `projection_parked`, budget alerts of a run's log).
 */
export const AlertItem = z.object({
  id: z.string(),
  kind: z.string(),
  message: z.string(),
  details: z.unknown(),
  createdAt: z.string(),
  /** what it concerns, for links (null when it concerns no run / provider) */
  runId: z.string().nullable().default(null),
  providerName: z.string().nullable().default(null),
  acknowledgedAt: z.string().nullable().default(null),
  /** the acknowledging actor's id */
  acknowledgedBy: z.string().nullable().default(null),
});
export type AlertItem = z.infer<typeof AlertItem>;
export const AlertStatus = z.enum(['open', 'acknowledged', 'all']);
export type AlertStatus = z.infer<typeof AlertStatus>;
export const AlertListQuery = z.object({
  status: AlertStatus.default('all'),
  cursor: z.string().max(500).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
});
export type AlertListQuery = z.infer<typeof AlertListQuery>;
/** GET /alerts/summary: the open (unacknowledged) alerts, counted */
export const AlertSummary = z.object({ open: z.number().int().nonnegative(), byKind: z.record(z.string(), z.number().int().nonnegative()) });
export type AlertSummary = z.infer<typeof AlertSummary>;
export const AcknowledgeAlertBody = z.strictObject({ comment: z.string().max(2000).optional() });
export type AcknowledgeAlertBody = z.infer<typeof AcknowledgeAlertBody>;
export const PageQuery = z.object({ cursor: z.string().max(500).optional(), limit: z.coerce.number().int().min(1).max(500).default(50) });

/* ------------------------------------------------------------------ workers */
export const WorkerView = z.object({
  id: z.string(),
  role: z.string(),
  host: z.string(),
  /** the last reported status; `stalled` when silent for more than 3 heartbeat intervals (`stopped` if it was draining) */
  status: z.enum(['idle', 'busy', 'draining', 'stalled', 'stopped']),
  inFlight: z.number().int(),
  done: z.number().int(),
  failed: z.number().int(),
  lastHeartbeatAt: z.string(),
  /** llm-workers: the sandbox tool processes run in (see the heartbeat's `sandbox`) */
  sandbox: z.enum(['bwrap', 'unavailable', 'disabled']).nullable().optional(),
});
export type WorkerView = z.infer<typeof WorkerView>;

/* ------------------------------------------------------------------ exports, archive */
export const ExportFormat = z.enum(['csv', 'json']);
export const ExportQuery = z.object({ format: ExportFormat.default('json') });
export const RunExportQuery = RunListQuery.omit({ cursor: true, limit: true }).extend({ format: ExportFormat.default('json') });
export const CostsExportQuery = CostsQuery.extend({ format: ExportFormat.default('json') });
export const ArchiveResponse = z.object({ id: z.string(), archived: z.boolean() });
