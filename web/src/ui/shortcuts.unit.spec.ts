import { isTypingTarget, matchShortcut } from './shortcuts';

describe('keyboard shortcuts', () => {
  it('matches single keys and two-key sequences', () => {
    expect(matchShortcut([], '?')).toEqual({ action: 'help', pending: [] });
    expect(matchShortcut([], 'g')).toEqual({ action: null, pending: ['g'] });
    expect(matchShortcut(['g'], 'c')).toEqual({ action: 'go:/costs', pending: [] });
  });

  it('restarts on a broken sequence and ignores unknown keys', () => {
    expect(matchShortcut(['g'], 'n')).toEqual({ action: 'go:/templates/new', pending: [] });
    expect(matchShortcut(['g'], 'x')).toEqual({ action: null, pending: [] });
    expect(matchShortcut([], 'x')).toEqual({ action: null, pending: [] });
  });

  it('knows form fields', () => {
    expect(isTypingTarget({ tagName: 'INPUT' } as unknown as EventTarget)).toBe(true);
    expect(isTypingTarget({ tagName: 'DIV', isContentEditable: false } as unknown as EventTarget)).toBe(false);
    expect(isTypingTarget(null)).toBe(false);
  });
});
