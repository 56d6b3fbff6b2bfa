/**
 * A small parser for unified diffs (`git diff` / `diff -u` output), enough to colour a
 * code-change artifact per file. Pure; unknown lines are kept as context so nothing is lost.
 */
export type DiffLineKind = 'add' | 'del' | 'context' | 'hunk' | 'meta';

export interface DiffLine {
  kind: DiffLineKind;
  text: string;
  /** line numbers in the old / new file (context lines have both, additions only the new one) */
  oldNo?: number;
  newNo?: number;
}

export interface DiffFile {
  /** the new path, or the old one for a deletion */
  path: string;
  oldPath: string | null;
  newPath: string | null;
  lines: DiffLine[];
  additions: number;
  deletions: number;
}

function stripPrefix(raw: string): string | null {
  const path = raw.split('\t')[0]!.trim();
  if (path === '/dev/null') return null;
  return path.replace(/^"?[ab]\//, '').replace(/"$/, '');
}

const HUNK = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@/;

export function parseUnifiedDiff(diff: string): DiffFile[] {
  const files: DiffFile[] = [];
  let file: DiffFile | null = null;
  let oldNo = 0;
  let newNo = 0;
  let inHunk = false;
  // lines still expected in the current hunk (its header's counts); 0 and 0 ends the hunk
  let oldLeft = 0;
  let newLeft = 0;
  const start = (oldPath: string | null, newPath: string | null): DiffFile => {
    const f: DiffFile = { path: newPath ?? oldPath ?? '(unknown)', oldPath, newPath, lines: [], additions: 0, deletions: 0 };
    files.push(f);
    inHunk = false;
    return f;
  };
  const lines = diff.replace(/\r\n/g, '\n').split('\n');
  if (lines.at(-1) === '') lines.pop();
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.startsWith('diff --git ')) {
      const m = /^diff --git "?a\/(.+?)"? "?b\/(.+?)"?$/.exec(line);
      file = start(m?.[1] ?? null, m?.[2] ?? null);
      file.lines.push({ kind: 'meta', text: line });
      continue;
    }
    if (!inHunk && line.startsWith('--- ') && lines[i + 1]?.startsWith('+++ ')) {
      const oldPath = stripPrefix(line.slice(4));
      const newPath = stripPrefix(lines[i + 1]!.slice(4));
      if (!file || file.lines.some((l) => l.kind === 'hunk')) file = start(oldPath, newPath);
      else {
        file.oldPath = oldPath;
        file.newPath = newPath;
        file.path = newPath ?? oldPath ?? file.path;
      }
      file.lines.push({ kind: 'meta', text: line }, { kind: 'meta', text: lines[i + 1]! });
      i++;
      continue;
    }
    const hunk = HUNK.exec(line);
    if (hunk) {
      file ??= start(null, null);
      oldNo = Number(hunk[1]);
      newNo = Number(hunk[3]);
      oldLeft = hunk[2] === undefined ? 1 : Number(hunk[2]);
      newLeft = hunk[4] === undefined ? 1 : Number(hunk[4]);
      inHunk = true;
      file.lines.push({ kind: 'hunk', text: line });
      continue;
    }
    if (!file) file = start(null, null);
    if (line.startsWith('\\') || !inHunk) {
      file.lines.push({ kind: 'meta', text: line });
      continue;
    }
    if (line.startsWith('+')) {
      file.lines.push({ kind: 'add', text: line.slice(1), newNo: newNo++ });
      file.additions++;
      newLeft--;
    } else if (line.startsWith('-')) {
      file.lines.push({ kind: 'del', text: line.slice(1), oldNo: oldNo++ });
      file.deletions++;
      oldLeft--;
    } else {
      file.lines.push({ kind: 'context', text: line.startsWith(' ') ? line.slice(1) : line, oldNo: oldNo++, newNo: newNo++ });
      oldLeft--;
      newLeft--;
    }
    if (oldLeft <= 0 && newLeft <= 0) inHunk = false;
  }
  return files;
}

/** A `code-change` artifact's content (agent phases). */
export interface CodeChange {
  summary: string;
  files: { path: string; change: string }[];
  diff: string;
}

export function asCodeChange(content: unknown): CodeChange | null {
  if (typeof content !== 'object' || content === null) return null;
  const c = content as Record<string, unknown>;
  if (typeof c.diff !== 'string' || !Array.isArray(c.files)) return null;
  const files = c.files
    .filter((f): f is { path: string; change?: unknown } => typeof f === 'object' && f !== null && typeof (f as { path?: unknown }).path === 'string')
    .map((f) => ({ path: f.path, change: typeof f.change === 'string' ? f.change : 'modified' }));
  return { summary: typeof c.summary === 'string' ? c.summary : '', files, diff: c.diff };
}
