import type { CandidateScore } from '@conclave/contracts';
import type { JudgeRequest, Verdict } from './judge-provider';
import { presentationOrder, TIE_RULE } from './simulated/simulated-judge';

/**
 * The LLM-as-judge protocol, pure: the prompt (candidates shown under neutral labels A, B, C… in the
 * recorded shuffled order — the position-bias guard), the answer's JSON Schema, its validation, and
 * the verdict. Winner: the highest overall (the mean of the criteria, 3 decimals); on equal overalls
 * the candidate listed earliest in the request wins (TIE_RULE, the same rule as the simulated judge;
 * the model's own pick is reported in the rationale, never trusted over its scores).
 */
export const DEFAULT_CRITERIA = ['correctness', 'completeness', 'helpfulness'];
const OUTPUT_CAP = 20_000;

export interface JudgePrompt {
  system: string;
  user: string;
  schema: Record<string, unknown>;
  /** label → candidateId, in presentation order */
  labels: Map<string, string>;
  order: string[];
}

export function labelOf(index: number): string {
  return index < 26 ? String.fromCharCode(65 + index) : `C${index + 1}`;
}

export function buildJudgePrompt(request: JudgeRequest): JudgePrompt {
  const criteria = request.criteria.length > 0 ? request.criteria : DEFAULT_CRITERIA;
  const order = presentationOrder(request.judgeId, request.candidates.map((c) => c.candidateId));
  const byId = new Map(request.candidates.map((c) => [c.candidateId, c.output]));
  const labels = new Map(order.map((id, i) => [labelOf(i), id]));
  const evaluate = request.purpose === 'evaluate' || request.candidates.length === 1;
  const criterionScores = { type: 'object', properties: Object.fromEntries(criteria.map((c) => [c, { type: 'number', minimum: 0, maximum: 1 }])), required: criteria };
  const schema = evaluate
    ? { type: 'object', properties: { scores: criterionScores, feedback: { type: 'string' } }, required: ['scores', 'feedback'] }
    : {
        type: 'object',
        properties: {
          scores: {
            type: 'array',
            items: { type: 'object', properties: { label: { type: 'string', enum: [...labels.keys()] }, criteria: criterionScores }, required: ['label', 'criteria'] },
          },
          winner: { type: 'string', enum: [...labels.keys()] },
          rationale: { type: 'string' },
        },
        required: ['scores', 'winner', 'rationale'],
      };
  const system = evaluate
    ? 'You are a strict reviewer. Score the answer on each criterion from 0 (fails) to 1 (excellent) and give concrete, actionable feedback for a revision. Answer in the JSON schema given.'
    : 'You are an impartial judge. Score every answer on each criterion from 0 (fails) to 1 (excellent), independently of the order they are shown in and of their length, then name the best one and explain why. Answer in the JSON schema given.';
  const shown = order.map((id, i) => `### Answer ${labelOf(i)}\n${render(byId.get(id))}`).join('\n\n');
  const user = [
    `## Task\n${request.task?.trim() || '(not given)'}`,
    `## Criteria\n${criteria.map((c) => `- ${c}`).join('\n')}`,
    ...(request.rubric?.trim() ? [`## Rubric\n${request.rubric.trim()}`] : []),
    evaluate ? `## Answer\n${render(byId.get(order[0]))}` : `## Answers\n${shown}`,
  ].join('\n\n');
  return { system, user, schema, labels, order };
}

