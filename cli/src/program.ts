import {
  CommandAccepted,
  CreatedResponse,
  Page,
  RunSummary,
  RunView,
  TemplateCreatedResponse,
  TemplateSummary,
  TemplateValidation,
  TemplateView,
  type SocketEvent,
} from '@conclave/contracts';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { ApiClient, ApiError, DEFAULT_URL, phasePath, runPath, type Connection } from './client';
import { tailEvents } from './events';
import { buildInputs, parseAnswerPairs, readTemplateFile, UsageError } from './inputs';
import { askAnswers, Prompter } from './prompt';
import { followReplay } from './replay';
import { errorText, formatCost, phaseProgress, planOf, progressLine, runHeader, table, templateErrorLine } from './render';
import { isTerminal, OUTCOME_EXIT, watchRun, type WatchIo } from './watch';

export interface CliIo extends WatchIo {
  env: NodeJS.ProcessEnv;
  fetch?: typeof fetch;
}

interface GlobalOptions {
  url?: string;
  token?: string;
  json?: boolean;
}

const TemplateList = Page(TemplateSummary).omit({ nextCursor: true });
const RunPage = Page(RunSummary);

const ENVIRONMENT_HELP = `
Environment:
  CONCLAVE_URL        the gateway (default ${DEFAULT_URL}); --url overrides it
  CONCLAVE_API_TOKEN  a bearer token the gateway accepts (its CONCLAVE_API_TOKEN or one of its
                      CONCLAVE_API_TOKENS); --token overrides it. Not needed on an open loopback gateway.

Exit codes: 0 success; 1 an error (the API's message and request id on stderr) or a failed run;
2 a cancelled run (runs start --watch, runs watch); 3 replay --verify found differences;
130 interrupted (the run goes on).
--json prints only JSON on stdout (errors go to stderr as {"error": …}).

Examples:
  conclave templates push templates/examples/gated-brief.json
  conclave runs start gated-brief --input topic="river walks" --watch
  conclave runs list --status running --json | jq '.items[].id'
  conclave events tail --run <run id> --type PhaseCompleted,RunCompleted
`;

/** Resolves the connection once per invocation: flags over the environment over the default. */
function connectionOf(command: Command, env: NodeJS.ProcessEnv): Connection {
  const opts = command.optsWithGlobals<GlobalOptions>();
  const url = opts.url ?? env.CONCLAVE_URL ?? DEFAULT_URL;
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error('not http(s)');
  } catch {
    throw new UsageError(`"${url}" is not a gateway URL (http://host:port)`);
  }
  const token = opts.token ?? (env.CONCLAVE_API_TOKEN?.trim() || undefined);
  return { url, token };
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

function positiveNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a positive number');
  return n;
}

