import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { natsNames, type RunTool } from '@conclave/contracts';
import type { ExecuteContext } from '@conclave/worker-kit';
import { toolWorkerSpec, type ToolOutcome } from '../../adapters/tool-worker';
import { BwrapSandbox, findBwrap, PidsCgroup, UnavailableSandbox, type SandboxLimits } from './sandbox';
import { ToolExecutor, type ToolSettings } from './tools';
import { Workspace } from './workspace';

/**
 * The escape corpus (issue 10 §5): attempts to leave the sandbox through the real bubblewrap
 * sandbox, via the agent's bash/git/read_file tools (allow-list with node, npm, git, cat, ls…)
 * and via the tool-phase runner. Each attempt must be refused or harmless: no secret of the
 * worker in any output, nothing outside the worktree written, no connection, limits that end the
 * process. Fails without the sandbox (node -e reads the env, writes anywhere, connects to NATS).
 */
// bounds below leave room for a loaded CI machine (2 cores, other suites in parallel)
jest.setTimeout(30_000);

const bwrap = findBwrap();
const tag = Math.random().toString(36).slice(2, 10);
const SECRETS = {
  ANTHROPIC_API_KEY: `sk-test-secret-${tag}`,
  NATS_URL: `nats://worker:nats-pass-${tag}@127.0.0.1:4222`,
  DATABASE_URL: `postgres://conclave:pg-pass-${tag}@127.0.0.1:5432/conclave`,
  CONCLAVE_MASTER_KEY: `master-key-${tag}`,
};
const OTHER_RUN_SECRET = `other-run-secret-${tag}`;
const OUTSIDE_SECRET = `outside-secret-${tag}`;
const LIMITS: SandboxLimits = { memoryMb: 1536, cpuSeconds: 20, maxProcesses: 64, maxFileMb: 16 };
const ALLOW = ['ls', 'cat', 'grep', 'node', 'npm', 'git', 'echo', 'wc', 'head', 'tail', 'touch'];

const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { cwd, encoding: 'utf8', env: { PATH: process.env.PATH, HOME: cwd, GIT_CONFIG_NOSYSTEM: '1' } }).trim();
const sha = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');
const js = (v: unknown) => JSON.stringify(v);

