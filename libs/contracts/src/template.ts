import { z } from 'zod';
import { ArtifactType } from './artifacts';
import { JsonSchema } from './json-schema';
import type { EventData } from './events';
import { WorkspaceRequest } from './workspace';

/**
 * The template format of DESIGN.md (the import/export format: field names are part of the contract).
 * Objects are strict: a misspelt field is an error the author sees, not a silently ignored setting.
 */
export const PhaseId = z
  .string()
  .regex(/^[a-zA-Z][a-zA-Z0-9_-]{0,63}$/, 'a phase id starts with a letter and has only letters, digits, _ and -');

export const CandidateOptions = z.strictObject({
  temperature: z.number().min(0).max(2).optional(),
  maxTokens: z.number().int().positive().max(1_000_000).optional(),
  /** simulated provider only: how long the fake call takes */
  latencyMs: z.number().int().nonnegative().max(600_000).optional(),
});
export type CandidateOptions = z.infer<typeof CandidateOptions>;

export const ModelRef = z.strictObject({
  provider: z.string().min(1),
  model: z.string().min(1),
  options: CandidateOptions.optional(),
});
export type ModelRef = z.infer<typeof ModelRef>;

export const DEFAULT_CRITERIA = ['correctness', 'completeness', 'helpfulness'] as const;

export const JudgeSpec = z.strictObject({
  provider: z.string().min(1),
  model: z.string().min(1),
  criteria: z.array(z.string().min(1)).min(1).optional(),
  options: CandidateOptions.optional(),
});
export type JudgeSpec = z.infer<typeof JudgeSpec>;

export const RetryPolicy = z.strictObject({
  maxAttempts: z.number().int().min(1).max(20),
  backoffSeconds: z.number().nonnegative().max(3600),
});
export type RetryPolicy = z.infer<typeof RetryPolicy>;

export const Prompt = z.strictObject({ system: z.string().optional(), user: z.string().min(1) });
export type Prompt = z.infer<typeof Prompt>;

/** `{ artifact }` (a built-in type) or `{ schema }` (a JSON Schema). */
export const OutputSpec = z.union([z.strictObject({ artifact: ArtifactType }), z.strictObject({ schema: JsonSchema })]);
export type OutputSpec = z.infer<typeof OutputSpec>;

const phaseCommon = {
  id: PhaseId,
  name: z.string().max(200).optional(),
  description: z.string().max(2000).optional(),
  dependsOn: z.array(z.string()).default([]),
  timeoutSeconds: z.number().int().positive().max(86_400).optional(),
  retry: RetryPolicy.optional(),
  autoProceed: z.boolean().optional(),
  budgetShare: z.number().min(0).max(1).optional(),
};

export const LlmPhase = z.strictObject({
  ...phaseCommon,
  kind: z.literal('llm'),
  prompt: Prompt,
  candidates: z.array(ModelRef).min(1).max(16),
  judge: JudgeSpec.optional(),
  output: OutputSpec.default({ artifact: 'text' }),
});
export const AgentTool = z.enum(['read_file', 'write_file', 'edit_file', 'list_files', 'search', 'bash', 'git']);
export const AgentPhase = z.strictObject({
  ...phaseCommon,
  kind: z.literal('agent'),
  prompt: Prompt,
  candidates: z.array(ModelRef).min(1).max(16),
  judge: JudgeSpec.optional(),
  tools: z.array(AgentTool).min(1).optional(),
  maxIterations: z.number().int().positive().max(200).optional(),
  output: OutputSpec.default({ artifact: 'code-change' }),
});
export const LoopPhase = z.strictObject({
  ...phaseCommon,
  kind: z.literal('loop'),
  prompt: Prompt,
  candidates: z.array(ModelRef).min(1).max(16),
  loop: z.strictObject({
    maxAttempts: z.number().int().min(1).max(20),
    passThreshold: z.number().min(0).max(1),
    evaluator: JudgeSpec,
  }),
  output: OutputSpec.default({ artifact: 'text' }),
});
export const InterviewPhase = z.strictObject({
  ...phaseCommon,
  kind: z.literal('interview'),
  prompt: Prompt,
  candidates: z.array(ModelRef).min(1).max(1).optional(),
  maxQuestions: z.number().int().min(1).max(10).default(5),
});
export const GatePhase = z.strictObject({
  ...phaseCommon,
  kind: z.literal('gate'),
  message: z.string().min(1).max(2000),
});
export const ConditionPhase = z.strictObject({
  ...phaseCommon,
  kind: z.literal('condition'),
  /** JSON Logic over { inputs, phases: { <id>: { output } }, answers } */
  expression: z.unknown().refine((v) => v !== undefined, 'expression is required'),
  ifTrue: z.array(z.string()).default([]),
  ifFalse: z.array(z.string()).default([]),
});
export const ToolPhase = z.strictObject({
  ...phaseCommon,
  kind: z.literal('tool'),
  tool: z.strictObject({ command: z.string().min(1), args: z.array(z.string()).default([]) }),
});