/** Builds the command tree. `state.exitCode` carries a command's outcome (a run's, a verify's) back to runCli. */
export function buildProgram(io: CliIo, state: { exitCode: number }): Command {
  const out = (text: string): void => void io.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  const printJson = (value: unknown): void => out(JSON.stringify(value, null, 2));
  const clientOf = (command: Command) => new ApiClient(connectionOf(command, io.env), io.fetch);
  const jsonOf = (command: Command) => Boolean(command.optsWithGlobals<GlobalOptions>().json);

  const program = new Command('conclave')
    .description('Operate Conclave from the terminal: templates, runs with live progress, events, replay (REST /api/v1 and socket.io)')
    .option('--url <url>', 'the gateway (default: $CONCLAVE_URL, else http://localhost:3000)')
    .option('--token <token>', 'bearer token (default: $CONCLAVE_API_TOKEN)')
    .addHelpText('after', ENVIRONMENT_HELP)
    .showHelpAfterError('(conclave --help lists the commands)')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) });
  const jsonOption = () => new Option('--json', 'machine-readable output: JSON only on stdout');

  // ---------------------------------------------------------------- templates
  const templates = program.command('templates').description('list, show, validate and push workflow templates');
  templates
    .command('list')
    .description('the templates (id, name, latest version)')
    .addOption(jsonOption())
    .action(async (_opts, command: Command) => {
      const { items } = await clientOf(command).get('/templates', TemplateList);
      if (jsonOf(command)) return printJson({ items });
      if (items.length === 0) return out('no templates');
      out(table(['ID', 'NAME', 'VERSION', 'UPDATED', 'DESCRIPTION'], items.map((t) => [t.id, t.archived ? `${t.name} (archived)` : t.name, `v${t.version}`, t.updatedAt.slice(0, 19), oneLine(t.description, 60)])));
    });
  templates
    .command('show')
    .description('one template: its versions and phases')
    .argument('<id>', 'template id')
    .option('--version <n>', 'a version other than the latest', positiveInt)
    .addOption(jsonOption())
    .action(async (id: string, opts: { version?: number }, command: Command) => {
      const view = await clientOf(command).get(`/templates/${encodeURIComponent(id)}`, TemplateView, { version: opts.version });
      if (jsonOf(command)) return printJson(view);
      out(`${view.name} v${view.version}  (id ${view.id}; versions ${view.versions.join(', ')})${view.archived ? '  archived' : ''}`);
      if (view.description) out(view.description);
      const inputs = Object.keys((view.template.inputs as { properties?: Record<string, unknown> }).properties ?? {});
      out(`inputs: ${inputs.length > 0 ? inputs.join(', ') : '(none)'}`);
      out('');
      out(
        table(
          ['PHASE', 'KIND', 'DEPENDS ON', 'MODELS'],
          view.template.phases.map((p) => [
            p.id,
            p.kind,
            p.dependsOn.join(', ') || '-',
            'candidates' in p && p.candidates ? p.candidates.map((c) => `${c.provider}/${c.model}`).join(', ') : p.kind === 'gate' ? `"${oneLine(p.message, 50)}"` : '-',
          ]),
        ),
      );
    });
  templates
    .command('validate')
    .description('check a template file (JSON) against the gateway: errors by phase and field, or its execution levels; nothing is stored')
    .argument('<file>', 'a template as JSON (the import/export format of DESIGN.md)')
    .addOption(jsonOption())
    .action(async (file: string, _opts, command: Command) => {
      const template = readTemplateFile(file);
      const result = await clientOf(command).post('/templates/validate', TemplateValidation, template);
      if (!result.valid) state.exitCode = 1;
      if (jsonOf(command)) return printJson(result);
      if (result.valid) {
        out(`valid: ${result.levels.flat().length} phases in ${result.levels.length} level(s)`);
        result.levels.forEach((level, i) => out(`  level ${i + 1}: ${level.join(', ')}`));
      } else {
        out(`invalid: ${result.errors.length} error(s)`);
        for (const e of result.errors) out(`  - ${templateErrorLine(e)}`);
      }
    });
  templates
    .command('push')
    .description('store a template file (JSON) as a new template, or with --id as a new version of one')
    .argument('<file>', 'a template as JSON')
    .option('--id <id>', 'add a version to this template instead of creating one')
    .addOption(jsonOption())
    .action(async (file: string, opts: { id?: string }, command: Command) => {
      const template = readTemplateFile(file);
      const client = clientOf(command);
      const created = opts.id ? await client.put(`/templates/${encodeURIComponent(opts.id)}`, TemplateCreatedResponse, template) : await client.post('/templates', TemplateCreatedResponse, template);
      if (jsonOf(command)) return printJson(created);
      out(`pushed template ${created.id} version ${created.version}`);
    });

  // ---------------------------------------------------------------- runs
  const runs = program.command('runs').description('start, follow and control runs');
  runs
    .command('start')
    .description('start a run of a template (by id, or by name when unique)')
    .argument('<template>', 'template id or name')
    .option('--input <key=value>', 'an input (repeatable); typed by the template inputs schema', collect, [])
    .option('--inputs-file <file>', 'inputs as a JSON object (--input values override it)')
    .option('--name <name>', 'a name for the run')
    .option('--budget <usd>', 'the run budget in USD (it pauses when it would exceed it)', positiveNumber)
    .option('--manual', 'manual mode: each phase waits for continue')
    .option('--watch', 'follow the run live until it ends; the exit code is its outcome (0 completed, 1 failed, 2 cancelled)')
    .option('--no-prompt', 'with --watch: do not ask about gates, questions or continues (decide them elsewhere)')
    .addOption(jsonOption())
    .action(async (ref: string, opts: { input: string[]; inputsFile?: string; name?: string; budget?: number; manual?: boolean; watch?: boolean; prompt: boolean }, command: Command) => {
      const client = clientOf(command);
      const json = jsonOf(command);
      const template = await resolveTemplate(client, ref);
      const inputs = buildInputs(opts.input, opts.inputsFile, template.template.inputs);
      const created = await client.post('/runs', CreatedResponse, {
        templateId: template.id,
        inputs,
        ...(opts.name ? { name: opts.name } : {}),
        ...(opts.budget ? { budgetUsd: opts.budget } : {}),
        ...(opts.manual ? { autoMode: false } : {}),
      });
      if (!opts.watch) return json ? printJson(created) : out(`started run ${created.id}`);
      if (!json) out(`started run ${created.id} (${template.name} v${template.version})`);
      const run = await watchRun(client, created.id, io, { prompt: opts.prompt, quiet: json, minSequence: created.sequence });
      finishWatch(run, json);
    });
  runs
    .command('watch')
    .description('follow a run live until it ends (as runs start --watch)')
    .argument('<id>', 'run id')
    .option('--no-prompt', 'do not ask about gates, questions or continues')
    .addOption(jsonOption())
    .action(async (id: string, opts: { prompt: boolean }, command: Command) => {
      const json = jsonOf(command);
      const run = await watchRun(clientOf(command), id, io, { prompt: opts.prompt, quiet: json });
      finishWatch(run, json);
    });
  runs
    .command('list')
    .description('runs, newest first')
    .option('--status <status>', 'only runs in this status (running, paused, waiting, completed, failed, cancelled)')
    .option('--template <id>', 'only runs of this template')
    .option('--search <text>', 'runs whose name or template matches')
    .option('--limit <n>', 'at most this many (1–200, default 50)', positiveInt)
    .option('--cursor <cursor>', 'the next page (printed after a full page)')
    .addOption(jsonOption())
    .action(async (opts: { status?: string; template?: string; search?: string; limit?: number; cursor?: string }, command: Command) => {
      const page = await clientOf(command).get('/runs', RunPage, { status: opts.status, templateId: opts.template, q: opts.search, limit: opts.limit, cursor: opts.cursor });
      if (jsonOf(command)) return printJson(page);
      if (page.items.length === 0) return out('no runs');
      out(
        table(
          ['ID', 'STATUS', 'TEMPLATE', 'PHASES', 'COST', 'STARTED', 'NAME'],
          page.items.map((r) => [r.id, r.status, `${r.templateName} v${r.templateVersion}`, `${r.phasesDone}/${r.phasesTotal}`, formatCost(r.costUsd), r.startedAt.slice(0, 19), r.name ?? '']),
        ),
      );
      if (page.nextCursor) out(`more: conclave runs list --cursor ${page.nextCursor}`);
    });
  runs
    .command('show')
    .description('a run: status, each phase (candidates, judge, tokens, cost, elapsed) and what it waits on')
    .argument('<id>', 'run id')
    .addOption(jsonOption())
    .action(async (id: string, _opts, command: Command) => {
      const client = clientOf(command);
      const run = await client.get(runPath(id), RunView);
      if (jsonOf(command)) return printJson(run);
      const template = await client.get(`/templates/${encodeURIComponent(run.templateId)}`, TemplateView, { version: run.templateVersion });
      const plans = planOf(template.template);
      const now = io.now();
      out(runHeader(run, now));
      const width = Math.max(...run.phases.map((p) => p.id.length), 5);
      for (const phase of run.phases) out(`  ${progressLine(phaseProgress(phase, plans.get(phase.id), now), width)}`);
      for (const g of run.pending.gates) out(`waiting: gate "${g.phaseId}": ${g.message}  (conclave runs approve ${run.id} ${g.phaseId})`);
      for (const q of run.pending.questions) out(`waiting: ${q.questions.length} question(s) of "${q.phaseId}"  (conclave runs answer ${run.id} ${q.phaseId})`);
      if (run.pending.continue.length > 0) out(`waiting: continue ${run.pending.continue.join(', ')}  (conclave runs continue ${run.id})`);
    });

  const control = (name: string, description: string, path: string, body: (opts: Record<string, string | undefined>) => Record<string, unknown>, extra: (c: Command) => Command = (c) => c) =>
    extra(runs.command(name).description(description).argument('<id>', 'run id'))
      .addOption(jsonOption())
      .action(async (id: string, opts: Record<string, string | undefined>, command: Command) => {
        const accepted = await clientOf(command).post(runPath(id, path), CommandAccepted, body(opts));
        if (jsonOf(command)) return printJson(accepted);
        out(`${name}: accepted for run ${id} (sequence ${accepted.sequence})`);
      });
  control('cancel', 'cancel a run (in-flight model calls are aborted)', 'cancel', (o) => (o.reason ? { reason: o.reason } : {}), (c) => c.option('--reason <text>', 'why'));
  control('pause', 'pause a run: nothing new is dispatched until it is resumed', 'pause', () => ({}));
  control('resume', 'resume a paused run', 'resume', () => ({}));
  control('continue', 'continue a run in manual mode (the phases waiting for it start)', 'continue', () => ({}));

  const phaseControl = (name: string, description: string, body: (opts: Record<string, string | undefined>) => Record<string, unknown>, extra: (c: Command) => Command) =>
    extra(runs.command(name).description(description).argument('<id>', 'run id').argument('<phase>', 'phase id'))
      .addOption(jsonOption())
      .action(async (id: string, phase: string, opts: Record<string, string | undefined>, command: Command) => {
        const accepted = await clientOf(command).post(phasePath(id, phase, name), CommandAccepted, body(opts));
        if (jsonOf(command)) return printJson(accepted);
        out(`${name}: accepted for phase "${phase}" of run ${id} (sequence ${accepted.sequence})`);
      });
  phaseControl(
    'retry',
    'retry a phase, with the same or another provider/model',
    (o) => ({ ...(o.provider ? { provider: o.provider } : {}), ...(o.model ? { model: o.model } : {}) }),
    (c) => c.option('--provider <name>', 'another provider').option('--model <model>', 'another model'),
  );
  phaseControl('approve', 'approve a gate', (o) => (o.comment ? { comment: o.comment } : {}), (c) => c.option('--comment <text>', 'a comment kept with the decision'));
  phaseControl('reject', 'reject a gate (the run fails)', (o) => (o.comment ? { comment: o.comment } : {}), (c) => c.option('--comment <text>', 'a comment kept with the decision'));
  runs
    .command('answer')
    .description("answer an interview phase's questions: --answer N=text for each, or at the prompt")
    .argument('<id>', 'run id')
    .argument('<phase>', 'phase id')
    .option('--answer <n=text>', 'the answer to question N (1-based; repeatable)', collect, [])
    .addOption(jsonOption())
    .action(async (id: string, phaseId: string, opts: { answer: string[] }, command: Command) => {
      const client = clientOf(command);
      const run = await client.get(runPath(id), RunView);
      const asked = run.pending.questions.find((q) => q.phaseId === phaseId);
      if (!asked) throw new UsageError(`run ${id} is not waiting for answers in phase "${phaseId}"${run.pending.questions.length > 0 ? ` (it is in: ${run.pending.questions.map((q) => q.phaseId).join(', ')})` : ''}`);
      const given = parseAnswerPairs(opts.answer, asked.questions.length);
      const promptOut = jsonOf(command) ? io.stderr : io.stdout;
      // the prompt only opens (and reads stdin) when an answer is missing
      const lazy: { prompter: Prompter | null } = { prompter: null };
      const answers = await askAnswers(() => (lazy.prompter ??= new Prompter(io.stdin, promptOut)), promptOut, asked.questions, given).finally(() => lazy.prompter?.close());
      if (answers === null) throw new UsageError('the input ended before every question was answered: give the answers with --answer N=text');
      const accepted = await client.post(phasePath(id, phaseId, 'answer'), CommandAccepted, { answers });
      if (jsonOf(command)) return printJson(accepted);
      out(`answer: accepted for phase "${phaseId}" of run ${id} (sequence ${accepted.sequence})`);
    });

  // ---------------------------------------------------------------- events, replay
  program
    .command('events')
    .description('the event log')
    .command('tail')
    .description('follow events live (socket.io rooms: run:<id> with --run, else runs and alerts); gaps after a reconnection are read from GET /events')
    .option('--run <id>', "only this run's events")
    .option('--type <types>', 'only these event types (comma-separated; repeatable)', collect, [])
    .addOption(jsonOption())
    .action(async (opts: { run?: string; type: string[] }, command: Command) => {
      const json = jsonOf(command);
      const types = new Set(opts.type.flatMap((t) => t.split(',')).map((t) => t.trim()).filter(Boolean));
      await tailEvents(clientOf(command), { runId: opts.run, types }, io, (event: SocketEvent) => out(json ? JSON.stringify(event) : eventLine(event)));
    });
  program
    .command('replay')
    .description('rebuild every read model from the log on the gateway (POST /api/v1/admin/replay) with a progress bar; --verify compares instead of swapping')
    .option('--verify', 'rebuild aside and compare with the live tables row by row; nothing changes')
    .addOption(jsonOption())
    .action(async (opts: { verify?: boolean }, command: Command) => {
      const json = jsonOf(command);
      const status = await followReplay(clientOf(command), Boolean(opts.verify), io);
      if (status.state === 'failed') state.exitCode = 1;
      else if (status.mode === 'verify' && (status.differenceCount ?? 0) > 0) state.exitCode = 3;
      if (json) return printJson(status);
      if (status.state === 'failed') return out(`replay failed: ${status.error ?? 'unknown error'} (the live read models are unchanged)`);
      const what = status.mode === 'verify' ? 'verified' : 'rebuilt and swapped in';
      out(`${what} the read models up to log position ${status.sequence ?? status.processed}`);
      if (status.mode === 'verify') {
        out(status.differenceCount ? `${status.differenceCount} difference(s) between the live tables and the rebuild:` : 'no differences');
        for (const d of status.differences.slice(0, 20)) out(`  ${d.table} ${JSON.stringify(d.key)}: ${d.kind}${d.columns.length > 0 ? ` (${d.columns.join(', ')})` : ''}`);
      }
    });

  function finishWatch(run: RunView, json: boolean) {
    if (!isTerminal(run.status)) throw new Error(`run ${run.id} stopped being watched while ${run.status}`);
    state.exitCode = OUTCOME_EXIT[run.status];
    if (json) return printJson(run);
    out(`run ${run.id} ${run.status}${run.error ? `: ${run.error.code}: ${run.error.message}` : ''}`);
  }

  return program;
}

