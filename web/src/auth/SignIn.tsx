import { useId, useState, type FormEvent } from 'react';
import { queryClient } from '../api/query-client';
import { Button } from '../ui/Button';
import { signIn, signOut, useAuth, verifyToken } from './session';

/**
 * Shown instead of the page when the gateway wants a token (it answered 401). The token is checked
 * against the gateway before it is kept; a refused one says so, next to the field.
 */
export function SignIn() {
  const auth = useAuth();
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const errorId = useId();

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const candidate = token.trim();
    if (!candidate) return setError('Enter the API token.');
    setBusy(true);
    setError(null);
    const check = await verifyToken(candidate);
    setBusy(false);
    if (!check.ok) return setError(check.message);
    signIn(candidate);
    // everything cached so far was a 401: fetch it again with the token
    void queryClient.resetQueries();
  };

  return (
    <div className="page sign-in">
      <title>Sign in · Conclave</title>
      <h1>Sign in</h1>
      <p>
        This gateway asks for an API token (one of its <code>CONCLAVE_API_TOKENS</code>, or <code>CONCLAVE_API_TOKEN</code>). It is kept for this browser tab
        only; its name is recorded as the author of what you do.
      </p>
      {auth.reason && (
        <div className="notice notice--warn" role="status">
          {auth.reason}
        </div>
      )}
      <form className="card form" onSubmit={(e) => void submit(e)} aria-label="Sign in" noValidate>
        <label className="field">
          API token
          <input
            type="password"
            name="token"
            autoComplete="current-password"
            autoFocus
            value={token}
            onChange={(e) => setToken(e.target.value)}
            aria-invalid={error ? true : undefined}
            aria-describedby={error ? errorId : undefined}
          />
        </label>
        {error && (
          <p id={errorId} className="form-error" role="alert">
            {error}
          </p>
        )}
        <div className="actions">
          <Button type="submit" variant="primary" disabled={busy}>
            {busy ? 'Signing in…' : 'Sign in'}
          </Button>
        </div>
      </form>
    </div>
  );
}

/** The top bar's way out: forgets the tab's token and shows the sign-in screen. */
export function SignOutButton() {
  const auth = useAuth();
  if (!auth.token) return null;
  return (
    <Button
      variant="ghost"
      size="small"
      onClick={() => {
        queryClient.clear();
        signOut();
      }}
    >
      Sign out
    </Button>
  );
}
