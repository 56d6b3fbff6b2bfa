import type { EventLog } from '@conclave/event-log';
import type { SchemaValidator } from '@conclave/service-kit';
import type { RunRepository } from '../../adapters/run-repository';
import { TemplateStore } from '../../adapters/template-store';
import type { CommandDeps } from '../command-handler';

/** What the command handler needs, for tests that drive it over a real log: internal errors are thrown, nothing is cancelled or redriven. */
export function testCommandDeps(log: EventLog, runs: RunRepository, validator: SchemaValidator): CommandDeps {
  return {
    runs,
    templates: new TemplateStore(log),
    validator,
    now: () => new Date(),
    onInternalError: (e) => {
      throw e;
    },
    cancelWork: () => undefined,
    redrive: () => Promise.reject(new Error('no redrive here')),
  };
}
