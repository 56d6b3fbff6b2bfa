import { JudgeCandidates } from '@conclave/contracts';
import { FakeLlmServer, openai } from '@conclave/testing';
import { StaticCredentialSource } from '@conclave/worker-kit';
import { judgeCandidates } from '../domain/judge';
import { presentationOrder } from '../domain/simulated/simulated-judge';
import { createJudgeRegistry } from './judges';

const command = (overrides: Record<string, unknown> = {}): JudgeCandidates =>
  JudgeCandidates.parse({
    type: 'JudgeCandidates',
    commandId: 'j-1',
    runId: 'run1',
    phaseId: 'p1',
    attempt: 1,
    round: 0,
    judgeId: 'run1.p1.1.judge',
    provider: 'openai',
    model: 'gpt-4.1-mini',
    criteria: ['correctness', 'completeness'],
    task: 'Name a fruit',
    candidates: [
      { candidateId: 'c0', output: { text: 'apple' } },
      { candidateId: 'c1', output: { text: 'banana' } },
      { candidateId: 'c2', output: { text: 'carrot' } },
    ],
    attemptToken: 'tok',
    ...overrides,
  });

describe('LLM judge over the OpenAI SDK (fake server)', () => {
  let server: FakeLlmServer;
  let judges: ReturnType<typeof createJudgeRegistry>;
  const ctx = () => ({ signal: new AbortController().signal });
  const order = presentationOrder('run1.p1.1.judge', ['c0', 'c1', 'c2']);
  const label = (id: string) => String.fromCharCode(65 + order.indexOf(id));

  beforeAll(async () => {
    server = await FakeLlmServer.start();
    judges = createJudgeRegistry({}, new StaticCredentialSource({ openai: { kind: 'openai', apiKey: 'sk-x', baseUrl: `${server.url}/v1` } }));
  });
  afterAll(() => server.close());

  it('shows the candidates in the recorded shuffled order under neutral labels and scores them', async () => {
    const answer = {
      scores: [
        { label: label('c0'), criteria: { correctness: 0.9, completeness: 0.7 } },
        { label: label('c1'), criteria: { correctness: 0.9, completeness: 0.9 } },
        { label: label('c2'), criteria: { correctness: 0.1, completeness: 0.5 } },
      ],
      winner: label('c1'),
      rationale: 'Banana is a fruit and complete.',
    };
    server.reply(openai.completion(JSON.stringify(answer), { prompt: 1_000_000, completion: 1_000_000 }));
    const outcome = await judgeCandidates(command(), { judges }, ctx());
    expect(outcome).toMatchObject({
      status: 'scored',
      winnerId: 'c1',
      order,
      scores: { c1: { overall: 0.9, criteria: { correctness: 0.9, completeness: 0.9 } }, c0: { overall: 0.8 } },
      tokens: { input: 1_000_000, output: 1_000_000 },
      costUsd: 2,
    });
    const body = server.requests[0].body as any;
    const user: string = body.messages.find((m: any) => m.role === 'user').content;
    expect(user).toContain('Name a fruit');
    const positions = order.map((id) => user.indexOf(JSON.stringify({ text: id === 'c0' ? 'apple' : id === 'c1' ? 'banana' : 'carrot' }, null, 2)));
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    expect(user).not.toContain('c1');
    expect(body.response_format).toMatchObject({ type: 'json_schema', json_schema: { name: 'verdict' } });
  });

  it('breaks a tie by the stated rule (earliest listed in the request), whatever the model picked', async () => {
    const same = { correctness: 0.8, completeness: 0.8 };
    const answer = { scores: ['c0', 'c1', 'c2'].map((id) => ({ label: label(id), criteria: same })), winner: label('c2'), rationale: 'All equal.' };
    server.reply(openai.completion(JSON.stringify(answer)));
    const outcome = await judgeCandidates(command(), { judges }, ctx());
    expect(outcome).toMatchObject({ status: 'scored', winnerId: 'c0' });
    if (outcome.status === 'scored') expect(outcome.rationale).toMatch(/Tie rule: on equal overall scores the candidate listed earliest/);
  });

  it('repairs an answer that misses a candidate once, then fails verdict_invalid (retryable)', async () => {
    const partial = { scores: [{ label: 'A', criteria: { correctness: 1, completeness: 1 } }], winner: 'A', rationale: 'x' };
    server.reply(openai.completion(JSON.stringify(partial)));
    const outcome = await judgeCandidates(command(), { judges }, ctx());
    expect(outcome).toMatchObject({ status: 'failed', error: { code: 'verdict_invalid', retryable: true } });
    expect(server.requests).toHaveLength(2);
    expect(JSON.stringify(server.requests[1].body)).toContain('is not scored');
  });

  it('evaluate: one candidate scored, the feedback is the rationale', async () => {
    server.reply(openai.completion(JSON.stringify({ scores: { quality: 0.4 }, feedback: 'Add examples.' })));
    const outcome = await judgeCandidates(command({ purpose: 'evaluate', criteria: ['quality'], candidates: [{ candidateId: 'c0', output: 'draft' }] }), { judges }, ctx());
    expect(outcome).toMatchObject({ status: 'scored', winnerId: 'c0', scores: { c0: { overall: 0.4, criteria: { quality: 0.4 } } }, rationale: 'Add examples.', order: ['c0'] });
  });

  it('types provider failures: 429 with retry-after, 401 not retryable, unknown provider', async () => {
    server.reply(openai.error(429, 'slow down', { 'retry-after': '2' }));
    expect(await judgeCandidates(command(), { judges }, ctx())).toMatchObject({ status: 'failed', error: { code: 'rate_limited', retryable: true, retryAfterMs: 2000 } });
    server.reply(openai.error(401, 'bad key'));
    expect(await judgeCandidates(command(), { judges }, ctx())).toMatchObject({ status: 'failed', error: { code: 'auth_failed', retryable: false } });
    expect(await judgeCandidates(command({ provider: 'gemini' }), { judges }, ctx())).toMatchObject({ status: 'failed', error: { code: 'provider_not_configured' } });
  });
});
