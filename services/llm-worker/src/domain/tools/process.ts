import { spawn } from 'node:child_process';

export interface ProcessResult {
  exitCode: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  truncated: boolean;
}

/**
 * Run a program without a shell (arguments are passed as-is, no expansion), in `cwd`, with a
 * timeout (SIGKILL) and a cap on the captured output (the rest is dropped, not buffered).
 */
export function runProcess(
  program: string,
  args: string[],
  options: { cwd: string; timeoutMs: number; outputCap: number; env?: NodeJS.ProcessEnv; signal?: AbortSignal },
): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { cwd: options.cwd, env: options.env, shell: false, stdio: ['ignore', 'pipe', 'pipe'], signal: options.signal });
    let stdout = '';
    let stderr = '';
    let truncated = false;
    let timedOut = false;
    const take = (current: string, chunk: Buffer): string => {
      const room = options.outputCap - stdout.length - stderr.length;
      if (room <= 0) {
        truncated = true;
        return current;
      }
      const text = chunk.toString('utf8');
      if (text.length > room) truncated = true;
      return current + text.slice(0, room);
    };
    child.stdout.on('data', (c: Buffer) => (stdout = take(stdout, c)));
    child.stderr.on('data', (c: Buffer) => (stderr = take(stderr, c)));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (exitCode, signal) => {
      clearTimeout(timer);
      resolve({ exitCode, signal, stdout, stderr, timedOut, truncated });
    });
  });
}
