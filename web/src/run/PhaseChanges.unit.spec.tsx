/** @jest-environment jsdom */
import type { CandidateView, PhaseView } from '@conclave/contracts';
import { cleanup, screen, within } from '@testing-library/react';
import { fakeFetch, renderWithProviders } from '../test/render';
import { PhaseChanges } from './PhaseChanges';

const sha = (c: string) => c.repeat(40);
const diffOf = (path: string, line: string) => `diff --git a/${path} b/${path}\n--- a/${path}\n+++ b/${path}\n@@ -1 +1 @@\n-old\n+${line}\n`;

const candidate = (slot: number, extra: Partial<CandidateView> = {}): CandidateView => ({
  id: `run1.impl.1.c${slot}`,
  slot,
  provider: 'simulated',
  model: `m${slot}`,
  status: 'generated',
  tokens: { input: 1, output: 1 },
  costUsd: 0,
  durationMs: 10,
  error: null,
  ...extra,
});

function phaseWith(candidates: CandidateView[], extra: Partial<PhaseView> = {}): PhaseView {
  return {
    id: 'impl',
    name: 'Implement',
    kind: 'agent',
    dependsOn: [],
    status: 'completed',
    attempt: 1,
    startedAt: null,
    completedAt: null,
    candidates,
    verdict: null,
    artifactId: null,
    costUsd: 0,
    tokens: { input: 0, output: 0 },
    error: null,
    ...extra,
  };
}

afterEach(cleanup);

describe('PhaseChanges', () => {
  it("shows the phase's commit and every candidate's diff side by side with the winner marked", () => {
    const { calls } = fakeFetch({});
    const phase = phaseWith(
      [
        candidate(0, { output: { summary: 'edit line 1', files: [{ path: 'src/a.ts', change: 'modified' }], diff: diffOf('src/a.ts', 'winner line') } }),
        candidate(1, { output: { summary: 'edit line 2', files: [{ path: 'src/a.ts', change: 'modified' }], diff: diffOf('src/a.ts', 'loser line') } }),
      ],
      { commit: { sha: sha('c'), parent: sha('b'), candidateId: 'run1.impl.1.c0', files: [{ path: 'src/a.ts', change: 'modified' }, { path: 'README.md', change: 'created' }] } },
    );
    renderWithProviders(<PhaseChanges runId="run1" phase={phase} minSequence={1} />);
    const commit = screen.getByTestId('phase-commit');
    expect(within(commit).getByText('ccccccc')).toBeTruthy();
    expect(commit.textContent).toContain('2 files changed');
    const files = within(commit).getByRole('list', { name: /Files changed by commit ccccccc/ });
    expect(within(files).getAllByRole('listitem').map((li) => li.textContent)).toEqual(['modified src/a.ts', 'created README.md']);
    const winner = screen.getByRole('article', { name: 'Diff of Candidate 1: simulated/m0 (winner)' });
    expect(within(winner).getByText('★ winner')).toBeTruthy();
    expect(within(winner).getByText('winner line')).toBeTruthy();
    const loser = screen.getByRole('article', { name: 'Diff of Candidate 2: simulated/m1' });
    expect(within(loser).getByText('loser line')).toBeTruthy();
    expect(within(loser).queryByText('★ winner')).toBeNull();
    expect(calls).toHaveLength(0); // every diff was in the view
  });

  it("reads a loser's diff from its candidate-diff artifact when the view has no output", async () => {
    fakeFetch({
      'GET /api/v1/runs/run1/artifacts': {
        body: {
          items: [
            {
              id: 'art-2',
              runId: 'run1',
              phaseId: 'impl',
              candidateId: 'run1.impl.1.c1',
              artifactType: 'candidate-diff',
              content: { candidateId: 'run1.impl.1.c1', provider: 'simulated', model: 'm1', diff: diffOf('src/b.ts', 'from the artifact'), files: [{ path: 'src/b.ts', change: 'modified' }] },
              createdAt: '2026-01-01T00:00:00Z',
            },
          ],
        },
      },
    });
    const phase = phaseWith([candidate(0, { output: { summary: '', files: [], diff: '' } }), candidate(1)], { verdict: { winnerId: 'run1.impl.1.c0', scores: {}, rationale: '', missing: [] } });
    renderWithProviders(<PhaseChanges runId="run1" phase={phase} minSequence={1} />);
    const loser = screen.getByRole('article', { name: 'Diff of Candidate 2: simulated/m1' });
    expect(await within(loser).findByText('from the artifact')).toBeTruthy();
    expect(screen.getByText('No commit: the winner changed no file.')).toBeTruthy();
  });

  it('shows the partial work of a cancelled candidate: diff, files, tool calls', () => {
    fakeFetch({});
    const partial = {
      reason: 'timeout' as const,
      diff: diffOf('src/c.ts', 'half done'),
      files: [{ path: 'src/c.ts', change: 'modified' as const }],
      commit: sha('d'),
      toolCalls: [{ tool: 'bash', input: { command: 'npm test' }, outputSummary: '1 failing', durationMs: 40, refused: false, at: '2026-01-01T00:00:00Z' }],
    };
    const phase = phaseWith([candidate(0, { status: 'requested', partial })], { status: 'cancelled' });
    renderWithProviders(<PhaseChanges runId="run1" phase={phase} minSequence={1} />);
    const work = screen.getByTestId('partial-work');
    expect(within(work).getByText('partial work: timed out')).toBeTruthy();
    expect(within(work).getByText('half done')).toBeTruthy();
    expect(within(work).getByText('ddddddd')).toBeTruthy();
    expect(within(work).getByText('1 tool call')).toBeTruthy();
    expect(within(work).getByText('bash')).toBeTruthy();
    expect(within(work).getByRole('list', { name: 'Changed files' }).textContent).toContain('src/c.ts');
    expect(screen.getByText('No commit: the phase was cancelled.')).toBeTruthy();
  });
});
