import { createInterface, type Interface } from 'node:readline';

/**
 * Questions at the terminal, one line per answer. Lines are queued as they arrive, so answers typed
 * (or piped) ahead are kept for the questions that follow. `ask` gives null once the input has ended
 * or when its signal aborts (the question was settled elsewhere, e.g. in the dashboard).
 */
export class Prompter {
  private readonly rl: Interface;
  private readonly lines: string[] = [];
  private waiter: ((line: string | null) => void) | null = null;
  private ended = false;
  private readonly terminal: boolean;

  constructor(
    input: NodeJS.ReadableStream & { isTTY?: boolean },
    private readonly output: NodeJS.WritableStream & { isTTY?: boolean },
  ) {
    this.terminal = Boolean(input.isTTY && output.isTTY);
    this.rl = createInterface({ input, output, terminal: this.terminal });
    this.rl.on('line', (line) => {
      if (this.waiter) this.settle(line);
      else this.lines.push(line);
    });
    // a terminal in raw mode turns Ctrl-C into readline's SIGINT, which would only pause the input:
    // pass it on as the real signal (the watch stops; elsewhere the default ends the process)
    this.rl.on('SIGINT', () => {
      this.rl.close();
      process.kill(process.pid, 'SIGINT');
    });
    this.rl.on('close', () => {
      this.ended = true;
      this.settle(null);
    });
  }

  get closed(): boolean {
    return this.ended && this.lines.length === 0;
  }

  ask(question: string, signal?: AbortSignal): Promise<string | null> {
    if (this.lines.length > 0) {
      this.rl.setPrompt(question);
      this.rl.prompt();
      const line = this.lines.shift()!;
      this.echo(line);
      return Promise.resolve(line);
    }
    if (this.ended || signal?.aborted) return Promise.resolve(null);
    return new Promise((resolve) => {
      const onAbort = () => {
        this.output.write('\n');
        this.settle(null);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiter = (line) => {
        signal?.removeEventListener('abort', onAbort);
        if (line !== null) this.echo(line);
        resolve(line);
      };
      this.rl.setPrompt(question);
      this.rl.prompt();
    });
  }

  close(): void {
    this.rl.close();
  }

  private settle(line: string | null): void {
    const waiter = this.waiter;
    this.waiter = null;
    waiter?.(line);
  }

  /** without a terminal nothing echoes the answer: write it after its question, so the transcript reads right */
  private echo(line: string): void {
    if (!this.terminal) this.output.write(`${line}\n`);
  }
}

export interface AskedQuestion {
  question: string;
  why?: string | undefined;
}

/**
 * The answers to an interview's questions, one line each, numbered from 1; those in `given` (by
 * number) are not asked. Null when the input ends (or the signal aborts) before the last answer.
 */
export async function askAnswers(
  prompter: () => Prompter,
  out: NodeJS.WritableStream,
  questions: readonly AskedQuestion[],
  given: ReadonlyMap<number, string> = new Map(),
  signal?: AbortSignal,
): Promise<{ question: string; answer: string }[] | null> {
  const answers: { question: string; answer: string }[] = [];
  for (const [i, q] of questions.entries()) {
    let answer = given.get(i + 1);
    if (answer === undefined) {
      out.write(`  ${i + 1}. ${q.question}${q.why ? ` (${q.why})` : ''}\n`);
      const line = await prompter().ask('  > ', signal);
      if (line === null) return null;
      answer = line;
    }
    answers.push({ question: q.question, answer });
  }
  return answers;
}
