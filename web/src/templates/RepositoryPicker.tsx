import type { WorkspaceListing, WorkspaceRequest } from '@conclave/contracts';
import { useId } from 'react';
import { shortSha } from '../lib/format';

/** The fresh-repository choice: the run gets an empty repository of its own. */
export const FRESH = '';
/** The template's default repository when the listing does not show it (the gateway resolves it, or names the problem). */
export const TEMPLATE_DEFAULT = '\u0001template';

/** A stable key per listed repository (the same relative path may exist under two roots). */
export function workspaceKey(item: Pick<WorkspaceListing, 'root' | 'path'>): string {
  return `${item.root}\u0000${item.path}`;
}

function joinPath(root: string, path: string): string {
  return path ? `${root.replace(/\/+$/, '')}/${path}` : root;
}

/**
 * What `POST /runs` gets for a listed repository: its path relative to its root, as listed — or,
 * when that relative path exists under an earlier root too (the gateway tries roots in order) or
 * is the root itself, the absolute path inside its root.
 */
export function workspacePathOf(item: WorkspaceListing, items: readonly WorkspaceListing[]): string {
  const ambiguous = items.some((other) => other !== item && other.path === item.path && other.root !== item.root);
  return ambiguous || item.path === '' ? joinPath(item.root, item.path) : item.path;
}

/** The listed repository a template's default workspace names (relative to a root, or absolute), if listed. */
export function findListed(items: readonly WorkspaceListing[], request: WorkspaceRequest | undefined): WorkspaceListing | undefined {
  if (!request) return undefined;
  const wanted = request.path.replace(/\/+$/, '');
  return items.find((i) => i.path === wanted) ?? items.find((i) => joinPath(i.root, i.path) === wanted);
}

interface Props {
  items: readonly WorkspaceListing[];
  /** `workspaceKey` of the chosen repository, or FRESH */
  value: string;
  onChange: (key: string) => void;
  /** the template names a default repository: a fresh one cannot be asked for (omitting `workspace` means the default) */
  templateDefault?: WorkspaceRequest;
  /** the template's default is one of `items` (else it gets a choice of its own) */
  templateDefaultListed?: boolean;
  disabled?: boolean;
}

/**
 * The repository a run works on: a radio group (each choice shows its name, path, branch, short
 * HEAD and whether it has uncommitted changes — which a run does not include, as it branches from
 * a commit), plus "fresh repository (none)".
 */
export function RepositoryPicker({ items, value, onChange, templateDefault, templateDefaultListed, disabled }: Props) {
  const id = useId();
  const name = `${id}-repository`;
  const freshDisabled = disabled || templateDefault !== undefined;
  return (
    <fieldset className="repo-picker" disabled={disabled}>
      <legend>Repository</legend>
      <ul className="repo-picker__list">
        <li>
          <label className={`repo-option${value === FRESH ? ' is-selected' : ''}`}>
            <input type="radio" name={name} value={FRESH} checked={value === FRESH} disabled={freshDisabled} onChange={() => onChange(FRESH)} />
            <span className="repo-option__main">
              <span className="repo-option__name">Fresh repository (none)</span>
              <span className="muted small">
                {templateDefault
                  ? 'Not available: this template names a repository.'
                  : 'An empty repository of the run’s own; agents’ work stays on its branch.'}
              </span>
            </span>
          </label>
        </li>
        {templateDefault && !templateDefaultListed && (
          <li>
            <label className={`repo-option${value === TEMPLATE_DEFAULT ? ' is-selected' : ''}`}>
              <input type="radio" name={name} value={TEMPLATE_DEFAULT} checked={value === TEMPLATE_DEFAULT} onChange={() => onChange(TEMPLATE_DEFAULT)} />
              <span className="repo-option__main">
                <span className="repo-option__name">The template’s repository</span>
                <span className="muted small mono">{templateDefault.path}</span>
                <span className="muted small">Not in the listing: the gateway checks it when the run starts.</span>
              </span>
            </label>
          </li>
        )}
        {items.map((item) => {
          const key = workspaceKey(item);
          return (
            <li key={key}>
              <label className={`repo-option${value === key ? ' is-selected' : ''}`}>
                <input type="radio" name={name} value={key} checked={value === key} onChange={() => onChange(key)} />
                <span className="repo-option__main">
                  <span className="repo-option__name">
                    {item.name}
                    {templateDefault && templateDefaultListed && findListed(items, templateDefault) === item && <span className="badge badge--default">template default</span>}
                    {item.dirty && (
                      <span className="badge badge--dirty" title="The checkout has uncommitted changes: a run branches from a commit, so they are not included">
                        dirty: uncommitted changes not included
                      </span>
                    )}
                  </span>
                  <span className="muted small mono">{joinPath(item.root, item.path)}</span>
                  <span className="muted small">
                    {item.branch ? (
                      <>
                        on <code>{item.branch}</code>
                      </>
                    ) : (
                      'detached HEAD'
                    )}
                    {' · '}
                    {item.head ? (
                      <>
                        HEAD <code title={item.head}>{shortSha(item.head)}</code>
                      </>
                    ) : (
                      'no commit yet'
                    )}
                  </span>
                </span>
              </label>
            </li>
          );
        })}
      </ul>
    </fieldset>
  );
}
