import { AnalyticsView, FrontierView } from '@conclave/contracts';
import { request } from '../api/client';

/** GET /analytics: per template, phase and model, the costliest runs and spend by day, within `from`/`to`. */
export function fetchAnalytics(bounds: { from?: string; to?: string; templateId?: string }, signal?: AbortSignal): Promise<AnalyticsView> {
  return request('GET', '/analytics', AnalyticsView, { query: bounds, signal });
}

export const analyticsKey = (bounds: { from?: string; to?: string; templateId?: string }) => ['analytics', bounds] as const;

export interface FrontierParams {
  from?: string;
  to?: string;
  templateId: string;
  epsilon?: string;
}

/** GET /analytics/frontier: per phase of a template and per model, the figures, the Pareto frontier and the recommendation. */
export function fetchFrontier(params: FrontierParams, signal?: AbortSignal): Promise<FrontierView> {
  return request('GET', '/analytics/frontier', FrontierView, { query: { ...params }, signal });
}

export const frontierKey = (params: FrontierParams) => ['analytics', 'frontier', params] as const;
