import './jsdom-polyfills';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { render } from '@testing-library/react';
import type { ReactElement } from 'react';
import { MemoryRouter } from 'react-router-dom';

/** Component specs: a fresh query client (no retries) and a router around the element. */
export function renderWithProviders(ui: ReactElement) {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false }, mutations: { retry: false } } });
  return render(
    <QueryClientProvider client={client}>
      <MemoryRouter>{ui}</MemoryRouter>
    </QueryClientProvider>,
  );
}

export interface FakeResponse {
  status?: number;
  body: unknown;
}

/**
 * A fake `fetch` for the REST client: `routes` maps "METHOD /api/v1/path" (query string ignored)
 * to a response; calls are recorded with their parsed JSON body.
 */
export function fakeFetch(routes: Record<string, FakeResponse | ((body: unknown) => FakeResponse)>) {
  const calls: { method: string; path: string; body: unknown }[] = [];
  const fn = jest.fn(async (url: string, init?: { method?: string; body?: string }) => {
    const method = init?.method ?? 'GET';
    const path = url.split('?')[0]!;
    const body = init?.body ? JSON.parse(init.body) : undefined;
    calls.push({ method, path, body });
    const route = routes[`${method} ${path}`];
    const res = typeof route === 'function' ? route(body) : (route ?? { status: 404, body: { error: { code: 'not_found', message: `no route ${method} ${path}` } } });
    const status = res.status ?? 200;
    return { ok: status >= 200 && status < 300, status, statusText: String(status), text: async () => JSON.stringify(res.body) };
  });
  (globalThis as { fetch?: unknown }).fetch = fn;
  return { fn, calls };
}
