import { z } from 'zod';
import { ArtifactType } from './artifacts';
import { JsonSchema } from './json-schema';
import { CandidateOptions, Prompt, Template } from './template';

/**
 * The log's event catalog. Names are past tense; business facts live in `data`, ids / actor /
 * causation in the envelope (STYLE.md §2). A shape that changes gets a new schemaVersion and an
 * upcaster; stored events are never rewritten.
 */
export const Actor = z.object({
  kind: z.enum(['user', 'system', 'worker']),
  id: z.string(),
});
export type Actor = z.infer<typeof Actor>;

export const EnvelopeBase = z.object({
  id: z.string().min(1),
  schemaVersion: z.number().int().positive(),
  /** `<aggregate>:<id>`, e.g. `run:3f0c…`; the subject is `events.<aggregate>.<id>` */
  streamId: z.string().regex(/^(run|template|provider):[A-Za-z0-9_-]+$/),
  occurredAt: z.string().datetime({ offset: true }),
  correlationId: z.string(),
  causationId: z.string().nullable(),
  actor: Actor,
});

export const Tokens = z.object({ input: z.number().int().nonnegative(), output: z.number().int().nonnegative() });
export type Tokens = z.infer<typeof Tokens>;

export const Failure = z.object({
  code: z.string(),
  message: z.string(),
  retryable: z.boolean().default(false),
});
export type Failure = z.infer<typeof Failure>;

/** What a generative phase must produce: the JSON Schema is always resolved (for built-ins too). */
export const ResolvedOutput = z.object({ artifact: ArtifactType.optional(), schema: JsonSchema });
export type ResolvedOutput = z.infer<typeof ResolvedOutput>;

export const CriterionScores = z.record(z.string(), z.number().min(0).max(1));
export const CandidateScore = z.object({ overall: z.number().min(0).max(1), criteria: CriterionScores });
export type CandidateScore = z.infer<typeof CandidateScore>;

/* ------------------------------------------------------------------ template events */
export const TemplateCreatedData = z.object({ templateId: z.string(), version: z.literal(1), template: Template });
export const TemplateVersionAddedData = z.object({ templateId: z.string(), version: z.number().int().min(2), template: Template });
export const TemplateArchivedData = z.object({ templateId: z.string() });

/* ------------------------------------------------------------------ run events */
export const RunStartedData = z.object({
  runId: z.string(),
  templateId: z.string(),
  templateVersion: z.number().int().positive(),
  /** frozen snapshot: the run never sees later template versions */
  template: Template,
  name: z.string().nullable(),
  inputs: z.record(z.string(), z.unknown()),
  autoMode: z.boolean(),
  budgetUsd: z.number().positive().nullable(),
});
export const PhaseStartedData = z.object({ phaseId: z.string(), attempt: z.number().int().positive() });
/** loop phases: producer → evaluator → reviser rounds within one attempt (0 for other kinds) */
const Round = z.number().int().nonnegative().default(0);

export const CandidateRequestedData = z.object({
  phaseId: z.string(),
  attempt: z.number().int().positive(),
  round: Round,
  candidateId: z.string(),
  slot: z.number().int().nonnegative(),
  provider: z.string(),
  model: z.string(),
  options: CandidateOptions.optional(),
  prompt: Prompt,
  output: ResolvedOutput,
  /** a result must carry this token; any other is stale and refused */
  attemptToken: z.string(),
  timeoutSeconds: z.number().int().positive(),
});
export const CandidateGeneratedData = z.object({
  phaseId: z.string(),
  attempt: z.number().int().positive(),
  candidateId: z.string(),
  output: z.unknown(),
  tokens: Tokens,
  costUsd: z.number().nonnegative(),
  durationMs: z.number().int().nonnegative(),
  workerId: z.string(),
});
export const CandidateFailedData = z.object({
  phaseId: z.string(),
  attempt: z.number().int().positive(),
  candidateId: z.string(),
  error: Failure,
  durationMs: z.number().int().nonnegative().optional(),
  workerId: z.string().optional(),
});
export const JudgeRequestedData = z.object({
  phaseId: z.string(),
  attempt: z.number().int().positive(),
  round: Round,
  judgeId: z.string(),
  /**
   * select: pick the best of ≥ 2 candidates; evaluate: score one candidate for a loop, where the
   * rationale is the feedback handed to the reviser
   */
  purpose: z.enum(['select', 'evaluate']).default('select'),
  provider: z.string(),
  model: z.string(),
  criteria: z.array(z.string()).min(1),
  /** the phase's task, so an LLM judge knows what the candidates answer */
  task: z.string().default(''),
  candidates: z.array(z.object({ candidateId: z.string(), output: z.unknown() })).min(1),
  attemptToken: z.string(),
});
export const VerdictRecordedData = z.object({
  phaseId: z.string(),
  attempt: z.number().int().positive(),
  round: Round,
  judgeId: z.string(),
  purpose: z.enum(['select', 'evaluate']).default('select'),
  winnerId: z.string(),
  scores: z.record(z.string(), CandidateScore),
  rationale: z.string(),
  /** the order the candidates were shown to the judge (position-bias guard) */
  order: z.array(z.string()),
  provider: z.string(),
  model: z.string(),
  tokens: Tokens,
  costUsd: z.number().nonnegative(),
});
export const ArtifactRecordedData = z.object({
  artifactId: z.string(),
  phaseId: z.string(),
  attempt: z.number().int().positive(),
  candidateId: z.string().nullable(),
  artifactType: z.string(),
  content: z.unknown(),
});
export const OutputRejectedData = z.object({
  phaseId: z.string(),
  attempt: z.number().int().positive(),
  candidateId: z.string(),
  errors: z.array(z.string()),
  raw: z.unknown(),
});
export const PhaseCompletedData = z.object({ phaseId: z.string(), attempt: z.number().int().positive(), artifactId: z.string().nullable() });
export const PhaseFailedData = z.object({ phaseId: z.string(), attempt: z.number().int().positive(), reason: Failure });
export const PhaseSkippedData = z.object({ phaseId: z.string(), reason: z.string() });
export const RunCompletedData = z.object({});
export const RunFailedData = z.object({ reason: Failure, phaseId: z.string().nullable() });

