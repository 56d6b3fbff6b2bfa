import { CommandAccepted, RunView, TemplateView, type RunStatus } from '@conclave/contracts';
import { MultiBar, type SingleBar } from 'cli-progress';
import { ApiError, phasePath, runPath, UnreachableError, type ApiClient } from './client';
import { connectLive, type Live } from './live';
import { askAnswers, Prompter } from './prompt';
import { errorText, phaseProgress, planOf, progressKey, progressLine, runHeader, type PhasePlan } from './render';

export type Out = NodeJS.WritableStream & { isTTY?: boolean; columns?: number };

export interface WatchIo {
  stdout: Out;
  stderr: Out;
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  now(): number;
}

export interface WatchOptions {
  /** answer gates, questions and manual continues at the prompt */
  prompt: boolean;
  /** no progress on stdout (`--json`: the final run view is the only output) */
  quiet: boolean;
  /** the sequence the caller's own write reached (`POST /runs`): the first read waits for it, so a new run is never a 404 */
  minSequence?: number;
}

/** The exit code of a run's outcome: 0 completed, 1 failed, 2 cancelled. */
export const OUTCOME_EXIT: Record<'completed' | 'failed' | 'cancelled', number> = { completed: 0, failed: 1, cancelled: 2 };
const TERMINAL = new Set<RunStatus>(['completed', 'failed', 'cancelled']);
export const isTerminal = (status: RunStatus): status is 'completed' | 'failed' | 'cancelled' => TERMINAL.has(status);

/** How progress is shown: redrawn bars on a terminal, one plain line per change otherwise. */
interface Display {
  render(run: RunView, plans: Map<string, PhasePlan>, now: number): void;
  /** make room for a prompt (bars stop redrawing) */
  pause(): void;
  resume(): void;
  stop(): void;
}

/** A line per change: the run's status when it changes, a phase's line when any figure but its elapsed time changes. */
export class LineDisplay implements Display {
  private status: string | null = null;
  private readonly keys = new Map<string, string>();

  constructor(private readonly out: Out) {}

  render(run: RunView, plans: Map<string, PhasePlan>, now: number): void {
    const status = `${run.status}|${run.error?.message ?? ''}|${run.pauseReason?.message ?? ''}`;
    if (status !== this.status) {
      this.status = status;
      this.out.write(`${runHeader(run, now)}\n`);
    }
    const width = Math.max(...run.phases.map((p) => p.id.length), 5);
    for (const phase of run.phases) {
      const progress = phaseProgress(phase, plans.get(phase.id), now);
      const key = progressKey(progress);
      if (this.keys.get(phase.id) === key) continue;
      this.keys.set(phase.id, key);
      this.out.write(`${progressLine(progress, width)}\n`);
    }
  }

  pause(): void {}
  resume(): void {}
  stop(): void {}
}

const BAR_WIDTH = 12;

/** cli-progress bars, one per phase under a header line, redrawn in place; a 1 s tick keeps elapsed times moving. */
export class BarDisplay implements Display {
  private bars: MultiBar | null = null;
  private readonly rows = new Map<string, SingleBar>();
  private last: { run: RunView; plans: Map<string, PhasePlan> } | null = null;
  /** a prompt owns the terminal: renders only record the latest view */
  private paused = false;
  private readonly tick: NodeJS.Timeout;

  constructor(
    private readonly out: Out,
    private readonly now: () => number,
  ) {
    this.tick = setInterval(() => this.last && this.bars && this.render(this.last.run, this.last.plans, this.now()), 1000);
    this.tick.unref();
  }

  private open(): MultiBar {
    this.bars ??= new MultiBar(
      {
        stream: this.out,
        format: (_options, _params, payload: { line: string }) => payload.line,
        hideCursor: true,
        clearOnComplete: false,
        stopOnComplete: false,
        linewrap: false,
        fps: 10,
      },
    );
    return this.bars;
  }

  render(run: RunView, plans: Map<string, PhasePlan>, now: number): void {
    this.last = { run, plans };
    if (this.paused) return;
    const bars = this.open();
    const width = Math.max(...run.phases.map((p) => p.id.length), 5);
    const lines: [string, string, number, number][] = [['', runHeader(run, now), 1, 1]];
    for (const phase of run.phases) {
      const p = phaseProgress(phase, plans.get(phase.id), now);
      const settled = ['completed', 'skipped', 'failed', 'cancelled'].includes(phase.status);
      const total = Math.max(p.total, 1);
      const value = settled ? total : Math.min(p.done, total);
      const filled = Math.round((value / total) * BAR_WIDTH);
      const bar = `${'█'.repeat(filled)}${'░'.repeat(BAR_WIDTH - filled)}`;
      const line = progressLine(p, width);
      lines.push([phase.id, `${line.slice(0, width)} ${bar} ${line.slice(width + 1)}`, value, total]);
    }
    for (const [key, line, value, total] of lines) {
      const row = this.rows.get(key);
      if (row) {
        row.setTotal(total);
        row.update(value, { line });
      } else this.rows.set(key, bars.create(total, value, { line }));
    }
  }

