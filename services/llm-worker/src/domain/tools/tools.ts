import { readdir, readFile, stat, writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { ToolCallRecord } from '@conclave/contracts';
import { defaultSandbox, sandboxPathsOf, type Sandbox, type SandboxResult } from './sandbox';
import { ToolRefused, Workspace } from './workspace';

export const AGENT_TOOLS = ['read_file', 'write_file', 'edit_file', 'list_files', 'search', 'bash', 'git'] as const;
export type AgentToolName = (typeof AGENT_TOOLS)[number];

export interface ToolSettings {
  /** programs `bash` may run (by bare name, looked up on PATH) */
  bashAllow: string[];
  bashTimeoutMs: number;
  /** characters of output a tool returns to the model */
  outputCap: number;
  /** clock for audit timestamps and durations (the domain takes time as an input) */
  now: () => number;
  /**
   * where `bash` and `git` processes run (the worker's, probed at boot); absent = bubblewrap with
   * the default limits when it is installed, else every such call is refused
   */
  sandbox?: Sandbox;
}

export const DEFAULT_BASH_ALLOW = ['ls', 'cat', 'grep', 'node', 'npm', 'git', 'echo', 'wc', 'head', 'tail'];

export interface ToolSpecJson {
  name: AgentToolName;
  description: string;
  parameters: Record<string, unknown>;
}

const str = (description: string) => ({ type: 'string', description });
/** The tools as offered to a model (JSON Schema arguments). */
export const TOOL_SPECS: Record<AgentToolName, ToolSpecJson> = {
  read_file: {
    name: 'read_file',
    description: 'Read a UTF-8 text file of the workspace.',
    parameters: { type: 'object', properties: { path: str('path relative to the workspace') }, required: ['path'] },
  },
  write_file: {
    name: 'write_file',
    description: 'Create or overwrite a text file of the workspace (parent folders are created).',
    parameters: { type: 'object', properties: { path: str('path relative to the workspace'), content: str('the whole new content') }, required: ['path', 'content'] },
  },
  edit_file: {
    name: 'edit_file',
    description: 'Replace one exact, unique occurrence of old_text with new_text in a file.',
    parameters: {
      type: 'object',
      properties: { path: str('path relative to the workspace'), old_text: str('text that occurs exactly once'), new_text: str('replacement') },
      required: ['path', 'old_text', 'new_text'],
    },
  },
  list_files: {
    name: 'list_files',
    description: 'List files under a folder of the workspace (recursive, .git skipped, capped).',
    parameters: { type: 'object', properties: { path: str('folder relative to the workspace (default ".")') } },
  },
  search: {
    name: 'search',
    description: 'Search the workspace files for a substring (or a regular expression with regex: true). Returns path:line: text, capped.',
    parameters: {
      type: 'object',
      properties: { pattern: str('substring or regular expression'), regex: { type: 'boolean' }, path: str('folder to search (default ".")') },
      required: ['pattern'],
    },
  },
  bash: {
    name: 'bash',
    description: 'Run one allow-listed program (no shell: no pipes, redirections or globbing) in the workspace.',
    parameters: {
      type: 'object',
      properties: { program: str('program name, e.g. ls'), args: { type: 'array', items: { type: 'string' } } },
      required: ['program'],
    },
  },
  git: {
    name: 'git',
    description: 'git in the workspace: status, diff, or commit (stages everything) with a message. In a run worktree your changes are committed for you when you finish.',
    parameters: { type: 'object', properties: { action: { type: 'string', enum: ['status', 'diff', 'commit'] }, message: str('commit message') }, required: ['action'] },
  },
};

export type FileChange = 'created' | 'modified' | 'deleted' | 'read';

const MAX_LIST = 500;
const MAX_MATCHES = 100;
const MAX_SEARCH_FILE_BYTES = 1_000_000;
const SUMMARY_CAP = 500;

/**
 * Runs an agent's tool calls in one workspace, audits each one (`ToolCallRecord`) and keeps track
 * of the files read, created and modified (for the code-change artifact). A refused call (a path
 * out of the workspace, a program not allowed, a tool not enabled for the phase) is returned to
 * the model as an error and audited `refused: true`; it never throws.
 */
export class ToolExecutor {
  readonly records: ToolCallRecord[] = [];
  readonly files = new Map<string, FileChange>();

  constructor(
    readonly workspace: Workspace,
    private readonly enabled: readonly string[],
    private readonly settings: ToolSettings,
    private readonly onRecord: (record: ToolCallRecord) => void = () => undefined,
  ) {}

  specs(): ToolSpecJson[] {
    return AGENT_TOOLS.filter((t) => this.enabled.includes(t)).map((t) => TOOL_SPECS[t]);
  }

  async run(tool: string, input: Record<string, unknown>): Promise<{ content: string; isError: boolean; refused: boolean }> {
    const started = this.settings.now();
    let content: string;
    let isError = false;
    let refused = false;
    try {
      if (!this.enabled.includes(tool) || !(AGENT_TOOLS as readonly string[]).includes(tool)) throw new ToolRefused(`tool "${tool}" is not enabled for this phase`);
      content = await this.dispatch(tool as AgentToolName, input);
    } catch (err) {
      isError = true;
      refused = err instanceof ToolRefused;
      content = `${refused ? 'refused' : 'error'}: ${err instanceof Error ? err.message : String(err)}`;
    }
    content = cap(content, this.settings.outputCap);
    const record: ToolCallRecord = {
      tool,
      input: summariseInput(input),
      outputSummary: cap(content, SUMMARY_CAP),
      durationMs: Math.max(0, Math.round(this.settings.now() - started)),
      refused,
      at: new Date(started).toISOString(),
    };
    this.records.push(record);
    this.onRecord(record);
    return { content, isError, refused };
  }

  private dispatch(tool: AgentToolName, input: Record<string, unknown>): Promise<string> {
    switch (tool) {
      case 'read_file':
        return this.readFile(input);
      case 'write_file':
        return this.writeFile(input);
      case 'edit_file':
        return this.editFile(input);
      case 'list_files':
        return this.listFiles(input);
      case 'search':
        return this.search(input);
      case 'bash':
        return this.bash(input);
      case 'git':
        return this.git(input);
    }
  }

  private async readFile(input: Record<string, unknown>): Promise<string> {
    const abs = await this.workspace.resolve(input.path);
    const text = await readFile(abs, 'utf8');
    this.track(abs, 'read');
    return text;
  }

  private async writeFile(input: Record<string, unknown>): Promise<string> {
    const abs = this.notGitDir(await this.workspace.resolve(input.path));
    if (typeof input.content !== 'string') throw new Error('content must be a string');
    const existed = await exists(abs);
    await mkdir(path.dirname(abs), { recursive: true });
    await writeFile(abs, input.content, 'utf8');
    this.track(abs, existed ? 'modified' : 'created');
    return `wrote ${input.content.length} characters to ${this.workspace.relative(abs)}`;
  }

  private async editFile(input: Record<string, unknown>): Promise<string> {
    const abs = this.notGitDir(await this.workspace.resolve(input.path));
    const { old_text: oldText, new_text: newText } = input;
    if (typeof oldText !== 'string' || oldText.length === 0 || typeof newText !== 'string') throw new Error('old_text (non-empty) and new_text must be strings');
    const text = await readFile(abs, 'utf8');
    const first = text.indexOf(oldText);
    if (first < 0) throw new Error('old_text does not occur in the file');
    if (text.indexOf(oldText, first + 1) >= 0) throw new Error('old_text occurs more than once: include more context to make it unique');
    await writeFile(abs, text.slice(0, first) + newText + text.slice(first + oldText.length), 'utf8');
    this.track(abs, 'modified');
    return `replaced 1 occurrence in ${this.workspace.relative(abs)}`;
  }

  private async listFiles(input: Record<string, unknown>): Promise<string> {
    const abs = await this.workspace.resolve(input.path ?? '.');
    const out: string[] = [];
    await this.walk(abs, (file) => out.push(this.workspace.relative(file)), MAX_LIST);
    return out.length === 0 ? '(no files)' : out.join('\n') + (out.length >= MAX_LIST ? `\n… (capped at ${MAX_LIST})` : '');
  }

  private async search(input: Record<string, unknown>): Promise<string> {
    if (typeof input.pattern !== 'string' || input.pattern.length === 0) throw new Error('pattern must be a non-empty string');
    let matcher: (line: string) => boolean;
    if (input.regex === true) {
      let re: RegExp;
      try {
        re = new RegExp(input.pattern);
      } catch (err) {
        throw new Error(`invalid regular expression: ${err instanceof Error ? err.message : String(err)}`);
      }
      matcher = (line) => re.test(line);
    } else {
      const needle = input.pattern;
      matcher = (line) => line.includes(needle);
    }
    const abs = await this.workspace.resolve(input.path ?? '.');
    const matches: string[] = [];
    const files: string[] = [];
    await this.walk(abs, (f) => files.push(f), 5_000);
    for (const file of files) {
      if (matches.length >= MAX_MATCHES) break;
      const info = await stat(file);
      if (info.size > MAX_SEARCH_FILE_BYTES) continue;
      const lines = (await readFile(file, 'utf8')).split('\n');
      for (let i = 0; i < lines.length && matches.length < MAX_MATCHES; i += 1) {
        if (matcher(lines[i])) matches.push(`${this.workspace.relative(file)}:${i + 1}: ${lines[i].slice(0, 300)}`);
      }
    }
    return matches.length === 0 ? '(no matches)' : matches.join('\n') + (matches.length >= MAX_MATCHES ? `\n… (capped at ${MAX_MATCHES})` : '');
  }

  private async bash(input: Record<string, unknown>): Promise<string> {
    const program = input.program;
    const args = input.args ?? [];
    if (typeof program !== 'string' || !this.settings.bashAllow.includes(program)) {
      throw new ToolRefused(`program "${String(program)}" is not allowed (allowed: ${this.settings.bashAllow.join(', ')})`);
    }
    if (!Array.isArray(args) || !args.every((a): a is string => typeof a === 'string')) throw new Error('args must be an array of strings');
    // Arguments that look like paths must stay inside the workspace too (cat ../../etc/passwd).
    for (const arg of args) {
      if (arg.startsWith('-')) continue;
      if (path.isAbsolute(arg) || arg.split(/[\\/]/).includes('..') || arg.startsWith('~')) throw new ToolRefused(`argument "${arg}" points outside the workspace`);
    }
    const result = await this.sandboxed(program, args, this.settings.outputCap);
    const status = describeEnd(result, this.settings.bashTimeoutMs);
    if (result.timedOut || result.exitCode !== 0) {
      throw new Error(`${status}\n${result.stdout}${result.stderr ? `\n[stderr]\n${result.stderr}` : ''}`);
    }
    return `${result.stdout}${result.stderr ? `\n[stderr]\n${result.stderr}` : ''}${result.truncated ? '\n… (output capped)' : ''}` || `(${status}, no output)`;
  }

  private async git(input: Record<string, unknown>): Promise<string> {
    const action = input.action;
    const run = (...args: string[]) => this.sandboxed('git', ['-c', 'core.quotepath=off', ...args], this.settings.outputCap, { GIT_CONFIG_NOSYSTEM: '1' });
    if (!(await this.isGitRepo())) throw new Error('the workspace is not a git repository');
    let result;
    if (action === 'status') result = await run('status', '--short', '--branch');
    else if (action === 'diff') result = await run('diff');
    else if (action === 'commit') {
      if (typeof input.message !== 'string' || input.message.trim().length === 0) throw new Error('commit needs a message');
      // a candidate's worktree of a run: the repository is read-only to the agent; its changes become
      // one commit when the phase ends (the winner's lands on the run branch)
      if (this.workspace.git?.base) return 'Nothing to do now: Conclave commits all your changes in this worktree when you finish.';
      const add = await run('add', '-A');
      if (add.exitCode !== 0) throw new Error(`git add failed: ${add.stderr}`);
      result = await run('-c', 'user.name=Conclave agent', '-c', 'user.email=agent@conclave.local', 'commit', '-m', input.message);
    } else throw new ToolRefused(`git action "${String(action)}" is not allowed (status, diff, commit)`);
    if (result.exitCode !== 0) throw new Error(`git ${String(action)} failed (${describeEnd(result, this.settings.bashTimeoutMs)}): ${result.stderr || result.stdout}`);
    return result.stdout || '(no output)';
  }

  /** `git diff` of the workspace including new files (marked intent-to-add), '' when not a repository. */
  async diff(): Promise<string> {
    if (!(await this.isGitRepo())) return '';
    // in the sandbox too: the workspace's files and git config are the agent's to shape
    try {
      await this.sandboxed('git', ['add', '--intent-to-add', '--all'], 200_000, { GIT_CONFIG_NOSYSTEM: '1' });
      const result = await this.sandboxed('git', ['-c', 'core.quotepath=off', 'diff'], 200_000, { GIT_CONFIG_NOSYSTEM: '1' });
      return result.exitCode === 0 ? result.stdout : '';
    } catch (err) {
      if (err instanceof ToolRefused) return ''; // no sandbox on this worker: no diff rather than an unconfined git
      throw err;
    }
  }

  /**
   * One process in the sandbox: only the workspace (and, for a worktree, its admin dir and the
   * repository's objects) writable, no network, a scrubbed environment, the sandbox's limits.
   * A sandbox that is unavailable refuses (ToolRefused: audited `refused: true`).
   */
  private sandboxed(program: string, args: string[], outputCap: number, env?: Record<string, string>): Promise<SandboxResult> {
    const sandbox = this.settings.sandbox ?? defaultSandbox();
    const { cwd, writable, readable } = sandboxPathsOf(this.workspace);
    return sandbox.run(program, args, { cwd, writable: writable.filter((p) => p !== cwd), readable, timeoutMs: this.settings.bashTimeoutMs, outputCap, env });
  }

  /**
   * The workspace's `.git` (a worktree's pointer file, or a repository) is the worker's: these
   * tools write outside the sandbox, and the worker later runs git here, following `.git` to
   * whatever config it names (filters, diff drivers: code run as the worker). Read-only in the
   * sandbox too (sandboxPathsOf).
   */
  private notGitDir(abs: string): string {
    if (this.workspace.relative(abs).split(path.sep)[0] === '.git') throw new ToolRefused(`"${this.workspace.relative(abs)}" is in the workspace's .git: use the git tool`);
    return abs;
  }

  private async isGitRepo(): Promise<boolean> {
    return exists(path.join(this.workspace.root, '.git'));
  }

  private track(abs: string, change: FileChange): void {
    const rel = this.workspace.relative(abs);
    const before = this.files.get(rel);
    // created stays created; modified wins over read
    if (before === 'created' && change !== 'deleted') return;
    if (before === 'modified' && change === 'read') return;
    this.files.set(rel, change);
  }

  private async walk(dir: string, visit: (file: string) => void, cap: number): Promise<void> {
    let count = 0;
    const stack = [dir];
    while (stack.length > 0 && count < cap) {
      const current = stack.pop()!;
      const info = await stat(current).catch(() => null);
      if (!info) continue;
      if (info.isFile()) {
        visit(current);
        count += 1;
        continue;
      }
      const entries = await readdir(current, { withFileTypes: true });
      entries.sort((a, b) => b.name.localeCompare(a.name));
      for (const e of entries) {
        if (e.name === '.git' || e.name === 'node_modules') continue;
        const child = path.join(current, e.name);
        if (e.isSymbolicLink()) {
          // a symlink is listed only when it points inside the workspace
          try {
            await this.workspace.resolve(this.workspace.relative(child));
          } catch {
            continue;
          }
        }
        stack.push(child);
      }
    }
  }
}

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}

/** How a sandboxed process ended, in words the agent can act on. */
function describeEnd(r: SandboxResult, timeoutMs: number): string {
  switch (r.limit) {
    case 'timeout':
      return `timed out after ${timeoutMs} ms (killed)`;
    case 'output':
      return 'killed: it kept writing far beyond the output cap';
    case 'cpu':
      return 'killed: CPU time limit of the sandbox reached';
    case 'file_size':
      return 'killed: file size limit of the sandbox reached';
    case 'processes':
      return `exit ${r.exitCode ?? r.signal}; the sandbox's process limit refused some forks`;
    default:
      return `exit ${r.exitCode ?? r.signal}`;
  }
}

function cap(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length - max} more characters)`;
}

/** Audit inputs keep their shape but long strings (file contents) are cut. */
function summariseInput(input: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(input).map(([k, v]) => [k, typeof v === 'string' && v.length > 200 ? `${v.slice(0, 200)}… (${v.length} chars)` : v]));
}
