/**
 * The budgets specs' priced provider. `priced-sim` is a simulated-kind provider under its own name:
 * its models are priced for reservations (gpt-4.1 ≈ $0.012 a call, gpt-4.1-nano ≈ $0.0006), its
 * calls cost nothing. A priced phase's two gpt-4.1 candidates reserve $0.024: 60 % of a $0.04
 * budget, past every rule at 50 %.
 */
export const PRICED = 'priced-sim';
export const GPT41 = { provider: PRICED, model: 'gpt-4.1', options: { latencyMs: 30 } };

/** A phase of two gpt-4.1 candidates judged by gpt-4.1, all on the priced provider. */
export const pricedPhase = (id: string, dependsOn: string[], user: string) => ({
  id,
  kind: 'llm' as const,
  dependsOn,
  prompt: { user },
  candidates: [GPT41, GPT41],
  judge: { provider: PRICED, model: 'gpt-4.1' },
});

/** Registers the priced provider on a stack (once: a second registration is a conflict). */
export async function addPricedProvider(post: (path: string, json: unknown) => Promise<{ status: number }>): Promise<void> {
  expect((await post('/providers', { name: PRICED, kind: 'simulated' })).status).toBe(201);
}
