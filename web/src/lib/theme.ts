import { useSyncExternalStore } from 'react';

/**
 * Theme preference: remembered in localStorage, defaulting to prefers-color-scheme. index.html
 * applies the same rule before first paint; this store keeps React in sync with `data-theme`.
 */
export type Theme = 'dark' | 'light';
const STORAGE_KEY = 'conclave.theme';
const listeners = new Set<() => void>();

function systemTheme(): Theme {
  return window.matchMedia?.('(prefers-color-scheme: light)').matches ? 'light' : 'dark';
}

function storedTheme(): Theme | null {
  try {
    const value = localStorage.getItem(STORAGE_KEY);
    return value === 'dark' || value === 'light' ? value : null;
  } catch {
    return null;
  }
}

export function currentTheme(): Theme {
  const attr = document.documentElement.dataset.theme;
  return attr === 'light' || attr === 'dark' ? attr : (storedTheme() ?? systemTheme());
}

export function setTheme(theme: Theme): void {
  document.documentElement.dataset.theme = theme;
  try {
    localStorage.setItem(STORAGE_KEY, theme);
  } catch {
    /* private mode: the choice lasts for this page only */
  }
  listeners.forEach((l) => l());
}

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  const media = window.matchMedia?.('(prefers-color-scheme: light)');
  // Follow the OS only while the user has not chosen explicitly.
  const onMedia = () => {
    if (!storedTheme()) {
      document.documentElement.dataset.theme = systemTheme();
      listener();
    }
  };
  media?.addEventListener('change', onMedia);
  return () => {
    listeners.delete(listener);
    media?.removeEventListener('change', onMedia);
  };
}

export function useTheme(): Theme {
  return useSyncExternalStore(subscribe, currentTheme, () => 'dark');
}
