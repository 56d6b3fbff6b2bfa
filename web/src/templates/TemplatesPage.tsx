import type { TemplateSummary } from '@conclave/contracts';
import { useQuery } from '@tanstack/react-query';
import { Link, useSearchParams } from 'react-router-dom';
import { api } from '../api/endpoints';
import { keys } from '../api/keys';
import { formatDateTime } from '../lib/format';
import { DataTable, type Column } from '../ui/DataTable';
import { NewTemplateForm } from './NewTemplateForm';

const COLUMNS: Column<TemplateSummary>[] = [
  {
    id: 'name',
    header: 'Name',
    cell: (t) => (
      <>
        <Link to={`/templates/${encodeURIComponent(t.id)}`} className="strong">
          {t.name}
        </Link>
        {t.archived && <span className="badge status--cancelled">archived</span>}
        <div className="muted mono small">{t.id}</div>
      </>
    ),
  },
  { id: 'description', header: 'Description', cell: (t) => t.description || <span className="muted">—</span>, className: 'clamp' },
  { id: 'version', header: 'Version', numeric: true, cell: (t) => `v${t.version}` },
  { id: 'updated', header: 'Updated', cell: (t) => formatDateTime(t.updatedAt) },
  {
    id: 'actions',
    header: <span className="sr-only">Actions</span>,
    className: 'actions-cell',
    cell: (t) =>
      !t.archived && (
        <Link className="btn btn--small" to={`/templates/${encodeURIComponent(t.id)}#start-run`}>
          Start run
        </Link>
      ),
  },
];

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

      <DataTable
        caption="Templates"
        columns={COLUMNS}
        rows={items}
        rowKey={(t) => t.id}
        rowProps={(t) => ({ className: t.archived ? 'is-archived' : undefined })}
        state={templates}
        loadingLabel="Loading templates…"
        feature="Templates"
        errorTitle="Could not load templates"
        empty={
          <>
            <p>No templates yet.</p>
            {!creating && (
              <button type="button" className="btn" onClick={() => setCreating(true)}>
                Create the first one
              </button>
            )}
          </>
        }
      />
    </div>
  );
}
