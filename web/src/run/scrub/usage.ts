import type { RunUsageItem, SocketEvent, Tokens } from '@conclave/contracts';
import { addTokens, parseRunEvent } from '../run-reducer';

type Charged = { provider: string; model: string; tokens: Tokens; costUsd: number };
const USAGE_TYPES = new Set(['CandidateRequested', 'CandidateGenerated', 'CandidateFailed', 'OutputRejected', 'VerdictRecorded']);

/**
 * A run's spend by provider and model up to an event, as `GET /runs/:id/usage` counts it for the
 * whole run (read-models queries.ts runUsage): one call per candidate requested (any attempt; its
 * failed and rejected tries billed to it, as the projector charges them) and one per verdict, each
 * with its tokens and cost. The items sum to the folded view's cost and tokens.
 *
 * Incremental moving forward (playback folds one event per step); moving back, or an event landing
 * inside the folded ones, folds again from the first event. Pure apart from that memo.
 */
export class UsageFold {
  private events: readonly SocketEvent[] = [];
  private folded = -1;
  private candidates = new Map<string, Charged>();
  private judges = new Map<string, Charged & { calls: number }>();

  setEvents(events: readonly SocketEvent[]): void {
    if (events === this.events) return;
    let same = 0;
    while (same <= this.folded && same < events.length && events[same]!.sequence === this.events[same]!.sequence) same++;
    if (same <= this.folded) this.reset();
    this.events = events;
  }

  upTo(index: number): RunUsageItem[] {
    const to = Math.min(index, this.events.length - 1);
    if (to < this.folded) this.reset();
    for (let i = this.folded + 1; i <= to; i++) this.fold(this.events[i]!);
    this.folded = Math.max(this.folded, to);
    const items = new Map<string, RunUsageItem>();
    const add = (role: RunUsageItem['role'], c: Charged, calls: number) => {
      const key = `${role}\u0000${c.provider}\u0000${c.model}`;
      const item = items.get(key) ?? { role, provider: c.provider, model: c.model, calls: 0, tokens: { input: 0, output: 0 }, costUsd: 0 };
      items.set(key, { ...item, calls: item.calls + calls, tokens: addTokens(item.tokens, c.tokens), costUsd: item.costUsd + c.costUsd });
    };
    for (const c of this.candidates.values()) add('candidate', c, 1);
    for (const j of this.judges.values()) add('judge', j, j.calls);
    return [...items.values()];
  }

  private reset(): void {
    this.folded = -1;
    this.candidates = new Map();
    this.judges = new Map();
  }

  private fold(event: SocketEvent): void {
    if (!USAGE_TYPES.has(event.type)) return;
    const e = parseRunEvent(event);
    if (!e) return;
    const charge = (candidateId: string, tokens: Tokens, costUsd: number) => {
      const c = this.candidates.get(candidateId);
      if (c) this.candidates.set(candidateId, { ...c, tokens: addTokens(c.tokens, tokens), costUsd: c.costUsd + costUsd });
    };
    switch (e.type) {
      case 'CandidateRequested':
        if (!this.candidates.has(e.data.candidateId)) this.candidates.set(e.data.candidateId, { provider: e.data.provider, model: e.data.model, tokens: { input: 0, output: 0 }, costUsd: 0 });
        return;
      case 'CandidateGenerated':
        return charge(e.data.candidateId, e.data.tokens, e.data.costUsd);
      case 'CandidateFailed':
      case 'OutputRejected':
        // a call billed nothing carries no cost: its tokens are not charged either (as the projector does)
        if (e.data.costUsd !== undefined) charge(e.data.candidateId, e.data.tokens ?? { input: 0, output: 0 }, e.data.costUsd);
        return;
      case 'VerdictRecorded': {
        const key = `${e.data.provider}\u0000${e.data.model}`;
        const j = this.judges.get(key) ?? { provider: e.data.provider, model: e.data.model, tokens: { input: 0, output: 0 }, costUsd: 0, calls: 0 };
        this.judges.set(key, { ...j, calls: j.calls + 1, tokens: addTokens(j.tokens, e.data.tokens), costUsd: j.costUsd + e.data.costUsd });
        return;
      }
    }
  }
}

/** The spend up to event `index`, folded from the first event. */
export function usageUpTo(events: readonly SocketEvent[], index: number): RunUsageItem[] {
  const fold = new UsageFold();
  fold.setEvents(events);
  return fold.upTo(index);
}
