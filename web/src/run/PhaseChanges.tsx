import type { ArtifactView, CandidateView, PhaseView } from '@conclave/contracts';
import { useQuery } from '@tanstack/react-query';
import { api } from '../api/endpoints';
import { keys } from '../api/keys';
import { shortSha } from '../lib/format';
import { ErrorNotice } from '../ui/ErrorNotice';
import { StatusBadge } from '../ui/StatusBadge';
import { DiffViewer } from './diff/DiffViewer';
import { asCodeChange, type CodeChange } from './diff/unified-diff';
import { ToolCalls } from './ToolCalls';

const CHANGE_TONE: Record<string, string> = { created: 'added', modified: 'modified', deleted: 'deleted' };
const NO_COMMIT: Partial<Record<PhaseView['status'], string>> = {
  completed: 'No commit: the winner changed no file.',
  failed: 'No commit: the phase failed.',
  cancelled: 'No commit: the phase was cancelled.',
  skipped: 'No commit: the phase was skipped.',
};
const PARTIAL_REASON = { cancelled: 'cancelled', timeout: 'timed out' } as const;

function label(c: Pick<CandidateView, 'provider' | 'model' | 'id'>): string {
  return c.provider || c.model ? `${c.provider}/${c.model}` : c.id;
}

/** The diff a candidate left: its code-change output, else its `candidate-diff` artifact (losers). */
export function candidateChange(c: CandidateView, artifacts: readonly ArtifactView[] | undefined): CodeChange | null {
  const own = c.output !== undefined ? asCodeChange(c.output) : null;
  if (own) return own;
  const artifact = artifacts?.find(
    (a) => a.artifactType === 'candidate-diff' && (a.candidateId === c.id || (a.content as { candidateId?: unknown } | null)?.candidateId === c.id),
  );
  return artifact ? asCodeChange(artifact.content) : null;
}

/** Whether a phase has anything for the changes section: an agent phase, a commit, or a candidate's diff. */
export function hasChanges(phase: PhaseView): boolean {
  return phase.kind === 'agent' || Boolean(phase.commit) || phase.candidates.some((c) => c.partial || (c.output !== undefined && asCodeChange(c.output)));
}

/**
 * An agent phase's work on the run branch: the commit the winner's changes became, and every
 * candidate's diff side by side with the winner marked. Losers' diffs come from their outputs or,
 * when the view does not carry them, from the run's `candidate-diff` artifacts. A cancelled or
 * timed-out candidate shows its partial work (never committed): diff, files, tool calls so far;
 * its transcript is in its card's conversation.
 */
export function PhaseChanges({ runId, phase, minSequence }: { runId: string; phase: PhaseView; minSequence: number }) {
  const winnerId = phase.commit?.candidateId ?? phase.verdict?.winnerId ?? null;
  const missing = phase.candidates.some((c) => !c.partial && c.status === 'generated' && !(c.output !== undefined && asCodeChange(c.output)));
  const artifacts = useQuery({
    queryKey: keys.artifacts(runId),
    queryFn: ({ signal }) => api.listArtifacts(runId, { minSequence, signal }),
    enabled: missing,
    retry: false,
  });
  const headingId = `phase-changes-${phase.id}`;
  return (
    <section aria-labelledby={headingId}>
      <h3 id={headingId}>Changes</h3>
      {phase.commit ? (
        <div className="phase-commit" data-testid="phase-commit">
          <p>
            Commit <code title={phase.commit.sha}>{shortSha(phase.commit.sha)}</code> on the run branch (parent{' '}
            <code title={phase.commit.parent}>{shortSha(phase.commit.parent)}</code>), from{' '}
            {candidateName(phase, phase.commit.candidateId)} · {phase.commit.files.length} file{phase.commit.files.length === 1 ? '' : 's'} changed
          </p>
          {phase.commit.files.length > 0 && (
            <ul aria-label={`Files changed by commit ${shortSha(phase.commit.sha)}`}>
              {phase.commit.files.map((f) => (
                <li key={f.path}>
                  <span className={`diff-badge diff-badge--${CHANGE_TONE[f.change] ?? 'modified'}`}>{f.change}</span> <code>{f.path}</code>
                </li>
              ))}
            </ul>
          )}
        </div>
      ) : (
        <p className="muted">
          {NO_COMMIT[phase.status] ?? 'No commit yet.'}
        </p>
      )}
      {artifacts.isError && <ErrorNotice error={artifacts.error} title="Could not load the losing candidates’ diffs" onRetry={() => void artifacts.refetch()} />}
      {phase.candidates.length > 0 && (
        <div className="candidate-diffs">
          {phase.candidates.map((c) => (
            <CandidateDiff key={c.id} candidate={c} winner={c.id === winnerId} change={candidateChange(c, artifacts.data?.items)} loading={missing && artifacts.isPending} status={phase.status} />
          ))}
        </div>
      )}
    </section>
  );
}

function candidateName(phase: PhaseView, id: string): string {
  const c = phase.candidates.find((x) => x.id === id);
  return c ? `candidate ${c.slot + 1} (${label(c)})` : id;
}

const TERMINAL_PHASE = new Set<PhaseView['status']>(['completed', 'failed', 'cancelled', 'skipped']);

function CandidateDiff({ candidate: c, winner, change, loading, status }: { candidate: CandidateView; winner: boolean; change: CodeChange | null; loading: boolean; status: PhaseView['status'] }) {
  const name = `Candidate ${c.slot + 1}: ${label(c)}`;
  const prefix = `cdiff-${c.id.replace(/[^A-Za-z0-9_-]/g, '_')}`;
  return (
    <article className={`candidate-diff${winner ? ' is-winner' : ''}`} aria-label={`Diff of ${name}${winner ? ' (winner)' : ''}`} data-candidate-id={c.id}>
      <header className="candidate-diff__head">
        <strong>{name}</strong>
        <span className="candidate__badges">
          {winner && <span className="badge badge--winner">★ winner</span>}
          <StatusBadge status={c.status} />
        </span>
      </header>
      {change ? (
        <DiffViewer change={change} idPrefix={prefix} />
      ) : c.partial ? null : (
        <p className="muted">{loading ? 'Loading the diff…' : c.status === 'requested' && !TERMINAL_PHASE.has(status) ? 'Working…' : 'No diff recorded.'}</p>
      )}
      {c.partial && <PartialWork partial={c.partial} prefix={`${prefix}-partial`} />}
    </article>
  );
}

function PartialWork({ partial, prefix }: { partial: NonNullable<CandidateView['partial']>; prefix: string }) {
  return (
    <div className="partial-work" data-testid="partial-work">
      <p>
        <span className="badge status--cancelled">partial work: {PARTIAL_REASON[partial.reason]}</span>{' '}
        <span className="muted small">
          What the agent had done when it was {PARTIAL_REASON[partial.reason]}: kept, never committed
          {partial.commit && (
            <>
              {' '}
              (saved as <code title={partial.commit}>{shortSha(partial.commit)}</code>)
            </>
          )}
          . Its transcript is in the candidate’s conversation above.
        </span>
      </p>
      <DiffViewer change={{ summary: '', files: partial.files, diff: partial.diff }} idPrefix={prefix} />
      {partial.toolCalls.length > 0 ? <ToolCalls calls={partial.toolCalls} streaming={false} /> : <p className="muted small">No tool call before it stopped.</p>}
    </div>
  );
}
