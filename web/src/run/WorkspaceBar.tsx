import type { RunView } from '@conclave/contracts';
import { exportUrls } from '../api/endpoints';
import { shortSha } from '../lib/format';
import { Button } from '../ui/Button';
import { useDownload } from '../ui/use-download';

type Workspace = NonNullable<RunView['workspace']>;

function locationOf(ws: Workspace): string {
  if (ws.root === null) return ws.repo;
  return ws.path ? `${ws.root.replace(/\/+$/, '')}/${ws.path}` : ws.root;
}

/**
 * Where the run's agents work: the repository (or the run's own fresh one), the base it branched
 * from, its branch `conclave/<run id>` and that branch's HEAD as the log knows it (it moves live as
 * phases' commits land), with the patch download. Nothing for runs from before workspaces.
 */
export function WorkspaceBar({ view }: { view: RunView }) {
  const patchDownload = useDownload();
  const ws = view.workspace;
  if (!ws) return null;
  const fresh = ws.kind === 'fresh';
  const moved = ws.head !== ws.baseCommit;
  return (
    <section className="workspace-bar" aria-label="Repository" data-testid="workspace-bar">
      <dl className="stats">
        <div>
          <dt>Repository</dt>
          <dd>
            {fresh ? (
              <span title={ws.repo}>Fresh repository (the run’s own)</span>
            ) : (
              <>
                {ws.name} <span className="muted mono small">{locationOf(ws)}</span>
              </>
            )}
          </dd>
        </div>
        <div>
          <dt>Base</dt>
          <dd>
            {fresh ? (
              'empty first commit'
            ) : (
              <>
                <code>{ws.baseRef}</code> <code className="muted" title={ws.baseCommit}>{shortSha(ws.baseCommit)}</code>
              </>
            )}
          </dd>
        </div>
        <div>
          <dt>Branch</dt>
          <dd>
            <code>{ws.branch}</code>
          </dd>
        </div>
        <div>
          <dt>HEAD</dt>
          <dd data-testid="workspace-head">
            <code title={ws.head}>{shortSha(ws.head)}</code>
            {!moved && <span className="muted small"> (no commit yet)</span>}
          </dd>
        </div>
        <div>
          <dt>Files changed</dt>
          <dd>{view.filesChanged}</dd>
        </div>
      </dl>
      <div className="workspace-bar__actions">
        <Button size="small" disabled={patchDownload.pending} onClick={() => patchDownload.start(exportUrls.patch(view.id), `${view.id}.patch`)}>
          Download patch
        </Button>
      </div>
      {patchDownload.notice}
      {ws.dirty && (
        <p className="notice notice--warn small" role="note">
          The repository had uncommitted changes when the run started: they are not included (the run branched from <code>{ws.baseRef}</code>).
        </p>
      )}
    </section>
  );
}
