import { Link } from 'react-router-dom';
import { useOpenAlerts } from './use-alerts';

/** The header's bell: the open-alert count, live over the `alerts` room; a link to /alerts. */
export default function AlertsBell() {
  const { open, isError } = useOpenAlerts();
  const label = isError ? 'Alerts (the count could not be loaded)' : open === 1 ? '1 open alert' : `${open} open alerts`;
  return (
    <Link to="/alerts" className="relative inline-flex h-8 w-8 items-center justify-center rounded-md text-muted hover:bg-sunken hover:text-fg" aria-label={label} title={label} data-testid="alerts-bell">
      <svg aria-hidden="true" width="18" height="18" viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth="2" strokeLinecap="round" strokeLinejoin="round">
        <path d="M6 8a6 6 0 0 1 12 0c0 7 3 9 3 9H3s3-2 3-9" />
        <path d="M10.3 21a1.94 1.94 0 0 0 3.4 0" />
      </svg>
      {open > 0 && (
        <span className="absolute -right-1 -top-1 h-[1.1rem] min-w-[1.1rem] rounded-full bg-[#b42318] px-1 text-center text-[0.68rem] font-bold leading-[1.1rem] text-white" data-testid="alerts-bell-count">
          {open > 99 ? '99+' : open}
        </span>
      )}
    </Link>
  );
}
