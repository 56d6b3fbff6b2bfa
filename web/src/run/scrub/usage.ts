import type { RunUsageItem, SocketEvent, Tokens } from '@conclave/contracts';
import { parseRunEvent } from '../run-reducer';

/**
 * A run's spend by provider and model up to an event, as `GET /runs/:id/usage` counts it for the
 * whole run (read-models queries.ts runUsage): one call per candidate requested (any attempt; its
 * failed and rejected tries billed to it, as the projector charges them) and one per verdict, each
 * with its tokens and cost. Pure; the items sum to the folded view's cost and tokens.
 */
export function usageUpTo(events: readonly SocketEvent[], index: number): RunUsageItem[] {
  const candidates = new Map<string, { provider: string; model: string; tokens: Tokens; costUsd: number }>();
  const items = new Map<string, RunUsageItem>();
  const add = (role: RunUsageItem['role'], provider: string, model: string, tokens: Tokens, costUsd: number, calls: number) => {
    const key = `${role}\u0000${provider}\u0000${model}`;
    const item = items.get(key) ?? { role, provider, model, calls: 0, tokens: { input: 0, output: 0 }, costUsd: 0 };
    items.set(key, { ...item, calls: item.calls + calls, tokens: { input: item.tokens.input + tokens.input, output: item.tokens.output + tokens.output }, costUsd: item.costUsd + costUsd });
  };
  const charge = (candidateId: string, tokens: Tokens, costUsd: number) => {
    const c = candidates.get(candidateId);
    if (c) candidates.set(candidateId, { ...c, tokens: { input: c.tokens.input + tokens.input, output: c.tokens.output + tokens.output }, costUsd: c.costUsd + costUsd });
  };
  for (let i = 0; i <= index && i < events.length; i++) {
    const type = events[i]!.type;
    if (type !== 'CandidateRequested' && type !== 'CandidateGenerated' && type !== 'CandidateFailed' && type !== 'OutputRejected' && type !== 'VerdictRecorded') continue;
    const e = parseRunEvent(events[i]!);
    if (!e) continue;
    switch (e.type) {
      case 'CandidateRequested':
        if (!candidates.has(e.data.candidateId)) candidates.set(e.data.candidateId, { provider: e.data.provider, model: e.data.model, tokens: { input: 0, output: 0 }, costUsd: 0 });
        break;
      case 'CandidateGenerated':
        charge(e.data.candidateId, e.data.tokens, e.data.costUsd);
        break;
      case 'CandidateFailed':
      case 'OutputRejected':
        // a call billed nothing carries no cost: its tokens are not charged either (as the projector does)
        if (e.data.costUsd !== undefined) charge(e.data.candidateId, e.data.tokens ?? { input: 0, output: 0 }, e.data.costUsd);
        break;
      case 'VerdictRecorded':
        add('judge', e.data.provider, e.data.model, e.data.tokens, e.data.costUsd, 1);
        break;
    }
  }
  for (const c of candidates.values()) add('candidate', c.provider, c.model, c.tokens, c.costUsd, 1);
  return [...items.values()];
}
