import { randomBytes } from 'node:crypto';
import { NATS_USERS, natsNames, natsPermissions, type NatsPermission, type NatsSubjectRule, type NatsUser } from '@conclave/contracts';
import { renderJetStreamBlock } from './nats-server-config';

/**
 * The nats-server configuration of least-privilege NATS: a user per service with the permissions
 * of `natsPermissions` (libs/contracts), an admin user, no anonymous access (no `no_auth_user`),
 * JetStream. Passwords are never written into the file: each is an environment variable reference
 * (`$CONCLAVE_NATS_<USER>_PASSWORD`) that nats-server resolves from its own environment, so the
 * same text serves docker compose (deploy/nats.conf), `npm start` and the e2e stack.
 */
export interface NatsConfigOptions {
  /** stream/subject prefix the permissions are computed for ('' in production) */
  prefix: string;
  /** comment lines written at the top */
  comment?: string[];
  serverName?: string;
  /** listen address; omitted: all interfaces */
  host?: string;
  port: number;
  /** monitoring port (healthz); omitted: none */
  httpPort?: number;
  storeDir: string;
  /** `sync_interval: always` (nats-server ≥ 2.10; Debian's 2.9.10 refuses it: natsServerConfig decides by version) */
  syncAlways?: boolean;
  maxFileStore?: string;
  maxMemoryStore?: string;
  maxPayload?: string;
  /** a node of a cluster: its routes (every node, itself included, is fine) on clusterPort */
  cluster?: { name: string; port: number; routes: string[] };
}

/** The environment variable nats-server reads a user's password from. */
export function natsPasswordVariable(user: NatsUser): string {
  return `CONCLAVE_NATS_${user.toUpperCase().replace(/-/g, '_')}_PASSWORD`;
}

/**
 * nats-server parses the value of an environment variable it references as a config value: a
 * password that starts with a digit or a `-` is read as a number (or refused), `true`/`yes` as a
 * boolean. A letter followed by letters and digits is always a string.
 */
export const NATS_PASSWORD_PATTERN = /^[A-Za-z][A-Za-z0-9]{15,}$/;

/** Fresh random passwords for every user (npm start keeps them in .conclave/nats-users.json, 0600). */
export function generateNatsPasswords(): Record<NatsUser, string> {
  return Object.fromEntries(NATS_USERS.map((u) => [u, `p${randomBytes(24).toString('hex')}`])) as Record<NatsUser, string>;
}

/** nats-server's environment: every user's password under its variable. */
export function natsServerEnv(passwords: Record<NatsUser, string>): Record<string, string> {
  for (const u of NATS_USERS) {
    if (!NATS_PASSWORD_PATTERN.test(passwords[u] ?? '')) throw new Error(`the NATS password of "${u}" must be a letter then 15 or more letters and digits (nats-server parses it as a config value)`);
  }
  return Object.fromEntries(NATS_USERS.map((u) => [natsPasswordVariable(u), passwords[u]]));
}

const quote = (s: string) => JSON.stringify(s);
const list = (xs: string[]) => `[${xs.map(quote).join(', ')}]`;

function renderRule(name: string, r: NatsSubjectRule, indent: string): string[] {
  const lines = [`${indent}${name}: {`, `${indent}  allow: ${list(r.allow)}`];
  if (r.deny && r.deny.length > 0) lines.push(`${indent}  deny: ${list(r.deny)}`);
  lines.push(`${indent}}`);
  return lines;
}

function renderUser(user: NatsUser, p: NatsPermission): string[] {
  const i = '      ';
  return [
    '    {',
    `      user: ${quote(user)}`,
    `      password: $${natsPasswordVariable(user)}`,
    '      permissions: {',
    ...renderRule('publish', p.publish, `${i}  `),
    ...renderRule('subscribe', p.subscribe, `${i}  `),
    ...(p.allow_responses ? [`${i}  allow_responses: true`] : []),
    '      }',
    '    }',
  ];
}

