/** @jest-environment jsdom */
import { act, cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { z } from 'zod';
import { downloadFile, fileNameOf, request } from '../api/client';
import '../test/jsdom-polyfills';
import { getAuth, signIn, signOut } from './session';
import { SignIn } from './SignIn';

const GOOD = 'tok-good-123';

interface Call {
  url: string;
  headers: Record<string, string>;
}

/** A gateway that accepts GOOD only, as `fetch` sees it. */
function fakeGateway() {
  const calls: Call[] = [];
  (globalThis as { fetch?: unknown }).fetch = jest.fn(async (url: string, init?: { headers?: Record<string, string> }) => {
    const headers = init?.headers ?? {};
    calls.push({ url, headers });
    const ok = headers.Authorization === `Bearer ${GOOD}`;
    const body = ok ? (url.includes('/export') ? 'id,name\nr1,one\n' : JSON.stringify({ items: [], nextCursor: null })) : JSON.stringify({ error: { code: 'unauthorized', message: 'missing or invalid bearer token', requestId: 'q1' } });
    const status = ok ? 200 : 401;
    const responseHeaders: Record<string, string> = { 'content-type': ok && url.includes('/export') ? 'text/csv' : 'application/json', ...(ok && url.includes('/export') ? { 'content-disposition': 'attachment; filename="runs-2026.csv"' } : {}) };
    // jsdom has no fetch Response: the part of it the client reads
    return {
      ok,
      status,
      statusText: ok ? 'OK' : 'Unauthorized',
      headers: { get: (name: string) => responseHeaders[name.toLowerCase()] ?? null },
      text: async () => body,
      json: async () => JSON.parse(body) as unknown,
      blob: async () => new Blob([body], { type: responseHeaders['content-type'] }),
    };
  });
  return calls;
}

afterEach(() => {
  cleanup();
  sessionStorage.clear();
  act(() => signOut());
});

describe('the tab\'s API token', () => {
  it('goes out as Authorization: Bearer on REST calls; a 401 forgets it and asks to sign in again', async () => {
    const calls = fakeGateway();
    act(() => signIn(GOOD));
    expect(sessionStorage.getItem('conclave.apiToken')).toBe(GOOD);
    await request('GET', '/runs', z.object({ items: z.array(z.unknown()) }));
    expect(calls[0]!.headers.Authorization).toBe(`Bearer ${GOOD}`);
    expect(calls[0]!.url).not.toContain(GOOD);

    act(() => signIn('revoked'));
    await expect(request('GET', '/runs', z.unknown())).rejects.toMatchObject({ status: 401, code: 'unauthorized' });
    expect(getAuth()).toEqual({ token: null, required: true, reason: expect.stringMatching(/no longer accepts this token/) });
    expect(sessionStorage.getItem('conclave.apiToken')).toBeNull();
  });

  it('downloads with the header and saves a blob under the server\'s file name, never a URL with the token', async () => {
    const calls = fakeGateway();
    act(() => signIn(GOOD));
    const saved: { href: string; download: string }[] = [];
    const click = jest.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(function (this: HTMLAnchorElement) {
      saved.push({ href: this.href, download: this.download });
    });
    const blobs: Blob[] = [];
    URL.createObjectURL = jest.fn((b: Blob) => (blobs.push(b), 'blob:http://localhost/1'));
    URL.revokeObjectURL = jest.fn();
    try {
      await downloadFile('/api/v1/runs/export?format=csv', 'runs.csv');
    } finally {
      click.mockRestore();
    }
    expect(calls).toEqual([{ url: '/api/v1/runs/export?format=csv', headers: { Authorization: `Bearer ${GOOD}` } }]);
    expect(saved).toEqual([{ href: 'blob:http://localhost/1', download: 'runs-2026.csv' }]);
    // jsdom's Blob has no text(): read it the FileReader way
    const text = await new Promise<string>((resolve) => {
      const reader = new FileReader();
      reader.onload = () => resolve(String(reader.result));
      reader.readAsText(blobs[0]!);
    });
    expect(text).toBe('id,name\nr1,one\n');
    // refused: an error, nothing saved
    act(() => signIn('wrong'));
    await expect(downloadFile('/api/v1/runs/export?format=csv', 'runs.csv')).rejects.toMatchObject({ status: 401 });
    expect(saved).toHaveLength(1);
  });

  it('reads the file name of a Content-Disposition', () => {
    expect(fileNameOf('attachment; filename="runs.csv"')).toBe('runs.csv');
    expect(fileNameOf("attachment; filename*=UTF-8''r%C3%A9sum%C3%A9.json")).toBe('résumé.json');
    expect(fileNameOf('attachment; filename=plain.patch')).toBe('plain.patch');
    expect(fileNameOf('attachment; filename="../../etc/passwd"')).toBe('.._.._etc_passwd');
    expect(fileNameOf(null)).toBeNull();
  });
});

describe('SignIn', () => {
  it('says a wrong token was refused and keeps nothing; a right one is kept for the tab', async () => {
    const calls = fakeGateway();
    render(<SignIn />);
    const field = screen.getByLabelText('API token');
    fireEvent.change(field, { target: { value: 'nope' } });
    fireEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    expect((await screen.findByRole('alert')).textContent).toBe('This token was refused: check it and try again.');
    expect(field.getAttribute('aria-invalid')).toBe('true');
    expect(getAuth().token).toBeNull();
    expect(sessionStorage.getItem('conclave.apiToken')).toBeNull();

    fireEvent.change(field, { target: { value: ` ${GOOD} ` } });
    fireEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    await waitFor(() => expect(getAuth().token).toBe(GOOD));
    expect(getAuth().required).toBe(false);
    expect(sessionStorage.getItem('conclave.apiToken')).toBe(GOOD);
    expect(calls.map((c) => c.headers.Authorization)).toEqual(['Bearer nope', `Bearer ${GOOD}`]);
  });

  it('asks for a token before calling the gateway with an empty one', async () => {
    const calls = fakeGateway();
    render(<SignIn />);
    fireEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    expect((await screen.findByRole('alert')).textContent).toBe('Enter the API token.');
    expect(calls).toEqual([]);
  });
});
