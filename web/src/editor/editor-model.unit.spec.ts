import type { TemplateError } from '@conclave/contracts';
import { addPhase, connect, defaultPhase, disconnect, emptyDraft, fieldErrors, fromTemplateJson, mapErrors, removePhase, renamePhase, setDefaultWorkspace, setField, toTemplateJson, type DraftTemplate } from './editor-model';

const draft = (): DraftTemplate => ({
  name: 't',
  phases: [
    defaultPhase('llm', 'discovery'),
    defaultPhase('gate', 'review', ['discovery']),
    { ...defaultPhase('condition', 'branch', ['review']), ifTrue: ['plan'], ifFalse: [] },
    defaultPhase('llm', 'plan', ['branch']),
  ],
});

const err = (e: Partial<TemplateError> & Pick<TemplateError, 'path'>): TemplateError => ({ code: 'schema', message: 'bad', ...e });

describe('template editor: located errors onto nodes and fields', () => {
  it('places an error by its phaseId and field', () => {
    const map = mapErrors(draft(), [err({ code: 'unknown_phase', path: ['phases', 1, 'dependsOn', 0], phaseId: 'review', field: 'dependsOn' })]);
    expect(map.byPhase).toEqual({ review: [{ code: 'unknown_phase', message: 'bad', field: 'dependsOn' }] });
    expect(map.global).toEqual([]);
  });

  it('normalizes bracketed fields to dotted paths', () => {
    const map = mapErrors(draft(), [err({ code: 'unknown_phase', path: ['phases', 1, 'dependsOn', 0], phaseId: 'review', field: 'dependsOn[0]' })]);
    expect(map.byPhase.review![0]!.field).toBe('dependsOn.0');
    expect(fieldErrors(map.byPhase.review, 'dependsOn')).toHaveLength(1);
  });

  it('resolves an index-based path to the phase at that index and the rest of the path as field', () => {
    const map = mapErrors(draft(), [err({ path: ['phases', 3, 'candidates', 0, 'model'] })]);
    expect(map.byPhase.plan).toEqual([{ code: 'schema', message: 'bad', field: 'candidates.0.model' }]);
  });

  it('keeps template-level and unplaceable errors global', () => {
    const errors = [err({ path: ['name'] }), err({ path: ['phases', 9, 'id'] }), err({ path: ['phases'], phaseId: 'ghost' })];
    const map = mapErrors(draft(), errors);
    expect(map.byPhase).toEqual({});
    expect(map.global).toEqual(errors);
  });

  it('an error on the phase itself has an empty field', () => {
    const map = mapErrors(draft(), [err({ code: 'cycle', path: ['phases', 0], phaseId: 'discovery' })]);
    expect(map.byPhase.discovery).toEqual([{ code: 'cycle', message: 'bad', field: '' }]);
  });

  it('fieldErrors matches a field and anything nested under it', () => {
    const errors = [
      { code: 'schema', message: 'a', field: 'candidates.0.model' },
      { code: 'schema', message: 'b', field: 'candidates' },
      { code: 'schema', message: 'c', field: 'candidatesX' },
      { code: 'schema', message: 'd', field: 'prompt.user' },
    ];
    expect(fieldErrors(errors, 'candidates').map((e) => e.message)).toEqual(['a', 'b']);
    expect(fieldErrors(errors, 'prompt.user').map((e) => e.message)).toEqual(['d']);
    expect(fieldErrors(undefined, 'x')).toEqual([]);
  });
});

describe('template editor: graph edits', () => {
  it('adds a phase with a unique id and the fields its kind requires', () => {
    const { draft: next, id } = addPhase(draft(), 'gate', ['plan']);
    expect(id).toBe('gate1');
    expect(next.phases.at(-1)).toEqual({ id: 'gate1', kind: 'gate', dependsOn: ['plan'], message: 'Approve to continue?' });
  });

  it('removes a phase and every reference to it', () => {
    const next = removePhase(draft(), 'plan');
    expect(next.phases.map((p) => p.id)).toEqual(['discovery', 'review', 'branch']);
    expect(next.phases[2]!.ifTrue).toEqual([]);
  });

  it('renames a phase and its references, refusing a taken id', () => {
    const next = renamePhase(draft(), 'review', 'approval');
    expect(next.phases[1]!.id).toBe('approval');
    expect(next.phases[2]!.dependsOn).toEqual(['approval']);
    const same = draft();
    expect(renamePhase(same, 'review', 'plan')).toBe(same);
  });

  it('connects and disconnects as dependsOn, ignoring self-loops and duplicates', () => {
    let next = connect(draft(), 'discovery', 'plan');
    expect(next.phases[3]!.dependsOn).toEqual(['branch', 'discovery']);
    expect(connect(next, 'discovery', 'plan')).toBe(next);
    expect(connect(next, 'plan', 'plan')).toBe(next);
    next = disconnect(next, 'branch', 'plan');
    expect(next.phases[3]!.dependsOn).toEqual(['discovery']);
  });

  it('sets and deletes nested fields immutably', () => {
    const p = defaultPhase('llm', 'x');
    const q = setField(p, 'prompt.system', 'be brief');
    expect(q.prompt).toEqual({ user: (p.prompt as { user: string }).user, system: 'be brief' });
    expect(p.prompt).not.toHaveProperty('system');
    expect(setField(q, 'prompt.system', undefined).prompt).not.toHaveProperty('system');
  });

  it('imports JSON and reports what is wrong with it', () => {
    expect(fromTemplateJson('{')).toMatchObject({ ok: false });
    expect(fromTemplateJson('[]')).toEqual({ ok: false, message: 'a template is a JSON object' });
    expect(fromTemplateJson('{"name":"x"}')).toEqual({ ok: false, message: 'a template has a "phases" array' });
    expect(fromTemplateJson('{"name":"x","phases":[{"kind":"gate"}]}')).toEqual({ ok: false, message: 'every phase needs an "id"' });
    const ok = fromTemplateJson(JSON.stringify(draft()));
    expect(ok.ok && ok.draft.phases).toHaveLength(4);
  });
});

describe('the template default repository', () => {
  it('sets, edits and removes workspace: { path, baseRef? }, and validates as a template', () => {
    const base = emptyDraft();
    const withPath = setDefaultWorkspace(base, { path: ' my-service ' });
    expect(withPath.workspace).toEqual({ path: 'my-service' });
    const withRef = setDefaultWorkspace(withPath, { baseRef: 'release/1.2' });
    expect(withRef.workspace).toEqual({ path: 'my-service', baseRef: 'release/1.2' });
    expect(JSON.parse(toTemplateJson(withRef)).workspace).toEqual({ path: 'my-service', baseRef: 'release/1.2' });
    const cleared = setDefaultWorkspace(setDefaultWorkspace(withRef, { baseRef: '' }), { path: '' });
    expect('workspace' in cleared).toBe(false);
  });
});

