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

const RUNS = '/api/v1/runs';
const figures = (usd: number) => ({ usd, tokens: { input: 2000, output: 1000 }, calls: 1 });
const estimateBody = {
  templateId: 'tpl', version: 3, currency: 'USD', min: figures(0), expected: figures(0), max: figures(0), phases: [], defaultBudgetUsd: null, assumptions: [], preview: [],
};
const estimateRoutes = { 'POST /api/v1/templates/tpl/estimate': { body: estimateBody } };

afterEach(cleanup);

describe('StartRunForm: the repository picker', () => {
  it('lists the repositories with path, branch, short HEAD and a dirty badge; fresh is the default', async () => {
    fakeFetch({ ...estimateRoutes, 'GET /api/v1/workspaces': { body: listing } });
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
      ...estimateRoutes,
      'GET /api/v1/workspaces': { body: listing },
      'POST /api/v1/runs': { status: 201, body: { id: 'run1', sequence: 9 } },
    });
    renderWithProviders(<StartRunForm template={templateView()} />);
    const group = await screen.findByRole('group', { name: 'Repository' });
    fireEvent.click(within(group).getByRole('radio', { name: /^lib/ }));
    expect(screen.getByText(/lib has uncommitted changes: they are not included/)).toBeTruthy();
    fireEvent.change(screen.getByLabelText(/Base ref/), { target: { value: 'release/1.2' } });
    fireEvent.click(screen.getByRole('button', { name: /Start run/ }));
    await waitFor(() => expect(calls.some((c) => c.method === 'POST' && c.path === RUNS)).toBe(true));
    expect(calls.find((c) => c.method === 'POST' && c.path === RUNS)!.body).toMatchObject({ templateId: 'tpl', workspace: { path: 'team/lib', baseRef: 'release/1.2' } });

    fireEvent.click(within(group).getAllByRole('radio', { name: /^app/ })[1]!);
    fireEvent.change(screen.getByLabelText(/Base ref/), { target: { value: '' } });
    fireEvent.click(screen.getByRole('button', { name: /Start run/ }));
    await waitFor(() => expect(calls.filter((c) => c.method === 'POST' && c.path === RUNS)).toHaveLength(2));
    expect(calls.filter((c) => c.method === 'POST' && c.path === RUNS)[1]!.body).toMatchObject({ workspace: { path: '/home/me/src/app' } });
    expect((calls.filter((c) => c.method === 'POST' && c.path === RUNS)[1]!.body as { workspace: object }).workspace).not.toHaveProperty('baseRef');
  });

  it('fresh sends no workspace', async () => {
    const { calls } = fakeFetch({ ...estimateRoutes, 'GET /api/v1/workspaces': { body: listing }, 'POST /api/v1/runs': { status: 201, body: { id: 'run1', sequence: 9 } } });
    renderWithProviders(<StartRunForm template={templateView()} />);
    await screen.findByRole('group', { name: 'Repository' });
    fireEvent.click(screen.getByRole('button', { name: /Start run/ }));
    await waitFor(() => expect(calls.some((c) => c.method === 'POST' && c.path === RUNS)).toBe(true));
    expect(calls.find((c) => c.method === 'POST' && c.path === RUNS)!.body).not.toHaveProperty('workspace');
    expect(calls.find((c) => c.method === 'POST' && c.path === RUNS)!.body).not.toHaveProperty('budgetPolicy');
  });

  it("sends the run's own budget policy when one is chosen, and none for the template's", async () => {
    const { calls } = fakeFetch({ ...estimateRoutes, 'GET /api/v1/workspaces': { body: listing }, 'POST /api/v1/runs': { status: 201, body: { id: 'run1', sequence: 9 } } });
    renderWithProviders(<StartRunForm template={templateView()} />);
    await screen.findByRole('group', { name: 'Repository' });
    fireEvent.change(screen.getByLabelText('As the reserved spend nears the budget'), { target: { value: 'shrink' } });
    fireEvent.change(screen.getByLabelText('at % of the budget'), { target: { value: '75' } });
    fireEvent.click(screen.getByRole('button', { name: /Start run/ }));
    await waitFor(() => expect(calls.some((c) => c.method === 'POST' && c.path === RUNS)).toBe(true));
    expect(calls.find((c) => c.method === 'POST' && c.path === RUNS)!.body).toMatchObject({ budgetPolicy: [{ atPct: 75, action: 'shrink' }] });
  });

  it("defaults to the template's repository and its base ref; fresh is not offered", async () => {
    const { calls } = fakeFetch({ ...estimateRoutes, 'GET /api/v1/workspaces': { body: listing }, 'POST /api/v1/runs': { status: 201, body: { id: 'run1', sequence: 9 } } });
    renderWithProviders(<StartRunForm template={templateView({ path: 'team/lib', baseRef: 'v2' })} />);
    const group = await screen.findByRole('group', { name: 'Repository' });
    expect((within(group).getByRole('radio', { name: /^lib/ }) as HTMLInputElement).checked).toBe(true);
    expect(within(group).getByText('template default')).toBeTruthy();
    expect((within(group).getByRole('radio', { name: /Fresh repository/ }) as HTMLInputElement).disabled).toBe(true);
    expect(screen.getByLabelText(/Base ref/).getAttribute('placeholder')).toBe("v2 (the template's)");
    fireEvent.click(screen.getByRole('button', { name: /Start run/ }));
    await waitFor(() => expect(calls.some((c) => c.method === 'POST' && c.path === RUNS)).toBe(true));
    expect(calls.find((c) => c.method === 'POST' && c.path === RUNS)!.body).toMatchObject({ workspace: { path: 'team/lib', baseRef: 'v2' } });
  });

  it('shows the 422 with the problem and the allowed roots', async () => {
    fakeFetch({
      ...estimateRoutes,
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
    fakeFetch({ ...estimateRoutes, 'GET /api/v1/workspaces': { body: { roots: [], items: [] } } });
    renderWithProviders(<StartRunForm template={templateView()} />);
    expect(await screen.findByText(/No workspace roots are configured/)).toBeTruthy();
  });
});