export const Phase = z.discriminatedUnion('kind', [LlmPhase, AgentPhase, LoopPhase, InterviewPhase, GatePhase, ConditionPhase, ToolPhase]);
export type Phase = z.infer<typeof Phase>;
export type PhaseKind = Phase['kind'];
export type LlmPhase = z.infer<typeof LlmPhase>;
/** Phases that call LLMs for candidates. */
export type GenerativePhase = Extract<Phase, { candidates: unknown }>;

/**
 * Budgets that steer (ADR 024): when the run's reserved spend (settled cost + the reservations of
 * outstanding calls + what the next step would reserve) reaches `atPct` % of its budget, the
 * orchestrator takes `action` once: `pause` the run, `shrink` the phases not started yet to one
 * candidate and no judge, `switch` them to `model`, or `stop` (fail the run with the reason).
 */
export const BudgetAction = z.enum(['pause', 'shrink', 'switch', 'stop']);
export type BudgetAction = z.infer<typeof BudgetAction>;
export const BudgetModel = z.strictObject({ provider: z.string().min(1), model: z.string().min(1) });
export type BudgetModel = z.infer<typeof BudgetModel>;
export const BudgetRule = z
  .strictObject({
    atPct: z.number().gt(0).max(100),
    action: BudgetAction,
    /** `switch` only: the cheaper model later phases use */
    model: BudgetModel.optional(),
  })
  .superRefine((rule, ctx) => {
    if (rule.action === 'switch' && !rule.model) ctx.addIssue({ code: 'custom', path: ['model'], message: 'a switch rule names the model to switch to' });
    if (rule.action !== 'switch' && rule.model) ctx.addIssue({ code: 'custom', path: ['model'], message: `a ${rule.action} rule takes no model` });
  });
export type BudgetRule = z.infer<typeof BudgetRule>;
/** Rules in any order, one per threshold; each fires at most once per run. */
export const BudgetPolicy = z
  .array(BudgetRule)
  .min(1)
  .max(10)
  .superRefine((rules, ctx) => {
    rules.forEach((r, i) => {
      if (rules.findIndex((o) => o.atPct === r.atPct) !== i) ctx.addIssue({ code: 'custom', path: [i, 'atPct'], message: `two rules at ${r.atPct}%` });
    });
  });
export type BudgetPolicy = z.infer<typeof BudgetPolicy>;

/** One line for a budget policy decision (the alert the projector raises, the dashboard's timeline). */
export function budgetDecisionText(d: EventData<'BudgetPolicyApplied'>): string {
  const reserved = d.spentUsd + d.reservedUsd + d.estimateUsd;
  const what =
    d.action === 'shrink'
      ? `later phases (${d.phaseIds.join(', ') || 'none left'}) run one candidate and no judge`
      : d.action === 'switch'
        ? `later phases (${d.phaseIds.join(', ') || 'none left'}) switch to ${d.model?.provider}/${d.model?.model}`
        : d.action === 'pause'
          ? 'the run paused'
          : 'the run stopped';
  return `budget policy at ${d.thresholdPct}%: ${what} (reserved $${reserved.toFixed(4)} of $${d.budgetUsd} when phase ${d.phaseId} dispatched)`;
}

export const TemplateDefaults = z.strictObject({
  timeoutSeconds: z.number().int().positive().max(86_400).default(600),
  retry: RetryPolicy.default({ maxAttempts: 3, backoffSeconds: 2 }),
  autoProceed: z.boolean().default(true),
  budgetUsd: z.number().positive().optional(),
  /** what the run does as its reserved spend nears budgetUsd (a run's own policy replaces it) */
  budgetPolicy: BudgetPolicy.optional(),
});
export type TemplateDefaults = z.infer<typeof TemplateDefaults>;

export const Template = z.strictObject({
  name: z.string().min(1).max(120),
  description: z.string().max(4000).default(''),
  /** informational in the import format; the stored version is assigned by the server */
  version: z.number().int().positive().optional(),
  inputs: JsonSchema.default({ type: 'object', properties: {} }),
  defaults: TemplateDefaults.default({ timeoutSeconds: 600, retry: { maxAttempts: 3, backoffSeconds: 2 }, autoProceed: true }),
  phases: z.array(Phase).min(1).max(500),
  /** the repository runs of this template work on unless `POST /runs` names another */
  workspace: WorkspaceRequest.optional(),
});
/** A template after parsing (defaults filled in). */
export type Template = z.infer<typeof Template>;
/** A template as a user writes it. */
export type TemplateInput = z.input<typeof Template>;

export function isGenerative(phase: Phase): phase is GenerativePhase {
  return 'candidates' in phase && Array.isArray(phase.candidates);
}
