/**
 * How long the page's main thread ran, and how long it was ready to run but waited for a
 * CPU, read from Linux's per-thread scheduler statistics (/proc/PID/task/TID/schedstat:
 * nanoseconds on a CPU, nanoseconds runnable on a run queue). A long frame whose main
 * thread mostly waited was lost to the machine's load, not to work in the page: a trace
 * of the 100k flick showed long tasks of 50-174 ms wall time with 0-23 ms of CPU time.
 * Elsewhere (no /proc) every reading is null and the bench prints none.
 */
import { readFileSync, readdirSync } from 'node:fs';

export interface ThreadTime {
  cpuMs: number;
  waitMs: number;
}

function parentOf(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name, in parentheses, may hold spaces: fields count from the last ')'.
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return null;
  }
}

function descendsFrom(pid: number, root: number): boolean {
  for (let p: number | null = pid, hops = 0; p !== null && p > 1 && hops < 16; hops += 1) {
    if (p === root) return true;
    p = parentOf(p);
  }
  return false;
}

/** The main thread's reading of process `pid` (a process's main thread has its id). */
export function threadTime(pid: number): ThreadTime | null {
  try {
    const [cpu, wait] = readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'utf8').split(' ').map(Number);
    return { cpuMs: cpu! / 1e6, waitMs: wait! / 1e6 };
  } catch {
    return null;
  }
}

/**
 * The renderer process this bench's browser runs the app page in: among Chromium renderers
 * started by this process (other users of the machine run their own), the busiest one.
 */
export function pageRendererPid(): number | null {
  if (process.platform !== 'linux') return null;
  let best: { pid: number; cpu: number } | null = null;
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    let cmdline: string;
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      continue;
    }
    if (!cmdline.includes('--type=renderer') || cmdline.includes('--extension-process')) continue;
    if (!descendsFrom(pid, process.pid)) continue;
    const cpu = threadTime(pid)?.cpuMs ?? 0;
    if (!best || cpu > best.cpu) best = { pid, cpu };
  }
  return best?.pid ?? null;
}

/** What the main thread of `pid` did between two readings. */
export function since(pid: number | null, before: ThreadTime | null): ThreadTime | null {
  const after = pid === null ? null : threadTime(pid);
  if (!after || !before) return null;
  return { cpuMs: after.cpuMs - before.cpuMs, waitMs: after.waitMs - before.waitMs };
}
