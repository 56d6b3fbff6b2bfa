import { loadGatewayConfig } from '../config';
import { isInside } from './workspaces.service';

describe('workspace roots', () => {
  it('parses WORKSPACE_ROOTS as a colon-separated list (empty by default) and defaults WORKSPACES_ROOT', () => {
    expect(loadGatewayConfig({})).toMatchObject({ WORKSPACE_ROOTS: [], WORKSPACES_ROOT: '.conclave/workspaces' });
    expect(loadGatewayConfig({ WORKSPACE_ROOTS: '/srv/code: projects ::' }).WORKSPACE_ROOTS).toEqual(['/srv/code', 'projects']);
    expect(loadGatewayConfig({ WORKSPACES_ROOT: '/var/lib/conclave' }).WORKSPACES_ROOT).toBe('/var/lib/conclave');
  });

  it.each([
    ['/srv/code', '/srv/code', true],
    ['/srv/code', '/srv/code/app', true],
    ['/srv/code', '/srv/code/a/b/c', true],
    ['/srv/code', '/srv/code/..app', true],
    ['/srv/code', '/srv/code-other/app', false],
    ['/srv/code', '/srv/codex', false],
    ['/srv/code', '/srv', false],
    ['/srv/code', '/etc/passwd', false],
  ])('isInside(%s, %s) → %s (path arithmetic, not a string prefix)', (root, path, inside) => {
    expect(isInside(root, path)).toBe(inside);
  });
});
