import { Module, type DynamicModule } from '@nestjs/common';
import { createWorkerModule } from '@conclave/worker-kit';
import { createJudgeRuntime } from './adapters/judge-worker';
import type { JudgeEnv } from './config';

@Module({})
export class JudgeModule {
  static forRoot(env: JudgeEnv): DynamicModule {
    return createWorkerModule({
      module: JudgeModule,
      service: 'judge',
      env,
      describe: { judgeTimeoutSeconds: env.JUDGE_TIMEOUT_SECONDS },
      createRuntime: (log, logger) => createJudgeRuntime(env, log, logger),
      durables: (names) => [names.consumers.judgeWorkers],
    });
  }
}