  pause(): void {
    this.paused = true;
    this.bars?.stop();
    this.bars = null;
    this.rows.clear();
  }

  resume(): void {
    this.paused = false;
    if (this.last) this.render(this.last.run, this.last.plans, this.now());
  }

  stop(): void {
    clearInterval(this.tick);
    this.pause();
  }
}

/**
 * Follows a run until it completes, fails or is cancelled, and returns its last view.
 *
 * The view always comes from REST (`GET /runs/:id`, the read model); the `run:<id>` socket room
 * only says when to read it again: every event names its sequence, and the read asks for it
 * (`min_sequence`), so the view shown is never older than the last event seen. After every
 * (re)connection the room is joined again and the view read again: events missed while
 * disconnected are folded into it. A dependency that is briefly unavailable (503) or a gateway
 * that is restarting is retried; other errors end the watch.
 */
export async function watchRun(client: ApiClient, runId: string, io: WatchIo, options: WatchOptions): Promise<RunView> {
  const display: Display | null = options.quiet ? null : io.stdout.isTTY ? new BarDisplay(io.stdout, io.now) : new LineDisplay(io.stdout);
  const promptOut = options.quiet ? io.stderr : io.stdout;
  let plans = new Map<string, PhasePlan>();
  let planned: string | null = null;
  let wanted = options.minSequence ?? 0;
  let fetching = false;
  let again = false;
  let prompter: Prompter | null = null;
  let prompting: { key: string; abort: AbortController } | null = null;
  const decided = new Set<string>();
  let live: Live | null = null;
  let retryTimer: NodeJS.Timeout | null = null;
  let lastTrouble = '';

  return new Promise<RunView>((resolve, reject) => {
    let finished = false;
    const finish = (err: Error | null, run?: RunView) => {
      if (finished) return;
      finished = true;
      live?.close();
      if (retryTimer) clearTimeout(retryTimer);
      prompting?.abort.abort();
      prompter?.close();
      display?.stop();
      process.removeListener('SIGINT', onInterrupt);
      if (err) reject(err);
      else resolve(run!);
    };
    const onInterrupt = () => {
      display?.stop();
      io.stderr.write(`\nstopped watching run ${runId}; it goes on (conclave runs cancel ${runId} stops it)\n`);
      finish(Object.assign(new Error('interrupted'), { exitCode: 130, quiet: true }));
    };
    process.once('SIGINT', onInterrupt);

    const trouble = (message: string) => {
      if (message === lastTrouble) return;
      lastTrouble = message;
      io.stderr.write(`${message}\n`);
    };

    const loadPlans = async (run: RunView) => {
      const key = `${run.templateId}@${run.templateVersion}`;
      if (planned === key) return;
      const view = await client.get(`/templates/${encodeURIComponent(run.templateId)}`, TemplateView, { version: run.templateVersion });
      plans = planOf(view.template);
      planned = key;
    };

    const refresh = async (): Promise<void> => {
      if (fetching) {
        again = true;
        return;
      }
      fetching = true;
      try {
        do {
          again = false;
          const run = await client.get(runPath(runId), RunView, wanted > 0 ? { min_sequence: wanted } : {});
          if (finished) return;
          await loadPlans(run);
          lastTrouble = '';
          display?.render(run, plans, io.now());
          if (isTerminal(run.status)) return finish(null, run);
          if (prompting && !stillPending(run, prompting.key)) prompting.abort.abort();
          if (options.prompt && !prompting) void answerPending(run);
        } while (again && !finished);
      } catch (err) {
        if (finished) return;
        if ((err instanceof ApiError && err.status === 503) || err instanceof UnreachableError) {
          trouble(`${errorText(err)}\n(retrying)`);
          retryTimer = setTimeout(() => void refresh(), 2000);
        } else finish(err as Error);
      } finally {
        fetching = false;
      }
    };

    /** Asks about one thing the run waits on; answers it through the REST command, then reads the run again. */
    const answerPending = async (run: RunView) => {
      const next = nextPending(run, decided);
      if (!next) return;
      if (prompter?.closed) return;
      prompter ??= new Prompter(io.stdin, promptOut);
      const abort = new AbortController();
      prompting = { key: next.key, abort };
      display?.pause();
      try {
        const sequence = await next.ask(prompter, promptOut, abort.signal, client, runId);
        decided.add(next.key);
        if (sequence !== null) wanted = Math.max(wanted, sequence);
        else if (prompter.closed && !abort.signal.aborted) {
          promptOut.write(`(no more input: answer with conclave runs ${next.command} ${runId} ${next.phaseId ?? ''} or in the dashboard)\n`);
        }
      } catch (err) {
        // a refused command (e.g. the gate was decided meanwhile: 409) is shown; the watch goes on
        decided.add(next.key);
        io.stderr.write(`${errorText(err)}\n`);
      } finally {
        prompting = null;
        display?.resume();
      }
      if (!finished) void refresh();
    };

    live = connectLive(client.connection, [`run:${runId}`], {
      onEvent: (event) => {
        if (event.runId !== runId) return;
        wanted = Math.max(wanted, event.sequence);
        void refresh();
      },
      onSubscribed: () => void refresh(),
      onFatal: (err) => finish(err),
      onTrouble: (message) => trouble(message),
    });
    // the first read does not wait for the socket: a gateway without a live connection still shows the run
    void refresh();
  });
}

