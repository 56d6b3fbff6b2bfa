import { Module, type DynamicModule } from '@nestjs/common';
import { createWorkerModule } from '@conclave/worker-kit';
import { createGenerateRuntime } from './adapters/generate-worker';
import type { LlmWorkerEnv } from './config';

@Module({})
export class LlmWorkerModule {
  static forRoot(env: LlmWorkerEnv): DynamicModule {
    return createWorkerModule({
      module: LlmWorkerModule,
      service: 'llm-worker',
      env,
      createRuntime: (log, logger) => createGenerateRuntime(env, log, logger),
    });
  }
}
