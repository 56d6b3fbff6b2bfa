import type { RunView } from '@conclave/contracts';
import { Link } from 'react-router-dom';
import { compareHref } from './run-list-params';

/** On a fork or a re-run: a link to the compare page with the run it came from (origin first). */
export function CompareWithOrigin({ view }: { view: Pick<RunView, 'id' | 'origin'> }) {
  if (!view.origin) return null;
  return (
    <Link className="btn btn--small" to={compareHref([view.origin.runId, view.id])} data-testid="compare-with-origin">
      Compare with origin
    </Link>
  );
}
