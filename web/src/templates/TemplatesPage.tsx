import { useQuery } from '@tanstack/react-query';
import { Link, useSearchParams } from 'react-router-dom';
import { api } from '../api/endpoints';
import { keys } from '../api/keys';
import { formatDateTime } from '../lib/format';
import { ErrorNotice } from '../ui/ErrorNotice';
import { Loading } from '../ui/Loading';
import { NewTemplateForm } from './NewTemplateForm';

/** Templates: the list, a JSON "New template" form (`?new=1`), and a shortcut to start a run. */
export default function TemplatesPage() {
  const [params, setParams] = useSearchParams();
  const creating = params.get('new') === '1';
  const templates = useQuery({ queryKey: keys.templates(), queryFn: ({ signal }) => api.listTemplates({ signal }) });
  const setCreating = (on: boolean) =>
    setParams(
      (prev) => {
        const next = new URLSearchParams(prev);
        if (on) next.set('new', '1');
        else next.delete('new');
        return next;
      },
      { replace: true },
    );

  const items = templates.data?.items ?? [];
  return (
    <div className="page">
      <title>Templates · Conclave</title>
      <header className="page-header">
        <div className="page-header__title">
          <h1>Templates</h1>
          <p className="muted">Workflow definitions: a DAG of phases. Open one to preview it and start a run.</p>
        </div>
        <div className="actions">
          <Link className="btn btn--primary" to="/templates/new">
            New template (visual editor)
          </Link>
          <button type="button" className="btn" aria-expanded={creating} onClick={() => setCreating(!creating)}>
            {creating ? 'Close JSON form' : 'New from JSON'}
          </button>
        </div>
      </header>

      {creating && <NewTemplateForm onCancel={() => setCreating(false)} />}

      {templates.isPending ? (
        <Loading label="Loading templates…" />
      ) : templates.isError ? (
        <ErrorNotice error={templates.error} title="Could not load templates" onRetry={() => void templates.refetch()} />
      ) : items.length === 0 ? (
        <div className="empty">
          <p>No templates yet.</p>
          {!creating && (
            <button type="button" className="btn" onClick={() => setCreating(true)}>
              Create the first one
            </button>
          )}
        </div>
      ) : (
        <div className="table-wrap">
          <table className="table">
            <caption className="sr-only">Templates</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Description</th>
                <th scope="col" className="num">
                  Version
                </th>
                <th scope="col">Updated</th>
                <th scope="col">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {items.map((t) => (
                <tr key={t.id} className={t.archived ? 'is-archived' : undefined}>
                  <td>
                    <Link to={`/templates/${encodeURIComponent(t.id)}`} className="strong">
                      {t.name}
                    </Link>
                    {t.archived && <span className="badge status--cancelled">archived</span>}
                    <div className="muted mono small">{t.id}</div>
                  </td>
                  <td className="clamp">{t.description || <span className="muted">—</span>}</td>
                  <td className="num">v{t.version}</td>
                  <td>{formatDateTime(t.updatedAt)}</td>
                  <td className="actions-cell">
                    {!t.archived && (
                      <Link className="btn btn--small" to={`/templates/${encodeURIComponent(t.id)}#start-run`}>
                        Start run
                      </Link>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
