import { CandidateResult, DirectResultReply, GenerateCandidate, WorkResult, type OrchestratorReply, type Recorded, type TemplateInput } from '@conclave/contracts';
import { CONTRACTS_HEADER, contractsFingerprint, contractsHeaders, type RunningConsumer } from '@conclave/event-log';
import { createLogger, SchemaValidator } from '@conclave/service-kit';
import { createTestEnv, eventually, type TestEnv } from '@conclave/testing';
import { WorkerRuntime, type WorkerLogger, type WorkerSpec } from '@conclave/worker-kit';
import { RunRepository } from '../adapters/run-repository';
import { testCommandDeps } from './__tests__/command-deps';
import { handleOrchestratorRequest, type CommandDeps } from './command-handler';
import { startDirectResults, startResultsConsumer, type DirectResults } from './results-consumer';

jest.setTimeout(30_000);

/**
 * Results in one hop (issue 12 §4): a real WorkerRuntime hands its result to the orchestrator's
 * direct responder, which applies it before answering, so nothing lands in RESULTS; with no
 * responder the worker falls back to the RESULTS stream, whose durable consumer applies it.
 */
const logger = createLogger('results-direct-test', 'silent');
const quiet: WorkerLogger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
const template: TemplateInput = {
  name: 'one-candidate',
  inputs: { type: 'object', properties: { idea: { type: 'string' } }, required: ['idea'] },
  phases: [{ id: 'a', kind: 'llm', prompt: { user: '{{inputs.idea}}' }, candidates: [{ provider: 'simulated', model: 'x' }] }],
};
type Outcome = CandidateResult['outcome'];

