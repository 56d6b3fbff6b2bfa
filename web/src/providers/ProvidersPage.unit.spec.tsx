/** @jest-environment jsdom */
import type { ProviderView } from '@conclave/contracts';
import { cleanup, fireEvent, screen, waitFor, within } from '@testing-library/react';
import { fakeFetch, renderWithProviders } from '../test/render';
import ProvidersPage from './ProvidersPage';

const provider = (over: Partial<ProviderView>): ProviderView => ({
  id: 'openai',
  name: 'openai',
  kind: 'openai',
  baseUrl: 'https://llm.example.com/v1',
  models: [],
  enabled: true,
  prices: {},
  hasApiKey: true,
  apiKeyLast4: 'ab12',
  source: 'api',
  sequence: 3,
  updatedAt: '2026-12-04T10:00:00Z',
  failure: null,
  ...over,
});

afterEach(cleanup);

describe('ProvidersPage: keys are write-only and entered again after an endpoint change', () => {
  it('asks for the key of a provider that has none (its base URL or kind changed) and PATCHes only the key', async () => {
    const { calls } = fakeFetch({
      'GET /api/v1/providers': { body: { items: [provider({ id: 'moved', name: 'moved', hasApiKey: false, apiKeyLast4: null })] } },
      'PATCH /api/v1/providers/moved': (body) => ({ body: provider({ id: 'moved', name: 'moved', apiKeyLast4: String((body as { apiKey: string }).apiKey).slice(-4) }) }),
    });
    renderWithProviders(<ProvidersPage />);
    const card = await screen.findByRole('article', { name: 'Provider moved' });
    expect(within(card).getByText(/No key is stored: enter it for https:\/\/llm\.example\.com\/v1/)).toBeTruthy();
    const input = within(card).getByLabelText('API key') as HTMLInputElement;
    expect(input.type).toBe('password');
    fireEvent.change(input, { target: { value: ' sk-new-key-9876 ' } });
    fireEvent.click(within(card).getByRole('button', { name: 'Save key' }));
    await waitFor(() => expect(calls.some((c) => c.method === 'PATCH')).toBe(true));
    expect(calls.find((c) => c.method === 'PATCH')).toEqual({ method: 'PATCH', path: '/api/v1/providers/moved', body: { apiKey: 'sk-new-key-9876' } });
  });

  it('shows only the last 4 characters of a stored key, and the key form only on "Replace key"', async () => {
    fakeFetch({ 'GET /api/v1/providers': { body: { items: [provider({})] } } });
    renderWithProviders(<ProvidersPage />);
    const card = await screen.findByRole('article', { name: 'Provider openai' });
    expect(within(card).getByText('••••ab12')).toBeTruthy();
    expect(within(card).queryByLabelText('New API key')).toBeNull();
    fireEvent.click(within(card).getByRole('button', { name: 'Replace key' }));
    expect(within(card).getByLabelText('New API key')).toBeTruthy();
  });
});