describe('StartRunForm: inputs from the schema, estimate, prompt preview and auto mode', () => {
  const planned = (): TemplateView => {
    const template = Template.parse({
      name: 'plan',
      inputs: {
        type: 'object',
        properties: { idea: { type: 'string', title: 'Idea' }, weeks: { type: 'integer', title: 'Weeks', default: 2 } },
        required: ['idea'],
      },
      phases: [{ id: 'plan', kind: 'llm', prompt: { system: 'You plan.', user: 'Idea: {{inputs.idea}} in {{inputs.weeks}} weeks' }, candidates: [{ provider: 'openai', model: 'gpt-4.1' }] }],
    });
    return { id: 'tpl', name: 'plan', version: 3, description: '', archived: false, updatedAt: '2026-01-01T00:00:00Z', template, versions: [3] };
  };
  const priced = {
    ...estimateBody,
    min: { usd: 0.012, tokens: { input: 2000, output: 1000 }, calls: 1 },
    expected: { usd: 0.024, tokens: { input: 4000, output: 2000 }, calls: 2 },
    max: { usd: 0.036, tokens: { input: 6000, output: 3000 }, calls: 3 },
    phases: [
      {
        phaseId: 'plan', name: null, kind: 'llm', rounds: null, basis: 'one candidate once, no judge',
        calls: [{ role: 'candidate', provider: 'openai', model: 'gpt-4.1', price: { inputPer1M: 2, outputPer1M: 8 }, tokens: { input: 2000, output: 1000 }, usd: 0.012, times: { min: 1, expected: 2, max: 3 } }],
        min: { usd: 0.012, tokens: { input: 2000, output: 1000 }, calls: 1 },
        expected: { usd: 0.024, tokens: { input: 4000, output: 2000 }, calls: 2 },
        max: { usd: 0.036, tokens: { input: 6000, output: 3000 }, calls: 3 },
      },
    ],
    defaultBudgetUsd: 0.02,
    assumptions: ['Each call uses 2,000 input and 1,000 output tokens.'],
  };

  it('fills the generated form: the JSON tab, the prompt preview and the start follow; auto mode off is sent', async () => {
    const { calls } = fakeFetch({
      'GET /api/v1/workspaces': { body: { roots: [], items: [] } },
      'POST /api/v1/templates/tpl/estimate': { body: priced },
      'POST /api/v1/runs': { status: 201, body: { id: 'run1', sequence: 9 } },
    });
    renderWithProviders(<StartRunForm template={planned()} />);

    // the form is a lazy chunk (@rjsf): its first import is compiled here, which a busy machine makes slow
    const idea = await screen.findByLabelText(/^Idea/, undefined, { timeout: 15_000 });
    fireEvent.change(idea, { target: { value: 'a bike map' } });
    expect(screen.getByTestId('prompt-plan').textContent).toBe('Idea: a bike map in 2 weeks');

    expect(await screen.findByTestId('estimate-expected')).toHaveProperty('textContent', '$0.024');
    expect(screen.getByTestId('estimate-max').textContent).toBe('$0.036');
    // the template's default budget ($0.02) is below the expected cost
    expect(screen.getByText(/below the expected cost/)).toBeTruthy();

    fireEvent.mouseDown(screen.getByRole('tab', { name: 'Advanced (JSON)' }));
    const json = (await screen.findByLabelText('Inputs (JSON)')) as HTMLTextAreaElement;
    expect(JSON.parse(json.value)).toEqual({ idea: 'a bike map', weeks: 2 });
    fireEvent.change(json, { target: { value: '{ "idea": "a tram map", "weeks": 5 }' } });
    expect(screen.getByTestId('prompt-plan').textContent).toBe('Idea: a tram map in 5 weeks');

    fireEvent.click(screen.getByRole('switch', { name: /Auto mode/ }));
    expect(screen.getByText(/each phase waits for you to continue/)).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: /Start run/ }));
    await waitFor(() => expect(calls.some((c) => c.method === 'POST' && c.path === RUNS)).toBe(true));
    expect(calls.find((c) => c.method === 'POST' && c.path === RUNS)!.body).toEqual({ templateId: 'tpl', templateVersion: 3, inputs: { idea: 'a tram map', weeks: 5 }, autoMode: false });
    // the inputs are checked by the estimate endpoint as they change (debounced)
    await waitFor(() => expect(calls.some((c) => c.path === '/api/v1/templates/tpl/estimate' && (c.body as { inputs?: { idea?: string } }).inputs?.idea === 'a tram map')).toBe(true));
  });

  it('keeps JSON that does not parse in its tab and refuses to start with it', async () => {
    const { calls } = fakeFetch({ 'GET /api/v1/workspaces': { body: { roots: [], items: [] } }, 'POST /api/v1/templates/tpl/estimate': { body: priced } });
    renderWithProviders(<StartRunForm template={planned()} />);
    fireEvent.mouseDown(await screen.findByRole('tab', { name: 'Advanced (JSON)' }));
    fireEvent.change(await screen.findByLabelText('Inputs (JSON)'), { target: { value: '{ "idea": ' } });
    expect(screen.getByText(/not valid JSON/)).toBeTruthy();
    fireEvent.mouseDown(screen.getByRole('tab', { name: 'Form' }));
    expect(screen.getByText(/Fix the JSON before going back to the form/)).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: /Start run/ }));
    expect(calls.some((c) => c.path === RUNS)).toBe(false);
  });

  it("shows the gateway's input errors on the fields and names models with no price", async () => {
    fakeFetch({
      'GET /api/v1/workspaces': { body: { roots: [], items: [] } },
      'POST /api/v1/templates/tpl/estimate': (body) =>
        (body as { inputs?: unknown }).inputs
          ? { status: 422, body: { error: { code: 'validation', message: 'bad inputs', details: { errors: ["(root): must have required property 'idea'", '/weeks: must be >= 1'] } } } }
          : { status: 422, body: { error: { code: 'validation', message: 'no price', details: { problem: 'missing_price', missing: [{ phaseId: 'plan', role: 'candidate', provider: 'openai', model: 'gpt-9' }] } } } },
    });
    renderWithProviders(<StartRunForm template={planned()} />);
    expect(await screen.findByText('is required')).toBeTruthy();
    expect(screen.getByText('must be >= 1')).toBeTruthy();
    const notice = await screen.findByText(/No price is known for/);
    expect(notice.textContent).toContain('openai/gpt-9');
    expect(within(notice.closest('.notice') as HTMLElement).getByRole('link', { name: 'Providers' })).toBeTruthy();
  });
});