describe('sandbox escape corpus (real bubblewrap)', () => {
  let base: string;
  let repo: string;
  let commonDir: string;
  let gitDir: string;
  let worktree: string;
  let otherRun: string;
  let outside: string;
  let sandbox: BwrapSandbox;
  let tools: ToolExecutor;
  let decoy: ChildProcess;
  let mainRef: string;
  const saved: Record<string, string | undefined> = {};
  const before = new Map<string, string>();
  let attempts = 0;
  let harmless = 0;

  const settings = (over: Partial<ToolSettings> = {}): ToolSettings => ({ bashAllow: ALLOW, bashTimeoutMs: 5_000, outputCap: 8_000, now: Date.now, sandbox, ...over });
  const bash = (program: string, args: string[] = [], on = tools) => on.run('bash', { program, args });
  const node = (code: string, on = tools) => bash('node', ['-e', code], on);
  /** The secrets of the worker and of others never reach the agent. */
  const clean = (text: string) => {
    for (const s of [...Object.values(SECRETS), OTHER_RUN_SECRET, OUTSIDE_SECRET, 'pg-pass', 'nats-pass']) expect(text).not.toContain(s);
  };
  const untouched = () => {
    for (const [p, digest] of before) expect(existsSync(p) ? sha(p) : 'gone').toBe(digest);
    expect(readFileSync(path.join(commonDir, 'refs', 'heads', 'main'), 'utf8')).toBe(mainRef);
    for (const f of ['pwned', 'pwned-ssh', 'pwned-fsmonitor', 'pwned-npm', 'pwned-alias', 'pwned-hook']) expect(existsSync(path.join(base, f))).toBe(false);
  };
  const liveBombs = () => execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).split('\n').filter((l) => l.includes(`bomb-${tag}`) || l.includes(`forever-${tag}`)).length;

  /** One attempt of the corpus: counted, and harmless only when all its assertions hold. */
  const attempt = (name: string, fn: () => Promise<void>) =>
    it(name, async () => {
      attempts += 1;
      await fn();
      untouched();
      harmless += 1;
    });

  beforeAll(async () => {
    if (!bwrap) throw new Error('bubblewrap is not installed: apt-get install -y bubblewrap (.ci/run does)');
    for (const [k, v] of Object.entries(SECRETS)) {
      saved[k] = process.env[k];
      process.env[k] = v; // the worker's own environment: a leak of process.env would show them
    }
    base = realpathSync(mkdtempSync(path.join(tmpdir(), 'sandbox-escape-')));
    repo = path.join(base, 'user-repo');
    mkdirSync(repo);
    git(repo, 'init', '-q', '-b', 'main');
    writeFileSync(path.join(repo, 'README.md'), '# user repo\n');
    git(repo, 'add', '.');
    git(repo, 'commit', '-q', '-m', 'first');
    git(repo, 'repack', '-adq'); // the history in a pack, as in a cloned repository
    worktree = path.join(base, 'worktrees', 'run1');
    mkdirSync(path.dirname(worktree));
    git(repo, 'worktree', 'add', '-q', '--detach', worktree);
    commonDir = realpathSync(path.join(repo, '.git'));
    gitDir = realpathSync(path.join(commonDir, 'worktrees', 'run1'));
    mainRef = readFileSync(path.join(commonDir, 'refs', 'heads', 'main'), 'utf8');
    otherRun = path.join(base, 'worktrees', 'run2');
    mkdirSync(otherRun);
    writeFileSync(path.join(otherRun, 'secret.txt'), OTHER_RUN_SECRET);
    outside = path.join(base, 'outside.txt');
    writeFileSync(outside, OUTSIDE_SECRET);
    for (const p of [outside, path.join(otherRun, 'secret.txt'), path.join(commonDir, 'config'), path.join(commonDir, 'HEAD'), path.join(worktree, '.git'), path.join(gitDir, 'commondir'), path.join(gitDir, 'gitdir'), '/etc/hosts', '/etc/passwd']) {
      before.set(p, sha(p));
    }
    // a stand-in for the worker process: its /proc/<pid>/environ holds the secrets
    decoy = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { env: { ...SECRETS, PATH: process.env.PATH }, stdio: 'ignore' });
    await new Promise((r) => setTimeout(r, 100));
    expect(readFileSync(`/proc/${decoy.pid}/environ`, 'utf8')).toContain(SECRETS.ANTHROPIC_API_KEY); // the corpus is meaningful
    sandbox = new BwrapSandbox(bwrap, LIMITS, PidsCgroup.detect());
    const workspace = Workspace.at(realpathSync(worktree), { repo, branch: 'conclave/run1', worktree, gitDir, commonDir, base: git(repo, 'rev-parse', 'HEAD') });
    tools = new ToolExecutor(workspace, ['bash', 'git', 'read_file', 'write_file', 'list_files'], settings());
  });

  afterAll(() => {
    decoy?.kill('SIGKILL');
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    if (base) rmSync(base, { recursive: true, force: true });
    console.log(`escape corpus: ${attempts} attempts, ${harmless} refused or harmless`);
  });

  /* ---------------------------------------------------------------- environment and /proc */

  attempt('node -e prints process.env: only PATH, HOME, LANG (and PWD)', async () => {
    const r = await node('console.log(JSON.stringify(process.env))');
    clean(r.content);
    expect(Object.keys(JSON.parse(r.content.split('\n')[0]) as object).sort()).toEqual(['HOME', 'LANG', 'PATH', 'PWD']);
  });
  attempt('node -e reads /proc/<worker pid>/environ', async () => {
    for (const pid of [decoy.pid, process.pid]) {
      const r = await node(`try { console.log(require('fs').readFileSync('/proc/${pid}/environ', 'utf8')) } catch (e) { console.log(e.code) }`);
      clean(r.content);
    }
  });
  attempt('node -e reads every /proc/*/environ and cmdline it can see', async () => {
    const r = await node(
      `const fs=require('fs'); for (const p of fs.readdirSync('/proc').filter((d)=>/^\\d+$/.test(d))) { for (const f of ['environ','cmdline']) { try { console.log(p, f, fs.readFileSync('/proc/'+p+'/'+f,'utf8')) } catch {} } }`,
    );
    clean(r.content);
  });
  attempt('node -e lists /proc: its own pid namespace (a handful of pids, not the worker)', async () => {
    const r = await node(`console.log(require('fs').readdirSync('/proc').filter((d)=>/^\\d+$/.test(d)).join(' '))`);
    const pids = r.content.split('\n')[0].split(' ').map(Number);
    expect(pids).not.toContain(decoy.pid);
    expect(Math.max(...pids)).toBeLessThan(100);
  });
  attempt('cat /proc/<worker pid>/environ (absolute path) is refused', async () => {
    const r = await bash('cat', [`/proc/${decoy.pid}/environ`]);
    expect(r.refused).toBe(true);
    clean(r.content);
  });
  attempt('node -e spawns a shell that dumps env and /proc', async () => {
    const r = await node(`console.log(require('child_process').execSync('env; cat /proc/*/environ 2>/dev/null; id', {encoding:'utf8'}))`);
    clean(r.content);
  });
  attempt('node -e kills the worker process (other pid namespace)', async () => {
    const r = await node(`for (const pid of [${decoy.pid}, ${process.pid}]) { try { process.kill(pid, 'SIGKILL'); console.log('sent') } catch (e) { console.log(e.code) } }`);
    expect(r.content).not.toMatch(/^sent/m);
    expect(decoy.exitCode).toBeNull();
    expect(decoy.signalCode).toBeNull();
  });

  /* ---------------------------------------------------------------- filesystem */

  attempt('node -e writes outside the worktree (absolute path)', async () => {
    // under /tmp it may "succeed": into the sandbox's own tmpfs /tmp, gone when it ends
    await node(`try { require('fs').writeFileSync(${js(path.join(base, 'pwned'))}, 'x'); console.log('wrote') } catch (e) { console.log(e.code) }`);
    const r = await node(`try { require('fs').writeFileSync(${js(path.join(process.cwd(), 'pwned-in-project'))}, 'x'); console.log('wrote') } catch (e) { console.log(e.code) }`);
    expect(r.content).not.toMatch(/^wrote/m);
    expect(existsSync(path.join(process.cwd(), 'pwned-in-project'))).toBe(false);
  });
  attempt('node -e writes outside the worktree through ..', async () => {
    const r = await node(`try { require('fs').writeFileSync('../../pwned', 'x'); console.log('wrote') } catch (e) { console.log(e.code) }`);
    expect(r.content).not.toMatch(/^wrote/m);
  });
  attempt('node -e appends to /etc/hosts and /etc/passwd', async () => {
    const r = await node(`for (const f of ['/etc/hosts','/etc/passwd']) { try { require('fs').appendFileSync(f, 'evil'); console.log('wrote') } catch (e) { console.log(e.code) } }`);
    expect(r.content).not.toMatch(/^wrote/m);
  });
  attempt('node -e writes into /usr/bin', async () => {
    const r = await node(`try { require('fs').writeFileSync('/usr/bin/conclave-evil', 'x'); console.log('wrote') } catch (e) { console.log(e.code) }`);
    expect(r.content).not.toMatch(/^wrote/m);
    expect(existsSync('/usr/bin/conclave-evil')).toBe(false);
  });
  attempt("node -e reads another run's worktree by absolute path", async () => {
    const r = await node(`try { console.log(require('fs').readFileSync(${js(path.join(otherRun, 'secret.txt'))}, 'utf8')) } catch (e) { console.log(e.code) }`);
    clean(r.content);
    expect(r.content).toContain('ENOENT');
  });
  attempt("cat ../run2/secret.txt (another run's worktree via ..) is refused", async () => {
    const r = await bash('cat', ['../run2/secret.txt']);
    expect(r.refused).toBe(true);
    clean(r.content);
  });
  attempt('cat /etc/shadow (absolute path) is refused', async () => {
    expect((await bash('cat', ['/etc/shadow'])).refused).toBe(true);
  });
  attempt('ls ~ and ls ../.. are refused', async () => {
    expect((await bash('ls', ['~'])).refused).toBe(true);
    expect((await bash('ls', ['../..'])).refused).toBe(true);
  });
  attempt('node -e lists /: no /work, /root, /home, /var, /opt', async () => {
    const r = await node(`console.log(require('fs').readdirSync('/').join(' '))`);
    const entries = r.content.split('\n')[0].split(' ');
    for (const gone of ['work', 'root', 'home', 'var', 'opt', 'srv', 'mnt', 'sys']) expect(entries).not.toContain(gone);
  });
  attempt("node -e reads the repository's .conclave and the project's files", async () => {
    const r = await node(`for (const f of [${js(path.join(process.cwd(), 'package.json'))}, ${js(path.join(process.cwd(), '.conclave'))}, '/root/.bashrc', '/etc/shadow', '/etc/nats-server.conf']) { try { require('fs').statSync(f); console.log('SEEN', f) } catch (e) { console.log(e.code) } }`);
    expect(r.content).not.toContain('SEEN');
  });
  attempt('node -e reads /sys and /dev devices', async () => {
    const r = await node(`for (const f of ['/sys/fs/cgroup', '/dev/mem', '/dev/sda', '/dev/vda']) { try { require('fs').statSync(f); console.log('SEEN', f) } catch (e) { console.log(e.code) } }`);
    expect(r.content).not.toContain('SEEN');
  });
  attempt('HOME is an empty tmpfs: no ssh keys or npm tokens', async () => {
    const r = await node(`const fs=require('fs'); console.log(process.env.HOME, JSON.stringify(fs.readdirSync(process.env.HOME)))`);
    expect(r.content).toContain('/tmp/home []');
  });
  attempt('node -e hard-links a file from outside into the worktree', async () => {
    const r = await node(`try { require('fs').linkSync(${js(outside)}, 'hl'); console.log('linked') } catch (e) { console.log(e.code) }`);
    expect(r.content).not.toContain('linked');
  });

  /* ---------------------------------------------------------------- symlinks out */

  attempt('a symlink to a file outside, made by node, read via read_file is refused', async () => {
    await node(`require('fs').symlinkSync(${js(outside)}, 'link-outside')`);
    const r = await tools.run('read_file', { path: 'link-outside' });
    expect(r.refused).toBe(true);
    clean(r.content);
  });
  attempt('the same symlink read via cat inside the sandbox finds nothing', async () => {
    const r = await bash('cat', ['link-outside']);
    expect(r.isError).toBe(true);
    clean(r.content);
  });
  attempt("a symlink to another run's worktree: read_file refused, cat finds nothing", async () => {
    await node(`require('fs').symlinkSync(${js(otherRun)}, 'link-run2')`);
    const viaTool = await tools.run('read_file', { path: 'link-run2/secret.txt' });
    expect(viaTool.refused).toBe(true);
    const viaCat = await bash('cat', ['link-run2/secret.txt']);
    clean(viaTool.content + viaCat.content);
  });
  attempt('a symlink to /proc/<worker pid>/environ: read_file refused, cat harmless', async () => {
    await node(`require('fs').symlinkSync('/proc/${decoy.pid}/environ', 'link-environ')`);
    const viaTool = await tools.run('read_file', { path: 'link-environ' });
    expect(viaTool.refused).toBe(true);
    const viaCat = await bash('cat', ['link-environ']);
    clean(viaTool.content + viaCat.content);
  });
  attempt('list_files does not follow symlinks out', async () => {
    const r = await tools.run('list_files', {});
    expect(r.content).not.toContain('secret.txt');
    clean(r.content);
  });

  /* ---------------------------------------------------------------- network */

  for (const [name, port] of [
    ['NATS', 4222],
    ['Postgres', 5432],
    ['NATS monitoring', 8222],
  ] as const) {
    attempt(`node -e connects to 127.0.0.1:${port} (${name}): refused`, async () => {
      const r = await node(
        `const s=require('net').connect(${port},'127.0.0.1'); s.on('connect',()=>{console.log('CONNECTED');process.exit(0)}); s.on('data',(d)=>console.log(String(d))); s.on('error',(e)=>console.log(e.code))`,
      );
      expect(r.content).not.toMatch(/^CONNECTED/m);
      expect(r.content).toMatch(/ECONNREFUSED|ENETUNREACH/);
    });
  }
  attempt('node -e reaches the internet (DNS, 1.1.1.1:443): no network', async () => {
    const r = await node(
      `require('dns').lookup('registry.npmjs.org',(e)=>console.log('dns', e ? e.code : 'RESOLVED')); const s=require('net').connect(443,'1.1.1.1'); s.on('connect',()=>{console.log('CONNECTED');process.exit(0)}); s.on('error',(e)=>console.log(e.code))`,
    );
    expect(r.content).not.toMatch(/^(CONNECTED|dns RESOLVED)/m);
  });
  attempt('node -e lists network interfaces: loopback only', async () => {
    const r = await node(`console.log(Object.keys(require('os').networkInterfaces()).join(','))`);
    expect(r.content.split('\n')[0]).toMatch(/^(lo)?$/);
  });

  /* ---------------------------------------------------------------- npm */

  attempt('npm run of a malicious script: env, outside write and NATS all out of reach', async () => {
    const script = `node -e "const fs=require('fs');console.log(JSON.stringify(process.env));try{fs.writeFileSync('${path.join(base, 'pwned-npm')}','x')}catch(e){console.log(e.code)};require('net').connect(4222,'127.0.0.1').on('connect',()=>console.log('CONNECTED')).on('error',(e)=>console.log(e.code))"`;
    await tools.run('write_file', { path: 'package.json', content: JSON.stringify({ name: 'evil', version: '1.0.0', scripts: { evil: script, test: script } }) });
    const r = await bash('npm', ['run', 'evil']);
    clean(r.content);
    expect(r.content).not.toMatch(/^CONNECTED/m);
    expect(r.content).toContain('ECONNREFUSED');
  });
  attempt('npm install (registry, install scripts) has no network', async () => {
    const r = await bash('npm', ['install', 'left-pad', '--no-audit', '--no-fund', '--fetch-retries=0', '--fetch-timeout=2000']);
    expect(r.isError).toBe(true);
    expect(existsSync(path.join(worktree, 'node_modules', 'left-pad'))).toBe(false);
    clean(r.content);
  });

  /* ---------------------------------------------------------------- git */

  attempt("git --git-dir=<user repo> branch: the user's refs are read-only", async () => {
    const r = await bash('git', [`--git-dir=${commonDir}`, 'branch', 'evil']);
    expect(r.isError).toBe(true);
    expect(existsSync(path.join(commonDir, 'refs', 'heads', 'evil'))).toBe(false);
  });
  attempt("git --git-dir=<another run's dir>: not there", async () => {
    mkdirSync(path.join(otherRun, '.git'), { recursive: true });
    const r = await bash('git', [`--git-dir=${path.join(otherRun, '.git')}`, 'status']);
    expect(r.isError).toBe(true);
    clean(r.content);
  });
  attempt('git -c core.sshCommand=<node payload> fetch: runs sandboxed, no secret, no write out, no network', async () => {
    const payload = `node -e "console.log(JSON.stringify(process.env));require('fs').writeFileSync('${path.join(base, 'pwned-ssh')}','x')"`;
    const r = await bash('git', ['-c', `core.sshCommand=${payload}`, 'fetch', 'ssh://git@example.com/x.git']);
    clean(r.content);
  });
  attempt('git -c core.fsmonitor=<node payload> status: runs sandboxed', async () => {
    const payload = `node -e "console.log(JSON.stringify(process.env));require('fs').writeFileSync('${path.join(base, 'pwned-fsmonitor')}','x')"`;
    const r = await bash('git', ['-c', `core.fsmonitor=${payload}`, 'status']);
    clean(r.content);
  });
  attempt('git -c alias.x=!<shell> x: runs sandboxed', async () => {
    const r = await bash('git', ['-c', `alias.x=!env; cat /proc/*/environ; touch ${path.join(base, 'pwned-alias')}`, 'x']);
    clean(r.content);
  });
  attempt('git -c core.hooksPath=. commit with an agent-written pre-commit hook: runs sandboxed', async () => {
    await tools.run('write_file', { path: 'pre-commit', content: `#!/bin/sh\nenv\ncat /proc/*/environ\ntouch ${path.join(base, 'pwned-hook')}\n` });
    await node(`require('fs').chmodSync('pre-commit', 0o755)`);
    const r = await bash('git', ['-c', 'core.hooksPath=.', '-c', 'user.name=a', '-c', 'user.email=a@a', 'commit', '--allow-empty', '-m', 'hooked']);
    clean(r.content);
  });
  attempt("node -e writes a hook, config or ref into the user's repository", async () => {
    const targets = [path.join(commonDir, 'hooks', 'post-checkout'), path.join(commonDir, 'config'), path.join(commonDir, 'refs', 'heads', 'main'), path.join(commonDir, 'refs', 'heads', 'evil'), path.join(commonDir, 'packed-refs')];
    const r = await node(`for (const f of ${js(targets)}) { try { require('fs').writeFileSync(f, 'evil'); console.log('wrote', f) } catch (e) { console.log(e.code) } }`);
    expect(r.content).not.toMatch(/^wrote/m);
    expect(existsSync(path.join(commonDir, 'hooks', 'post-checkout'))).toBe(false);
  });
  attempt("node -e deletes the user's packs or adds an alternates file", async () => {
    const packs = path.join(commonDir, 'objects', 'pack');
    const r = await node(
      `const fs=require('fs'); for (const f of fs.readdirSync(${js(packs)})) { try { fs.unlinkSync(${js(packs)} + '/' + f); console.log('deleted', f) } catch (e) { console.log(f, e.code) } } try { fs.writeFileSync(${js(path.join(commonDir, 'objects', 'info', 'alternates'))}, '/tmp'); console.log('wrote alternates') } catch (e) { console.log(e.code) }`,
    );
    expect(r.content).not.toMatch(/^(deleted|wrote)/m);
    expect(git(repo, 'log', '--format=%s', 'main')).toBe('first');
  });
  attempt('git update-ref / branch -f main from the worktree: refused by the read-only refs', async () => {
    const r1 = await bash('git', ['update-ref', 'refs/heads/main', 'HEAD']);
    const r2 = await bash('git', ['branch', '-f', 'main', 'HEAD']);
    const r3 = await bash('git', ['checkout', '-b', 'evil-branch']);
    expect([r1.isError, r2.isError, r3.isError]).toEqual([true, true, true]);
  });
  attempt("node -e rewrites the worktree's .git file and the admin dir's commondir (the worker's later git would follow them)", async () => {
    const r = await node(`for (const f of ['.git', ${js(path.join(gitDir, 'commondir'))}, ${js(path.join(gitDir, 'gitdir'))}]) { try { require('fs').writeFileSync(f, 'gitdir: /tmp/evil'); console.log('wrote', f) } catch (e) { console.log(e.code) } }`);
    expect(r.content).not.toMatch(/^wrote/m);
  });
  attempt("write_file / edit_file (outside the sandbox) on the worktree's .git are refused", async () => {
    const w = await tools.run('write_file', { path: '.git', content: 'gitdir: evilgit\n' });
    const e = await tools.run('edit_file', { path: '.git', old_text: 'gitdir', new_text: 'gitdir: evilgit #' });
    const nested = await tools.run('write_file', { path: '.git/config', content: '[core]\n' });
    expect([w.refused, e.refused, nested.refused]).toEqual([true, true, true]);
  });
  attempt('the git tool on the detached worktree commits nothing itself and leaves the user branch alone', async () => {
    const head = git(worktree, 'rev-parse', 'HEAD');
    await tools.run('write_file', { path: 'notes.md', content: 'agent\n' });
    const r = await tools.run('git', { action: 'commit', message: 'agent work' });
    expect(r.isError).toBe(false);
    expect(git(worktree, 'rev-parse', 'HEAD')).toBe(head);
    expect(git(repo, 'log', '--format=%s', 'main')).toBe('first');
  });
  attempt("node -e deletes or plants a loose object in the user's repository: the object store is read-only", async () => {
    const loose = path.join(commonDir, 'objects', 'ab');
    const r = await node(
      `const fs=require('fs'); const o=${js(path.join(commonDir, 'objects'))}; for (const d of fs.readdirSync(o).filter((d) => /^[0-9a-f]{2}$/.test(d))) for (const f of fs.readdirSync(o + '/' + d)) { try { fs.unlinkSync(o + '/' + d + '/' + f); console.log('deleted', d + f) } catch (e) { console.log(e.code) } } try { fs.mkdirSync(${js(loose)}, { recursive: true }); fs.writeFileSync(${js(path.join(loose, 'c'.repeat(38)))}, 'x'); console.log('planted') } catch (e) { console.log(e.code) }`,
    );
    expect(r.content).not.toMatch(/^(deleted|planted)/m);
    expect(git(repo, 'fsck', '--no-progress', '--connectivity-only')).toBe('');
  });

  /* ---------------------------------------------------------------- namespaces and privileges */

  attempt('node -e tries a nested user namespace (unshare) and mount: refused', async () => {
    const r = await node(
      `const cp=require('child_process'); for (const c of ['unshare -r id', 'unshare -m id', 'mount -t tmpfs none /usr']) { try { console.log('RAN', cp.execSync(c+' 2>&1',{encoding:'utf8'})) } catch (e) { console.log('failed', c) } }`,
    );
    expect(r.content).not.toContain('RAN');
  });
  attempt('node -e writes kernel sysctls (core_pattern = "|<worktree script>" would run it as root on the host)', async () => {
    const pattern = readFileSync('/proc/sys/kernel/core_pattern', 'utf8');
    const r = await node(
      // each value written back as read: proves write access without changing the host if it regresses
      `const fs=require('fs'); for (const f of ['/proc/sys/kernel/core_pattern', '/proc/sys/vm/overcommit_memory', '/proc/sys/kernel/pid_max', '/proc/sys/vm/drop_caches']) { try { fs.writeFileSync(f, fs.readFileSync(f)); console.log('wrote', f) } catch (e) { console.log(f, e.code) } }`,
    );
    expect(r.content).not.toMatch(/^wrote/m);
    expect(readFileSync('/proc/sys/kernel/core_pattern', 'utf8')).toBe(pattern);
  });
  attempt('no capabilities inside', async () => {
    const r = await node(`console.log(require('fs').readFileSync('/proc/self/status','utf8').split('\\n').filter((l)=>l.startsWith('CapEff')).join(''))`);
    expect(r.content).toMatch(/CapEff:\s+0+\b/);
  });

  /* ---------------------------------------------------------------- limits */

  attempt('a fork bomb is contained and killed; the machine stays responsive', async () => {
    const started = Date.now();
    const quick = new ToolExecutor(tools.workspace, ['bash'], settings({ bashTimeoutMs: 3_000 }));
    const r = await node(`require('child_process').execSync("sh -c 'f(){ f | f & }; f; sleep 60' bomb-${tag}", {stdio:'inherit'})`, quick);
    expect(r.isError).toBe(true);
    expect(Date.now() - started).toBeLessThan(12_000);
    const hostStart = Date.now();
    execFileSync('true');
    expect(Date.now() - hostStart).toBeLessThan(2_000);
    await new Promise((res) => setTimeout(res, 300));
    expect(liveBombs()).toBe(0);
  });
  attempt('1 GB of output ends fast, capped', async () => {
    const started = Date.now();
    const r = await node(`const b=Buffer.alloc(1<<20,97); let n=0; (function w(){ while(n<1024){ n++; if(!process.stdout.write(b)) return process.stdout.once('drain', w) } })()`);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(r.isError).toBe(true);
    expect(r.content.length).toBeLessThan(20_000);
  });
  attempt('a never-ending process is killed at the wall-clock limit, nothing left behind', async () => {
    const quick = new ToolExecutor(tools.workspace, ['bash'], settings({ bashTimeoutMs: 1_500 }));
    const started = Date.now();
    const r = await node(`require('child_process').spawn('sh', ['-c', 'sleep 600', 'forever-${tag}'], {detached: true, stdio: 'ignore'}).unref(); setInterval(()=>{}, 1000)`, quick);
    expect(r.content).toMatch(/timed out/);
    expect(Date.now() - started).toBeLessThan(6_000);
    await new Promise((res) => setTimeout(res, 300));
    expect(liveBombs()).toBe(0);
  });
  attempt('a huge file is stopped at the file-size limit', async () => {
    const r = await node(`const fs=require('fs'); const b=Buffer.alloc(1<<20,1); const fd=fs.openSync('huge.bin','w'); for (let i=0;i<100;i++) fs.writeSync(fd,b)`);
    expect(r.isError).toBe(true);
    expect(statSync(path.join(worktree, 'huge.bin')).size).toBeLessThanOrEqual(LIMITS.maxFileMb * 1024 * 1024);
    rmSync(path.join(worktree, 'huge.bin'));
  });
  attempt('a huge file in /tmp is stopped too', async () => {
    const r = await node(`const fs=require('fs'); const b=Buffer.alloc(1<<20,1); const fd=fs.openSync('/tmp/huge.bin','w'); for (let i=0;i<100;i++) fs.writeSync(fd,b)`);
    expect(r.isError).toBe(true);
  });
  attempt('allocating 4 GB fails at the memory limit', async () => {
    const r = await node(`const a=[]; for (let i=0;i<16;i++) a.push(Buffer.alloc(256*1024*1024, 1)); console.log('ALLOCATED')`);
    expect(r.isError).toBe(true);
    expect(r.content).not.toContain('ALLOCATED');
  });
  attempt('a CPU-bound loop is killed at the CPU-seconds limit', async () => {
    const cpuBound = new BwrapSandbox(bwrap!, { ...LIMITS, cpuSeconds: 1 }, PidsCgroup.detect());
    const t = new ToolExecutor(tools.workspace, ['bash'], settings({ sandbox: cpuBound, bashTimeoutMs: 10_000 }));
    const started = Date.now();
    const r = await node('for(;;){}', t);
    expect(r.content).toMatch(/CPU time limit/);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  /* ---------------------------------------------------------------- tool phases */

  describe('via the tool-phase runner', () => {
    const names = natsNames('escape');
    const ctx = (): ExecuteContext => ({ signal: new AbortController().signal, onDelta: () => undefined, onToolCall: () => undefined, deliveryCount: 1, alongside: () => undefined });
    const phase = (command: string, args: string[], timeoutSeconds = 10): RunTool => ({
      type: 'RunTool',
      commandId: `c-${Math.random().toString(36).slice(2)}`,
      runId: 'escape-run',
      phaseId: 'check',
      attempt: 1,
      attemptToken: 't',
      provider: 'tool',
      model: command,
      command,
      args,
      timeoutSeconds,
    });
    const runPhase = (command: RunTool, sb: BwrapSandbox | UnavailableSandbox = sandbox): Promise<ToolOutcome> =>
      toolWorkerSpec({ allow: ['node', 'cat', 'git', 'ls', 'npm'], workspacesRoot: path.join(base, 'tool-ws'), outputCap: 8_000, sandbox: sb }, names).execute(command, ctx());
    const text = (o: ToolOutcome) => (o.status === 'completed' ? o.stdout + o.stderr : o.error.message);

    attempt('tool phase: node -e dumps env (only PATH, HOME, LANG, CI)', async () => {
      const o = await runPhase(phase('node', ['-e', 'console.log(JSON.stringify(process.env))']));
      expect(o.status).toBe('completed');
      clean(text(o));
      expect(Object.keys(JSON.parse(text(o).split('\n')[0]) as object).sort()).toEqual(['CI', 'HOME', 'LANG', 'PATH', 'PWD']);
    });
    attempt('tool phase: cat /proc/<worker pid>/environ (tool phases have no argument check)', async () => {
      const o = await runPhase(phase('cat', [`/proc/${decoy.pid}/environ`, `/proc/${process.pid}/environ`]));
      clean(text(o));
    });
    attempt("tool phase: cat another run's worktree and a file outside by absolute path", async () => {
      const o = await runPhase(phase('cat', [path.join(otherRun, 'secret.txt'), outside]));
      clean(text(o));
      expect(o.status === 'completed' && o.exitCode).not.toBe(0);
    });
    attempt('tool phase: node -e connects to NATS and writes outside', async () => {
      const o = await runPhase(
        phase('node', ['-e', `try{require('fs').writeFileSync(${js(path.join(base, 'pwned'))},'x')}catch(e){console.log(e.code)}; require('net').connect(4222,'127.0.0.1').on('connect',()=>console.log('CONNECTED')).on('error',(e)=>console.log(e.code))`]),
      );
      expect(text(o)).not.toMatch(/^CONNECTED/m);
      expect(text(o)).toContain('ECONNREFUSED');
    });
    attempt('tool phase: a never-ending process fails with a retryable timeout, fast', async () => {
      const started = Date.now();
      const o = await runPhase(phase('node', ['-e', 'setInterval(()=>{},1000)'], 1));
      expect(o).toMatchObject({ status: 'failed', error: { code: 'timeout', retryable: true } });
      expect(Date.now() - started).toBeLessThan(6_000);
    });
    attempt('tool phase: a program outside the allow-list is refused', async () => {
      const o = await runPhase(phase('sh', ['-c', 'env']));
      expect(o).toMatchObject({ status: 'failed', error: { code: 'tool_refused', retryable: false } });
    });
    attempt('tool phase without a sandbox: sandbox_unavailable, not retryable, naming the fix', async () => {
      const o = await runPhase(phase('node', ['-e', 'console.log(process.env)']), new UnavailableSandbox('bubblewrap (bwrap) is not installed'));
      expect(o).toMatchObject({ status: 'failed', error: { code: 'sandbox_unavailable', retryable: false } });
      expect(text(o)).toMatch(/bubblewrap/);
    });
  });

  /* ---------------------------------------------------------------- the count */

  it('reports the count: at least 40 attempts, every one refused or harmless, every call audited', () => {
    expect(attempts).toBeGreaterThanOrEqual(40);
    expect(harmless).toBe(attempts);
    expect(tools.records.length).toBeGreaterThanOrEqual(40);
    expect(tools.records.some((r) => r.refused)).toBe(true);
  });
});
