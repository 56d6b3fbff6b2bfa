import { request, type Schema } from './client';
import { minSequenceOf, runUrl, startEarlyGet } from './early';

/** The client takes any schema with safeParse (the app's are the contracts'). */
const Run: Schema<{ id: string }> = { safeParse: (input) => ({ success: true, data: input as { id: string } }) };

function countingFetch() {
  const urls: string[] = [];
  (globalThis as { fetch?: unknown }).fetch = jest.fn(async (url: string) => {
    urls.push(url);
    return { ok: true, status: 200, statusText: 'OK', text: async () => JSON.stringify({ id: `answer ${urls.length}` }) };
  });
  return urls;
}

describe('early GETs', () => {
  it('hands the response started by a route loader to the client once, and asks again after', async () => {
    const urls = countingFetch();
    startEarlyGet(runUrl('r 1', 7));
    expect(urls).toEqual(['/api/v1/runs/r%201?min_sequence=7']);
    // the client reads the same URL: no second request, the early answer is parsed
    await expect(request('GET', '/runs/r%201', Run, { query: { min_sequence: 7 } })).resolves.toEqual({ id: 'answer 1' });
    expect(urls).toHaveLength(1);
    // taken once: a refetch asks the server
    await expect(request('GET', '/runs/r%201', Run, { query: { min_sequence: 7 } })).resolves.toEqual({ id: 'answer 2' });
    expect(urls).toHaveLength(2);
  });

  it('never serves another URL, nor a write, from an early GET', async () => {
    const urls = countingFetch();
    startEarlyGet(runUrl('a', undefined));
    await request('GET', '/runs/b', Run);
    await request('POST', '/runs/a', Run, { body: {} });
    expect(urls).toEqual(['/api/v1/runs/a', '/api/v1/runs/b', '/api/v1/runs/a']);
  });

  it('reads min_sequence from a page URL only when it is a whole number ≥ 0', () => {
    expect(minSequenceOf(new URL('http://x/runs/a?min_sequence=12'))).toBe(12);
    for (const bad of ['', '-1', '1.5', 'abc']) expect(minSequenceOf(new URL(`http://x/runs/a?min_sequence=${bad}`))).toBeUndefined();
    expect(minSequenceOf(new URL('http://x/runs/a'))).toBeUndefined();
  });
});
