import { randomUUID } from 'node:crypto';
import { JudgeCandidates, type EventData, type Recorded, type StartStudy, type StudyItem, type VerdictResult } from '@conclave/contracts';
import type { AppendMeta } from '@conclave/event-log';
import { createLogger } from '@conclave/service-kit';
import { createTestEnv, eventually, type TestEnv } from '@conclave/testing';
import { decideStudy, foldStudy, studyAttemptToken } from './decide';
import { StudyService } from './study-service';

jest.setTimeout(30_000);

/**
 * The study decider's shell against JetStream (ADR 023): a study's judge work is published on the
 * normal judge queue with the outputs and task of the phase's JudgeRequested in the run's own log
 * (and the study's rubric); an item whose run has no such request fails for good; a verdict
 * completes the study; work whose publish failed after its append goes out in the background; work
 * a crash left unpublished after its append goes out at the next boot.
 */
const logger = createLogger('study-test', 'silent');
const meta = (): AppendMeta => ({ occurredAt: new Date().toISOString(), correlationId: 'test', causationId: null, actor: { kind: 'user', id: 'tester' } });

describe('studies against JetStream', () => {
  let env: TestEnv;
  let studies: StudyService;

  beforeAll(async () => {
    env = await createTestEnv('study', { database: false });
    studies = new StudyService(env.log, logger);
  });
  afterAll(() => env?.dispose());

  /** a run whose log holds the judge request of phase `draft`, attempt 1 (what the old judge saw) */
  async function runWithJudgeRequest(): Promise<{ runId: string; request: EventData<'JudgeRequested'> }> {
    const runId = randomUUID();
    const request: EventData<'JudgeRequested'> = {
      phaseId: 'draft',
      attempt: 1,
      round: 0,
      judgeId: `${runId}.draft.1.judge`,
      purpose: 'select',
      provider: 'simulated',
      model: 'sim-judge',
      criteria: ['correctness', 'clarity'],
      task: 'Draft a note',
      candidates: [
        { candidateId: `${runId}.a`, output: { text: 'alpha' } },
        { candidateId: `${runId}.b`, output: { text: 'beta' } },
      ],
      attemptToken: `${runId}.draft.1.judge@1`,
      missing: [],
    };
    await env.log.append('run', runId, [{ type: 'JudgeRequested', data: request }], 0, meta());
    return { runId, request };
  }
  const itemOf = (n: number, runId: string): StudyItem => ({
    itemId: `i${n}`,
    runId,
    templateId: 't1',
    phaseId: 'draft',
    attempt: 1,
    candidates: [
      { candidateId: `${runId}.a`, provider: 'simulated', model: 'a' },
      { candidateId: `${runId}.b`, provider: 'simulated', model: 'b' },
    ],
    old: { winnerId: `${runId}.a`, scores: {}, order: [`${runId}.a`, `${runId}.b`], provider: 'simulated', model: 'sim-judge' },
    estimateUsd: 0,
  });
  const command = (items: StudyItem[]): StartStudy => ({
    type: 'StartStudy',
    name: 'test',
    judge: { provider: 'simulated', model: 'sim-judge-2', rubric: 'reverse' },
    runs: items.map((i) => i.runId),
    phases: null,
    items,
    skipped: { runs: 0, phases: 0, details: [] },
    estimateUsd: 0,
    budgetUsd: null,
  });
  /** the judge command published under this id, or null */
  async function judgeCommand(commandId: string): Promise<JudgeCandidates | null> {
    const { streams, subjects } = env.log.names;
    for (let seq = 1; ; ) {
      const next = { next_by_subj: subjects.judge, seq } as unknown as Parameters<typeof env.log.jsm.streams.getMessage>[1];
      const m = await env.log.jsm.streams.getMessage(streams.commands, next).catch(() => null);
      if (!m) return null;
      const cmd = JudgeCandidates.parse(m.json());
      if (cmd.commandId === commandId) return cmd;
      seq = m.seq + 1;
    }
  }
  /** the new judge's scored verdict of a study item (attempt 1), the first of `order` winning */
  const verdictOf = (studyId: string, itemId: string, order: string[]): VerdictResult => {
    const token = studyAttemptToken(studyId, itemId, 1);
    return {
      type: 'VerdictResult',
      commandId: token,
      runId: `study-${studyId}`,
      phaseId: 'draft',
      attempt: 1,
      attemptToken: token,
      workerId: 'w1',
      provider: 'simulated',
      model: 'sim-judge-2',
      durationMs: 2,
      judgeId: `${studyId}.${itemId}`,
      outcome: { status: 'scored', winnerId: order[0]!, scores: {}, rationale: `${order[0]} wins`, order, tokens: { input: 5, output: 2 }, costUsd: 0 },
    };
  };
  const studyEvents = async (studyId: string) => (await env.log.read('study', studyId)).map((e) => e.type);

  it('publishes the judge work with the outputs the run’s log recorded and the rubric; an item without them fails; a verdict completes the study', async () => {
    const { runId, request } = await runWithJudgeRequest();
    const lost = randomUUID(); // a run whose log has no judge request (its candidates are gone)
    const studyId = randomUUID();
    const outcome = await studies.handle(studyId, { type: 'StartStudy', studyId, command: command([itemOf(1, runId), itemOf(2, lost)]) }, meta());
    expect(outcome.appended.map((e) => e.type)).toEqual(['StudyStarted', 'StudyJudgeRequested', 'StudyJudgeRequested', 'StudyItemFailed']);
    expect((outcome.appended[3] as Recorded & { data: EventData<'StudyItemFailed'> }).data).toMatchObject({ itemId: 'i2', final: true, error: { code: 'candidates_missing' } });

    const token = studyAttemptToken(studyId, 'i1', 1);
    const published = await judgeCommand(token);
    expect(published).toMatchObject({
      runId: `study-${studyId}`,
      phaseId: 'draft',
      attempt: 1,
      attemptToken: token,
      provider: 'simulated',
      model: 'sim-judge-2',
      rubric: 'reverse',
      criteria: request.criteria,
      task: request.task,
      candidates: request.candidates,
    });
    expect(await judgeCommand(studyAttemptToken(studyId, 'i2', 1))).toBeNull();

    const result = verdictOf(studyId, 'i1', [`${runId}.b`, `${runId}.a`]);
    await studies.handle(studyId, { type: 'VerdictResult', result }, meta());
    // at-least-once: the same result again decides nothing
    expect((await studies.handle(studyId, { type: 'VerdictResult', result }, meta())).appended).toEqual([]);
    expect(await studyEvents(studyId)).toEqual(['StudyStarted', 'StudyJudgeRequested', 'StudyJudgeRequested', 'StudyItemFailed', 'StudyVerdictRecorded', 'StudyCompleted']);
  });

  it('at boot, publishes the requested work of running studies that a crash left unpublished', async () => {
    const { runId } = await runWithJudgeRequest();
    const studyId = randomUUID();
    // the decision appended by a process that died before publishing its commands
    const decided = decideStudy(foldStudy([]), { type: 'StartStudy', studyId, command: command([itemOf(1, runId)]) });
    await env.log.append('study', studyId, decided, 0, meta());
    const token = studyAttemptToken(studyId, 'i1', 1);
    expect(await judgeCommand(token)).toBeNull();

    const published = await new StudyService(env.log, logger).repair(meta());
    expect(published).toBeGreaterThanOrEqual(1);
    expect(await judgeCommand(token)).toMatchObject({ runId: `study-${studyId}`, attemptToken: token, rubric: 'reverse' });
  });

  it('publishes the work again in the background when its publish failed after the append (the study does not wait forever)', async () => {
    const { runId } = await runWithJudgeRequest();
    const studyId = randomUUID();
    // a log whose first publish fails (a JetStream timeout, say); the appends go through
    let failures = 0;
    const flaky = Object.create(env.log) as typeof env.log;
    flaky.publish = (...args: Parameters<typeof env.log.publish>) => (failures++ === 0 ? Promise.reject(new Error('publish timed out')) : env.log.publish(...args));
    const service = new StudyService(flaky, logger);
    try {
      const outcome = await service.handle(studyId, { type: 'StartStudy', studyId, command: command([itemOf(1, runId)]) }, meta());
      expect(outcome.appended.map((e) => e.type)).toEqual(['StudyStarted', 'StudyJudgeRequested']);
      const token = studyAttemptToken(studyId, 'i1', 1);
      expect(await judgeCommand(token)).toBeNull();
      const published = await eventually(() => judgeCommand(token), 'the judge work published again', 10_000);
      expect(published).toMatchObject({ runId: `study-${studyId}`, attemptToken: token, rubric: 'reverse' });
      expect(failures).toBe(2);
      // nothing more was decided for it: one request in the log
      expect(await studyEvents(studyId)).toEqual(['StudyStarted', 'StudyJudgeRequested']);
    } finally {
      service.stop();
    }
  });

  /** the shared log, with the `after` of every study read it serves recorded */
  function recordingStudyReads() {
    const reads: number[] = [];
    const log = Object.create(env.log) as typeof env.log;
    log.read = (aggregate, id, after = 0, options) => {
      if (aggregate === 'study') reads.push(after);
      return env.log.read(aggregate, id, after, options);
    };
    return { log, reads };
  }

  it('reads only the study events it has not folded yet, and sees what another replica appended (the expected sequence decides)', async () => {
    const first = await runWithJudgeRequest();
    const second = await runWithJudgeRequest();
    const studyId = randomUUID();
    // replica A, whose reads of the study are recorded; replica B on the same log
    const { log: logA, reads } = recordingStudyReads();
    const a = new StudyService(logA, logger);
    const b = new StudyService(env.log, logger);
    const verdict = (itemId: string, runId: string) => verdictOf(studyId, itemId, [`${runId}.a`, `${runId}.b`]);
    const started = await a.handle(studyId, { type: 'StartStudy', studyId, command: command([itemOf(1, first.runId), itemOf(2, second.runId)]) }, meta());
    const afterStart = started.sequence;
    // B decides the first verdict: A's fold is now behind the log
    expect((await b.handle(studyId, { type: 'VerdictResult', result: verdict('i1', first.runId) }, meta())).appended.map((e) => e.type)).toEqual(['StudyVerdictRecorded']);
    // A decides the second: it reads from where it left off, meets B's verdict, and completes the study
    const done = await a.handle(studyId, { type: 'VerdictResult', result: verdict('i2', second.runId) }, meta());
    expect(done.appended.map((e) => e.type)).toEqual(['StudyVerdictRecorded', 'StudyCompleted']);
    expect(await studyEvents(studyId)).toEqual(['StudyStarted', 'StudyJudgeRequested', 'StudyJudgeRequested', 'StudyVerdictRecorded', 'StudyVerdictRecorded', 'StudyCompleted']);
    // A's reads: the whole (empty) study once, then only after what it had folded
    expect(reads[0]).toBe(0);
    expect(reads.slice(1).every((after) => after >= afterStart)).toBe(true);
    expect(reads.length).toBeGreaterThan(1);
  });

  it('decides from its kept fold without reading the study, and reads again only to trust a decision of nothing', async () => {
    const first = await runWithJudgeRequest();
    const second = await runWithJudgeRequest();
    const studyId = randomUUID();
    const { log: logA, reads } = recordingStudyReads();
    const a = new StudyService(logA, logger);
    const started = await a.handle(studyId, { type: 'StartStudy', studyId, command: command([itemOf(1, first.runId), itemOf(2, second.runId)]) }, meta());
    expect(reads).toEqual([0]);
    const result = verdictOf(studyId, 'i1', [`${first.runId}.b`, `${first.runId}.a`]);
    const judged = await a.handle(studyId, { type: 'VerdictResult', result }, meta());
    expect(judged.appended.map((e) => e.type)).toEqual(['StudyVerdictRecorded']);
    expect(reads).toEqual([0]);
    // the same result again: nothing decided on the kept fold, so it is read (only past it) before that stands
    expect((await a.handle(studyId, { type: 'VerdictResult', result }, meta())).appended).toEqual([]);
    expect(reads).toEqual([0, judged.sequence]);
    expect(judged.sequence).toBeGreaterThan(started.sequence);
  });
});