/** Errors of a judge answer against the protocol (empty = usable). */
export function checkJudgeAnswer(prompt: JudgePrompt, request: JudgeRequest, value: unknown): string[] {
  const criteria = request.criteria.length > 0 ? request.criteria : DEFAULT_CRITERIA;
  const errors: string[] = [];
  const checkScores = (where: string, scores: unknown) => {
    if (!scores || typeof scores !== 'object') return errors.push(`${where}: must be an object of criterion scores`);
    for (const c of criteria) {
      const v = (scores as Record<string, unknown>)[c];
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 1) errors.push(`${where}/${c}: must be a number from 0 to 1`);
    }
    return 0;
  };
  if (!value || typeof value !== 'object') return ['(root): must be an object'];
  const v = value as Record<string, unknown>;
  if (request.purpose === 'evaluate' || request.candidates.length === 1) {
    checkScores('/scores', v.scores);
    if (typeof v.feedback !== 'string' || v.feedback.trim() === '') errors.push('/feedback: must be a non-empty string');
    return errors;
  }
  if (!Array.isArray(v.scores)) return ['/scores: must be an array with one entry per answer'];
  const seen = new Set<string>();
  v.scores.forEach((s: unknown, i) => {
    const label = (s as { label?: unknown })?.label;
    if (typeof label !== 'string' || !prompt.labels.has(label)) errors.push(`/scores/${i}/label: must be one of ${[...prompt.labels.keys()].join(', ')}`);
    else if (seen.has(label)) errors.push(`/scores/${i}/label: ${label} is scored twice`);
    else seen.add(label);
    checkScores(`/scores/${i}/criteria`, (s as { criteria?: unknown })?.criteria);
  });
  for (const label of prompt.labels.keys()) if (!seen.has(label)) errors.push(`/scores: answer ${label} is not scored`);
  if (typeof v.winner !== 'string' || !prompt.labels.has(v.winner)) errors.push(`/winner: must be one of ${[...prompt.labels.keys()].join(', ')}`);
  if (typeof v.rationale !== 'string') errors.push('/rationale: must be a string');
  return errors;
}

/** The verdict of a valid answer (see checkJudgeAnswer). */
export function verdictFromAnswer(prompt: JudgePrompt, request: JudgeRequest, value: unknown, tokens: Verdict['tokens']): Verdict {
  const criteria = request.criteria.length > 0 ? request.criteria : DEFAULT_CRITERIA;
  const v = value as { scores: unknown; winner?: string; rationale?: string; feedback?: string };
  const scoreOf = (raw: Record<string, number>): CandidateScore => {
    const per = Object.fromEntries(criteria.map((c) => [c, round3(raw[c])]));
    return { overall: round3(criteria.reduce((n, c) => n + per[c], 0) / criteria.length), criteria: per };
  };
  if (request.purpose === 'evaluate' || request.candidates.length === 1) {
    const id = prompt.order[0];
    return { winnerId: id, scores: { [id]: scoreOf(v.scores as Record<string, number>) }, rationale: (v.feedback ?? '').trim(), order: prompt.order, tokens };
  }
  const scores: Record<string, CandidateScore> = {};
  for (const s of v.scores as { label: string; criteria: Record<string, number> }[]) scores[prompt.labels.get(s.label)!] = scoreOf(s.criteria);
  let winnerId = request.candidates[0].candidateId;
  for (const { candidateId } of request.candidates) if (scores[candidateId].overall > scores[winnerId].overall) winnerId = candidateId;
  const picked = v.winner ? prompt.labels.get(v.winner) : undefined;
  const labelOfId = new Map([...prompt.labels].map(([l, id]) => [id, l]));
  const notes = [`Winner: ${winnerId} (answer ${labelOfId.get(winnerId)}) with overall ${scores[winnerId].overall.toFixed(3)}.`];
  if (picked && picked !== winnerId) notes.push(`The judge named ${picked} (answer ${v.winner}) but scored ${winnerId} at least as high; the scores decide.`);
  notes.push(`Presented in the order ${prompt.order.join(', ')}. Tie rule: ${TIE_RULE}.`);
  return { winnerId, scores, rationale: `${(v.rationale ?? '').trim()}\n\n${notes.join(' ')}`.trim(), order: prompt.order, tokens };
}

function render(output: unknown): string {
  const text = typeof output === 'string' ? output : JSON.stringify(output, null, 2);
  return text.length > OUTPUT_CAP ? `${text.slice(0, OUTPUT_CAP)}\n… (${text.length - OUTPUT_CAP} more characters)` : text;
}

const round3 = (n: number) => Math.round(n * 1000) / 1000;
