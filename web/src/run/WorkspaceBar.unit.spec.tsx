/** @jest-environment jsdom */
import type { RunView } from '@conclave/contracts';
import { FRESH_REPOSITORY } from '@conclave/contracts';
import { cleanup, render, screen, within } from '@testing-library/react';
import { emptyRunView } from './run-reducer';
import { WorkspaceBar } from './WorkspaceBar';

const BASE = 'a'.repeat(40);
const HEAD = '1234567'.padEnd(40, 'b');

function runWith(workspace: RunView['workspace'], filesChanged = 0): RunView {
  return { ...emptyRunView('run1'), workspace, filesChanged };
}

afterEach(cleanup);

describe('WorkspaceBar', () => {
  it('shows repository, base, branch, HEAD, files changed and the patch download', () => {
    render(
      <WorkspaceBar
        view={runWith({ kind: 'repository', repo: '/srv/repos/team/app', root: '/srv/repos', path: 'team/app', name: 'app', baseRef: 'main', baseCommit: BASE, branch: 'conclave/run1', dirty: false, head: HEAD }, 3)}
      />,
    );
    const bar = screen.getByRole('region', { name: 'Repository' });
    expect(bar.textContent).toContain('Repositoryapp /srv/repos/team/app');
    expect(within(bar).getByText('/srv/repos/team/app')).toBeTruthy();
    expect(within(bar).getByText('main')).toBeTruthy();
    expect(within(bar).getByText('aaaaaaa')).toBeTruthy();
    expect(within(bar).getByText('conclave/run1')).toBeTruthy();
    expect(within(bar).getByTestId('workspace-head').textContent).toBe('1234567');
    expect(within(bar).getByText('3')).toBeTruthy();
    // a button that fetches with the tab's token (auth/SignIn.unit.spec covers downloadFile): no link carrying a URL
    expect(within(bar).getByRole('button', { name: 'Download patch' })).toBeTruthy();
    expect(within(bar).queryByRole('link', { name: 'Download patch' })).toBeNull();
    expect(within(bar).queryByText(/uncommitted changes/)).toBeNull();
  });

  it('notes a dirty base and a branch with no commit yet', () => {
    render(
      <WorkspaceBar view={runWith({ kind: 'repository', repo: '/srv/repos/app', root: '/srv/repos', path: 'app', name: 'app', baseRef: 'HEAD', baseCommit: BASE, branch: 'conclave/run1', dirty: true, head: BASE })} />,
    );
    expect(screen.getByRole('note').textContent).toMatch(/uncommitted changes when the run started: they are not included/);
    expect(screen.getByTestId('workspace-head').textContent).toContain('(no commit yet)');
  });

  it('says when the repository is a fresh one of the run', () => {
    render(
      <WorkspaceBar
        view={runWith({ kind: 'fresh', repo: '/var/conclave/repos/run1', root: null, path: '', name: 'run1', baseRef: 'HEAD', baseCommit: FRESH_REPOSITORY.commit, branch: 'conclave/run1', dirty: false, head: FRESH_REPOSITORY.commit })}
      />,
    );
    expect(screen.getByText(/Fresh repository/)).toBeTruthy();
    expect(screen.getByRole('button', { name: 'Download patch' })).toBeTruthy();
  });

  it('renders nothing for a run without a workspace', () => {
    const { container } = render(<WorkspaceBar view={runWith(null)} />);
    expect(container.innerHTML).toBe('');
  });
});
