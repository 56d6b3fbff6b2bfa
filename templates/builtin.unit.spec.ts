import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { validateTemplate } from '@conclave/contracts';

describe('built-in templates', () => {
  const dir = join(__dirname, 'builtin');
  const files = readdirSync(dir).filter((f) => f.endsWith('.json'));

  it('ships the feature pipeline and the producer → evaluator → reviser loop', () => {
    expect(files.sort()).toEqual(['feature-pipeline.json', 'write-review-loop.json']);
  });

  it.each(files)('%s is a valid template with the expected shape', (file) => {
    const result = validateTemplate(JSON.parse(readFileSync(join(dir, file), 'utf8')));
    expect(result.errors).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it('runs the feature pipeline as discovery → spec → plan → implement → review with 2 candidates each', () => {
    const result = validateTemplate(JSON.parse(readFileSync(join(dir, 'feature-pipeline.json'), 'utf8')));
    if (!result.valid) throw new Error('invalid');
    expect(result.levels).toEqual([['discovery'], ['spec'], ['plan'], ['implement'], ['review']]);
    for (const phase of result.template.phases) expect('candidates' in phase && phase.candidates.length).toBe(2);
  });
});
