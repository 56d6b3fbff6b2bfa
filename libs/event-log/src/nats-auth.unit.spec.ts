import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { NATS_USERS, natsNames, natsPermissions } from '@conclave/contracts';
import { deployNatsConfig, generateNatsPasswords, NATS_PASSWORD_PATTERN, natsPasswordVariable, natsServerEnv, renderNatsConfig } from './nats-auth';

describe('generated NATS config', () => {
  it('deploy/nats.conf (docker compose) is exactly what renderNatsConfig makes of natsPermissions (run `node scripts/lib/nats-auth.mjs` after a change)', () => {
    const committed = readFileSync(join(__dirname, '..', '..', '..', 'deploy', 'nats.conf'), 'utf8');
    expect(committed).toBe(deployNatsConfig());
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
