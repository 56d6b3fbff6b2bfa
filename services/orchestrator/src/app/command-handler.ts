import { randomUUID } from 'node:crypto';
import {
  ConclaveError,
  OrchestratorRequest,
  runBranch,
  runWorkspaceOf,
  validateTemplate,
  type ErrorBody,
  type OrchestratorReply,
  type TraceContext,
} from '@conclave/contracts';
import { ConcurrencyError, natsUnavailable, type AppendMeta } from '@conclave/event-log';
import { newTrace, type SchemaValidator } from '@conclave/service-kit';
import { IllegalCommandError, isActive, resolveOutput, UnknownTargetError, type ActiveRun, type DecidedEvent, type StartRunInput } from '../domain';
import type { RunRepository } from '../adapters/run-repository';
import type { TemplateStore } from '../adapters/template-store';
import type { StudyService } from '../study/study-service';

export interface CommandDeps {
  runs: RunRepository;
  templates: TemplateStore;
  validator: SchemaValidator;
  now: () => Date;
  onInternalError: (err: unknown) => void;
  /** tell workers to abort in-flight calls (core NATS broadcast) */
  cancelWork: (runId: string, commandIds: string[] | undefined) => void;
  /** hand a dead letter back to its consumer (app/redrive.ts) */
  redrive: (deadLetterId: string, actor: { kind: string; id: string }) => Promise<{ id: string; sequence: number }>;
  /** re-judging studies (ADR 023); absent where a test needs none */
  studies?: StudyService;
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
        const checked = validateTemplate(command.template, { compileSchema: deps.validator.compileError });
        if (!checked.valid) return fail({ code: 'validation', message: 'the template is invalid', details: { errors: checked.errors } });
        const created = await deps.templates.create(checked.template, meta());
        return { ok: true, ...created };
      }
      case 'AddTemplateVersion': {
        const checked = validateTemplate(command.template, { compileSchema: deps.validator.compileError });
        if (!checked.valid) return fail({ code: 'validation', message: 'the template is invalid', details: { errors: checked.errors } });
        const added = await deps.templates.addVersion(command.templateId, checked.template, meta());
        return { ok: true, ...added };
      }
      case 'ArchiveTemplate': {
        const archived = await deps.templates.archive(command.templateId, meta());
        return { ok: true, ...archived };
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
            ...(command.budgetPolicy ? { budgetPolicy: command.budgetPolicy } : {}),
            ...(command.workspace ? { workspace: runWorkspaceOf(command.workspace, runId) } : {}),
            ...runTrace(),
          },
          meta(),
        );
        return { ok: true, id: runId, sequence: outcome.sequence };
      }
      case 'StartStudy': {
        if (!deps.studies) return fail({ code: 'unavailable', message: 'studies are not served by this orchestrator' });
        const studyId = randomUUID();
        const outcome = await deps.studies.handle(studyId, { type: 'StartStudy', studyId, command }, meta());
        return { ok: true, id: studyId, sequence: outcome.sequence };
      }
      case 'RedriveDeadLetter': {
        const redriven = await deps.redrive(command.deadLetterId, actor);
        return { ok: true, ...redriven };
      }
      case 'ForkRun':
      case 'RerunRun': {
        const source = await deps.runs.load(command.runId);
        if (!isActive(source.state)) return fail({ code: 'not_found', message: `run ${command.runId} does not exist` });
        const runId = randomUUID();
        const start = command.type === 'RerunRun' ? rerunOf(source.state, runId) : forkOf(source.state, source.position, command.fromPhaseId, runId);
        const outcome = await deps.runs.handle(runId, { ...start, ...runTrace() }, meta());
        return { ok: true, id: runId, sequence: outcome.sequence };
      }
      default: {
        const outcome = await deps.runs.handle(command.runId, { type: 'Command', command }, meta());
        const aborted = cancelledWork(outcome.appended as unknown as DecidedEvent[]);
        if (aborted) deps.cancelWork(command.runId, aborted.all ? undefined : aborted.commandIds);
        return { ok: true, id: command.runId, sequence: outcome.sequence };
      }
    }
  } catch (err) {
    if (err instanceof ConclaveError) return fail(err.toBody());
    if (err instanceof UnknownTargetError) return fail({ code: 'not_found', message: err.message });
    if (err instanceof IllegalCommandError) return fail({ code: 'illegal_state', message: err.message });
    if (err instanceof ConcurrencyError) return fail({ code: 'concurrency', message: 'the run changed concurrently; try again' });
    // NATS / JetStream not answering right now (a timeout while a server restarts): the client's
    // to retry, a 503 at the gateway, not an internal error. A timed-out append may still have
    // landed: the retry then meets the run's state, as after a gateway-side timeout
    const nats = natsUnavailable(err);
    if (nats) return fail({ code: 'unavailable', message: 'the event log (NATS) did not answer the orchestrator: retry shortly', details: { dependency: 'nats', cause: nats } });
    deps.onInternalError(err);
    return fail({ code: 'internal', message: 'the orchestrator failed to handle the command' });
  }
}

