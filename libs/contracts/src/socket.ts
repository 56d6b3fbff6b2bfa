import { z } from 'zod';

/**
 * socket.io messages, validated on the way in and out (STYLE.md §7). The typed event maps for the
 * server and socket.io-client are derived from these schemas.
 */
export const Room = z.union([
  z.enum(['runs', 'fleet', 'costs', 'alerts', 'studies']),
  z.string().regex(/^run:[A-Za-z0-9_-]{1,80}$/, 'a run room is "run:<id>"'),
  /** a re-judging study's events (ADR 023); `studies` has every study's */
  z.string().regex(/^study:[A-Za-z0-9_-]{1,80}$/, 'a study room is "study:<id>"'),
]);
export type Room = z.infer<typeof Room>;
/** The log events relayed to the `alerts` room: alerts raised and acknowledged, and a run's budget alerts. */
export const ALERT_ROOM_EVENTS: readonly string[] = ['AlertRaised', 'AlertAcknowledged', 'BudgetAlert', 'BudgetExceeded', 'BudgetPolicyApplied'];
export const SubscribeMessage = z.strictObject({ room: Room });
export type SubscribeMessage = z.infer<typeof SubscribeMessage>;

/** A log event as relayed to rooms: carries its stream sequence so a client can fill gaps. */
export const SocketEvent = z.object({
  sequence: z.number().int().positive(),
  type: z.string(),
  runId: z.string().nullable(),
  /** a study's events (ADR 023): the study they belong to (absent for every other event) */
  studyId: z.string().optional(),
  occurredAt: z.string(),
  data: z.unknown(),
});
export type SocketEvent = z.infer<typeof SocketEvent>;

/** Live deltas (core NATS, not in the log): token streams, tool calls, worker heartbeats. */
export const LiveMessage = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('tokens'), runId: z.string(), phaseId: z.string(), candidateId: z.string(), delta: z.string(), at: z.string() }),
  z.object({
    kind: z.literal('tool_call'),
    runId: z.string(),
    phaseId: z.string(),
    candidateId: z.string(),
    tool: z.string(),
    input: z.unknown(),
    outputSummary: z.string().optional(),
    refused: z.boolean().optional(),
    durationMs: z.number().optional(),
    at: z.string(),
  }),
  z.object({
    kind: z.literal('heartbeat'),
    workerId: z.string(),
    role: z.enum(['llm-worker', 'judge']),
    host: z.string(),
    status: z.enum(['idle', 'busy', 'draining']),
    inFlight: z.number().int().nonnegative(),
    done: z.number().int().nonnegative(),
    failed: z.number().int().nonnegative(),
    at: z.string(),
    /** the work this process holds: the orchestrator re-dispatches it when the heartbeats stop */
    commands: z.array(z.object({ runId: z.string(), commandId: z.string(), seq: z.number().int().positive().optional() })).optional(),
    /** how often this worker heartbeats (ms): silence for a few periods means it stalled */
    intervalMs: z.number().int().positive().optional(),
    /** after this much silence the worker gives its work up by itself (its lease): re-dispatch only later */
    leaseMs: z.number().int().positive().optional(),
    /**
     * llm-workers: whether tool processes (agent bash/git, tool phases) run in a sandbox here —
     * `bwrap`, `unavailable` (no namespaces: such work is refused) or `disabled` (the operator's
     * explicit, logged opt-out: they run unconfined)
     */
    sandbox: z.enum(['bwrap', 'unavailable', 'disabled']).optional(),
  }),
]);
export type LiveMessage = z.infer<typeof LiveMessage>;

export const SubscribeAck = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), room: Room }),
  z.object({ ok: z.literal(false), error: z.object({ code: z.string(), message: z.string() }) }),
]);
export type SubscribeAck = z.infer<typeof SubscribeAck>;

/**
 * A message the server dropped without handling it (over the socket's message rate); a message
 * sent with an ack gets the refusal as its ack instead.
 */
export const SocketRefusal = z.object({ code: z.string(), message: z.string(), event: z.string().optional() });
export type SocketRefusal = z.infer<typeof SocketRefusal>;

export interface ServerToClientEvents {
  event: (event: SocketEvent) => void;
  live: (message: LiveMessage) => void;
  refused: (refusal: SocketRefusal) => void;
}
export interface ClientToServerEvents {
  subscribe: (message: SubscribeMessage, ack?: (reply: SubscribeAck) => void) => void;
  unsubscribe: (message: SubscribeMessage, ack?: (reply: SubscribeAck) => void) => void;
}
