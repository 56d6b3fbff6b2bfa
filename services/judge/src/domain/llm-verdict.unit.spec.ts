import { buildJudgePrompt } from './llm-verdict';

const request = {
  provider: 'openai',
  model: 'gpt-judge',
  judgeId: 'study-1.i1',
  criteria: ['correctness', 'concision'],
  task: 'Summarise the report',
  candidates: [
    { candidateId: 'a', output: { text: 'long' } },
    { candidateId: 'b', output: { text: 'short' } },
  ],
};

describe('the LLM judge prompt', () => {
  it('carries a study’s rubric after the criteria (ADR 023), and no rubric section without one', () => {
    const withRubric = buildJudgePrompt({ ...request, rubric: '  Prefer the shorter answer when both are correct.  ' });
    expect(withRubric.user).toContain('## Criteria\n- correctness\n- concision\n\n## Rubric\nPrefer the shorter answer when both are correct.\n\n## Answers');
    const plain = buildJudgePrompt(request);
    expect(plain.user).not.toContain('## Rubric');
    expect(plain.user).toContain('## Criteria\n- correctness\n- concision\n\n## Answers');
  });
});
