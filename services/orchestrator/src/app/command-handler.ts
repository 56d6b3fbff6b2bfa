import { randomUUID } from 'node:crypto';
import {
  ConclaveError,
  OrchestratorRequest,
  validateTemplate,
  type ErrorBody,
  type OrchestratorReply,
} from '@conclave/contracts';
import { ConcurrencyError, type AppendMeta } from '@conclave/event-log';
import { IllegalCommandError } from '../domain';
import type { RunRepository } from '../adapters/run-repository';
import type { TemplateStore } from '../adapters/template-store';
import type { SchemaValidator } from '../adapters/validation';

export interface CommandDeps {
  runs: RunRepository;
  templates: TemplateStore;
  validator: SchemaValidator;
  now: () => Date;
  onInternalError: (err: unknown) => void;
}

/**
 * User commands from the gateway (NATS request/reply). Every outcome is a typed reply: errors
 * travel as data, never as a transport failure, and a refused command appends nothing.
 */
export async function handleOrchestratorRequest(deps: CommandDeps, payload: unknown): Promise<OrchestratorReply> {
  const parsed = OrchestratorRequest.safeParse(payload);
  if (!parsed.success) {
    return fail({ code: 'bad_request', message: 'malformed orchestrator request', details: parsed.error.issues });
  }
  const { command, actor, requestId } = parsed.data;
  const meta = (): AppendMeta => ({ occurredAt: deps.now().toISOString(), correlationId: requestId, causationId: requestId, actor });
  try {
    switch (command.type) {
      case 'CreateTemplate': {
        const checked = validateTemplate(command.template);
        if (!checked.valid) return fail({ code: 'validation', message: 'the template is invalid', details: { errors: checked.errors } });
        const created = await deps.templates.create(checked.template, meta());
        return { ok: true, ...created };
      }
      case 'AddTemplateVersion': {
        const checked = validateTemplate(command.template);
        if (!checked.valid) return fail({ code: 'validation', message: 'the template is invalid', details: { errors: checked.errors } });
        const added = await deps.templates.addVersion(command.templateId, checked.template, meta());
        return { ok: true, ...added };
      }
      case 'StartRun': {
        const { template, version } = await deps.templates.resolve(command.templateId, command.templateVersion);
        const inputErrors = deps.validator.validate(command.inputs, template.inputs);
        if (inputErrors.length > 0) {
          return fail({ code: 'validation', message: "the inputs do not match the template's inputs schema", details: { errors: inputErrors } });
        }
        const runId = randomUUID();
        const outcome = await deps.runs.handle(
          runId,
          {
            type: 'StartRun',
            runId,
            templateId: command.templateId,
            templateVersion: version,
            template,
            name: command.name ?? null,
            inputs: command.inputs,
            autoMode: command.autoMode,
            budgetUsd: command.budgetUsd ?? template.defaults.budgetUsd ?? null,
          },
          meta(),
        );
        return { ok: true, id: runId, sequence: outcome.sequence };
      }
      default: {
        const never: never = command;
        return fail({ code: 'bad_request', message: `unknown command ${JSON.stringify(never)}` });
      }
    }
  } catch (err) {
    if (err instanceof ConclaveError) return fail(err.toBody());
    if (err instanceof IllegalCommandError) return fail({ code: 'illegal_state', message: err.message });
    if (err instanceof ConcurrencyError) return fail({ code: 'concurrency', message: 'the run changed concurrently; try again' });
    deps.onInternalError(err);
    return fail({ code: 'internal', message: 'the orchestrator failed to handle the command' });
  }
}

const fail = (error: ErrorBody): OrchestratorReply => ({ ok: false, error });
