import { join } from 'node:path';
import { ConfigError, renderMetrics } from '@conclave/service-kit';
import { REPO_ROOT } from '@conclave/testing';
import { startThread } from './threads';

/**
 * The thread host (threads.ts) with a fake service module: boot, metrics served with this
 * thread's, close, a configuration error at boot, and a thread that dies on its own. Uses the
 * built thread.js (the thread runs plain Node, not jest).
 */
const script = join(REPO_ROOT, 'services', 'stack', 'dist', 'thread.js');
const entry = join(__dirname, '__tests__', 'fake-service.js');

describe('a service in a worker thread of the stack', () => {
  it("boots it, serves its metrics with this thread's, and closes it when told to", async () => {
    const lost = jest.fn();
    const hosted = await startThread('projector', { ...process.env }, lost, { entry, script });
    const body = (await renderMetrics())!.body;
    expect(body).toContain('conclave_fake_boots_total{service="fake"} 1');
    await hosted.close();
    expect((await renderMetrics())!.body).not.toContain('conclave_fake_boots_total');
    expect(lost).not.toHaveBeenCalled();
  });

  it('rejects with the configuration error the service threw at boot, issues and all', async () => {
    const lost = jest.fn();
    const boot = startThread('projector', { ...process.env, FAKE_FAIL: 'config' }, lost, { entry, script });
    await expect(boot).rejects.toBeInstanceOf(ConfigError);
    await expect(boot).rejects.toMatchObject({ issues: ['FAKE_SETTING: must be a number'] });
    expect(lost).not.toHaveBeenCalled();
  });

  it('tells the stack when the thread dies without being told to (an uncaught error)', async () => {
    const lost = new Promise<[string, string]>((resolve) => {
      void startThread('judge', { ...process.env, FAKE_CRASH_MS: '50' }, (service, reason) => resolve([service, reason]), { entry, script });
    });
    await expect(lost).resolves.toEqual(['judge', 'the fake service crashed']);
  });
});