describe('worker results in one hop (direct responder) and the RESULTS fallback', () => {
  let env: TestEnv;
  let runs: RunRepository;
  let deps: CommandDeps;
  let worker: WorkerRuntime<GenerateCandidate, Outcome, CandidateResult>;
  let templateId: string;
  const stoppers: { stop(): Promise<void> }[] = [];

  beforeAll(async () => {
    env = await createTestEnv('resdirect', { database: false, ackWaitMs: 2_000 });
    const validator = new SchemaValidator();
    runs = new RunRepository(env.log, validator.validate, { maxConflicts: 8, cacheSize: 100 });
    deps = testCommandDeps(env.log, runs, validator);
    const spec: WorkerSpec<GenerateCandidate, Outcome, CandidateResult> = {
      role: 'llm-worker',
      durable: env.log.names.consumers.generateWorkers,
      redispatchedOnStall: true,
      command: GenerateCandidate,
      result: CandidateResult,
      timeoutMs: () => 10_000,
      execute: async (c) => ({ status: 'generated', output: { text: `x: ${c.prompt.user}` }, tokens: { input: 1, output: 2 }, costUsd: 0 }),
      toResult: (c, outcome, meta) => ({
        type: 'CandidateResult',
        commandId: c.commandId,
        runId: c.runId,
        phaseId: c.phaseId,
        attempt: c.attempt,
        attemptToken: c.attemptToken,
        candidateId: c.candidateId,
        workerId: meta.workerId,
        provider: c.provider,
        model: c.model,
        durationMs: meta.durationMs,
        outcome,
      }),
    };
    worker = new WorkerRuntime(spec, { log: env.log, workerId: 'direct-w', logger: quiet, workingIntervalMs: 500, directResultTimeoutMs: 2_000 });
    await worker.start();
    const created = ok(await handleOrchestratorRequest(deps, request({ type: 'CreateTemplate', template })));
    templateId = created.id;
  });
  afterAll(async () => {
    await worker?.shutdown();
    await Promise.all(stoppers.splice(0).map((s) => s.stop()));
    await env?.dispose();
  });
  afterEach(() => jest.restoreAllMocks());

  const request = (command: unknown) => ({ command, actor: { kind: 'user', id: 'test' }, requestId: `req-${Math.random()}` });
  function ok(reply: OrchestratorReply) {
    if (!reply.ok) throw new Error(`refused: ${JSON.stringify(reply.error)}`);
    return reply;
  }
  const types = (events: Recorded[]) => events.map((e) => e.type);

  /** Starts a run and publishes its candidate's command as the orchestrator does (marked with the contracts fingerprint). */
  async function startRunAndDispatch(idea: string): Promise<{ runId: string; command: GenerateCandidate }> {
    const started = ok(await handleOrchestratorRequest(deps, request({ type: 'StartRun', templateId, inputs: { idea } })));
    const runId = started.id;
    const requested = (await env.log.read('run', runId)).find((e) => e.type === 'CandidateRequested');
    if (!requested || requested.type !== 'CandidateRequested') throw new Error('no CandidateRequested');
    const command = GenerateCandidate.parse({ type: 'GenerateCandidate', commandId: requested.data.attemptToken, runId, ...requested.data });
    await env.log.js.publish(env.log.names.subjects.generate, new TextEncoder().encode(JSON.stringify(command)), { msgID: command.commandId, headers: contractsHeaders() });
    return { runId, command };
  }
  const resultsStored = async () => (await env.log.jsm.streams.info(env.log.names.streams.results)).state.messages;
  const commandsSettled = () =>
    eventually(async () => {
      const info = await env.log.jsm.consumers.info(env.log.names.streams.commands, env.log.names.consumers.generateWorkers);
      return info.num_pending === 0 && info.num_ack_pending === 0;
    }, 'the command acked');

  it('applies a worker result in one hop: decided before the answer, nothing in RESULTS, validated once', async () => {
    const direct: DirectResults = startDirectResults(env.log, runs, logger, () => new Date(), { concurrency: 4 });
    await env.log.nc.flush();
    const reparsed = jest.spyOn(WorkResult, 'safeParse');
    try {
      const before = worker.deliveries;
      const { runId, command } = await startRunAndDispatch('kites');
      const events = await eventually(async () => {
        const e = await env.log.read('run', runId);
        return e.some((x) => x.type === 'RunCompleted') && e;
      }, 'RunCompleted');
      expect(types(events)).toEqual(expect.arrayContaining(['CandidateGenerated', 'PhaseCompleted', 'RunCompleted']));
      await commandsSettled();
      expect(worker.deliveries).toEqual({ direct: before.direct + 1, stream: before.stream });
      expect(await resultsStored()).toBe(0);
      // the result carried this build's fingerprint: the orchestrator did not parse it again
      expect(reparsed).not.toHaveBeenCalled();

      // a duplicate (an answer lost, the worker retrying) decides nothing and is still answered ok
      const generated = events.find((e) => e.type === 'CandidateGenerated');
      const duplicate: CandidateResult = {
        type: 'CandidateResult', commandId: command.commandId, runId, phaseId: command.phaseId, attempt: command.attempt, attemptToken: command.attemptToken,
        candidateId: command.candidateId, workerId: 'direct-w', provider: command.provider, model: command.model, durationMs: 1,
        outcome: { status: 'generated', output: { text: 'late copy' }, tokens: { input: 1, output: 2 }, costUsd: 0 },
      };
      const reply = await env.log.nc.request(env.log.names.subjects.directResult, JSON.stringify(duplicate), { timeout: 2_000 });
      expect(DirectResultReply.parse(reply.json())).toEqual({ ok: true, appended: 0 });
      expect((await env.log.read('run', runId)).filter((e) => e.type === 'CandidateGenerated')).toEqual([generated]);
      // validated in full without the header, and refused as poison (its worker then uses RESULTS, which dead-letters it)
      expect(reparsed).toHaveBeenCalledTimes(1);
      const poison = await env.log.nc.request(env.log.names.subjects.directResult, JSON.stringify({ type: 'CandidateResult', nonsense: true }), { timeout: 2_000 });
      expect(DirectResultReply.parse(poison.json())).toEqual({ ok: false, error: expect.stringContaining('does not match the contract') });
    } finally {
      await direct.stop();
    }
  });

  it('with no responder the worker falls back to RESULTS at once; the durable consumer applies it (the repair path)', async () => {
    const before = worker.deliveries;
    const { runId } = await startRunAndDispatch('gliders');
    await eventually(async () => (await resultsStored()) === 1, 'the result stored in RESULTS', 5_000);
    await commandsSettled(); // acked once the result is durable, though nothing applied it yet
    expect(worker.deliveries).toEqual({ direct: before.direct, stream: before.stream + 1 });
    const info = await env.log.jsm.streams.info(env.log.names.streams.results);
    const stored = await env.log.jsm.streams.getMessage(env.log.names.streams.results, { seq: info.state.last_seq });
    expect(stored?.header.get(CONTRACTS_HEADER)).toBe(contractsFingerprint());
    expect(stored?.header.get('Nats-Msg-Id')).toMatch(/:result$/);
    expect(types(await env.log.read('run', runId))).not.toContain('CandidateGenerated');

    const consumer: RunningConsumer = await startResultsConsumer(env.log, runs, logger, 4, () => new Date());
    stoppers.push(consumer);
    await eventually(async () => types(await env.log.read('run', runId)).includes('RunCompleted'), 'RunCompleted through RESULTS');
    await eventually(async () => (await resultsStored()) === 0, 'the result acked (work queue)');
  });

  it('an error answer sends the result to RESULTS at once, an answer that never comes after the timeout', async () => {
    // a stand-in responder that cannot apply anything: the worker must not lose the result
    const refusing = env.log.nc.subscribe(env.log.names.subjects.directResult, {
      queue: env.log.names.queues.orchestrator,
      callback: (_err, m) => void m.respond(JSON.stringify({ ok: false, error: 'log unavailable' })),
    });
    await env.log.nc.flush();
    try {
      const before = worker.deliveries;
      const { runId } = await startRunAndDispatch('balloons');
      // the durable consumer started above applies what reaches RESULTS
      await eventually(async () => types(await env.log.read('run', runId)).includes('RunCompleted'), 'RunCompleted through RESULTS');
      expect(worker.deliveries).toEqual({ direct: before.direct, stream: before.stream + 1 });
    } finally {
      refusing.unsubscribe();
    }
    // a responder that never answers (an orchestrator stuck or dying mid-request): RESULTS after the timeout (2 s here)
    const silent = env.log.nc.subscribe(env.log.names.subjects.directResult, { queue: env.log.names.queues.orchestrator, callback: () => undefined });
    await env.log.nc.flush();
    try {
      const before = worker.deliveries;
      const at = Date.now();
      const { runId } = await startRunAndDispatch('parachutes');
      await eventually(async () => types(await env.log.read('run', runId)).includes('RunCompleted'), 'RunCompleted through RESULTS', 10_000);
      expect(Date.now() - at).toBeGreaterThanOrEqual(1_900);
      expect(worker.deliveries).toEqual({ direct: before.direct, stream: before.stream + 1 });
    } finally {
      silent.unsubscribe();
    }
  });
});
