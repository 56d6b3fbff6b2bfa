import { TemplateError, type PhaseView, type RunView, type Template } from '@conclave/contracts';
import { ApiError } from './client';

/** Columns padded to their widest cell; the last column is not padded. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

/** 0 → "0", 1234 → "1.2k", 2_500_000 → "2.5M" */
export function formatTokens(n: number): string {
  if (n < 1000) return String(n);
  if (n < 1_000_000) return `${(n / 1000).toFixed(1)}k`;
  return `${(n / 1_000_000).toFixed(1)}M`;
}

/** Dollars with 4 decimals (LLM calls cost fractions of a cent). */
export function formatCost(usd: number): string {
  return `$${usd.toFixed(4)}`;
}

/** 950 → "0.9s", 61_000 → "1m01s", 3_700_000 → "1h01m" */
export function formatDuration(ms: number): string {
  const s = Math.max(0, ms) / 1000;
  if (s < 60) return `${s.toFixed(1)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(Math.floor(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

export function elapsedOf(startedAt: string | null, completedAt: string | null, now: number): number | null {
  if (!startedAt) return null;
  const end = completedAt ? Date.parse(completedAt) : now;
  return end - Date.parse(startedAt);
}

/** What the template says a phase asks for: how many candidates a round has and whether a judge picks among them. */
export interface PhasePlan {
  candidates: number;
  judged: boolean;
}

export function planOf(template: Template | null): Map<string, PhasePlan> {
  const plans = new Map<string, PhasePlan>();
  for (const phase of template?.phases ?? []) {
    switch (phase.kind) {
      case 'llm':
      case 'agent':
        plans.set(phase.id, { candidates: phase.candidates.length, judged: phase.judge !== undefined || phase.candidates.length > 1 });
        break;
      case 'loop':
        plans.set(phase.id, { candidates: phase.candidates.length, judged: true });
        break;
      case 'interview':
        plans.set(phase.id, { candidates: 1, judged: false });
        break;
      case 'gate':
      case 'condition':
      case 'tool':
        plans.set(phase.id, { candidates: 0, judged: false });
        break;
      default: {
        const never: never = phase;
        throw new Error(`unknown phase kind ${(never as { kind: string }).kind}`);
      }
    }
  }
  return plans;
}

/** The figures of one progress line (also the payload of its bar). */
export interface PhaseProgress {
  phase: string;
  status: string;
  done: number;
  total: number;
  judge: string;
  tokens: string;
  cost: string;
  elapsed: string;
  /** what the phase waits on from a person, if anything */
  note: string;
}

const FINISHED_CANDIDATE = new Set(['generated', 'failed', 'rejected']);

/** The judge column: `-` (no judge), `waiting` (candidates out), `judging`, the winner's model, or a loop's best score. */
function judgeOf(phase: PhaseView, plan: PhasePlan | undefined, done: number, total: number): string {
  if (phase.loop) {
    const scores = phase.loop.rounds.map((r) => r.score).filter((s): s is number => s !== null);
    if (scores.length > 0) return `score ${Math.max(...scores).toFixed(2)}/${phase.loop.passThreshold}`;
  }
  if (!plan?.judged && !phase.verdict) return '-';
  if (phase.verdict) {
    const winner = phase.candidates.find((c) => c.id === phase.verdict!.winnerId);
    return winner ? `picked ${winner.provider}/${winner.model}` : 'picked';
  }
  if (phase.status === 'pending' || phase.status === 'skipped') return '-';
  if (phase.status !== 'running') return phase.status === 'completed' ? 'done' : '-';
  return done < total ? 'waiting' : 'judging';
}

export function phaseProgress(phase: PhaseView, plan: PhasePlan | undefined, now: number): PhaseProgress {
  // a retried phase lists its current attempt's candidates (earlier attempts: GET /runs/:id/candidates?attempt=)
  const done = phase.candidates.filter((c) => FINISHED_CANDIDATE.has(c.status)).length;
  const total = Math.max(phase.candidates.length, phase.status === 'pending' || phase.status === 'skipped' ? (plan?.candidates ?? 0) : 0, plan?.candidates ?? 0);
  const elapsed = elapsedOf(phase.startedAt, phase.completedAt, now);
  let note = '';
  if (phase.status === 'waiting' && phase.gate && phase.gate.decision === null) note = `gate: ${phase.gate.message}`;
  else if (phase.status === 'waiting' && phase.interview && phase.interview.answers === null) note = `${phase.interview.questions.length} question(s) to answer`;
  else if (phase.status === 'waiting') note = 'waiting to continue';
  else if (phase.error) note = `${phase.error.code}: ${phase.error.message}`;
  else if (phase.retryAt) note = `retry at ${phase.retryAt}`;
  if (phase.attempt > 1) note = `attempt ${phase.attempt}${note ? `, ${note}` : ''}`;
  return {
    phase: phase.id,
    status: phase.status,
    done,
    total,
    judge: judgeOf(phase, plan, done, total),
    tokens: formatTokens(phase.tokens.input + phase.tokens.output),
    cost: formatCost(phase.costUsd),
    elapsed: elapsed === null ? '-' : formatDuration(elapsed),
    note,
  };
}

/** One plain progress line: `phase  status  cand d/t  judge …  tokens  cost  elapsed  [note]`. */
export function progressLine(p: PhaseProgress, width = 12): string {
  const cand = p.total > 0 ? `${p.done}/${p.total}` : '-';
  return [
    p.phase.padEnd(width),
    p.status.padEnd(10),
    `cand ${cand}`.padEnd(10),
    `judge ${p.judge}`.padEnd(28),
    `${p.tokens} tok`.padEnd(10),
    p.cost.padEnd(9),
    p.elapsed,
    ...(p.note ? [` ${p.note}`] : []),
  ].join(' ');
}

/** What changes a line: everything but the elapsed time (so a plain log gets a line per change, not per tick). */
export function progressKey(p: PhaseProgress): string {
  return JSON.stringify({ ...p, elapsed: undefined });
}

export function runHeader(run: RunView, now: number): string {
  const elapsed = elapsedOf(run.startedAt, run.completedAt, now);
  return (
    `run ${run.id}  ${run.templateName} v${run.templateVersion}  ${run.status}  ` +
    `${formatTokens(run.tokens.input + run.tokens.output)} tok  ${formatCost(run.costUsd)}  ${elapsed === null ? '-' : formatDuration(elapsed)}` +
    (run.error ? `  ${run.error.code}: ${run.error.message}` : '') +
    (run.pauseReason ? `  (paused, ${run.pauseReason.code}: ${run.pauseReason.message})` : '')
  );
}

/** A template validation error located by phase and field: `phase "plan", field dependsOn.0: … [unknown_phase]`. */
export function templateErrorLine(e: TemplateError): string {
  const fieldPath = e.path[0] === 'phases' && typeof e.path[1] === 'number' ? e.path.slice(2) : e.path;
  const field = e.field ?? (fieldPath.length > 0 ? fieldPath.join('.') : undefined);
  const where = [e.phaseId !== undefined ? `phase "${e.phaseId}"` : e.path[0] === 'phases' && typeof e.path[1] === 'number' ? `phase #${e.path[1] + 1}` : 'template', ...(field ? [`field ${field}`] : [])];
  return `${where.join(', ')}: ${e.message} [${e.code}]`;
}

