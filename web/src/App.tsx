import { lazy, Suspense } from 'react';
import { createBrowserRouter, isRouteErrorResponse, Link, Navigate, NavLink, Outlet, useRouteError } from 'react-router-dom';
import { ConnectionIndicator } from './ui/ConnectionIndicator';
import { ShortcutsHelp } from './ui/Shortcuts';
import { Loading } from './ui/Loading';
import { ThemeToggle } from './ui/ThemeToggle';

/*
 * Routes (history API; the gateway serves index.html for them). Each page is its own chunk, so
 * the shell stays small and React Flow loads only with the pages that draw a DAG.
 */
const RunsPage = lazy(() => import('./runs/RunsPage'));
const RunPage = lazy(() => import('./run/RunPage'));
const TemplatesPage = lazy(() => import('./templates/TemplatesPage'));
const TemplateDetailPage = lazy(() => import('./templates/TemplateDetailPage'));
const TemplateEditorPage = lazy(() => import('./editor/TemplateEditorPage'));
const ProvidersPage = lazy(() => import('./providers/ProvidersPage'));
const CostsPage = lazy(() => import('./costs/CostsPage'));
const FleetPage = lazy(() => import('./fleet/FleetPage'));
const EventsPage = lazy(() => import('./events/EventsPage'));

const NAV = [
  { to: '/runs', label: 'Runs' },
  { to: '/templates', label: 'Templates' },
  { to: '/providers', label: 'Providers' },
  { to: '/costs', label: 'Costs' },
  { to: '/fleet', label: 'Fleet' },
  { to: '/events', label: 'Events' },
] as const;

function Layout() {
  return (
    <div className="app">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <Link to="/runs" className="brand">
          <span className="brand__mark" aria-hidden="true">
            ◆
          </span>
          Conclave
        </Link>
        <nav aria-label="Main">
          <ul className="nav">
            {NAV.map((item) => (
              <li key={item.to}>
                <NavLink to={item.to} className={({ isActive }) => (isActive ? 'nav__link is-active' : 'nav__link')}>
                  {item.label}
                </NavLink>
              </li>
            ))}
          </ul>
        </nav>
        <div className="topbar__end">
          <ConnectionIndicator />
          <ThemeToggle />
          <ShortcutsHelp />
        </div>
      </header>
      <main id="main" className="main">
        <Suspense fallback={<Loading />}>
          <Outlet />
        </Suspense>
      </main>
    </div>
  );
}

function RouteError() {
  const error = useRouteError();
  const message = isRouteErrorResponse(error) ? `${error.status} ${error.statusText}` : error instanceof Error ? error.message : String(error);
  // A deploy replaces hashed chunks: a stale tab fails to import a page; a reload fetches the new ones.
  const staleChunk = /dynamically imported module|Importing a module script failed|Failed to fetch/i.test(message);
  return (
    <div className="app">
      <main id="main" className="main">
        <div className="notice notice--error" role="alert">
          <strong>{staleChunk ? 'The dashboard was updated' : 'This page crashed'}</strong>
          <p className="notice__message">{message}</p>
          <div className="actions">
            <button type="button" className="btn" onClick={() => window.location.reload()}>
              Reload
            </button>
            <a className="btn btn--ghost" href="/runs">
              Go to runs
            </a>
          </div>
        </div>
      </main>
    </div>
  );
}

function NotFound() {
  return (
    <div className="page">
      <title>Not found · Conclave</title>
      <h1>Not found</h1>
      <p>
        Nothing lives at this address. <Link to="/runs">Back to runs</Link>.
      </p>
    </div>
  );
}

export const router = createBrowserRouter([
  {
    path: '/',
    element: <Layout />,
    errorElement: <RouteError />,
    children: [
      { index: true, element: <Navigate to="/runs" replace /> },
      { path: 'runs', element: <RunsPage /> },
      { path: 'runs/:id', element: <RunPage /> },
      { path: 'templates', element: <TemplatesPage /> },
      { path: 'templates/new', element: <TemplateEditorPage /> },
      { path: 'templates/:id', element: <TemplateDetailPage /> },
      { path: 'templates/:id/edit', element: <TemplateEditorPage /> },
      { path: 'providers', element: <ProvidersPage /> },
      { path: 'costs', element: <CostsPage /> },
      { path: 'fleet', element: <FleetPage /> },
      { path: 'events', element: <EventsPage /> },
      { path: '*', element: <NotFound /> },
    ],
  },
]);