/** A template by id, else by exact name among the listed (non-archived first). */
async function resolveTemplate(client: ApiClient, ref: string) {
  try {
    return await client.get(`/templates/${encodeURIComponent(ref)}`, TemplateView);
  } catch (err) {
    if (!(err instanceof ApiError) || err.status !== 404) throw err;
    const { items } = await client.get('/templates', TemplateList);
    const named = items.filter((t) => t.name === ref);
    const live = named.filter((t) => !t.archived);
    const pick = live.length > 0 ? live : named;
    if (pick.length === 1) return client.get(`/templates/${encodeURIComponent(pick[0]!.id)}`, TemplateView);
    if (pick.length > 1) throw new UsageError(`${pick.length} templates are named "${ref}": use an id (${pick.map((t) => t.id).join(', ')})`);
    throw err;
  }
}

function oneLine(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** `12:03:04.123  #5002  PhaseCompleted  run abc  phase plan` */
export function eventLine(event: SocketEvent): string {
  const data = (event.data ?? {}) as { phaseId?: unknown };
  return [event.occurredAt.slice(11, 23), `#${event.sequence}`, event.type, ...(event.runId ? [`run ${event.runId}`] : []), ...(typeof data.phaseId === 'string' ? [`phase ${data.phaseId}`] : [])].join('  ');
}

/** Runs the CLI; resolves with the process exit code (errors are printed, never thrown). */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const state = { exitCode: 0 };
  const program = buildProgram(io, state);
  const json = argv.includes('--json');
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return state.exitCode;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 1; // commander printed the usage error (or the help)
    if ((err as { quiet?: boolean }).quiet) return (err as { exitCode?: number }).exitCode ?? 1;
    if (json) io.stderr.write(`${JSON.stringify({ error: errorJson(err) })}\n`);
    else io.stderr.write(`${errorText(err)}\n`);
    return 1;
  }
}

function errorJson(err: unknown) {
  if (err instanceof ApiError) return { code: err.code, message: err.message, status: err.status, requestId: err.requestId, details: err.details };
  return { code: err instanceof UsageError ? 'usage' : 'client', message: err instanceof Error ? err.message : String(err) };
}
