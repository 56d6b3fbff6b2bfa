/** A candidate on the simulated provider; `latencyMs` (absent: the provider's default) is how long it takes to answer. */
export const sim = (model: string, latencyMs?: number) => ({ provider: 'simulated', model, ...(latencyMs === undefined ? {} : { options: { latencyMs } }) });
