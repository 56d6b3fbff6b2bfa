import { AnalyticsView } from '@conclave/contracts';
import { request } from '../api/client';

/** GET /analytics: per template, phase and model, the costliest runs and spend by day, within `from`/`to`. */
export function fetchAnalytics(bounds: { from?: string; to?: string; templateId?: string }, signal?: AbortSignal): Promise<AnalyticsView> {
  return request('GET', '/analytics', AnalyticsView, { query: bounds, signal });
}

export const analyticsKey = (bounds: { from?: string; to?: string; templateId?: string }) => ['analytics', bounds] as const;
