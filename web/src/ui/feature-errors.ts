import { isApiError } from '../api/client';

/**
 * The gateway answers 404 (no route) or 501 (declared, not implemented) for an endpoint that has
 * not landed yet. Pages say so plainly instead of showing a raw error or nothing.
 */
export function isMissingEndpoint(error: unknown): boolean {
  if (!isApiError(error)) return false;
  if (error.status === 501) return true;
  // A 404 for a route (not for a resource): Nest's default body, or no envelope at all.
  return error.status === 404 && (error.code === 'http_404' || /Cannot (GET|POST|PUT|PATCH|DELETE)/i.test(error.message));
}

export function describeCommandError(error: unknown): string {
  if (isMissingEndpoint(error)) return 'This command is not available on this gateway yet.';
  if (isApiError(error)) return `${error.message} (${error.code})`;
  return error instanceof Error ? error.message : String(error);
}
