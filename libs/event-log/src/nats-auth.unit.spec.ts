import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { NATS_USERS, natsNames, natsPermissions } from '@conclave/contracts';
import { DEPLOY_NATS_NODES, deployNatsConfigs, generateNatsPasswords, NATS_PASSWORD_PATTERN, natsPasswordVariable, natsServerEnv, renderNatsConfig } from './nats-auth';

describe('generated NATS config', () => {
  it('deploy/nats/<node>.conf (docker compose) are exactly what renderNatsConfig makes of natsPermissions (run `node scripts/lib/nats-auth.mjs` after a change)', () => {
    const configs = deployNatsConfigs();
    for (const node of DEPLOY_NATS_NODES) {
      const committed = readFileSync(join(__dirname, '..', '..', '..', 'deploy', 'nats', `${node}.conf`), 'utf8');
      expect(committed).toBe(configs[node]);
    }
  });

  it("makes compose's NATS a three-node cluster that fsyncs every write, each node under its own name with routes to all three", () => {
    const configs = Object.values(deployNatsConfigs());
    expect(configs).toHaveLength(3);
    for (const [i, text] of configs.entries()) {
      expect(text).toMatch(/^jetstream \{[^}]*\n {2}sync_interval: always\n[^}]*\}/m);
      expect(text).toContain(`server_name: "nats-${i + 1}"`);
      expect(text).toContain(['cluster {', '  name: "conclave"', '  port: 6222', '  routes: [', '    "nats-route://nats-1:6222"', '    "nats-route://nats-2:6222"', '    "nats-route://nats-3:6222"', '  ]', '}'].join('\n'));
    }
  });

  it('has every user, passwords only as environment references, and no anonymous user', () => {
    const text = renderNatsConfig({ prefix: 'p1', port: 4999, storeDir: '/tmp/x' });
    for (const user of NATS_USERS) {
      expect(text).toContain(`user: "${user}"`);
      expect(text).toContain(`password: $${natsPasswordVariable(user)}`);
    }
    expect(text).not.toMatch(/^\s*no_auth_user/m);
    expect(text).toContain('"p1.gateway.credentials"');
  });

  it('lets only the llm-worker and the judge publish credentials requests, and keeps the llm-worker off the events subjects', () => {
    const names = natsNames('');
    const perms = natsPermissions(names);
    const requesters = Object.entries(perms).filter(([user, p]) => user !== 'admin' && p.publish.allow.includes(names.subjects.credentials)).map(([u]) => u);
    expect(requesters.sort()).toEqual(['judge', 'llm-worker']);
    expect(perms.gateway.subscribe.allow).toContain(names.subjects.credentials);
    expect(perms['llm-worker'].publish.allow.some((s) => s.startsWith('events.'))).toBe(false);
    expect(perms.gateway.publish.allow.some((s) => s.includes(`.${names.streams.commands}.`))).toBe(false);
    expect(perms['llm-worker'].publish.allow).toContain(`$JS.API.CONSUMER.MSG.NEXT.${names.streams.commands}.${names.consumers.workspaceTasks}`);
  });

  it('makes passwords nats-server reads as strings from its environment, and refuses others', () => {
    for (let i = 0; i < 50; i++) for (const pw of Object.values(generateNatsPasswords())) expect(pw).toMatch(NATS_PASSWORD_PATTERN);
    const env = natsServerEnv(generateNatsPasswords());
    expect(Object.keys(env).sort()).toEqual(NATS_USERS.map(natsPasswordVariable).sort());
    expect(() => natsServerEnv({ ...generateNatsPasswords(), judge: '4f3a9c0e1b2d3c4e5f6a7b8c' })).toThrow(/judge/);
  });
});