const fail = (error: ErrorBody): OrchestratorReply => ({ ok: false, error });

/** A new run's root span context (one trace per run, issue 14 §3); nothing when tracing is off. */
function runTrace(): { trace?: TraceContext } {
  const trace = newTrace();
  return trace ? { trace } : {};
}

/** Work a command abandoned: the whole run (cancel) or single dispatches (skip, rollback). */
function cancelledWork(events: DecidedEvent[]): { all: boolean; commandIds: string[] } | null {
  if (events.some((e) => e.type === 'RunCancelled')) return { all: true, commandIds: [] };
  const commandIds = events.flatMap((e) => (e.type === 'CandidateFailed' && e.data.error.code === 'cancelled' && e.data.attemptToken ? [e.data.attemptToken] : []));
  return commandIds.length > 0 ? { all: false, commandIds } : null;
}

function rerunOf(source: ActiveRun, runId: string): StartRunInput {
  return {
    type: 'StartRun',
    runId,
    templateId: source.templateId,
    templateVersion: source.templateVersion,
    template: source.template,
    name: source.name,
    inputs: source.inputs,
    autoMode: source.autoMode,
    budgetUsd: source.budgetUsd,
    ...(source.budgetPolicy ? { budgetPolicy: source.budgetPolicy } : {}),
    origin: { kind: 'rerun', runId: source.runId },
    // a rerun branches from the source's base, in the same repository
    ...(source.workspace ? { workspace: { ...source.workspace, branch: runBranch(runId) } } : {}),
  };
}

/**
 * The run branch's commit at a fork point: the tip after the last integration of a reused phase,
 * provided no phase that is not reused was integrated before it (its changes would come along);
 * otherwise the tip before that phase's integration.
 */
export function commitAtForkPoint(source: ActiveRun, reused: ReadonlySet<string>): string | undefined {
  if (!source.workspace) return undefined;
  let commit = source.workspace.baseCommit;
  for (const integration of source.integrations) {
    if (!reused.has(integration.phaseId)) break;
    commit = integration.commit;
  }
  return commit;
}

/** A new run that reuses every output recorded upstream of `fromPhaseId` and runs the rest. */
function forkOf(source: ActiveRun, sourceSequence: number, fromPhaseId: string, runId: string): StartRunInput {
  const defs = new Map(source.template.phases.map((p) => [p.id, p]));
  if (!defs.has(fromPhaseId)) throw new UnknownTargetError(`the run has no phase "${fromPhaseId}"`);
  const upstream = new Set<string>();
  const walk = (id: string) => {
    for (const dep of defs.get(id)!.dependsOn) {
      if (upstream.has(dep)) continue;
      upstream.add(dep);
      walk(dep);
    }
  };
  walk(fromPhaseId);
  const reused = [...upstream].map((phaseId) => {
    const phase = source.phases[phaseId]!;
    if (phase.status !== 'completed' || !phase.artifactId) {
      throw new IllegalCommandError(`upstream phase "${phaseId}" has no recorded output to reuse (it is ${phase.status})`);
    }
    const def = defs.get(phaseId)!;
    const artifactType = def.kind === 'gate' ? 'decision' : (def.kind === 'condition' || def.kind === 'tool' ? 'json' : (resolveOutput(def).artifact ?? 'json'));
    return { phaseId, artifactId: phase.artifactId, artifactType, content: phase.output };
  });
  const rerun = rerunOf(source, runId);
  const forkCommit = commitAtForkPoint(source, upstream);
  return {
    ...rerun,
    ...(rerun.workspace && forkCommit ? { workspace: { ...rerun.workspace, baseRef: `${source.workspace!.branch}@${fromPhaseId}`, baseCommit: forkCommit } } : {}),
    origin: { kind: 'fork', runId: source.runId },
    fork: { sourceRunId: source.runId, sourceSequence, fromPhaseId, reused },
  };
}
