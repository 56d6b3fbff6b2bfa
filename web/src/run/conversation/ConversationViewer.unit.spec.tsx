/** @jest-environment jsdom */
import type { TranscriptMessage } from '@conclave/contracts';
import { act, cleanup, fireEvent, screen, within } from '@testing-library/react';
import { renderWithProviders } from '../../test/render';
import { ConversationViewer } from './ConversationViewer';

const messages: TranscriptMessage[] = [
  { role: 'user', content: 'Plan the launch' },
  { role: 'assistant', content: 'Ship in May, then measure.' },
];
const times = ['2026-01-01T10:00:00.000Z', '2026-01-01T10:00:09.000Z'];

afterEach(cleanup);

describe('ConversationViewer', () => {
  it('shows each message with its time, filters and highlights on search', () => {
    renderWithProviders(<ConversationViewer conversation={{ source: 'recorded', messages }} label="Conversation of sim/a" times={times} />);
    const list = screen.getByRole('list', { name: 'Conversation of sim/a' });
    expect(within(list).getAllByRole('listitem')).toHaveLength(2);
    expect(list.querySelectorAll('time')[1]?.getAttribute('datetime')).toBe(times[1]);

    fireEvent.change(screen.getByRole('searchbox', { name: /search conversation of sim\/a/i }), { target: { value: 'may' } });
    const items = within(list).getAllByRole('listitem');
    expect(items).toHaveLength(1);
    expect(items[0]!.querySelector('mark')?.textContent).toBe('May');
    expect(screen.getByTestId('conversation-matches').textContent).toBe('1 of 2 messages match');
  });

  it('copies one message, or the whole conversation, to the clipboard', async () => {
    const writeText = jest.fn(async () => undefined);
    Object.assign(navigator, { clipboard: { writeText } });
    renderWithProviders(<ConversationViewer conversation={{ source: 'recorded', messages }} label="Conversation" times={times} />);
    await act(async () => fireEvent.click(screen.getByRole('button', { name: 'Copy message 2 (Assistant)' })));
    expect(writeText).toHaveBeenLastCalledWith('[2026-01-01T10:00:09.000Z] Assistant\nShip in May, then measure.');
    await act(async () => fireEvent.click(screen.getByRole('button', { name: /^copy conversation/i })));
    expect(writeText).toHaveBeenLastCalledWith('[2026-01-01T10:00:00.000Z] User\nPlan the launch\n\n[2026-01-01T10:00:09.000Z] Assistant\nShip in May, then measure.');
    expect(screen.getAllByRole('status').some((s) => s.textContent === 'Copied')).toBe(true);
  });
});
