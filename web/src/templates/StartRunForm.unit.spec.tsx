/** @jest-environment jsdom */
import { Template, type TemplateView, type WorkspaceList } from '@conclave/contracts';
import { cleanup, fireEvent, screen, waitFor, within } from '@testing-library/react';
import { fakeFetch, renderWithProviders } from '../test/render';
import { StartRunForm } from './StartRunForm';

const HEAD = 'abcdef1234567890abcdef1234567890abcdef12';
const listing: WorkspaceList = {
  roots: ['/srv/repos', '/home/me/src'],
  items: [
    { name: 'app', root: '/srv/repos', path: 'app', branch: 'main', head: HEAD, dirty: false },
    { name: 'lib', root: '/srv/repos', path: 'team/lib', branch: null, head: HEAD, dirty: true },
    { name: 'app', root: '/home/me/src', path: 'app', branch: 'dev', head: null, dirty: false },
  ],
};

function templateView(workspace?: { path: string; baseRef?: string }): TemplateView {
  const template = Template.parse({
    name: 'implement',
    inputs: { type: 'object' },
    phases: [{ id: 'impl', kind: 'llm', prompt: { user: 'x' }, candidates: [{ provider: 'simulated', model: 'a' }] }],
    ...(workspace ? { workspace } : {}),
  });
  return { id: 'tpl', name: 'implement', version: 3, description: '', archived: false, updatedAt: '2026-01-01T00:00:00Z', template, versions: [3] };
}

afterEach(cleanup);

describe('StartRunForm: the repository picker', () => {
  it('lists the repositories with path, branch, short HEAD and a dirty badge; fresh is the default', async () => {
    fakeFetch({ 'GET /api/v1/workspaces': { body: listing } });
    renderWithProviders(<StartRunForm template={templateView()} />);
    const group = await screen.findByRole('group', { name: 'Repository' });
    const radios = within(group).getAllByRole('radio');
    expect(radios).toHaveLength(4);
    expect((within(group).getByRole('radio', { name: /Fresh repository \(none\)/ }) as HTMLInputElement).checked).toBe(true);
    expect(within(group).getByText('/srv/repos/team/lib')).toBeTruthy();
    expect(within(group).getAllByText('abcdef1')).toHaveLength(2);
    expect(within(group).getByText('main')).toBeTruthy();
    expect(within(group).getByText('detached HEAD', { exact: false })).toBeTruthy();
    expect(within(group).getByText('no commit yet', { exact: false })).toBeTruthy();
    expect(within(group).getByText(/uncommitted changes not included/)).toBeTruthy();
    // no base ref without a repository
    expect(screen.queryByLabelText(/Base ref/)).toBeNull();
  });

  it('sends the chosen repository and base ref; a path under two roots goes absolute', async () => {
    const { calls } = fakeFetch({
      'GET /api/v1/workspaces': { body: listing },
      'POST /api/v1/runs': { status: 201, body: { id: 'run1', sequence: 9 } },
    });
    renderWithProviders(<StartRunForm template={templateView()} />);
    const group = await screen.findByRole('group', { name: 'Repository' });
    fireEvent.click(within(group).getByRole('radio', { name: /^lib/ }));
    expect(screen.getByText(/lib has uncommitted changes: they are not included/)).toBeTruthy();
    fireEvent.change(screen.getByLabelText(/Base ref/), { target: { value: 'release/1.2' } });
    fireEvent.click(screen.getByRole('button', { name: /Start run/ }));
    await waitFor(() => expect(calls.some((c) => c.method === 'POST')).toBe(true));
    expect(calls.find((c) => c.method === 'POST')!.body).toMatchObject({ templateId: 'tpl', workspace: { path: 'team/lib', baseRef: 'release/1.2' } });

    fireEvent.click(within(group).getAllByRole('radio', { name: /^app/ })[1]!);
    fireEvent.change(screen.getByLabelText(/Base ref/), { target: { value: '' } });
    fireEvent.click(screen.getByRole('button', { name: /Start run/ }));
    await waitFor(() => expect(calls.filter((c) => c.method === 'POST')).toHaveLength(2));
    expect(calls.filter((c) => c.method === 'POST')[1]!.body).toMatchObject({ workspace: { path: '/home/me/src/app' } });
    expect((calls.filter((c) => c.method === 'POST')[1]!.body as { workspace: object }).workspace).not.toHaveProperty('baseRef');
  });

  it('fresh sends no workspace', async () => {
    const { calls } = fakeFetch({ 'GET /api/v1/workspaces': { body: listing }, 'POST /api/v1/runs': { status: 201, body: { id: 'run1', sequence: 9 } } });
    renderWithProviders(<StartRunForm template={templateView()} />);
    await screen.findByRole('group', { name: 'Repository' });
    fireEvent.click(screen.getByRole('button', { name: /Start run/ }));
    await waitFor(() => expect(calls.some((c) => c.method === 'POST')).toBe(true));
    expect(calls.find((c) => c.method === 'POST')!.body).not.toHaveProperty('workspace');
  });

  it("defaults to the template's repository and its base ref; fresh is not offered", async () => {
    const { calls } = fakeFetch({ 'GET /api/v1/workspaces': { body: listing }, 'POST /api/v1/runs': { status: 201, body: { id: 'run1', sequence: 9 } } });
    renderWithProviders(<StartRunForm template={templateView({ path: 'team/lib', baseRef: 'v2' })} />);
    const group = await screen.findByRole('group', { name: 'Repository' });
    expect((within(group).getByRole('radio', { name: /^lib/ }) as HTMLInputElement).checked).toBe(true);
    expect(within(group).getByText('template default')).toBeTruthy();
    expect((within(group).getByRole('radio', { name: /Fresh repository/ }) as HTMLInputElement).disabled).toBe(true);
    expect(screen.getByLabelText(/Base ref/).getAttribute('placeholder')).toBe("v2 (the template's)");
    fireEvent.click(screen.getByRole('button', { name: /Start run/ }));
    await waitFor(() => expect(calls.some((c) => c.method === 'POST')).toBe(true));
    expect(calls.find((c) => c.method === 'POST')!.body).toMatchObject({ workspace: { path: 'team/lib', baseRef: 'v2' } });
  });

  it('shows the 422 with the problem and the allowed roots', async () => {
    fakeFetch({
      'GET /api/v1/workspaces': { body: listing },
      'POST /api/v1/runs': {
        status: 422,
        body: { error: { code: 'validation', message: 'workspace.baseRef "nope" does not name a commit of "app"', details: { problem: 'unknown_base_ref', roots: ['/srv/repos'] } } },
      },
    });
    renderWithProviders(<StartRunForm template={templateView()} />);
    const group = await screen.findByRole('group', { name: 'Repository' });
    fireEvent.click(within(group).getAllByRole('radio', { name: /^app/ })[0]!);
    fireEvent.change(screen.getByLabelText(/Base ref/), { target: { value: 'nope' } });
    fireEvent.click(screen.getByRole('button', { name: /Start run/ }));
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('does not name a commit');
    expect(alert.textContent).toContain('unknown_base_ref');
    expect(within(alert).getByText('/srv/repos')).toBeTruthy();
  });

  it('says when no roots are configured', async () => {
    fakeFetch({ 'GET /api/v1/workspaces': { body: { roots: [], items: [] } } });
    renderWithProviders(<StartRunForm template={templateView()} />);
    expect(await screen.findByText(/No workspace roots are configured/)).toBeTruthy();
  });
});
