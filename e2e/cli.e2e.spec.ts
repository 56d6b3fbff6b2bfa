import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ReplayStatus, RunView, TemplateView, type SocketEvent } from '@conclave/contracts';
import { createTestEnv, eventually, REPO_ROOT, startStack, waitForOk, type Stack, type TestEnv } from '@conclave/testing';

/**
 * The built `conclave` binary (cli/bin/conclave.js → cli/dist) as a user runs it, against the whole
 * stack with an API token: templates pushed and validated, runs started with --watch (progress on
 * stdout, gates answered at the prompt, the exit code from the outcome), gates decided by
 * `runs approve` / `runs reject`, cancel, `--json` output parsed with the contracts, a live
 * `events tail`, `replay --verify`, and errors that carry the API's message and request id.
 * Needs the build (node scripts/build.mjs).
 */
const BIN = join(REPO_ROOT, 'cli', 'bin', 'conclave.js');
const EXAMPLE = join(REPO_ROOT, 'templates', 'examples', 'gated-brief.json');
const TOKEN = 'cli-e2e-token-0123456789abcdef';

interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

interface Running {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  done: Promise<Finished>;
}

describe('the conclave CLI against the running stack', () => {
  let env: TestEnv;
  let stack: Stack;
  let templateId: string;
  const dir = mkdtempSync(join(tmpdir(), 'conclave-cli-e2e-'));
  const children = new Set<ChildProcess>();

  const start = (args: string[], extraEnv: Record<string, string> = {}): Running => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, CONCLAVE_URL: stack.url, CONCLAVE_API_TOKEN: TOKEN, ...extraEnv },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    children.add(child);
    const done = new Promise<Finished>((resolve) =>
      child.on('close', (code) => {
        children.delete(child);
        resolve({ code, stdout, stderr });
      }),
    );
    return { child, stdout: () => stdout, stderr: () => stderr, done };
  };
  const conclave = (args: string[], extraEnv: Record<string, string> = {}) => {
    const running = start(args, extraEnv);
    running.child.stdin!.end();
    return running.done;
  };
  const json = async <T>(args: string[], parse: (v: unknown) => T): Promise<T> => {
    const res = await conclave([...args, '--json']);
    expect({ args, code: res.code, stderr: res.stderr }).toEqual({ args, code: 0, stderr: '' });
    return parse(JSON.parse(res.stdout)); // nothing but JSON on stdout
  };
  /** waits for a running CLI to print `pattern`; a timeout shows what it printed */
  const printed = (running: Running, pattern: RegExp, what: string, stream: 'stdout' | 'stderr' = 'stdout', timeoutMs = 30_000) =>
    eventually(async () => pattern.test(running[stream]()), what, timeoutMs, 100).catch((err: Error) => {
      throw new Error(`${err.message}\n--- stdout\n${running.stdout()}\n--- stderr\n${running.stderr()}`);
    });
  const runView = (id: string) => json(['runs', 'show', id], (v) => RunView.parse(v));
  /** a run started by the CLI, once the read model has it (as a client reads its own write before watching it) */
  const startRun = async (topic: string) => {
    const { id } = await json(['runs', 'start', templateId, '--input', `topic=${topic}`], (v) => v as { id: string; sequence: number });
    await eventually(() => runView(id), `run ${id} in the read model`, 10_000, 100);
    return id;
  };
  const waitingOnGate = (id: string) => eventually(async () => (await runView(id)).pending.gates.some((g) => g.phaseId === 'review'), `run ${id} waits on its gate`, 30_000, 200);

  beforeAll(async () => {
    env = await createTestEnv('e2ecli');
    stack = await startStack(env, { label: `e2e-cli-${env.id}`, extraEnv: { CONCLAVE_API_TOKEN: TOKEN } });
  });

  afterAll(async () => {
    for (const child of children) child.kill('SIGKILL'); // a CLI a failed test left waiting
    if (stack) await stack.stop();
    await env?.dispose();
  });

  it('validates and pushes a template: errors located by phase and field, the API message and request id on a 422', async () => {
    const broken = JSON.parse(readFileSync(EXAMPLE, 'utf8'));
    broken.phases[1].dependsOn = ['breif'];
    const brokenFile = join(dir, 'broken.json');
    writeFileSync(brokenFile, JSON.stringify(broken));

    const validated = await conclave(['templates', 'validate', brokenFile]);
    expect(validated.code).toBe(1);
    expect(validated.stdout).toMatch(/^invalid: \d+ error\(s\)$/m);
    expect(validated.stdout).toMatch(/^ {2}- phase "review", field dependsOn\[0\]: phase "review" depends on unknown phase "breif" \[unknown_phase\]$/m);

    const refused = await conclave(['templates', 'push', brokenFile]);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toMatch(/^error: the template is invalid/);
    const requestId = /validation \(HTTP 422\), request id (\S+)/.exec(refused.stderr)?.[1];
    expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(refused.stderr).toMatch(/^ {2}- phase "review", field dependsOn\[0\]: .*"breif" \[unknown_phase\]$/m);
    // the id is the one the gateway logged for that request
    await eventually(async () => readFileSync(join(stack.logDir, 'gateway.log'), 'utf8').includes(requestId!), 'the request id in the gateway log', 10_000);

    const ok = await conclave(['templates', 'validate', EXAMPLE]);
    expect(ok).toMatchObject({ code: 0 });
    expect(ok.stdout).toMatch(/^valid: 3 phases in 3 level\(s\)/);

    const pushed = await conclave(['templates', 'push', EXAMPLE]);
    expect(pushed.code).toBe(0);
    templateId = /^pushed template (\S+) version 1$/m.exec(pushed.stdout)![1]!;

    const list = await json(['templates', 'list'], (v) => v as { items: { id: string; name: string; version: number }[] });
    expect(list.items).toContainEqual(expect.objectContaining({ id: templateId, name: 'gated-brief', version: 1 }));
    const shown = await json(['templates', 'show', templateId], (v) => TemplateView.parse(v));
    expect(shown.template.phases.map((p) => p.id)).toEqual(['brief', 'review', 'article']);
  });

  it('runs start --watch shows one line per phase change, answers the gate at the prompt, and exits 0 when the run completes', async () => {
    const watch = start(['runs', 'start', 'gated-brief', '--input', 'topic=river walks', '--input', 'words=120', '--watch']);
    await printed(watch, /approve\? \[y\|n/, 'the gate prompt', 'stdout', 60_000);
    watch.child.stdin!.write('y from the e2e\n');
    const res = await watch.done;
    expect({ code: res.code, stderr: res.stderr }).toEqual({ code: 0, stderr: '' });
    const out = res.stdout;
    const runId = /^started run (\S+) \(gated-brief v1\)$/m.exec(out)![1]!;
    // stdout is a pipe: plain lines, no cursor movement
    expect(out.includes(`${String.fromCharCode(27)}[`)).toBe(false);
    expect(out).toMatch(/^brief +running +cand 0\/2 +judge waiting /m);
    expect(out).toMatch(/^brief +completed +cand 2\/2 +judge picked simulated\/sim-[ab] +\d+ tok +\$0\.0000 +\d+\.\ds$/m);
    expect(out).toMatch(/^review +waiting +cand - +judge - .* gate: Publish this brief\?$/m);
    expect(out).toMatch(/^gate "review": Publish this brief\?$/m);
    expect(out).toMatch(/^approved gate "review"$/m);
    expect(out).toMatch(/^article +completed +cand 1\/1 +judge - /m);
    expect(out).toMatch(new RegExp(`^run ${runId} completed$`, 'm'));
    // one line per change: the completed brief is printed once
    expect(out.match(/^brief +completed/gm)).toHaveLength(1);

    const run = await runView(runId);
    expect(run.status).toBe('completed');
    expect(run.inputs).toEqual({ topic: 'river walks', words: 120 }); // typed by the inputs schema
    expect(run.phases.find((p) => p.id === 'review')!.gate).toMatchObject({ decision: 'approved', comment: 'from the e2e' });
  });

  it('a gate approved with `runs approve` ends a watch with 0; rejected with `runs reject`, 1; a cancelled run, 2', async () => {
    const outcomes: Record<string, number | null> = {};
    for (const [decision, status] of [
      ['approve', 'completed'],
      ['reject', 'failed'],
      ['cancel', 'cancelled'],
    ] as const) {
      const id = await startRun(decision);
      const watch = start(['runs', 'watch', id, '--no-prompt']);
      watch.child.stdin!.end();
      await waitingOnGate(id);
      const args = decision === 'cancel' ? ['runs', 'cancel', id, '--reason', 'the e2e'] : ['runs', decision, id, 'review', '--comment', 'by the e2e'];
      const accepted = await json(args, (v) => v as { sequence: number });
      expect(accepted.sequence).toBeGreaterThan(0);
      const res = await watch.done;
      outcomes[decision] = res.code;
      expect(res.stdout).toMatch(new RegExp(`^run ${id} ${status}`, 'm'));
      expect(res.stdout).not.toMatch(/approve\?/); // --no-prompt
    }
    expect(outcomes).toEqual({ approve: 0, reject: 1, cancel: 2 });
  });

  it('runs list / show --json parse with the contracts; events tail follows a run live; replay --verify finds no difference', async () => {
    const tailed = start(['events', 'tail', '--type', 'RunStarted,GateOpened,GateApproved,RunCompleted', '--json']);
    tailed.child.stdin!.end();
    await printed(tailed, /following runs, alerts/, 'the tail to subscribe', 'stderr');
    const id = await startRun('tail');
    await waitingOnGate(id);
    await json(['runs', 'approve', id, 'review'], (v) => v);
    await eventually(async () => (await runView(id)).status === 'completed', 'the run to complete', 30_000, 200);
    const lines = await eventually(async () => {
      const events = tailed
        .stdout()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as SocketEvent);
      return events.some((e) => e.type === 'RunCompleted' && e.runId === id) && events;
    }, 'RunCompleted in the tail', 20_000, 100);
    tailed.child.kill('SIGINT');
    expect((await tailed.done).code).toBe(0);
    const mine = lines.filter((e) => e.runId === id);
    expect(mine.map((e) => e.type)).toEqual(['RunStarted', 'GateOpened', 'GateApproved', 'RunCompleted']);
    expect(mine.map((e) => e.sequence)).toEqual([...mine.map((e) => e.sequence)].sort((a, b) => a - b));

    const page = await json(['runs', 'list', '--status', 'completed', '--limit', '10'], (v) => v as { items: { id: string; status: string; phasesDone: number; phasesTotal: number }[]; nextCursor: string | null });
    expect(page.items.find((r) => r.id === id)).toMatchObject({ status: 'completed', phasesDone: 3, phasesTotal: 3 });
    const run = await runView(id);
    expect(run.phases.map((p) => [p.id, p.status])).toEqual([
      ['brief', 'completed'],
      ['review', 'completed'],
      ['article', 'completed'],
    ]);

    // the progress goes to stderr (plain steps: it is not a terminal), the result to stdout
    const replayed = await conclave(['replay', '--verify', '--json']);
    expect({ code: replayed.code, stderr: replayed.stderr }).toEqual({ code: 0, stderr: expect.stringMatching(/^replay: /) });
    expect(ReplayStatus.parse(JSON.parse(replayed.stdout))).toMatchObject({ state: 'completed', mode: 'verify', differenceCount: 0 });
    expect(replayed.stderr).toMatch(/^replay: preparing \(log position 0\/\d+\)$/m); // steps seen between polls: a small log is folded within one
    expect(replayed.stderr).toMatch(/^replay: done \(log position (\d+)\/\1\)$/m);
  });

  it('refused requests print the message and the request id: a bad token (401), a gate that is not waiting (409)', async () => {
    const badToken = await conclave(['runs', 'list'], { CONCLAVE_API_TOKEN: 'not-the-token' });
    expect(badToken.code).toBe(1);
    expect(badToken.stdout).toBe('');
    expect(badToken.stderr).toMatch(/^error: missing or invalid bearer token .*\n {2}unauthorized \(HTTP 401\), request id [0-9a-f-]{36}\n$/);

    const id = await startRun('refused');
    await waitingOnGate(id);
    const notAGate = await conclave(['runs', 'approve', id, 'brief', '--json']);
    expect(notAGate.code).toBe(1);
    expect(notAGate.stdout).toBe('');
    const { error } = JSON.parse(notAGate.stderr) as { error: { code: string; status: number; message: string; requestId: string } };
    expect(error).toMatchObject({ code: 'illegal_state', status: 409 });
    expect(error.message).toMatch(/brief/);
    expect(error.requestId).toMatch(/^[0-9a-f-]{36}$/);
    await json(['runs', 'cancel', id], (v) => v);
  });

  it('interview questions are answered at the prompt of a watch, or with runs answer --answer; pause and resume', async () => {
    const interview = {
      name: 'cli-interview',
      phases: [
        { id: 'ask', kind: 'interview', maxQuestions: 2, prompt: { user: 'Ask about the trip' }, candidates: [{ provider: 'simulated', model: 'sim', options: { latencyMs: 200 } }] },
        { id: 'plan', kind: 'llm', dependsOn: ['ask'], prompt: { user: 'Plan with {{answers.ask}}' }, candidates: [{ provider: 'simulated', model: 'sim', options: { latencyMs: 3000 } }] },
      ],
    };
    const file = join(dir, 'interview.json');
    writeFileSync(file, JSON.stringify(interview));
    const interviewId = (await json(['templates', 'push', file], (v) => v as { id: string })).id;

    const watch = start(['runs', 'start', interviewId, '--watch']);
    await printed(watch, /^ {2}1\. .+\n {2}> $/m, 'the first question');
    watch.child.stdin!.write('Lisbon\nin May\n'); // typed ahead: the second answer waits for its question
    const res = await watch.done;
    expect({ code: res.code, stderr: res.stderr }).toEqual({ code: 0, stderr: '' });
    expect(res.stdout).toMatch(/^interview "ask": 2 question\(s\); answer each on one line$/m);
    expect(res.stdout).toMatch(/^answered 2 question\(s\) of "ask"$/m);
    const watchedId = /^started run (\S+)/m.exec(res.stdout)![1]!;
    const watched = await runView(watchedId);
    expect(watched.phases[0]!.interview!.answers!.map((a) => a.answer)).toEqual(['Lisbon', 'in May']);

    const { id } = await json(['runs', 'start', interviewId], (v) => v as { id: string });
    const asked = await eventually(async () => {
      const run = await runView(id);
      return run.pending.questions[0];
    }, 'the questions', 30_000, 200);
    expect(asked.questions).toHaveLength(2);
    await json(['runs', 'answer', id, 'ask', '--answer', '2=in June', '--answer', '1=Porto'], (v) => v);
    const answered = await eventually(async () => {
      const run = await runView(id);
      return run.phases[0]!.interview?.answers && run;
    }, 'the answers', 20_000, 200);
    expect(answered.phases[0]!.interview!.answers).toEqual([
      { question: asked.questions[0]!.question, answer: 'Porto' },
      { question: asked.questions[1]!.question, answer: 'in June' },
    ]);

    await json(['runs', 'pause', id], (v) => v);
    await eventually(async () => (await runView(id)).status === 'paused', 'the run paused', 20_000, 200);
    await json(['runs', 'resume', id], (v) => v);
    await eventually(async () => (await runView(id)).status === 'completed', 'the resumed run to complete', 30_000, 200);
  });

  it('a failed phase is retried on another model with runs retry: the watch of the failure exits 1, the next one 0', async () => {
    const slow = {
      name: 'cli-slow',
      phases: [
        {
          id: 'slow', kind: 'llm', timeoutSeconds: 1, retry: { maxAttempts: 1, backoffSeconds: 0 }, prompt: { user: 'x' },
          candidates: [{ provider: 'simulated', model: 'sim', options: { latencyMs: 4000 } }],
        },
      ],
    };
    const file = join(dir, 'slow.json');
    writeFileSync(file, JSON.stringify(slow));
    const slowId = (await json(['templates', 'push', file], (v) => v as { id: string })).id;

    const failed = await conclave(['runs', 'start', slowId, '--watch']);
    expect(failed.code).toBe(1);
    const id = /^started run (\S+)/m.exec(failed.stdout)![1]!;
    expect(failed.stdout).toMatch(/^slow +failed +cand 1\/1 .* timeout: /m);
    expect(failed.stdout).toMatch(new RegExp(`^run ${id} failed: timeout: `, 'm'));

    await json(['runs', 'retry', id, 'slow', '--provider', 'simulated', '--model', 'quick'], (v) => v);
    await eventually(async () => (await runView(id)).status !== 'failed', 'the retry to be applied', 20_000, 100);
    const retried = await conclave(['runs', 'watch', id]);
    expect(retried.code).toBe(0);
    expect(retried.stdout).toMatch(/^slow +completed +cand 1\/1 .* attempt 2$/m);
    const run = await runView(id);
    expect(run.phases[0]!.candidates.map((c) => `${c.provider}/${c.model}`)).toEqual(['simulated/quick']);
  });

  // last: it restarts the gateway
  it('a watch that loses the gateway reconnects, reads the run again and still ends with its outcome', async () => {
    const id = await startRun('reconnect');
    const watch = start(['runs', 'watch', id, '--no-prompt']);
    watch.child.stdin!.end();
    await waitingOnGate(id);
    await printed(watch, /^review +waiting/m, 'the watch to show the gate');

    const gateway = stack.processes.get('gateway')!;
    const exited = new Promise((resolve) => gateway.once('exit', resolve));
    gateway.kill('SIGTERM');
    await exited;
    await printed(watch, /live connection lost/, 'the watch to notice', 'stderr');
    stack.spawn('gateway');
    // decided while the watch is (most likely) still waiting to reconnect: it learns of it from the re-read
    await waitForOk(`${stack.url}/api/v1/health`, 45_000);
    const approved = await fetch(`${stack.url}/api/v1/runs/${id}/phases/review/approve`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: '{}' });
    expect(approved.status).toBe(202);

    const res = await watch.done;
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/^article +completed +cand 1\/1/m);
    expect(res.stdout).toMatch(new RegExp(`^run ${id} completed$`, 'm'));
  });
});
