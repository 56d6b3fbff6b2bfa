import { z } from 'zod';
import type { JsonSchema } from './json-schema';

/**
 * Built-in artifact types: what a phase may declare as `output: { artifact }`. Each is a zod schema;
 * its JSON Schema (for provider structured output and the simulated generator) is derived from it.
 */
export const QuestionsArtifact = z.object({
  questions: z
    .array(z.object({ id: z.string().min(1), question: z.string().min(1), why: z.string().optional() }))
    .min(1)
    .max(10),
});
export const SpecArtifact = z.object({
  title: z.string().min(1),
  summary: z.string().min(1),
  requirements: z.array(z.string().min(1)).min(1),
  acceptanceCriteria: z.array(z.string().min(1)).min(1),
  openQuestions: z.array(z.string()).optional(),
});
export const PlanArtifact = z.object({
  title: z.string().min(1),
  steps: z
    .array(z.object({ id: z.string().min(1), title: z.string().min(1), description: z.string() }))
    .min(1),
  risks: z.array(z.string()).optional(),
});
export const TaskListArtifact = z.object({
  tasks: z
    .array(
      z.object({
        id: z.string().min(1),
        title: z.string().min(1),
        description: z.string(),
        dependsOn: z.array(z.string()).optional(),
        estimateHours: z.number().nonnegative().optional(),
      }),
    )
    .min(1),
});
export const DecisionArtifact = z.object({
  decision: z.string().min(1),
  rationale: z.string().min(1),
  alternatives: z.array(z.string()).optional(),
});
export const EvaluationArtifact = z.object({
  score: z.number().min(0).max(1),
  feedback: z.string(),
  criteria: z.record(z.string(), z.number().min(0).max(1)).optional(),
});
export const CodeChangeArtifact = z.object({
  summary: z.string().min(1),
  files: z
    .array(
      z.object({
        path: z.string().min(1),
        change: z.enum(['created', 'modified', 'deleted', 'read']),
      }),
    )
    .min(0),
  diff: z.string(),
  /** runs with a workspace: the candidate's commit (kept under refs/conclave/<runId>/candidates/) and its base */
  commit: z.string().optional(),
  base: z.string().optional(),
});
/**
 * A losing agent candidate's work, kept beside the phase's artifact (artifact type
 * `candidate-diff`): the judge saw it, the run branch did not take it.
 */
export const CandidateDiffArtifact = z.object({
  candidateId: z.string(),
  provider: z.string(),
  model: z.string(),
  diff: z.string(),
  files: z.array(z.object({ path: z.string(), change: z.string() })),
  commit: z.string().optional(),
});
export const TextArtifact = z.object({ text: z.string().min(1) });

export const ARTIFACT_SCHEMAS = {
  questions: QuestionsArtifact,
  spec: SpecArtifact,
  plan: PlanArtifact,
  'task-list': TaskListArtifact,
  decision: DecisionArtifact,
  evaluation: EvaluationArtifact,
  'code-change': CodeChangeArtifact,
  text: TextArtifact,
} as const;

export const ArtifactType = z.enum(['questions', 'spec', 'plan', 'task-list', 'decision', 'evaluation', 'code-change', 'text']);
export type ArtifactType = z.infer<typeof ArtifactType>;
export type ArtifactContent<T extends ArtifactType> = z.infer<(typeof ARTIFACT_SCHEMAS)[T]>;

const jsonSchemaCache = new Map<ArtifactType, JsonSchema>();
/** The JSON Schema (draft 2020-12 subset) of a built-in artifact type. */
export function artifactJsonSchema(type: ArtifactType): JsonSchema {
  let schema = jsonSchemaCache.get(type);
  if (!schema) {
    const { $schema: _ignored, ...rest } = z.toJSONSchema(ARTIFACT_SCHEMAS[type]) as Record<string, unknown>;
    schema = rest as JsonSchema;
    jsonSchemaCache.set(type, schema);
  }
  return schema;
}

/** Validate content against a built-in type; returns human-readable issues (empty = valid). */
export function checkArtifact(type: ArtifactType, content: unknown): string[] {
  const result = ARTIFACT_SCHEMAS[type].safeParse(content);
  return result.success ? [] : result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
}