/** The template errors a 422 carries (`details.errors`), if it carries any. */
export function templateErrorsOf(details: unknown): TemplateError[] {
  const errors = (details as { errors?: unknown } | null)?.errors;
  if (!Array.isArray(errors)) return [];
  return errors.flatMap((e) => {
    const parsed = TemplateError.safeParse(e);
    return parsed.success ? [parsed.data] : [];
  });
}

/**
 * An error as the user reads it on stderr: the API's message, its code and status, the request id
 * (to find the gateway's log line), then the located template errors or the request's zod issues.
 */
export function errorText(err: unknown): string {
  if (err instanceof ApiError) {
    const lines = [`error: ${err.message}`, `  ${err.code} (HTTP ${err.status}), request id ${err.requestId ?? 'none'}`];
    for (const e of templateErrorsOf(err.details)) lines.push(`  - ${templateErrorLine(e)}`);
    const issues = (err.details as { issues?: unknown } | null)?.issues;
    if (Array.isArray(issues)) {
      for (const issue of issues as { message?: string; path?: unknown[] }[]) {
        lines.push(`  - ${(issue.path ?? []).map(String).join('.') || '(body)'}: ${issue.message ?? 'invalid'}`);
      }
    }
    return lines.join('\n');
  }
  return `error: ${err instanceof Error ? err.message : String(err)}`;
}
