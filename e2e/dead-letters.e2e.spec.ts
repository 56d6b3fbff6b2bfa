import { readFileSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import type { DeadLetterView } from '@conclave/contracts';
import { createTestEnv, eventually, startStack, type Stack, type TestEnv } from '@conclave/testing';
import { launchChromium } from './support/browser';
import { restClient } from './support/rest';

const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

/**
 * Dead letters end to end (issue 11 item 2), against the whole stack as processes: a poison
 * command on `commands.generate` is dead-lettered by the llm-worker (copied to DEAD_LETTERS with
 * its reason, then acked), folded by the projector into GET /dead-letters with a `dead_letter`
 * alert, and a redrive hands it back to the worker through the orchestrator. (A `max_deliver` dead
 * letter needs a handler that keeps failing: the consumer specs in libs/event-log cover it.)
 */
interface Page {
  items: DeadLetterView[];
  nextCursor: string | null;
}
interface Alert {
  kind: string;
  message: string;
  details: Record<string, unknown> | null;
}

describe('dead letters end to end', () => {
  let env: TestEnv;
  let stack: Stack;
  let browser: Browser | undefined;
  const { api, post } = restClient(() => stack.url);
  const list = async (query = '') => {
    const res = await api(`/dead-letters${query}`);
    expect(res.status).toBe(200);
    return res.json<Page>();
  };
  /** publish raw bytes on the generate work subject, as a broken producer would (the setup connection) */
  const poison = async (text: string) => (await env.log.js.publish(env.log.names.subjects.generate, new TextEncoder().encode(text))).seq;
  const alertFor = (id: string) =>
    eventually(async () => {
      const { items } = await (await api('/alerts?limit=100')).json<{ items: Alert[] }>();
      return items.find((a) => a.kind === 'dead_letter' && a.details?.id === id);
    }, `the dead_letter alert of ${id}`);

  beforeAll(async () => {
    env = await createTestEnv('deadletters');
    stack = await startStack(env, { label: `e2e-dead-letters-${env.id}` });
  });
  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
    await env?.dispose();
  });

  let first: DeadLetterView;

  it('dead-letters a command that is not JSON: listed as undecodable from llm-workers, with an alert', async () => {
    const seq = await poison('{"type":"GenerateCandidate", this is not json');
    first = await eventually(async () => (await list()).items.find((d) => d.streamSequence === seq), 'the poison command in GET /dead-letters', 30_000);
    expect(first).toMatchObject({
      consumer: 'llm-workers',
      stream: env.log.names.streams.commands,
      subject: env.log.names.subjects.generate,
      reason: 'undecodable',
      runId: null,
      payloadPreview: '{"type":"GenerateCandidate", this is not json',
      truncated: false,
      redrivenAt: null,
    });
    expect(first.error.length).toBeGreaterThan(0);
    expect(first.deliveries).toBeGreaterThanOrEqual(1);
    expect((await api(`/dead-letters/${first.id}`)).status).toBe(200);

    const alert = await alertFor(first.id);
    expect(alert.message).toContain('llm-workers');
    expect(alert.message).toContain(env.log.names.subjects.generate);
    expect(alert.details).toMatchObject({ id: first.id, consumer: 'llm-workers', runId: null });

    // acked after the copy: the work queue holds nothing for the workers any more
    await eventually(async () => (await env.log.jsm.streams.info(env.log.names.streams.commands)).state.messages === 0, 'the work queue to be empty');
  });

  it('dead-letters JSON that is not the command contract, naming its run', async () => {
    const seq = await poison(JSON.stringify({ type: 'GenerateCandidate', runId: 'run-without-a-contract', commandId: 'cmd-1' }));
    const item = await eventually(async () => (await list('?runId=run-without-a-contract')).items.find((d) => d.streamSequence === seq), 'the off-contract command', 30_000);
    expect(item).toMatchObject({ consumer: 'llm-workers', reason: 'undecodable', runId: 'run-without-a-contract' });
    await alertFor(item.id);
    expect((await list('?consumer=llm-workers')).items.map((d) => d.id)).toEqual([item.id, first.id]);
  });

  it('dead-letters a worker result the orchestrator cannot decode, naming the run of its subject', async () => {
    const subject = env.log.names.subjects.result('run-with-a-bad-result');
    const { seq } = await env.log.js.publish(subject, new TextEncoder().encode(JSON.stringify({ not: 'a result' })));
    const item = await eventually(async () => (await list('?consumer=orchestrator-results')).items.find((d) => d.streamSequence === seq), 'the bad result in GET /dead-letters', 30_000);
    expect(item).toMatchObject({ stream: env.log.names.streams.results, subject, reason: 'undecodable', runId: 'run-with-a-bad-result', payloadPreview: '{"not":"a result"}' });
    expect((await alertFor(item.id)).details).toMatchObject({ consumer: 'orchestrator-results', runId: 'run-with-a-bad-result' });
  });

  it('redrives the first: the worker gets it again and dead-letters it anew; the first shows redrivenAt', async () => {
    const res = await post(`/dead-letters/${first.id}/redrive`);
    expect(res.status).toBe(202);
    const { id, sequence } = await res.json<{ id: string; sequence: number }>();
    expect(id).toBe(first.id);

    const redriven = await (await api(`/dead-letters/${first.id}?min_sequence=${sequence}`)).json<DeadLetterView>();
    expect(redriven.redrivenAt).not.toBeNull();
    expect(redriven.redrivenBy).toBeTruthy();
    expect((await list(`?min_sequence=${sequence}`)).items.map((d) => d.id)).not.toContain(first.id);
    expect((await list(`?state=redriven&min_sequence=${sequence}`)).items.map((d) => d.id)).toEqual([first.id]);

    // the same bytes, handed to the same consumer, fail the same way: a new dead letter
    const again = await eventually(
      async () => (await list('?consumer=llm-workers')).items.find((d) => d.id !== first.id && d.payloadPreview === first.payloadPreview),
      'the redriven command dead-lettered again',
      30_000,
    );
    expect(Number(again.id)).toBeGreaterThan(Number(first.id));
    expect(again).toMatchObject({ reason: 'undecodable', subject: env.log.names.subjects.generate, redrivenAt: null });
    expect(again.streamSequence).not.toBe(first.streamSequence);

    // a second redrive of the first is refused: it is done
    const twice = await post(`/dead-letters/${first.id}/redrive`);
    expect(twice.status).toBe(409);
    // ids that are not sequences, and ones nobody has
    expect((await post('/dead-letters/not-a-number/redrive')).status).toBe(400);
    expect((await post('/dead-letters/987654/redrive')).status).toBe(404);
  });

  it('lists them on the dashboard and redrives one from there after a confirmation (axe-clean in both themes)', async () => {
    const bad = (await list('?consumer=orchestrator-results')).items[0]!;
    browser = await launchChromium();
    const context = await browser.newContext({ bypassCSP: true, viewport: { width: 1400, height: 900 } }); // axe is an inline script
    const page = await context.newPage();
    await page.goto(`${stack.url}/dead-letters`);
    await page.getByRole('heading', { name: 'Dead letters' }).waitFor();
    const row = page.locator(`[data-testid="dead-letter-row"][data-id="${bad.id}"]`);
    await row.waitFor({ timeout: 15_000 });
    expect(await row.textContent()).toContain('orchestrator-results');
    expect(await row.textContent()).toContain('undecodable');
    expect(await row.getByRole('link', { name: 'run-with-a-bad-result' }).getAttribute('href')).toBe('/runs/run-with-a-bad-result');
    await row.getByText('Payload').click();
    expect(await row.locator('pre').textContent()).toContain('"not": "a result"');

    const serious: Record<string, unknown> = {};
    for (const theme of ['dark', 'light']) {
      await page.evaluate(`localStorage.setItem('conclave.theme', '${theme}'); document.documentElement.dataset.theme = '${theme}'`);
      await page.addScriptTag({ content: AXE });
      const violations = await page.evaluate<{ id: string; impact: string | null }[]>('axe.run(document).then((r) => r.violations)');
      const found = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => v.id);
      if (found.length) serious[theme] = found;
    }
    expect(serious).toEqual({});

    await row.getByRole('button', { name: `Redrive dead letter ${bad.id}` }).click();
    const dialog = page.getByRole('dialog', { name: `Redrive dead letter ${bad.id}?` });
    await dialog.getByRole('button', { name: 'Redrive' }).click();
    await page.getByRole('status').filter({ hasText: `Dead letter ${bad.id} was handed back` }).waitFor({ timeout: 15_000 });
    await row.waitFor({ state: 'detached', timeout: 15_000 }); // no longer open
    const done = await (await api(`/dead-letters/${bad.id}`)).json<DeadLetterView>();
    expect(done.redrivenAt).not.toBeNull();
    // the orchestrator handed the result back on its subject; still not a result, it is a new dead letter
    await eventually(async () => (await list('?consumer=orchestrator-results')).items.find((d) => Number(d.id) > Number(bad.id) && d.subject === bad.subject), 'the redriven result dead-lettered again', 30_000);
    await page.getByRole('button', { name: 'Redriven' }).click();
    await page.locator(`[data-testid="dead-letter-row"][data-id="${bad.id}"][data-state="redriven"]`).waitFor({ timeout: 15_000 });
  });
});
