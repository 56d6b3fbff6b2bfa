import type { NatsNames } from './subjects';

/**
 * Least-privilege NATS (issue 10 §6): one NATS user per service, each allowed to publish and
 * subscribe to exactly what that service does with NATS, derived from the same names the code
 * uses (natsNames). The server config is rendered from this (libs/event-log `renderNatsConfig`);
 * the permission test (libs/event-log nats-permissions.int.spec.ts) holds it to the rules below.
 *
 * Rules: only the llm-worker and judge users may request provider credentials (the gateway serves
 * them); only the orchestrator writes run events and work commands, the gateway only provider
 * events; no service user may create, change or delete a stream or a durable consumer (the admin
 * user of set-up does); a reader's ordered consumers may not be named like a durable it does not
 * own (deny), so it cannot pull another service's work. Each user receives replies on its own
 * inbox prefix only (natsInboxPrefix), and answers requests under `allow_responses` (only to the
 * reply subject of a request just received), never with a right to publish on `_INBOX.>`.
 */
export const NATS_SERVICE_USERS = ['gateway', 'orchestrator', 'projector', 'llm-worker', 'judge'] as const;
export type NatsServiceUser = (typeof NATS_SERVICE_USERS)[number];
/** migrations, streams and consumers (scripts/setup.mjs), replay, tests' own checks */
export const NATS_ADMIN_USER = 'admin';
export type NatsUser = NatsServiceUser | typeof NATS_ADMIN_USER;
export const NATS_USERS: readonly NatsUser[] = [NATS_ADMIN_USER, ...NATS_SERVICE_USERS];

export interface NatsSubjectRule {
  allow: string[];
  deny?: string[];
}
export interface NatsPermission {
  publish: NatsSubjectRule;
  subscribe: NatsSubjectRule;
  /** may answer the requests it receives (publish once to their reply subject) */
  allow_responses?: boolean;
}

/**
 * Where a user's replies arrive (the connection's `inboxPrefix`): `_INBOX.<user>`. Each service user
 * may subscribe only under its own, so no other user can read the replies it gets — the gateway's
 * answers to credentials requests carry provider keys.
 */
export function natsInboxPrefix(user: string): string {
  return `_INBOX.${user.replace(/[^A-Za-z0-9_-]/g, '_')}`;
}

const API = '$JS.API';
/** every client: jetstreamManager() checks the API */
const BASE_PUBLISH = [`${API}.INFO`];
/** replies, JetStream API answers and pulled messages arrive on the user's own inboxes */
const inbox = (user: NatsServiceUser) => [`${natsInboxPrefix(user)}.>`];

function rule(allow: string[], deny: string[] = []): NatsSubjectRule {
  const uniq = (xs: string[]) => [...new Set(xs)];
  return deny.length > 0 ? { allow: uniq(allow), deny: uniq(deny) } : { allow: uniq(allow) };
}

