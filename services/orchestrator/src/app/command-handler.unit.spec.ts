import { TimeoutError } from '@nats-io/transport-node';
import { JetStreamApiError } from '@nats-io/jetstream';
import { handleOrchestratorRequest, type CommandDeps } from './command-handler';

/** The orchestrator's reply when the log does not answer: `unavailable` (the gateway's 503), not `internal` (its 500). */
describe('a command whose log access times out', () => {
  const request = { command: { type: 'PauseRun', runId: 'run-1' }, actor: { kind: 'user', id: 'api' }, requestId: 'req-1' };
  const depsFailingWith = (err: unknown) => {
    const internal: unknown[] = [];
    const deps = {
      runs: { handle: () => Promise.reject(err), load: () => Promise.reject(err) },
      now: () => new Date('2026-01-01T00:00:00Z'),
      onInternalError: (e: unknown) => internal.push(e),
      cancelWork: () => undefined,
    } as unknown as CommandDeps;
    return { deps, internal };
  };

  it.each([
    ['a JetStream request that timed out', new TimeoutError()],
    ['JetStream answering 503', new JetStreamApiError({ code: 503, err_code: 10008, description: 'JetStream system temporarily unavailable' })],
  ])('is unavailable for %s', async (_what, err) => {
    const { deps, internal } = depsFailingWith(err);
    expect(await handleOrchestratorRequest(deps, request)).toEqual({
      ok: false,
      error: { code: 'unavailable', message: expect.stringContaining('retry'), details: { dependency: 'nats', cause: expect.any(String) } },
    });
    expect(internal).toEqual([]);
  });

  it('stays an internal error for anything else', async () => {
    const { deps, internal } = depsFailingWith(new Error('a bug'));
    expect(await handleOrchestratorRequest(deps, request)).toEqual({ ok: false, error: { code: 'internal', message: 'the orchestrator failed to handle the command' } });
    expect(internal).toHaveLength(1);
  });
});
