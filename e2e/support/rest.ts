import type { ReplayStatus, RunView, TemplateInput } from '@conclave/contracts';
import { eventually } from '@conclave/testing';

/**
 * The REST calls the e2e suites make, against a stack whose URL is known only once it has started
 * (hence `baseUrl` is read on every call). Each helper asserts what a client would check.
 * `options.headers` go with every call (an API token); a call's own `headers` win over them.
 */
export function restClient(baseUrl: () => string, options: { headers?: Record<string, string> } = {}) {
  const api = async (p: string, init?: Omit<RequestInit, 'headers'> & { json?: unknown; headers?: Record<string, string> }) => {
    const res = await fetch(`${baseUrl()}/api/v1${p}`, {
      ...init,
      ...(init?.json !== undefined ? { body: JSON.stringify(init.json) } : {}),
      headers: { 'content-type': 'application/json', ...options.headers, ...init?.headers },
    });
    return { status: res.status, headers: res.headers, text: () => res.text(), json: <T = any>() => res.json() as Promise<T> };
  };
  const post = (p: string, json: unknown = {}) => api(p, { method: 'POST', json });
  const createTemplate = async (template: TemplateInput) => {
    const res = await post('/templates', template);
    expect(res.status).toBe(201);
    return (await res.json<{ id: string }>()).id;
  };
  /** Starts a run and reads its own write (min_sequence), as a client must before sending it commands. */
  const startRun = async (templateId: string, extra: Record<string, unknown> = {}) => {
    const res = await post('/runs', { templateId, inputs: {}, ...extra });
    expect(res.status).toBe(201);
    const { id, sequence } = await res.json<{ id: string; sequence: number }>();
    expect((await api(`/runs/${id}?min_sequence=${sequence}`)).status).toBe(200);
    return id;
  };
  const runView = async (id: string) => (await api(`/runs/${id}`)).json<RunView>();
  const until = (id: string, what: string, check: (run: RunView) => boolean, timeoutMs = 30_000) =>
    eventually(async () => {
      const run = await runView(id);
      return check(run) && run;
    }, what, timeoutMs);
  /** Starts `replay --verify` and waits for its outcome: the status once it is neither idle nor running. */
  const replayVerify = async (timeoutMs?: number) => {
    expect((await post('/admin/replay', { verify: true })).status).toBe(202);
    return eventually(async () => {
      const status = await (await api('/admin/replay')).json<ReplayStatus>();
      return status.state !== 'running' && status.state !== 'idle' && status;
    }, 'the verify replay to finish', timeoutMs);
  };
  return { api, post, createTemplate, startRun, runView, until, replayVerify };
}

/**
 * A REST call whose JSON answer is read at once, as `{ status, body }` (the dashboard suites'
 * checks of what the pages show): restClient's `api`, its answer read.
 */
export function jsonApi(baseUrl: () => string) {
  const { api } = restClient(baseUrl);
  return async <T>(path: string, init?: Parameters<typeof api>[1]): Promise<{ status: number; body: T }> => {
    const res = await api(path, init);
    return { status: res.status, body: await res.json<T>() };
  };
}

export const phaseOf = (run: RunView, id: string) => run.phases.find((p) => p.id === id)!;
