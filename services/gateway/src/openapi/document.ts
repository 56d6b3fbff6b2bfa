import { OpenAPIRegistry, OpenApiGeneratorV3, zodToOpenAPIRegistry, type RouteConfig } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import {
  AcceptBody,
  AcknowledgeAlertBody,
  AttemptQuery,
  AlertItem,
  AlertListQuery,
  AlertSummary,
  StudyAccepted,
  StudyBody,
  StudyEstimate,
  StudyListQuery,
  StudySummary,
  StudyView,
  AnalyticsQuery,
  AnalyticsView,
  FrontierQuery,
  FrontierView,
  AnswerBody,
  ArchiveResponse,
  RunCompareQuery,
  RunComparison,
  BudgetBody,
  CandidateTranscript,
  ClientConfig,
  CheckpointView,
  ArtifactView,
  BudgetsView,
  CancelBody,
  CandidateView,
  CommandAccepted,
  CostsExportQuery,
  CostsQuery,
  CostsView,
  CreatedResponse,
  CreateProviderBody,
  CreateRunBody,
  DeadLetterListQuery,
  DeadLetterView,
  EmptyBody,
  ErrorEnvelope,
  EstimateBody,
  EstimateResponse,
  EventsQuery,
  ExportQuery,
  ForkBody,
  GateDecisionBody,
  HealthView,
  JsonSchema,
  LogEntry,
  MinSequenceQuery,
  OverviewQuery,
  OverviewView,
  Page,
  ProviderTestResult,
  ProviderView,
  PutBudgetsBody,
  ReplayBody,
  ReadyView,
  ReplayStatus,
  RetryBody,
  RollbackBody,
  RunExportQuery,
  RunListQuery,
  RunSummary,
  RunUsageItem,
  RunView,
  Template,
  TemplateCreatedResponse,
  TemplateSummary,
  TemplateValidation,
  TemplateView,
  TimelineEntry,
  TimelineQuery,
  ToolCallView,
  UpdateProviderBody,
  VerdictListItem,
  WorkerView,
  WorkspaceList,
} from '@conclave/contracts';

/**
 * The OpenAPI 3.0 document of the REST API (DESIGN.md's external interface), generated from the
 * contracts' zod schemas: the same schemas the controllers parse with. Paths are relative to the
 * server URL `/api/v1`. An int test checks that every route Nest registers appears here.
 */
type Method = RouteConfig['method'];
interface Op {
  summary: string;
  tag: string;
  params?: string[];
  query?: z.ZodObject;
  body?: z.ZodType;
  status?: number;
  response?: z.ZodType;
  /** a non-JSON success body (exports; a run's patch series) */
  produces?: 'export' | 'patch';
  /** what an error status means for this operation, where it says more than the code */
  errors?: Partial<Record<404 | 409 | 422, string>>;
  noMinSequence?: boolean;
}

const items = <T extends z.ZodType>(item: T) => z.object({ items: z.array(item) });
const RANGE_422 = 'validation: `from` or `to` is not an ISO date or date-time with an offset, or `from` is after `to` (details name the field)';
const PhaseCommand = ['retry', 'skip', 'approve', 'reject', 'answer', 'accept'] as const;
const PHASE_BODIES: Record<(typeof PhaseCommand)[number], z.ZodType> = {
  retry: RetryBody,
  skip: z.strictObject({}),
  approve: GateDecisionBody,
  reject: GateDecisionBody,
  answer: AnswerBody,
  accept: AcceptBody,
};
const RUN_BODIES: Record<string, z.ZodType> = {
  pause: z.strictObject({}),
  resume: z.strictObject({}),
  cancel: CancelBody,
  continue: z.strictObject({}),
  rollback: RollbackBody,
  fork: ForkBody,
  rerun: z.strictObject({}),
};
const CandidateListItem = CandidateView.extend({ phaseId: z.string(), attempt: z.number().int(), round: z.number().int() });