export function renderNatsConfig(o: NatsConfigOptions): string {
  const permissions = natsPermissions(natsNames(o.prefix));
  const lines: string[] = [
    ...(o.comment ?? []).map((c) => (c ? `# ${c}` : '#')),
    '# Generated from natsPermissions() (libs/contracts/src/nats-permissions.ts) by renderNatsConfig()',
    '# (libs/event-log/src/nats-auth.ts): do not edit by hand, run `node scripts/lib/nats-auth.mjs`.',
    ...(o.serverName ? [`server_name: ${quote(o.serverName)}`] : []),
    ...(o.host ? [`host: ${quote(o.host)}`] : []),
    `port: ${o.port}`,
    ...(o.httpPort !== undefined ? [`http_port: ${o.httpPort}`] : []),
    ...(o.maxPayload ? [`max_payload: ${o.maxPayload}`] : []),
    '',
    ...renderJetStreamBlock(o),
    ...(o.cluster
      ? ['', 'cluster {', `  name: ${quote(o.cluster.name)}`, `  port: ${o.cluster.port}`, '  routes: [', ...o.cluster.routes.map((r) => `    ${quote(r)}`), '  ]', '}']
      : []),
    '',
    `# Users of stream prefix ${quote(o.prefix)}; no no_auth_user: a client without credentials is refused.`,
    'authorization {',
    '  users: [',
    ...NATS_USERS.flatMap((u) => renderUser(u, permissions[u])),
    '  ]',
    '}',
    '',
  ];
  return lines.join('\n');
}

/** the nodes of docker compose's NATS cluster (deploy/nats/<node>.conf, compose services of the same names) */
export const DEPLOY_NATS_NODES = ['nats-1', 'nats-2', 'nats-3'] as const;
export const DEPLOY_NATS_IMAGE_VERSION = '2.15.3';

/**
 * deploy/nats/<node>.conf, the NATS of `docker compose up` (DESIGN.md "The log"): three
 * JetStream nodes in one cluster (streams R3, CONCLAVE_STREAM_REPLICAS), file storage, every
 * write fsynced before it is acknowledged on each replica (`sync_interval: always`; the default
 * 2 min interval could lose acknowledged events on a host crash), the production names (no
 * prefix). The image is pinned (docker-compose.yml) to a version that accepts sync_interval. A
 * unit test keeps the committed files equal to this.
 */
export function deployNatsConfigs(): Record<(typeof DEPLOY_NATS_NODES)[number], string> {
  const configs = DEPLOY_NATS_NODES.map((node) => [
    node,
    renderNatsConfig({
      prefix: '',
      comment: [
        `NATS node ${node} of \`docker compose up\` (nats:${DEPLOY_NATS_IMAGE_VERSION}-alpine): three JetStream nodes in cluster`,
        '"conclave" (streams and the transcripts store R3: a write is acknowledged once two of three',
        'nodes have it), file storage, every write fsynced before it is acknowledged, a user per service',
        '(docker-compose.yml passes each service its own NATS_USER / NATS_PASSWORD and the nodes every',
        'CONCLAVE_NATS_<USER>_PASSWORD). Monitoring (http_port: /healthz for the compose healthcheck) and',
        'the cluster port are not published outside the compose network. Candidates over ~256 KB go to',
        'the blob store: a 1 MB payload limit is plenty.',
      ],
      serverName: node,
      port: 4222,
      httpPort: 8222,
      maxPayload: '1MB',
      storeDir: '/data/jetstream',
      syncAlways: true,
      maxFileStore: '20GB',
      maxMemoryStore: '256MB',
      cluster: { name: 'conclave', port: 6222, routes: DEPLOY_NATS_NODES.map((n) => `nats-route://${n}:6222`) },
    }),
  ]);
  return Object.fromEntries(configs) as Record<(typeof DEPLOY_NATS_NODES)[number], string>;
}
