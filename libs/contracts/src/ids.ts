/**
 * Deterministic ids derived from business keys. At-least-once delivery means a decision can be
 * taken twice; deriving ids from (run, phase, attempt, slot) makes the second one a duplicate
 * that JetStream's Nats-Msg-Id window and the handlers' business keys both recognise.
 */
export const ids = {
  candidate: (runId: string, phaseId: string, attempt: number, slot: number, round = 0) =>
    `${runId}.${phaseId}.${attempt}${round ? `.r${round}` : ''}.c${slot}`,
  judge: (runId: string, phaseId: string, attempt: number, round = 0, purpose: 'select' | 'evaluate' = 'select') =>
    `${runId}.${phaseId}.${attempt}${round ? `.r${round}` : ''}.${purpose === 'select' ? 'judge' : 'eval'}`,
  artifact: (runId: string, phaseId: string, attempt: number) => `${runId}.${phaseId}.${attempt}.artifact`,
};

export function streamIdOf(aggregate: 'run' | 'template' | 'provider' | 'alert' | 'study', id: string): string {
  return `${aggregate}:${id}`;
}
export function splitStreamId(streamId: string): { aggregate: 'run' | 'template' | 'provider' | 'alert' | 'study'; id: string } {
  const i = streamId.indexOf(':');
  return { aggregate: streamId.slice(0, i) as 'run' | 'template' | 'provider' | 'alert' | 'study', id: streamId.slice(i + 1) };
}