export const API_ROUTES: Record<string, Partial<Record<Method, Op>>> = {
  '/health': { get: { tag: 'health', summary: 'Liveness of the gateway', response: HealthView, noMinSequence: true } },
  '/ready': {
    get: {
      tag: 'health',
      summary: 'Ready = NATS, Postgres and the projector caught up (503 otherwise, whose details.down lists nats | postgres | projector and whose message says what is down, e.g. the projector\'s lag in events); says which durability the servers give (durability.nats.mode: fsync-per-message | interval | unknown)',
      response: ReadyView,
      noMinSequence: true,
    },
  },

  '/templates': {
    get: { tag: 'templates', summary: 'List templates (not archived)', response: items(TemplateSummary) },
    post: { tag: 'templates', summary: 'Create a template (version 1)', body: Template, status: 201, response: TemplateCreatedResponse },
  },
  '/templates/validate': { post: { tag: 'templates', summary: 'Validate a template: errors and execution levels, nothing stored', body: Template, status: 200, response: TemplateValidation } },
  '/templates/{id}': {
    get: { tag: 'templates', summary: 'One template (latest version, or `?version=`)', params: ['id'], query: z.object({ version: z.coerce.number().int().positive().optional() }), response: TemplateView },
    put: { tag: 'templates', summary: 'Add a new version', params: ['id'], body: Template, status: 201, response: TemplateCreatedResponse },
    delete: { tag: 'templates', summary: 'Archive a template', params: ['id'], status: 200, response: CommandAccepted },
  },
  '/templates/{id}/estimate': {
    post: {
      tag: 'templates',
      summary: "What a run would cost (min / expected / max USD and tokens, per phase, with the assumptions) and its first prompts rendered with the inputs; nothing stored",
      params: ['id'],
      body: EstimateBody,
      status: 200,
      response: EstimateResponse,
      errors: { 404: 'not_found: no such template or version', 422: "validation: the inputs do not match the inputs schema (details.errors), or a model has no price (details.missing names phase, role, provider, model)" },
    },
  },
  '/templates/{id}/clone': { post: { tag: 'templates', summary: 'Clone a template into a new one', params: ['id'], body: z.strictObject({ name: z.string().optional() }), status: 201, response: TemplateCreatedResponse } },

  '/runs': {
    get: {
      tag: 'runs',
      summary:
        'List runs (cursor paging; archived runs hidden unless `archived=true|all`). `sort=started|duration|cost|status|name` and `order=asc|desc` (default: newest first) page by keyset on (sort value, id): a cursor pages only its own sort; `from`/`to` bound the start time (ISO date or date-time, `to` exclusive)',
      query: RunListQuery,
      response: Page(RunSummary),
      errors: { 422: 'validation: a sort, order, from or to that is not one of the values or not ISO, or from after to (the message names the field); a cursor of another sort is a 400' },
    },
    post: {
      tag: 'runs',
      summary:
        "Start a run. `workspace: { path, baseRef? }` names a git repository under WORKSPACE_ROOTS (path relative to a root, or absolute inside one; baseRef default HEAD); without it the template's default workspace applies, else the run gets a fresh repository of its own. The run works on branch `conclave/<runId>`; the user's checkout is never touched",
      body: CreateRunBody,
      status: 201,
      response: CreatedResponse,
      errors: {
        422:
          'validation, nothing written: the inputs, or the workspace — `details: { problem, roots }` with problem `outside_roots`, `not_found`, `not_a_repository` (not the top level of a git repository), `empty_repository`, `unknown_base_ref`, `bad_base_ref` (starts with "-"), or `sandbox_unavailable` (agent or tool phases while no llm-worker can sandbox tool processes)',
      },
    },
  },
  '/workspaces': { get: { tag: 'workspaces', summary: 'The git repositories under WORKSPACE_ROOTS (a few levels deep, bounded): name, root, path, current branch (null when detached), HEAD (null when empty), dirty', response: WorkspaceList } },
  '/runs/{id}/patch': {
    get: {
      tag: 'runs',
      summary: 'The run branch against its base as a `git format-patch` series (`text/x-patch`, an attachment; empty before anything was committed); `git am` applies it on a clone of the base',
      params: ['id'],
      produces: 'patch',
      response: z.string(),
      errors: { 409: 'illegal_state: the run has no workspace, or its repository or branch is gone' },
    },
  },
  '/runs/export': { get: { tag: 'exports', summary: 'Export the runs list (same filters, range, sort and order as GET /runs, every page) as CSV or JSON', query: RunExportQuery, produces: 'export', response: z.array(RunSummary) } },
  '/runs/compare': {
    get: {
      tag: 'runs',
      summary:
        'Two to four runs side by side (`runs=a,b[,c,d]`): per phase, aligned by phase id (null where a run has no such phase), each run’s models, winner, the output taken, judge scores, tokens, cost and duration; totals per run',
      query: RunCompareQuery,
      response: RunComparison,
      errors: { 404: 'not_found: a run id names no run (the message names it)', 422: 'validation: fewer than 2 or more than 4 ids, or one named twice' },
    },
  },
  '/runs/{id}': { get: { tag: 'runs', summary: 'The workflow state of a run', params: ['id'], response: RunView } },
  '/runs/{id}/timeline': { get: { tag: 'runs', summary: "A run's events after `since_sequence`", params: ['id'], query: TimelineQuery, response: items(TimelineEntry) } },
  '/runs/{id}/timeline/export': { get: { tag: 'exports', summary: "Export a run's timeline as CSV or JSON", params: ['id'], query: ExportQuery, produces: 'export', response: z.array(TimelineEntry) } },
  '/runs/{id}/candidates': {
    get: { tag: 'runs', summary: 'Candidates of every attempt (`?phase=`, `?attempt=`)', params: ['id'], query: AttemptQuery, response: items(CandidateListItem) },
  },
  '/runs/{id}/verdicts': {
    get: { tag: 'runs', summary: "Every judge call of a run with the judge's provider, model, tokens and cost (`?phase=`, `?attempt=`)", params: ['id'], query: AttemptQuery, response: items(VerdictListItem) },
  },
  '/runs/{id}/usage': { get: { tag: 'runs', summary: "A run's tokens and cost by provider and model, candidates and judges apart (every attempt)", params: ['id'], response: items(RunUsageItem) } },
  '/runs/{id}/candidates/{candidateId}/transcript': { get: { tag: 'runs', summary: "A candidate's whole conversation (prompts, assistant turns, thinking, tool calls and results)", params: ['id', 'candidateId'], response: CandidateTranscript } },
  '/runs/{id}/artifacts': { get: { tag: 'runs', summary: "A run's artifacts", params: ['id'], response: items(ArtifactView) } },
  '/runs/{id}/artifacts/{artifactId}': { get: { tag: 'runs', summary: 'One artifact', params: ['id', 'artifactId'], response: ArtifactView } },
  '/runs/{id}/tool-calls': { get: { tag: 'runs', summary: "Audited tool calls of a run's agent phases", params: ['id'], response: items(ToolCallView) } },
  '/runs/{id}/checkpoints': { get: { tag: 'runs', summary: "A run's checkpoints (targets of a rollback)", params: ['id'], response: items(CheckpointView) } },
  '/runs/{id}/budget': { put: { tag: 'run commands', summary: "Raise a run's budget (resumes a run paused by BudgetExceeded)", params: ['id'], body: BudgetBody, status: 202, response: CommandAccepted } },
  '/runs/{id}/archive': { post: { tag: 'runs', summary: 'Hide a run from GET /runs (idempotent)', params: ['id'], status: 200, response: ArchiveResponse } },
  '/runs/{id}/unarchive': { post: { tag: 'runs', summary: 'Show an archived run again', params: ['id'], status: 200, response: ArchiveResponse } },
  ...Object.fromEntries(
    Object.entries(RUN_BODIES).map(([command, body]) => [
      `/runs/{id}/${command}`,
      command === 'fork' || command === 'rerun'
        ? { post: { tag: 'run commands', summary: `${command}: a new run (201 with its id and sequence; typed 404/409/422)`, params: ['id'], body, status: 201, response: CreatedResponse } }
        : { post: { tag: 'run commands', summary: `${command} the run (202 with the sequence of the resulting event; typed 404/409/422)`, params: ['id'], body, status: 202, response: CommandAccepted } },
    ]),
  ),
  ...Object.fromEntries(
    PhaseCommand.map((command) => [
      `/runs/{id}/phases/{phaseId}/${command}`,
      { post: { tag: 'run commands', summary: `${command} a phase (202 with the sequence; typed 404/409/422)`, params: ['id', 'phaseId'], body: PHASE_BODIES[command], status: 202, response: CommandAccepted } },
    ]),
  ),

  '/providers': {
    get: { tag: 'providers', summary: 'Configured providers plus the built-in `simulated` (keys show at most their last 4 characters)', response: items(ProviderView) },
    post: { tag: 'providers', summary: 'Configure a provider (the name is its id; the API key is write-only)', body: CreateProviderBody, status: 201, response: ProviderView },
  },
  '/providers/{id}': {
    get: { tag: 'providers', summary: 'One provider', params: ['id'], response: ProviderView },
    patch: { tag: 'providers', summary: 'Change a provider (`apiKey: null` deletes the stored key)', params: ['id'], body: UpdateProviderBody, response: ProviderView },
    delete: { tag: 'providers', summary: 'Remove a provider and its stored key', params: ['id'], status: 200, response: CommandAccepted },
  },
  '/providers/{id}/test': { post: { tag: 'providers', summary: 'A cheap real call through the official SDK', params: ['id'], status: 200, response: ProviderTestResult } },

  '/costs': {
    get: { tag: 'costs', summary: 'Spend grouped by provider, model, template or day (`from` inclusive, `to` exclusive)', query: CostsQuery, response: CostsView, errors: { 422: RANGE_422 } },
  },
  '/analytics': {
    get: {
      tag: 'costs',
      summary:
        'Analytics within `from` (inclusive) and `to` (exclusive), optionally of one template: per template and template phase over the runs started in the range (runs, success and failure rates, duration p50/p95, cost per run, tokens), the ten costliest of those runs, and per model and per UTC day over the calls made in the range (as GET /costs)',
      query: AnalyticsQuery,
      response: AnalyticsView,
      errors: { 422: RANGE_422 },
    },
  },
  '/analytics/frontier': {
    get: {
      tag: 'costs',
      summary:
        'The quality–cost frontier: per template phase and producer model, over the candidates requested within `from` (inclusive) and `to` (exclusive), optionally of one template (`templateId`) and phase (`phaseId`) — candidates, win rate (chosen as the phase output / candidates in judged rounds), mean judge score, mean cost, cost per score point, latency p50/p95, failure rate; the Pareto frontier (lower cost and higher mean score) and the cheapest model whose mean score is within `epsilon` (0–1, default 0.05) of the best, with its figures',
      query: FrontierQuery,
      response: FrontierView,
      errors: { 404: 'not_found: no template `templateId`, or no version of it (of any template, without one) declares `phaseId`', 422: 'validation: a bound that is not ISO, `from` after `to`, an `epsilon` that is not a decimal from 0 to 1, or an empty `templateId` / `phaseId` (the field is named in `details.field`)' },
    },
  },
  '/costs/export': { get: { tag: 'exports', summary: 'Export costs as CSV or JSON', query: CostsExportQuery, produces: 'export', response: z.array(CostsView.shape.items.element), errors: { 422: RANGE_422 } } },
  '/budgets': {
    get: { tag: 'costs', summary: 'The global and per-template monthly budgets with this month’s spend', response: BudgetsView },
    put: { tag: 'costs', summary: 'Replace every budget', body: PutBudgetsBody, status: 200, response: BudgetsView },
  },
  '/alerts': { get: { tag: 'alerts', summary: 'Operator alerts, newest first (cursor paging); `status=open|acknowledged|all` (all by default)', query: AlertListQuery, response: Page(AlertItem) } },
  '/alerts/summary': { get: { tag: 'alerts', summary: 'The open (unacknowledged) alerts: `{ open, byKind }`', response: AlertSummary } },
  '/alerts/{id}/acknowledge': {
    post: { tag: 'alerts', summary: 'Acknowledge an alert (recorded as AlertAcknowledged; idempotent; 404 for an unknown id)', params: ['id'], body: AcknowledgeAlertBody, status: 200, response: AlertItem },
  },
  '/studies': {
    get: { tag: 'studies', summary: 'Re-judging studies, newest first (ADR 023)', query: StudyListQuery, response: items(StudySummary) },
    post: {
      tag: 'studies',
      summary:
        'Start a study: the stored candidates of the chosen runs\' judged phases (`runs`: ids, or `{ templateId, from?, to? }`; `phases` to narrow) are judged again by `judge` (provider, model, criteria?, rubric?) through the judge work queue — never the producers. Runs without stored candidates (archived, forks that reused their outputs) are skipped and counted. Answers 202 with the study id, the log sequence and the estimate',
      body: StudyBody,
      status: 202,
      response: StudyAccepted,
      errors: { 404: 'not_found: `runs.templateId` names no template', 422: 'validation: a field of the body (named in `details.field`), an unknown or disabled judge provider (`judge.provider`), a judge model without a price (`judge.model`), more than 400 verdicts in one study (`runs`: narrow the runs or phases), or more candidates than STUDY_CONFIRM_CANDIDATES without `confirm: true` (`confirm`, with the estimate) — nothing is dispatched' },
    },
  },
  '/studies/estimate': {
    post: { tag: 'studies', summary: 'What a study would judge (items, candidates, runs, skipped) and cost, and whether it needs `confirm: true`; nothing starts', body: StudyBody, status: 200, response: StudyEstimate, errors: { 404: 'not_found: `runs.templateId` names no template', 422: 'validation: as POST /studies, without the confirm check' } },
  },
  '/studies/{id}': {
    get: { tag: 'studies', summary: 'A study: progress, cost, and its report per phase — flip rate with a 95 % Wilson interval, score shift per criterion (new − old), agreement (same winner, Kendall tau), the flip matrix by winning model — and every item with both verdicts', params: ['id'], response: StudyView },
  },
  '/overview': {
    get: {
      tag: 'overview',
      summary:
        'The home page in one read: running, waiting and paused runs with what each waits for; spend today and this month (in `tz`, an IANA zone, UTC by default; anything else is a 422) against the budgets; recent failures with their reason. One snapshot at log position `sequence`. Alerts and workers have their own endpoints and live rooms',
      query: OverviewQuery,
      response: OverviewView,
      errors: { 422: 'validation: `tz` is not an IANA time zone name (such as `Europe/Paris`)' },
    },
  },
  '/workers': { get: { tag: 'fleet', summary: 'The worker fleet from heartbeats (`stalled` after 3 silent intervals)', response: items(WorkerView) } },
  '/config': { get: { tag: 'config', summary: 'What the dashboard reads at startup: `traceUrlTemplate` (TRACE_URL_TEMPLATE, a trace viewer URL with `{traceId}`; null when unset)', response: ClientConfig } },
  '/dead-letters': {
    get: {
      tag: 'dead letters',
      summary:
        'Messages a consumer gave up on (deliveries used up, undecodable, rejected), newest first: consumer, origin (stream, subject, sequence), reason, error, run, the first 4 KiB of the payload as text (never the headers); `state` open (default) / redriven / all; cursor paging. Here `min_sequence` is a DEAD_LETTERS sequence (what a redrive answers)',
      query: DeadLetterListQuery,
      response: Page(DeadLetterView),
    },
  },
  '/dead-letters/{id}': {
    get: { tag: 'dead letters', summary: 'One dead letter (`id`: its DEAD_LETTERS sequence; anything else is a 400)', params: ['id'], response: DeadLetterView },
  },
  '/dead-letters/{id}/redrive': {
    post: {
      tag: 'dead letters',
      summary:
        'Hand the original message back to the consumer that gave up on it (the orchestrator republishes a work message, or runs its own handler on a log event), then mark the dead letter redriven. 202 `{ id, sequence }`: `sequence` as `min_sequence` on GET /dead-letters shows it redriven. If it fails again it becomes a new dead letter',
      params: ['id'],
      body: EmptyBody,
      status: 202,
      response: CreatedResponse,
      errors: {
        404: 'not_found: no dead letter has this id',
        409: 'illegal_state: already redriven, its payload was truncated, or its consumer refused it again (the message says why)',
      },
    },
  },
  '/events': { get: { tag: 'events', summary:
        'The raw log after a sequence, optionally one aggregate (`streamId`, read alone) and some event types (`types`, comma-separated). Pass `nextAfter` as `after` for the next page: with `types` it moves past the events read that did not match (at most 5000 per request), so a page may be empty while matches follow', query: EventsQuery, response: z.object({ items: z.array(LogEntry), nextAfter: z.number().int(), unreadable: z.array(z.object({ sequence: z.number().int(), reason: z.string() })).describe('messages in the range read that do not decode as events (poison): listed, never silently skipped') }) } },
  '/admin/replay': {
    post: { tag: 'admin', summary: 'Rebuild every read model from sequence 1 (optionally verify)', body: ReplayBody, status: 202, response: ReplayStatus },
    get: { tag: 'admin', summary: 'Progress of the current or last replay', response: ReplayStatus },
  },
};

