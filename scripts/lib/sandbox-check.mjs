// The sandbox agent tools and tool phases run in (bubblewrap, ADR/issue 10 §5): find bwrap, install
// Debian's `bubblewrap` when missing and we are root, else say loudly what will be refused.
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

const CANDIDATES = ['/usr/bin/bwrap', '/usr/local/bin/bwrap', '/bin/bwrap'];

/** The path of an executable bwrap, or null. */
export function findBwrap(envPath = process.env.PATH ?? '') {
  for (const p of [...envPath.split(delimiter).filter(Boolean).map((d) => join(d, 'bwrap')), ...CANDIDATES]) {
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      /* next */
    }
  }
  return null;
}

/**
 * Make sure bwrap is there (AGENT_SANDBOX=none skips the check: the operator opted out).
 * Returns the path, or null after printing a warning. Never throws: plain `llm` phases run
 * without it; the llm-worker itself probes namespaces at boot and refuses tool work if needed.
 */
export function ensureSandbox({ say = (m) => console.log(m), env = process.env } = {}) {
  if (env.AGENT_SANDBOX === 'none') {
    say('\x1b[33mwarning:\x1b[0m AGENT_SANDBOX=none — agent bash/git calls and tool phases will run UNCONFINED');
    return null;
  }
  let bwrap = findBwrap(env.PATH);
  if (bwrap) return bwrap;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (isRoot && findBwrap('/usr/bin:/bin') === null && spawnSync('sh', ['-c', 'command -v apt-get'], { stdio: 'ignore' }).status === 0) {
    say('installing bubblewrap (the sandbox of agent tools and tool phases)…');
    const envApt = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    let r = spawnSync('apt-get', ['install', '-y', '--no-install-recommends', 'bubblewrap'], { stdio: 'inherit', env: envApt });
    if (r.status !== 0) {
      spawnSync('apt-get', ['update'], { stdio: 'inherit', env: envApt });
      r = spawnSync('apt-get', ['install', '-y', '--no-install-recommends', 'bubblewrap'], { stdio: 'inherit', env: envApt });
    }
    bwrap = findBwrap(env.PATH);
    if (bwrap) return bwrap;
  }
  say(
    '\x1b[33mwarning:\x1b[0m bubblewrap (bwrap) is not installed: agent bash/git calls and tool phases will be REFUSED ' +
      '(plain llm phases still run). Install it (Debian/Ubuntu: sudo apt-get install -y bubblewrap) or set AGENT_SANDBOX=none to run tools unconfined (unsafe).',
  );
  return null;
}
