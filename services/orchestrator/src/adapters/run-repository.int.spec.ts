import { messageSequenceOf, type CandidateResult, type EventData, type OrchestratorReply, type Recorded, type TemplateInput } from '@conclave/contracts';
import type { AppendMeta, EventLog } from '@conclave/event-log';
import { SchemaValidator } from '@conclave/service-kit';
import { createTestEnv, type TestEnv } from '@conclave/testing';
import { handleOrchestratorRequest } from '../app/command-handler';
import { testCommandDeps } from '../app/__tests__/command-deps';
import { IllegalCommandError, type DeciderInput } from '../domain';
import { RunRepository } from './run-repository';

jest.setTimeout(30_000);

/**
 * The group commit per run: inputs queued for one run's turn (two candidates' results read from
 * one socket chunk, inputs that arrive while an append is in flight) are decided in order and
 * appended as one commit, each caller getting its own events with its own meta.
 */
const template: TemplateInput = {
  name: 'two-candidates',
  inputs: { type: 'object', properties: { idea: { type: 'string' } }, required: ['idea'] },
  phases: [{ id: 'a', kind: 'llm', prompt: { user: '{{inputs.idea}}' }, candidates: [{ provider: 'simulated', model: 'x' }, { provider: 'simulated', model: 'y' }] }],
};
type Requested = EventData<'CandidateRequested'>;

/** the log with `append` replaced (every other member is the log's own) */
function withAppend(log: EventLog, append: EventLog['append']): EventLog {
  return new Proxy(log, { get: (target, prop, receiver) => (prop === 'append' ? append : (Reflect.get(target, prop, receiver) as unknown)) });
}

