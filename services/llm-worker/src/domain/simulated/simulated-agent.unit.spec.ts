import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { artifactJsonSchema, type ToolCallRecord } from '@conclave/contracts';
import { AjvOutputValidator } from '../../adapters/ajv-validator';
import { SimulatedProvider } from './simulated-provider';

describe('the simulated scripted agent', () => {
  let base: string;
  const validator = new AjvOutputValidator();
  beforeAll(async () => (base = await mkdtemp(path.join(tmpdir(), 'conclave-simagent-'))));
  afterAll(() => rm(base, { recursive: true, force: true }));

  const provider = () =>
    new SimulatedProvider({
      check: validator.check,
      agent: { workspacesRoot: base, workspaceRoots: [], bashAllow: [], bashTimeoutMs: 1_000, outputCap: 4_000, transcriptCap: 1_000, now: Date.now },
    });
  const request = (runId: string, tools = ['list_files', 'write_file', 'read_file']) => ({
    provider: 'simulated',
    model: 'sim',
    options: {},
    prompt: { user: 'Add a notes file' },
    output: { artifact: 'code-change' as const, schema: artifactJsonSchema('code-change') },
    slot: 0,
    runId,
    phaseId: 'p',
    candidateId: `${runId}.p.1.c0`,
    agent: { tools, maxIterations: 10 },
  });

  it('writes a file, reads it back, audits each call live and answers a valid code-change', async () => {
    const live: ToolCallRecord[] = [];
    const gen = await provider().generate(request('sim1'), { signal: new AbortController().signal, onDelta: () => undefined, onToolCall: (r) => live.push(r) });
    expect(gen.toolCalls?.map((c) => c.tool)).toEqual(['list_files', 'write_file', 'read_file']);
    expect(live).toEqual(gen.toolCalls);
    expect(validator.validate(artifactJsonSchema('code-change'), gen.output)).toEqual({ valid: true });
    const output = gen.output as { files: { path: string; change: string }[] };
    expect(output.files).toEqual([{ path: expect.stringMatching(/^conclave\/0-[0-9a-f]{8}\.md$/), change: 'created' }]);
    expect(await readFile(path.join(base, 'sim1', output.files[0].path), 'utf8')).toContain('Add a notes file');
    expect(gen.transcript?.some((m) => m.role === 'tool_result')).toBe(true);
  });

  it('is deterministic across runs and skips tools the phase did not enable', async () => {
    const ctx = { signal: new AbortController().signal, onDelta: () => undefined };
    const a = await provider().generate(request('sim2'), ctx);
    const b = await provider().generate(request('sim3'), ctx);
    expect(a.output).toEqual(b.output);
    const readOnly = await provider().generate(request('sim4', ['list_files']), ctx);
    expect(readOnly.toolCalls?.map((c) => c.tool)).toEqual(['list_files']);
  });
});
