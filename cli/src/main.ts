import { runCli } from './program';

// The `conclave` binary (cli/bin/conclave.js). The exit code is set, not forced: output still
// being written to a pipe is flushed before the process ends.
runCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env, now: () => Date.now() }).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`conclave: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