/** type → [schemaVersion, data schema] for every event of the current catalog. */
export const EVENT_DATA = {
  TemplateCreated: TemplateCreatedData,
  TemplateVersionAdded: TemplateVersionAddedData,
  TemplateArchived: TemplateArchivedData,
  RunStarted: RunStartedData,
  PhaseStarted: PhaseStartedData,
  CandidateRequested: CandidateRequestedData,
  CandidateGenerated: CandidateGeneratedData,
  CandidateFailed: CandidateFailedData,
  JudgeRequested: JudgeRequestedData,
  VerdictRecorded: VerdictRecordedData,
  ArtifactRecorded: ArtifactRecordedData,
  OutputRejected: OutputRejectedData,
  PhaseCompleted: PhaseCompletedData,
  PhaseFailed: PhaseFailedData,
  PhaseSkipped: PhaseSkippedData,
  RunCompleted: RunCompletedData,
  RunFailed: RunFailedData,
} as const;
export type EventType = keyof typeof EVENT_DATA;
export const EVENT_TYPES = Object.keys(EVENT_DATA) as EventType[];
export const CURRENT_SCHEMA_VERSION: Record<EventType, number> = Object.fromEntries(EVENT_TYPES.map((t) => [t, 1])) as Record<EventType, number>;

function envelopeOf<T extends EventType>(type: T) {
  return EnvelopeBase.extend({ type: z.literal(type), data: EVENT_DATA[type] as (typeof EVENT_DATA)[T] });
}

export const TemplateCreated = envelopeOf('TemplateCreated');
export const TemplateVersionAdded = envelopeOf('TemplateVersionAdded');
export const TemplateArchived = envelopeOf('TemplateArchived');
export const RunStarted = envelopeOf('RunStarted');
export const PhaseStarted = envelopeOf('PhaseStarted');
export const CandidateRequested = envelopeOf('CandidateRequested');
export const CandidateGenerated = envelopeOf('CandidateGenerated');
export const CandidateFailed = envelopeOf('CandidateFailed');
export const JudgeRequested = envelopeOf('JudgeRequested');
export const VerdictRecorded = envelopeOf('VerdictRecorded');
export const ArtifactRecorded = envelopeOf('ArtifactRecorded');
export const OutputRejected = envelopeOf('OutputRejected');
export const PhaseCompleted = envelopeOf('PhaseCompleted');
export const PhaseFailed = envelopeOf('PhaseFailed');
export const PhaseSkipped = envelopeOf('PhaseSkipped');
export const RunCompleted = envelopeOf('RunCompleted');
export const RunFailed = envelopeOf('RunFailed');

export const TemplateEvent = z.discriminatedUnion('type', [TemplateCreated, TemplateVersionAdded, TemplateArchived]);
export type TemplateEvent = z.infer<typeof TemplateEvent>;

export const RunEvent = z.discriminatedUnion('type', [
  RunStarted, PhaseStarted, CandidateRequested, CandidateGenerated, CandidateFailed, JudgeRequested,
  VerdictRecorded, ArtifactRecorded, OutputRejected, PhaseCompleted, PhaseFailed, PhaseSkipped, RunCompleted, RunFailed,
]);
export type RunEvent = z.infer<typeof RunEvent>;

export const ConclaveEvent = z.discriminatedUnion('type', [...TemplateEvent.options, ...RunEvent.options]);
export type ConclaveEvent = z.infer<typeof ConclaveEvent>;
export type EventOf<T extends EventType> = Extract<ConclaveEvent, { type: T }>;
export type EventData<T extends EventType> = EventOf<T>['data'];

/** An event as read back from the log: the envelope plus its stream sequence. */
export type Recorded<E extends ConclaveEvent = ConclaveEvent> = E & { sequence: number };

/**
 * Upcasters: `type@version` → function turning the stored data into the next version's data.
 * Empty while every event is at v1; `parseEvent` applies them in order before validation.
 */
export const UPCASTERS: Record<string, (data: unknown) => unknown> = {};

/** Parse a stored event of any known version into the current catalog (throws on unknown/invalid). */
export function parseEvent(raw: unknown): ConclaveEvent {
  const obj = raw as { type?: string; schemaVersion?: number; data?: unknown };
  if (obj && typeof obj.type === 'string' && typeof obj.schemaVersion === 'number') {
    const target = CURRENT_SCHEMA_VERSION[obj.type as EventType];
    let { schemaVersion: version, data } = obj;
    while (target !== undefined && version < target) {
      const up = UPCASTERS[`${obj.type}@${version}`];
      if (!up) throw new Error(`no upcaster for ${obj.type} v${version}`);
      data = up(data);
      version += 1;
    }
    return ConclaveEvent.parse({ ...obj, schemaVersion: version, data });
  }
  return ConclaveEvent.parse(raw);
}

/** A new event's fields before the envelope's ids and time are stamped on. */
export type NewEvent<T extends EventType = EventType> = { [K in T]: { type: K; data: EventData<K> } }[T];