describe('RunRepository: one commit for the inputs of a turn', () => {
  let env: TestEnv;
  let templateId: string;
  const validator = new SchemaValidator();

  beforeAll(async () => {
    env = await createTestEnv('runrepo', { database: false });
    const deps = commandDeps(repository());
    const created = await handleOrchestratorRequest(deps, request({ type: 'CreateTemplate', template }));
    templateId = ok(created).id;
  });
  afterAll(() => env?.dispose());

  const commandDeps = (runs: RunRepository) => testCommandDeps(env.log, runs, validator);
  /** a repository over the test's log, or over a log whose append a test replaces */
  const repository = (log: EventLog = env.log) => new RunRepository(log, validator.validate, { maxConflicts: 8, cacheSize: 100 });
  const request = (command: unknown) => ({ command, actor: { kind: 'user', id: 'test' }, requestId: `req-${Math.random()}` });
  function ok(reply: OrchestratorReply) {
    if (!reply.ok) throw new Error(`refused: ${JSON.stringify(reply.error)}`);
    return reply;
  }
  const types = (events: readonly Recorded[]) => events.map((e) => e.type);
  const messages = async () => (await env.log.jsm.streams.info(env.log.names.streams.events)).state.last_seq;

  /** a started run of `runs` and its two candidates' requests */
  async function startRun(runs: RunRepository, idea: string): Promise<{ runId: string; requests: Requested[] }> {
    const started = ok(await handleOrchestratorRequest(commandDeps(runs), request({ type: 'StartRun', templateId, inputs: { idea } })));
    const requests = (await env.log.read('run', started.id)).flatMap((e) => (e.type === 'CandidateRequested' ? [e.data] : []));
    expect(requests).toHaveLength(2);
    return { runId: started.id, requests };
  }
  const result = (runId: string, r: Requested, workerId: string): DeciderInput => {
    const value: CandidateResult = {
      type: 'CandidateResult', commandId: r.attemptToken, runId, phaseId: r.phaseId, attempt: r.attempt, attemptToken: r.attemptToken, candidateId: r.candidateId,
      workerId, provider: r.provider, model: r.model, durationMs: 3, outcome: { status: 'generated', output: { text: `${workerId} says hi` }, tokens: { input: 1, output: 2 }, costUsd: 0 },
    };
    return { type: 'CandidateResult', result: value };
  };
  const metaOf = (runId: string, causationId: string, workerId: string): AppendMeta => ({ occurredAt: new Date().toISOString(), correlationId: runId, causationId, actor: { kind: 'worker', id: workerId } });

  it('decides the inputs of one turn together and appends them as one commit, each event with its own input’s meta', async () => {
    const runs = repository();
    const { runId, requests } = await startRun(runs, 'kites');
    const [r1, r2] = requests as [Requested, Requested];
    const before = await messages();

    // both handed over in one turn of the event loop, as two results read from one socket chunk are
    const [first, second] = await Promise.all([runs.handle(runId, result(runId, r1, 'w1'), metaOf(runId, r1.attemptToken, 'w1')), runs.handle(runId, result(runId, r2, 'w2'), metaOf(runId, r2.attemptToken, 'w2'))]);

    expect(await messages()).toBe(before + 1); // one commit
    expect(types(first.appended)).toEqual(['CandidateGenerated']);
    expect(types(second.appended)).toEqual(['CandidateGenerated', 'JudgeRequested']); // the second completes the round
    expect(messageSequenceOf(first.appended[0]!.sequence)).toBe(messageSequenceOf(second.appended[0]!.sequence));
    expect(first.sequence).toBe(second.sequence);
    expect(second.sequence).toBe(second.appended[1]!.sequence);

    // what the log holds: each event carries the causation and actor of the input that caused it
    const stored = (await env.log.read('run', runId)).filter((e) => messageSequenceOf(e.sequence) === before + 1);
    expect(stored.map((e) => [e.type, e.causationId, e.actor.id])).toEqual([
      ['CandidateGenerated', r1.attemptToken, 'w1'],
      ['CandidateGenerated', r2.attemptToken, 'w2'],
      ['JudgeRequested', r2.attemptToken, 'w2'],
    ]);
    expect(stored.map((e) => e.id)).toEqual([...first.appended, ...second.appended].map((e) => e.id));
  });

  it('an input the run refuses gets its own error; the others of its turn are appended', async () => {
    const runs = repository();
    const { runId, requests } = await startRun(runs, 'gliders');
    const before = await messages();
    const userMeta: AppendMeta = { occurredAt: new Date().toISOString(), correlationId: runId, causationId: null, actor: { kind: 'user', id: 'test' } };
    const [refused, applied] = await Promise.allSettled([
      runs.handle(runId, { type: 'Command', command: { type: 'ResumeRun', runId } }, userMeta), // the run is running, not paused
      runs.handle(runId, result(runId, requests[0]!, 'w1'), metaOf(runId, requests[0]!.attemptToken, 'w1')),
    ]);
    expect(refused.status).toBe('rejected');
    expect((refused as PromiseRejectedResult).reason).toBeInstanceOf(IllegalCommandError);
    expect(applied.status).toBe('fulfilled');
    expect(types((applied as PromiseFulfilledResult<{ appended: Recorded[] }>).value.appended)).toEqual(['CandidateGenerated']);
    expect(await messages()).toBe(before + 1);
  });

  it('inputs that arrive while the run’s append is in flight wait for the next turn, and go together', async () => {
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    const commits: number[] = []; // events per append
    let hold = false;
    const runs = repository(
      withAppend(env.log, async (...args) => {
        commits.push(args[2].length);
        if (hold) await held;
        return env.log.append(...args);
      }),
    );
    const { runId, requests } = await startRun(runs, 'balloons');
    const [r1, r2] = requests as [Requested, Requested];
    commits.length = 0;
    hold = true;
    const paused = runs.handle(runId, { type: 'Command', command: { type: 'PauseRun', runId } }, { occurredAt: new Date().toISOString(), correlationId: runId, causationId: null, actor: { kind: 'user', id: 'test' } });
    await new Promise((resolve) => setImmediate(resolve)); // its append has begun and waits
    expect(commits).toEqual([1]);
    const results = [runs.handle(runId, result(runId, r1, 'w1'), metaOf(runId, r1.attemptToken, 'w1')), runs.handle(runId, result(runId, r2, 'w2'), metaOf(runId, r2.attemptToken, 'w2'))];
    await new Promise((resolve) => setImmediate(resolve));
    expect(commits).toEqual([1]); // the results wait for the pause's append
    release();
    expect(types((await paused).appended)).toEqual(['RunPaused']);
    const [first, second] = await Promise.all(results);
    expect(commits).toEqual([1, 2]); // then one commit for both (a paused run judges nothing yet)
    expect(types(first.appended)).toEqual(['CandidateGenerated']);
    expect(types(second.appended)).toEqual(['CandidateGenerated']);
  });

  it('a commit that fails as a whole is tried again input by input, so one input’s fault stays its own', async () => {
    const sizes: number[] = [];
    const runs = repository(
      withAppend(env.log, async (...args) => {
        sizes.push(args[2].length);
        if (new Set(args[2].map((e) => e.meta?.causationId ?? args[4].causationId)).size > 1) throw new Error('the log is unavailable'); // nothing stored
        return env.log.append(...args);
      }),
    );
    const { runId, requests } = await startRun(runs, 'parachutes');
    const [r1, r2] = requests as [Requested, Requested];
    sizes.length = 0;
    const before = await messages();
    const [first, second] = await Promise.all([runs.handle(runId, result(runId, r1, 'w1'), metaOf(runId, r1.attemptToken, 'w1')), runs.handle(runId, result(runId, r2, 'w2'), metaOf(runId, r2.attemptToken, 'w2'))]);
    expect(sizes).toEqual([3, 1, 2]); // together (refused), then each alone
    expect(types(first.appended)).toEqual(['CandidateGenerated']);
    expect(types(second.appended)).toEqual(['CandidateGenerated', 'JudgeRequested']);
    expect(await messages()).toBe(before + 2);
  });
});
