import { useSyncExternalStore } from 'react';

/**
 * The dashboard's API token, kept for this tab only (sessionStorage: another tab signs in on its
 * own, closing the tab forgets it). It goes out as `Authorization: Bearer` on REST calls and
 * downloads and as `auth.token` in the socket.io handshake — never in a URL.
 *
 * `required` turns true when the gateway answered 401 (no token, or the one held was refused):
 * the app then shows the sign-in screen instead of the page.
 */
export interface AuthState {
  token: string | null;
  required: boolean;
  /** why the sign-in screen is shown again, e.g. the held token was refused */
  reason: string | null;
}

const STORAGE_KEY = 'conclave.apiToken';

function readStored(): string | null {
  try {
    return globalThis.sessionStorage?.getItem(STORAGE_KEY) || null;
  } catch {
    return null; // storage disabled: the token lives in memory only
  }
}

function store(token: string | null): void {
  try {
    if (token === null) globalThis.sessionStorage?.removeItem(STORAGE_KEY);
    else globalThis.sessionStorage?.setItem(STORAGE_KEY, token);
  } catch {
    /* storage disabled */
  }
}

let state: AuthState = { token: readStored(), required: false, reason: null };
const listeners = new Set<() => void>();

function update(next: AuthState): void {
  state = next;
  for (const listener of [...listeners]) listener();
}

export function getAuth(): AuthState {
  return state;
}

export function subscribeAuth(listener: () => void): () => void {
  listeners.add(listener);
  return () => void listeners.delete(listener);
}

export function useAuth(): AuthState {
  return useSyncExternalStore(subscribeAuth, getAuth, getAuth);
}

/** The headers every call to the gateway carries: the bearer token when one is held. */
export function authHeaders(): Record<string, string> {
  return state.token ? { Authorization: `Bearer ${state.token}` } : {};
}

/** Keeps a token the gateway accepted (see verifyToken) for this tab. */
export function signIn(token: string): void {
  store(token);
  update({ token, required: false, reason: null });
}

export function signOut(): void {
  store(null);
  update({ token: null, required: true, reason: null });
}

/** A 401 from the gateway: the token held (if any) is no good; ask for one. */
export function authenticationRequired(): void {
  if (state.required && state.token === null) return;
  const reason = state.token ? 'The gateway no longer accepts this token. Sign in again.' : null;
  store(null);
  update({ token: null, required: true, reason });
}

export type TokenCheck = { ok: true } | { ok: false; message: string };

/**
 * Asks the gateway whether `token` opens the API (one small authenticated read) before keeping it:
 * a refused token is a clear message, not a page of 401s.
 */
export async function verifyToken(token: string, fetchImpl: typeof fetch = fetch): Promise<TokenCheck> {
  let response: Response;
  try {
    response = await fetchImpl('/api/v1/runs?limit=1', { headers: { Accept: 'application/json', Authorization: `Bearer ${token}` } });
  } catch (err) {
    return { ok: false, message: `Cannot reach the gateway (${err instanceof Error ? err.message : String(err)})` };
  }
  if (response.ok) return { ok: true };
  if (response.status === 401) return { ok: false, message: 'This token was refused: check it and try again.' };
  let message = `The gateway answered ${response.status} ${response.statusText}`.trim();
  try {
    const body = (await response.json()) as { error?: { message?: unknown } };
    if (typeof body.error?.message === 'string') message = body.error.message;
  } catch {
    /* not JSON */
  }
  return { ok: false, message };
}
