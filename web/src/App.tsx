import { lazy, Suspense, type ComponentType } from 'react';
import { createBrowserRouter, isRouteErrorResponse, type LoaderFunctionArgs, Link, NavLink, Outlet, useRouteError } from 'react-router-dom';
import { SignIn, SignOutButton } from './auth/SignIn';
import { useAuth } from './auth/session';
import { minSequenceOf, runUrl, startEarlyGet } from './api/early';
import { ConnectionIndicator } from './ui/ConnectionIndicator';
import { ShortcutsHelp } from './ui/Shortcuts';
import { Loading } from './ui/Loading';
import { ThemeToggle } from './ui/ThemeToggle';
import { Toaster } from 'sonner';
// sonner injects its stylesheet at run time, which the gateway's CSP (style-src 'self') refuses: bundle it instead
import 'sonner/dist/styles.css';
import { useTheme } from './lib/theme';

/*
 * Routes (history API; the gateway serves index.html for them). Each page is its own chunk, so
 * the shell stays small and React Flow loads only with the pages that draw a DAG.
 */
/**
 * A page chunk loaded by the router before it renders the route (react-router's `lazy`), not by a
 * Suspense boundary: a boundary that showed its fallback holds the page back (React throttles
 * reveals by ~300 ms), which was a third of the run page's time to a rendered DAG.
 */
const page = (load: () => Promise<{ default: ComponentType }>) => async () => ({ Component: (await load()).default });

/** the header's open-alert count: its own chunk (it brings the socket client) */
const AlertsBell = lazy(() => import('./alerts/AlertsBell'));

const NAV = [
  { to: '/', label: 'Overview' },
  { to: '/runs', label: 'Runs' },
  { to: '/templates', label: 'Templates' },
  { to: '/providers', label: 'Providers' },
  { to: '/costs', label: 'Costs' },
  { to: '/analytics', label: 'Analytics' },
  { to: '/judge-lab', label: 'Judge lab' },
  { to: '/fleet', label: 'Fleet' },
  { to: '/events', label: 'Events' },
  { to: '/dead-letters', label: 'Dead letters' },
  { to: '/alerts', label: 'Alerts' },
] as const;

function Layout() {
  // a gateway with API tokens answered 401: the sign-in screen takes the page's place
  const auth = useAuth();
  const signingIn = auth.required && auth.token === null;
  const theme = useTheme();
  return (
    <div className="app">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <Link to="/" className="brand">
          <span className="brand__mark" aria-hidden="true">
            ◆
          </span>
          Conclave
        </Link>
        <nav aria-label="Main">
          <ul className="nav">
            {NAV.map((item) => (
              <li key={item.to}>
                <NavLink to={item.to} end={item.to === '/'} className={({ isActive }) => (isActive ? 'nav__link is-active' : 'nav__link')}>
                  {item.label}
                </NavLink>
              </li>
            ))}
          </ul>
        </nav>
        <div className="topbar__end">
          {!signingIn && (
            <Suspense fallback={null}>
              <AlertsBell />
            </Suspense>
          )}
          <ConnectionIndicator />
          <ThemeToggle />
          <ShortcutsHelp />
          <SignOutButton />
        </div>
      </header>
      <main id="main" className="main">
        {signingIn ? (
          <SignIn />
        ) : (
          <Suspense fallback={<Loading />}>
            <Outlet />
          </Suspense>
        )}
      </main>
      {/* every command's outcome (ui/toast.ts); sonner's plain colours (its rich success green is under 4.5:1) */}
      <Toaster theme={theme} position="bottom-right" closeButton />
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
    // shown while the first page's chunk (and loader) load
    hydrateFallbackElement: <Loading />,
    children: [
      { index: true, lazy: page(() => import('./overview/OverviewPage')) },
      { path: 'runs', lazy: page(() => import('./runs/RunsPage')) },
      {
        path: 'compare',
        // the comparison loads alongside the page's code, not after it
        loader: ({ request }: LoaderFunctionArgs) => {
          void import('./runs/compare-api').then((m) => m.prefetchComparison(new URL(request.url)), () => undefined);
          return null;
        },
        lazy: page(() => import('./runs/ComparePage')),
      },
      {
        path: 'runs/:id',
        // The run's data and the graph's code load alongside the page's code, not after it.
        loader: ({ params, request }: LoaderFunctionArgs) => {
          // the request itself starts now, in the shell: the client below takes its response
          startEarlyGet(runUrl(params.id ?? '', minSequenceOf(new URL(request.url))));
          void import('./dag/PipelineGraph');
          void import('./run/prefetch').then((m) => m.prefetchRun(params.id ?? '', new URL(request.url)), () => undefined);
          return null;
        },
        // ?phase= and friends change on the page itself: no new prefetch for those.
        shouldRevalidate: ({ currentParams, nextParams }) => currentParams.id !== nextParams.id,
        lazy: page(() => import('./run/RunPage')),
      },
      { path: 'templates', lazy: page(() => import('./templates/TemplatesPage')) },
      { path: 'templates/new', lazy: page(() => import('./editor/TemplateEditorPage')) },
      { path: 'templates/:id', lazy: page(() => import('./templates/TemplateDetailPage')) },
      { path: 'templates/:id/edit', lazy: page(() => import('./editor/TemplateEditorPage')) },
      { path: 'providers', lazy: page(() => import('./providers/ProvidersPage')) },
      { path: 'costs', lazy: page(() => import('./costs/CostsPage')) },
      { path: 'analytics', lazy: page(() => import('./analytics/AnalyticsPage')) },
      { path: 'analytics/frontier', lazy: page(() => import('./analytics/FrontierPage')) },
      { path: 'judge-lab', lazy: page(() => import('./judge-lab/JudgeLabPage')) },
      { path: 'fleet', lazy: page(() => import('./fleet/FleetPage')) },
      { path: 'events', lazy: page(() => import('./events/EventsPage')) },
      { path: 'dead-letters', lazy: page(() => import('./dead-letters/DeadLettersPage')) },
      { path: 'alerts', lazy: page(() => import('./alerts/AlertsPage')) },
      { path: '*', element: <NotFound /> },
    ],
  },
]);