let cached: object | null = null;

/** Creating requests that honour `Idempotency-Key` (http/idempotency.interceptor.ts). */
const IDEMPOTENT = new Set(['post /templates', 'put /templates/{id}', 'post /runs', 'post /runs/{id}/fork', 'post /runs/{id}/rerun', 'post /providers']);
const IdempotencyHeaders = z.object({
  'idempotency-key': z
    .string()
    .max(255)
    .optional()
    .describe('Retry-safe creation: the first response to a key is kept (in Postgres) and returned again for the same key and body (`Idempotent-Replayed: true`); the same key with another body is a 422, while the first is in flight a 409'),
});

export function openApiDocument(): object {
  if (cached) return cached;
  // JsonSchema is recursive (z.lazy): named, it becomes a $ref instead of an endless inline schema.
  // Tagged in the library's registry: the contracts' instance is the one the recursion refers to.
  // The others are named so that the document references them instead of repeating them.
  const named: [z.ZodType, string][] = [[JsonSchema, 'JsonSchema'], [ErrorEnvelope, 'ErrorEnvelope'], [Template, 'Template'], [RunView, 'RunView'], [ProviderView, 'ProviderView']];
  for (const [schema, refId] of named) if (!zodToOpenAPIRegistry.has(schema)) zodToOpenAPIRegistry.add(schema, { _internal: { refId } } as never);
  const registry = new OpenAPIRegistry();
  registry.registerComponent('securitySchemes', 'bearer', {
    type: 'http',
    scheme: 'bearer',
    description: 'One of CONCLAVE_API_TOKENS (`name:token,…`) or CONCLAVE_API_TOKEN (named `default`), when the gateway has any; the token\'s name is the actor of the events the request causes',
  });
  const errorResponse = (description: string) => ({ description, content: { 'application/json': { schema: ErrorEnvelope } } });
  for (const [path, methods] of Object.entries(API_ROUTES)) {
    for (const [method, op] of Object.entries(methods) as [Method, Op][]) {
      const params = op.params ? z.object(Object.fromEntries(op.params.map((p) => [p, z.string()]))) : undefined;
      const query = method === 'get' && !op.noMinSequence ? (op.query ?? z.object({})).extend(MinSequenceQuery.shape) : op.query;
      const status = op.status ?? 200;
      const content =
        op.produces === 'export'
          ? { 'application/json': { schema: op.response ?? z.unknown() }, 'text/csv': { schema: z.string() } }
          : op.produces === 'patch'
            ? { 'text/x-patch': { schema: z.string() } }
            : { 'application/json': { schema: op.response ?? z.unknown() } };
      registry.registerPath({
        method,
        path,
        tags: [op.tag],
        summary: op.summary,
        security: path === '/health' ? [] : [{ bearer: [] }],
        request: {
          ...(params ? { params } : {}),
          ...(query ? { query } : {}),
          ...(IDEMPOTENT.has(`${method} ${path}`) ? { headers: IdempotencyHeaders } : {}),
          ...(op.body ? { body: { required: true, content: { 'application/json': { schema: op.body } } } } : {}),
        },
        responses: {
          [status]: { description: 'success', content },
          400: errorResponse('bad_request: the body or query does not parse (zod issues in details); also a body that is not UTF-8 JSON, is nested deeper than 128 levels or has `__proto__` / `constructor.prototype` keys, and a NUL character in a query'),
          401: errorResponse('unauthorized: missing or invalid bearer token'),
          403: errorResponse('forbidden: a gateway on a loopback address answers only to Host localhost, 127.0.0.1, [::1] or CONCLAVE_ALLOWED_HOSTS (DNS rebinding); the same for the dashboard and the socket.io handshake'),
          404: errorResponse(op.errors?.[404] ?? 'not_found'),
          409: errorResponse(op.errors?.[409] ?? 'illegal_state or concurrency'),
          413: errorResponse('payload_too_large: body over 1 MB'),
          422: errorResponse(op.errors?.[422] ?? 'validation'),
          429: errorResponse('rate_limited'),
          503: errorResponse('unavailable: a dependency (details.dependency: postgres | nats) cannot be reached or is not ready; retry after the Retry-After seconds'),
        },
      });
    }
  }
  cached = new OpenApiGeneratorV3(registry.definitions).generateDocument({
    openapi: '3.0.3',
    info: { title: 'Conclave API', version: '1', description: 'Event-sourced multi-agent LLM pipelines. Errors: `{ error: { code, message, details, requestId } }`.' },
    servers: [{ url: '/api/v1' }],
  });
  return cached;
}

/** A page that lists the document's operations (no CDN, no script). */
export function openApiHtml(): string {
  const doc = openApiDocument() as { paths: Record<string, Record<string, { summary?: string; tags?: string[] }>> };
  const rows = Object.entries(doc.paths)
    .flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => `<tr><td><code>${method.toUpperCase()}</code></td><td><code>/api/v1${escape(path)}</code></td><td>${escape(op.tags?.[0] ?? '')}</td><td>${escape(op.summary ?? '')}</td></tr>`))
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Conclave API</title></head>
<body>
<h1>Conclave API</h1>
<p>OpenAPI 3 document: <a href="/api/docs/openapi.json">/api/docs/openapi.json</a>. Every error is <code>{ error: { code, message, details, requestId } }</code>.</p>
<table border="1" cellpadding="4" cellspacing="0">
<thead><tr><th>method</th><th>path</th><th>tag</th><th>summary</th></tr></thead>
<tbody>
${rows}
</tbody></table>
</body></html>
`;
}

function escape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}
