import type { ArtifactView } from '@conclave/contracts';
import { strFromU8, unzipSync } from 'fflate';
import { artifactFiles, artifactText, formatOf, zipArtifacts } from './artifact-files';

const art = (phaseId: string, suffix: string, content: unknown, artifactType = 'text'): ArtifactView => ({
  id: `run1.${phaseId}.${suffix}`,
  runId: 'run1',
  phaseId,
  candidateId: null,
  artifactType,
  content,
  createdAt: '2026-01-01T00:00:00.000Z',
});

describe('a run’s artifacts as files', () => {
  const spec = art('spec', '1.artifact', { title: 'T', summary: 'S', requirements: ['r'], acceptanceCriteria: ['a'] }, 'spec');
  const draftOld = art('draft', '1.artifact', { text: '# old' });
  const draft = art('draft', '2.artifact', { text: '# Plan\n\n- one\n- two' });
  const loser = art('code', '1.artifact.loser.1', { candidateId: 'c1', diff: '+x', files: [] }, 'candidate-diff');
  const code = art('code', '1.artifact', { summary: 's', files: [], diff: '+y' }, 'code-change');
  const phases = [
    { id: 'spec', artifactId: spec.id },
    { id: 'draft', artifactId: draft.id },
    { id: 'code', artifactId: code.id },
  ];

  it('names each file by its phase: markdown for text, JSON otherwise; earlier attempts and losing diffs keep their attempt', () => {
    const files = artifactFiles([loser, draft, code, draftOld, spec], phases);
    expect(files.map((f) => [f.name, f.current])).toEqual([
      ['spec.json', true],
      ['draft.md', true],
      ['draft.attempt-1.md', false],
      ['code.attempt-1.loser-1.json', false],
      ['code.json', true],
    ]);
    expect(formatOf(draft)).toBe('markdown');
    expect(artifactText(draft)).toBe('# Plan\n\n- one\n- two');
    expect(JSON.parse(artifactText(spec))).toEqual(spec.content);
  });

  it('zips every file under the run’s folder with its content', () => {
    const files = artifactFiles([spec, draft, code], phases);
    const unzipped = unzipSync(zipArtifacts('run1', files));
    expect(Object.keys(unzipped).sort()).toEqual(['run1/code.json', 'run1/draft.md', 'run1/spec.json']);
    expect(strFromU8(unzipped['run1/draft.md']!)).toBe('# Plan\n\n- one\n- two');
    expect(JSON.parse(strFromU8(unzipped['run1/code.json']!))).toEqual({ summary: 's', files: [], diff: '+y' });
  });
});
