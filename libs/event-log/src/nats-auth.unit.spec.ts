import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { NATS_USERS, natsNames, natsPermissions } from '@conclave/contracts';
import { deployNatsConfig, natsPasswordVariable, renderNatsConfig } from './nats-auth';

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
});
