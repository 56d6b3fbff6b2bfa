/** @jest-environment jsdom */
import type { RunView } from '@conclave/contracts';
import { cleanup, fireEvent, screen } from '@testing-library/react';
import { fakeFetch, renderWithProviders } from '../../test/render';
import { TooltipProvider } from '../../ui/Tooltip';
import { PendingPanel } from '../RunControls';
import { emptyRunView } from '../run-reducer';

afterEach(cleanup);

describe('answering an interview', () => {
  it('says how many of the questions are answered as the user types, and submits only when all are', () => {
    fakeFetch({});
    const questions = [
      { id: 'q1', question: 'Who is it for?' },
      { id: 'q2', question: 'What budget?' },
      { id: 'q3', question: 'Which date?' },
    ];
    const view: RunView = { ...emptyRunView('run1'), status: 'waiting', pending: { gates: [], questions: [{ phaseId: 'ask', questions }], continue: [] } };
    renderWithProviders(
      <TooltipProvider>
        <PendingPanel view={view} onSequence={() => {}} />
      </TooltipProvider>,
    );
    const progress = screen.getByTestId('answer-progress');
    expect(progress.textContent).toBe('0 of 3 answered');
    fireEvent.change(screen.getByLabelText(/Who is it for\?/), { target: { value: 'Hikers' } });
    fireEvent.change(screen.getByLabelText(/What budget\?/), { target: { value: '   ' } });
    expect(progress.textContent).toBe('1 of 3 answered');
    expect((screen.getByRole('button', { name: 'Submit answers' }) as HTMLButtonElement).disabled).toBe(true);
    fireEvent.change(screen.getByLabelText(/What budget\?/), { target: { value: 'Small' } });
    fireEvent.change(screen.getByLabelText(/Which date\?/), { target: { value: 'May' } });
    expect(progress.textContent).toBe('3 of 3 answered');
    expect((screen.getByRole('button', { name: 'Submit answers' }) as HTMLButtonElement).disabled).toBe(false);
  });
});