interface Pending {
  key: string;
  phaseId: string | null;
  command: string;
  /** the accepted command's sequence, or null when nothing was decided (skipped, or no more input) */
  ask(prompter: Prompter, out: Out, signal: AbortSignal, client: ApiClient, runId: string): Promise<number | null>;
}

function stillPending(run: RunView, key: string): boolean {
  return pendingKeys(run).includes(key);
}

function attemptOf(run: RunView, phaseId: string): number {
  return run.phases.find((p) => p.id === phaseId)?.attempt ?? 1;
}

function pendingKeys(run: RunView): string[] {
  return [
    ...run.pending.gates.map((g) => `gate:${g.phaseId}:${attemptOf(run, g.phaseId)}`),
    ...run.pending.questions.map((q) => `questions:${q.phaseId}:${attemptOf(run, q.phaseId)}`),
    ...(run.pending.continue.length > 0 ? [`continue:${run.pending.continue.join(',')}`] : []),
  ];
}

/** The first thing the run waits on that was not asked about yet: gates, then questions, then a manual continue. */
export function nextPending(run: RunView, decided: ReadonlySet<string>): Pending | null {
  if (run.status !== 'waiting') return null;
  for (const gate of run.pending.gates) {
    const key = `gate:${gate.phaseId}:${attemptOf(run, gate.phaseId)}`;
    if (!decided.has(key)) return gatePrompt(key, gate.phaseId, gate.message);
  }
  for (const asked of run.pending.questions) {
    const key = `questions:${asked.phaseId}:${attemptOf(run, asked.phaseId)}`;
    if (!decided.has(key)) return questionsPrompt(key, asked.phaseId, asked.questions);
  }
  if (run.pending.continue.length > 0) {
    const key = `continue:${run.pending.continue.join(',')}`;
    if (!decided.has(key)) return continuePrompt(key, run.pending.continue);
  }
  return null;
}

/** `y [comment]` approves, `n [comment]` rejects, an empty line leaves the gate open. */
export function parseGateAnswer(line: string): { decision: 'approve' | 'reject'; comment?: string } | null {
  const match = /^\s*(y|yes|approve|n|no|reject)\b\s*(.*)$/i.exec(line);
  if (!match) return null;
  const decision = /^(y|yes|approve)$/i.test(match[1]!) ? 'approve' : 'reject';
  const comment = match[2]!.trim();
  return comment ? { decision, comment } : { decision };
}

function gatePrompt(key: string, phaseId: string, message: string): Pending {
  return {
    key,
    phaseId,
    command: 'approve',
    async ask(prompter, out, signal, client, runId) {
      out.write(`gate "${phaseId}": ${message}\n`);
      for (;;) {
        const line = await prompter.ask('approve? [y|n, then an optional comment; Enter leaves it open] ', signal);
        if (line === null || line.trim() === '') return null;
        const answer = parseGateAnswer(line);
        if (!answer) {
          out.write('answer y or n (e.g. "y looks right" or "n the spec misses X")\n');
          continue;
        }
        const { sequence } = await client.post(phasePath(runId, phaseId, answer.decision), CommandAccepted, answer.comment ? { comment: answer.comment } : {});
        out.write(`${answer.decision === 'approve' ? 'approved' : 'rejected'} gate "${phaseId}"\n`);
        return sequence;
      }
    },
  };
}

type Questions = RunView['pending']['questions'][number]['questions'];

function questionsPrompt(key: string, phaseId: string, questions: Questions): Pending {
  return {
    key,
    phaseId,
    command: 'answer',
    async ask(prompter, out, signal, client, runId) {
      out.write(`interview "${phaseId}": ${questions.length} question(s); answer each on one line\n`);
      const answers = await askAnswers(() => prompter, out, questions, new Map(), signal);
      if (answers === null) return null;
      const { sequence } = await client.post(phasePath(runId, phaseId, 'answer'), CommandAccepted, { answers });
      out.write(`answered ${answers.length} question(s) of "${phaseId}"\n`);
      return sequence;
    },
  };
}

function continuePrompt(key: string, phaseIds: string[]): Pending {
  return {
    key,
    phaseId: null,
    command: 'continue',
    async ask(prompter, out, signal, client, runId) {
      const line = await prompter.ask(`continue with ${phaseIds.map((p) => `"${p}"`).join(', ')}? [y, Enter leaves the run waiting] `, signal);
      if (line === null || !/^\s*y(es)?\s*$/i.test(line)) return null;
      const { sequence } = await client.post(runPath(runId, 'continue'), CommandAccepted, {});
      out.write('continued\n');
      return sequence;
    },
  };
}