export function natsPermissions(names: NatsNames): Record<NatsUser, NatsPermission> {
  const { streams, subjects, consumers, buckets } = names;
  const durablesOf: Record<string, string[]> = {
    [streams.commands]: [consumers.generateWorkers, consumers.judgeWorkers, consumers.toolRunners, consumers.workspaceTasks, consumers.timers],
    [streams.results]: [consumers.orchestratorResults],
    [streams.deadLetters]: [consumers.deadLetters],
  };

  /** a durable pull consumer set up by the admin: look it up, pull, ack / nak / in-progress / term */
  const pull = (stream: string, durable: string) => [
    `${API}.CONSUMER.INFO.${stream}.${durable}`,
    `${API}.CONSUMER.MSG.NEXT.${stream}.${durable}`,
    `$JS.ACK.${stream}.${durable}.>`,
  ];
  /**
   * Ordered (ephemeral, server-named `oc_…`) consumers for reads: create (name and filter in the
   * subject, nats-server ≥ 2.9), info, pull, delete on reset. Never under a durable's name.
   */
  const orderedAllow = (stream: string) => [
    `${API}.STREAM.INFO.${stream}`,
    `${API}.DIRECT.GET.${stream}`, // an aggregate's messages one by one (ADR 014)
    `${API}.CONSUMER.CREATE.${stream}.>`,
    `${API}.CONSUMER.INFO.${stream}.*`,
    `${API}.CONSUMER.MSG.NEXT.${stream}.*`,
    `${API}.CONSUMER.DELETE.${stream}.*`,
  ];
  const durableDeny = (stream: string, own: string[] = []) =>
    (durablesOf[stream] ?? []).flatMap((d) => [
      `${API}.CONSUMER.CREATE.${stream}.${d}`,
      `${API}.CONSUMER.CREATE.${stream}.${d}.>`,
      `${API}.CONSUMER.DELETE.${stream}.${d}`,
      ...(own.includes(d) ? [] : [`${API}.CONSUMER.MSG.NEXT.${stream}.${d}`]),
    ]);

  const transcriptStream = `OBJ_${buckets.transcripts}`;
  const transcripts = `$O.${buckets.transcripts}`;
  /** the object store: find it, look a key up (last message of its meta subject) */
  const transcriptLookup = [`${API}.STREAM.INFO.${transcriptStream}`, `${API}.STREAM.MSG.GET.${transcriptStream}`, `${API}.DIRECT.GET.${transcriptStream}`, `${API}.DIRECT.GET.${transcriptStream}.>`];
  /** write chunks and meta (content-addressed: nothing is ever purged by a service) */
  const transcriptWrite = [...transcriptLookup, `${transcripts}.C.>`, `${transcripts}.M.>`];
  /** read chunks: an ordered push consumer on the object stream, with flow control */
  const transcriptRead = [
    ...transcriptLookup,
    `${API}.CONSUMER.CREATE.${transcriptStream}`,
    `${API}.CONSUMER.CREATE.${transcriptStream}.>`,
    `${API}.CONSUMER.INFO.${transcriptStream}.*`,
    `${API}.CONSUMER.DELETE.${transcriptStream}.*`,
    `$JS.FC.${transcriptStream}.>`,
  ];

  /** the work-queue workers' common runtime (libs/worker-kit): results, live deltas, credentials */
  const worker = (user: NatsServiceUser, owned: string[], extraPublish: string[] = []): NatsPermission => ({
    publish: rule([
      ...BASE_PUBLISH,
      ...owned.flatMap((d) => pull(streams.commands, d)),
      subjects.result('*'),
      subjects.directResult, // a result in one hop to the orchestrator (request/reply), else to RESULTS
      subjects.liveRun('*'),
      subjects.liveWorker('*'),
      subjects.credentials,
      ...owned.map((d) => subjects.deadLetter(d)), // its consumers' dead letters (libs/event-log runConsumer)
      ...extraPublish,
    ]),
    subscribe: rule([...inbox(user), subjects.cancel]),
  });

  return {
    [NATS_ADMIN_USER]: { publish: rule(['>']), subscribe: rule(['>']) },
    gateway: {
      publish: rule(
        [
          ...BASE_PUBLISH,
          ...orderedAllow(streams.events), // relay, timeline, /events, providers' history, replay
          subjects.aggregateEvents('provider', '*'), // ProviderConfigured / ProviderRemoved
          subjects.aggregateEvents('alert', '*'), // AlertRaised (budgets, provider tests) / AlertAcknowledged (ADR 016)
          subjects.orchestrator, // REST commands, request/reply
          ...transcriptRead,
        ],
      ),
      subscribe: rule([...inbox('gateway'), subjects.credentials, subjects.allLive]),
      allow_responses: true, // answers credentials requests
    },
    orchestrator: {
      publish: rule(
        [
          ...BASE_PUBLISH,
          ...orderedAllow(streams.events), // aggregate reads
          ...pull(streams.commands, consumers.timers),
          // outbox leases (ADR 025): renew its own, read the others', purge one it swept
          subjects.allOutbox,
          `${API}.STREAM.INFO.${streams.outbox}`,
          `${API}.DIRECT.GET.${streams.outbox}`,
          `${API}.DIRECT.GET.${streams.outbox}.>`,
          `${API}.STREAM.PURGE.${streams.outbox}`,
          // the timers durable on EVENTS of the builds before ADR 014: drained, then removed
          ...pull(streams.events, consumers.timers),
          `${API}.CONSUMER.DELETE.${streams.events}.${consumers.timers}`,
          ...pull(streams.results, consumers.orchestratorResults),
          subjects.aggregateEvents('run', '*'),
          subjects.aggregateEvents('template', '*'),
          subjects.aggregateEvents('study', '*'), // re-judging studies: the study decider's events (ADR 023)
          subjects.generate,
          subjects.judge,
          subjects.tool,
          subjects.workspace,
          subjects.timer,
          subjects.cancel,
          // dead letters of its consumers, and redrive (issue 11 §2): read a record and the original
          // event, hand a result back, mark any consumer's record redriven
          subjects.allDeadLetters,
          `${API}.STREAM.MSG.GET.${streams.deadLetters}`,
          `${API}.STREAM.MSG.GET.${streams.events}`,
          subjects.result('*'),
          // a stalled worker's command is removed once it is re-dispatched under a new token (§5)
          `${API}.STREAM.MSG.DELETE.${streams.commands}`,
        ],
        durableDeny(streams.commands, [consumers.timers]),
      ),
      subscribe: rule([...inbox('orchestrator'), subjects.orchestrator, subjects.directResult, subjects.liveWorker('*')]),
      allow_responses: true, // answers the gateway's commands and the workers' direct results
    },
    projector: {
      publish: rule(
        [
          ...BASE_PUBLISH,
          ...orderedAllow(streams.events),
          ...pull(streams.deadLetters, consumers.deadLetters),
          subjects.aggregateEvents('alert', '*'), // AlertRaised by its detectors (ADR 016)
        ],
      ),
      subscribe: rule(inbox('projector')),
    },
    'llm-worker': worker('llm-worker', [consumers.generateWorkers, consumers.toolRunners, consumers.workspaceTasks], transcriptWrite),
    judge: worker('judge', [consumers.judgeWorkers]),
  };
}
