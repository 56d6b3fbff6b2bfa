import { useMemo, useState } from 'react';
import { parseUnifiedDiff, type CodeChange, type DiffFile, type DiffLine } from './unified-diff';

/** Lines shown per file before a "show all" button (a long generated file would flood the page). */
const LINES_SHOWN = 400;

const CHANGE_TONE: Record<string, string> = { created: 'added', added: 'added', modified: 'modified', deleted: 'deleted', removed: 'deleted', read: 'read' };

/**
 * A `code-change` artifact: the summary, the files with their change badges, and the unified diff
 * per file with added / removed lines coloured. Each file's diff is a <details> (keyboard: Tab to
 * its summary, Enter/Space to fold); a file of the list links to its diff.
 */
export function DiffViewer({ change, idPrefix = 'diff' }: { change: CodeChange; idPrefix?: string }) {
  const parsed = useMemo(() => parseUnifiedDiff(change.diff), [change.diff]);
  const byPath = new Map(parsed.map((f, i) => [f.path, i]));
  const anchor = (i: number) => `${idPrefix}-file-${i}`;
  const additions = parsed.reduce((s, f) => s + f.additions, 0);
  const deletions = parsed.reduce((s, f) => s + f.deletions, 0);
  // Files the artifact lists that the diff does not cover (e.g. read only), after the diff's own.
  const listed = change.files.length > 0 ? change.files : parsed.map((f) => ({ path: f.path, change: f.oldPath === null ? 'created' : f.newPath === null ? 'deleted' : 'modified' }));
  return (
    <div className="diff-viewer">
      {change.summary && <p className="diff-viewer__summary">{change.summary}</p>}
      <h4 className="sr-only">Files</h4>
      <ul className="diff-files" aria-label="Changed files">
        {listed.map((f) => {
          const i = byPath.get(f.path);
          const file = i === undefined ? undefined : parsed[i];
          return (
            <li key={f.path}>
              <span className={`diff-badge diff-badge--${CHANGE_TONE[f.change] ?? 'modified'}`}>{f.change}</span>{' '}
              {i === undefined ? <code>{f.path}</code> : <a href={`#${anchor(i)}`}><code>{f.path}</code></a>}
              {file && (
                <span className="diff-counts" aria-label={`${file.additions} added, ${file.deletions} removed lines`}>
                  <span className="diff-counts__add">+{file.additions}</span> <span className="diff-counts__del">−{file.deletions}</span>
                </span>
              )}
            </li>
          );
        })}
      </ul>
      {parsed.length === 0 ? (
        <p className="muted">{change.diff.trim() ? 'The diff could not be read as a unified diff.' : 'No diff recorded.'}</p>
      ) : (
        <>
          <p className="muted small">
            {parsed.length} file{parsed.length > 1 ? 's' : ''} in the diff · <span className="diff-counts__add">+{additions}</span> <span className="diff-counts__del">−{deletions}</span>
          </p>
          {parsed.map((file, i) => (
            <FileDiff key={`${file.path}-${i}`} id={anchor(i)} file={file} open={parsed.length <= 8} />
          ))}
        </>
      )}
    </div>
  );
}

function FileDiff({ file, id, open }: { file: DiffFile; id: string; open: boolean }) {
  const [all, setAll] = useState(false);
  const body = file.lines.filter((l) => l.kind !== 'meta' || l.text.startsWith('\\'));
  const shown = all ? body : body.slice(0, LINES_SHOWN);
  const renamed = file.oldPath && file.newPath && file.oldPath !== file.newPath;
  return (
    <details className="diff-file" id={id} open={open}>
      <summary>
        <code>{renamed ? `${file.oldPath} → ${file.newPath}` : file.path}</code>{' '}
        <span className="diff-counts__add">+{file.additions}</span> <span className="diff-counts__del">−{file.deletions}</span>
      </summary>
      <div className="diff-table-wrap">
        <table className="diff-table">
          <caption className="sr-only">Diff of {file.path}: added lines are marked +, removed lines −</caption>
          <tbody>
            {shown.map((line, k) => (
              <Line key={k} line={line} />
            ))}
          </tbody>
        </table>
      </div>
      {shown.length < body.length && (
        <button type="button" className="btn btn--small" onClick={() => setAll(true)}>
          Show all {body.length} lines
        </button>
      )}
    </details>
  );
}

const SIGN: Record<DiffLine['kind'], string> = { add: '+', del: '−', context: ' ', hunk: '', meta: '' };

function Line({ line }: { line: DiffLine }) {
  if (line.kind === 'hunk' || line.kind === 'meta')
    return (
      <tr className={`diff-line diff-line--${line.kind}`}>
        <td className="diff-line__no" aria-hidden="true" />
        <td className="diff-line__no" aria-hidden="true" />
        <td className="diff-line__text" colSpan={2}>
          {line.text}
        </td>
      </tr>
    );
  return (
    <tr className={`diff-line diff-line--${line.kind}`}>
      <td className="diff-line__no">{line.oldNo ?? ''}</td>
      <td className="diff-line__no">{line.newNo ?? ''}</td>
      <td className="diff-line__sign">
        {line.kind === 'add' ? <span className="sr-only">added</span> : line.kind === 'del' ? <span className="sr-only">removed</span> : null}
        <span aria-hidden="true">{SIGN[line.kind]}</span>
      </td>
      <td className="diff-line__text">{line.text}</td>
    </tr>
  );
}
