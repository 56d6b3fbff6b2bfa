import { describeWorkerEnv, WorkerEnv } from './config';

describe('WorkerEnv: the tool sandbox', () => {
  it('defaults to bubblewrap with sane limits', () => {
    const env = WorkerEnv.parse({});
    expect(env).toMatchObject({ AGENT_SANDBOX: 'bwrap', SANDBOX_MEMORY_MB: 4096, SANDBOX_CPU_SECONDS: 600, SANDBOX_MAX_PROCESSES: 256, SANDBOX_MAX_FILE_MB: 512 });
    expect(describeWorkerEnv(env)).toMatchObject({ agentSandbox: 'bwrap', sandboxLimits: { memoryMb: 4096, cpuSeconds: 600, maxProcesses: 256, maxFileMb: 512 } });
  });

  it('takes the explicit opt-out and limits from the env (0 = unlimited), and refuses anything else', () => {
    expect(WorkerEnv.parse({ AGENT_SANDBOX: 'none', SANDBOX_MEMORY_MB: '0', SANDBOX_MAX_PROCESSES: '32' })).toMatchObject({ AGENT_SANDBOX: 'none', SANDBOX_MEMORY_MB: 0, SANDBOX_MAX_PROCESSES: 32 });
    expect(WorkerEnv.safeParse({ AGENT_SANDBOX: 'off' }).success).toBe(false);
    expect(WorkerEnv.safeParse({ SANDBOX_CPU_SECONDS: '-1' }).success).toBe(false);
  });
});
