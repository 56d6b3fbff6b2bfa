import { TemplateError } from '@conclave/contracts';
import { isApiError } from '../api/client';
import { toPrettyJson } from '../lib/format';
import { TemplateErrorList } from './TemplateErrorList';

interface Props {
  error: unknown;
  title?: string;
  onRetry?: () => void;
}

/** Templates' located errors travel in a 422's `details.errors`; anything else is shown as JSON. */
function templateErrorsOf(details: unknown): TemplateError[] | null {
  const errors = (details as { errors?: unknown } | null | undefined)?.errors;
  if (!Array.isArray(errors) || errors.length === 0) return null;
  const parsed = errors.map((e) => TemplateError.safeParse(e));
  return parsed.every((p) => p.success) ? parsed.map((p) => p.data!) : null;
}

/** An error from the gateway (message, code, details, request id) or any thrown value. */
export function ErrorNotice({ error, title = 'Something went wrong', onRetry }: Props) {
  const api = isApiError(error) ? error : null;
  const message = api ? api.message : error instanceof Error ? error.message : String(error);
  const templateErrors = api ? templateErrorsOf(api.details) : null;
  const hasDetails = api?.details !== undefined && api?.details !== null;
  return (
    <div className="notice notice--error" role="alert">
      <div className="notice__head">
        <strong>{title}</strong>
        {api && <code className="notice__code">{api.code}</code>}
      </div>
      <p className="notice__message">{message}</p>
      {templateErrors ? (
        <TemplateErrorList errors={templateErrors} />
      ) : hasDetails ? (
        <details className="notice__details">
          <summary>Details</summary>
          <pre className="code">{toPrettyJson(api!.details)}</pre>
        </details>
      ) : null}
      {(api?.requestId || onRetry) && (
        <div className="notice__foot">
          {api?.requestId && <span className="muted">request {api.requestId}</span>}
          {onRetry && (
            <button type="button" className="btn btn--small" onClick={onRetry}>
              Retry
            </button>
          )}
        </div>
      )}
    </div>
  );
}
