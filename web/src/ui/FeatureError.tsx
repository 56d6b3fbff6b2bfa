import { Button } from './Button';
import { ErrorNotice } from './ErrorNotice';
import { isMissingEndpoint } from './feature-errors';

/** An error of a page's main query: "not available yet" for a missing endpoint, the details otherwise. */
export function FeatureError({ error, feature, onRetry }: { error: unknown; feature: string; onRetry?: () => void }) {
  if (isMissingEndpoint(error))
    return (
      <div className="notice notice--warn" role="status">
        <strong>{feature} is not available on this gateway yet.</strong>
        <p className="notice__message">The API behind this page answered “not found / not implemented”. It works as soon as the gateway serves it.</p>
        {onRetry && (
          <Button size="small" className="mt-2" onClick={onRetry}>
            Check again
          </Button>
        )}
      </div>
    );
  return <ErrorNotice error={error} title={`Could not load ${feature.toLowerCase()}`} onRetry={onRetry} />;
}
