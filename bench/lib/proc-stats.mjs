// CPU time and resident memory of the processes a bench involves, read from /proc (Linux only).
//
// CPU: utime + stime of /proc/<pid>/stat in clock ticks (`getconf CLK_TCK`), turned into ms. A
// window (mark → since) sums, per group, the growth of every process seen in the group; a process
// that appears inside the window counts whole (it did all its work inside it); one that exits
// inside the window counts up to the last sample that saw it, so sample() often while load runs.
// Caveat: the CPU of a process that starts and exits between two samples is not seen.
//
// Postgres: the postmaster of the cluster the bench talks to (the parent of the bench's own
// backend) and its children. Backends of other databases on that cluster (other engineers' tests
// on a shared machine) are not counted; the shared processes (checkpointer, walwriter, background
// writer, autovacuum, …) are, since the bench's writes make their work. The bench's own backend is
// its own group, beside the bench client, outside the total.
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';

export const CLK_TCK = (() => {
  try {
    const n = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return Number.isFinite(n) && n > 0 ? n : 100;
  } catch {
    return 100;
  }
})();

const read = (path) => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
};

/** { pid, comm, ppid, ticks } of /proc/<pid>/stat, or null when the process is gone */
export function procStat(pid) {
  const text = read(`/proc/${pid}/stat`);
  if (!text) return null;
  // comm is in parentheses and may itself hold spaces or parentheses: split after the last ')'
  const close = text.lastIndexOf(')');
  const comm = text.slice(text.indexOf('(') + 1, close);
  const f = text.slice(close + 2).split(' '); // f[0] = field 3 (state)
  return { pid, comm, ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) };
}

/** every process on the machine: pid → { comm, ppid, ticks } */
export function scanProcesses() {
  const all = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const s = procStat(Number(name));
    if (s) all.set(s.pid, s);
  }
  return all;
}

/** VmRSS of /proc/<pid>/status in bytes; null when the process is gone */
export function rssBytes(pid) {
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(read(`/proc/${pid}/status`) ?? '');
  return m ? Number(m[1]) * 1024 : null;
}

export function cmdline(pid) {
  return (read(`/proc/${pid}/cmdline`) ?? '').replace(/\0/g, ' ').trim();
}

/** pid and every descendant of it in a scan */
export function withDescendants(root, all) {
  const children = new Map();
  for (const p of all.values()) {
    if (!children.has(p.ppid)) children.set(p.ppid, []);
    children.get(p.ppid).push(p.pid);
  }
  const out = [];
  const stack = [root];
  while (stack.length) {
    const pid = stack.pop();
    if (!all.has(pid)) continue;
    out.push(pid);
    stack.push(...(children.get(pid) ?? []));
  }
  return out;
}

const CLIENT_BACKEND = /\s(\d{1,3}(\.\d{1,3}){3}|\[local\]|[0-9a-f:]+)\(\d+\)|\[local\]/;

/**
 * Classifies the processes of a Postgres cluster: `bench` (backends of dbName and the cluster's
 * shared processes), `own` (the bench client's backend), `other` (backends of other databases).
 */
export function postgresProcesses(postmasterPid, all, { dbName, ownBackendPid }) {
  const out = { bench: [], own: [], other: [] };
  for (const pid of withDescendants(postmasterPid, all)) {
    const comm = all.get(pid).comm;
    if (comm !== 'postgres' && comm !== 'postmaster') continue;
    if (pid === ownBackendPid) {
      out.own.push(pid);
      continue;
    }
    const line = cmdline(pid);
    const words = line.split(/\s+/);
    if (words.includes(dbName)) out.bench.push(pid);
    else if (pid !== postmasterPid && CLIENT_BACKEND.test(line)) out.other.push(pid);
    else out.bench.push(pid); // postmaster, checkpointer, walwriter, autovacuum, …
  }
  return out;
}

/**
 * CPU per group over windows. groupsOf(scan) → Map<pid, group> says which processes belong to
 * which group at the time of a sample (so new postgres backends or worker children are picked up).
 */
export class CpuTracker {
  constructor(groupsOf) {
    this.groupsOf = groupsOf;
    /** pid → { group, ticks } as last seen */
    this.seen = new Map();
  }

  sample() {
    const all = scanProcesses();
    for (const [pid, group] of this.groupsOf(all)) {
      const p = all.get(pid);
      if (p) this.seen.set(pid, { group, ticks: p.ticks });
    }
    return all;
  }

  /** the start of a window */
  mark() {
    this.sample();
    return new Map([...this.seen].map(([pid, v]) => [pid, v.ticks]));
  }

  /** CPU ms per group since mark */
  since(mark) {
    this.sample();
    const ms = {};
    for (const [pid, { group, ticks }] of this.seen) {
      const d = ticks - (mark.get(pid) ?? 0);
      ms[group] = (ms[group] ?? 0) + (d * 1000) / CLK_TCK;
    }
    return ms;
  }
}
