import { promises as fs, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { TokentrayError } from '../errors';

/**
 * A lock per account shared by every process on this machine (the tray app and
 * any number of CLI runs).
 *
 * Why not proper-lockfile: it judges a lock by its mtime, so a holder that is
 * merely frozen (SIGSTOP, a debugger, swap, a long GC) while its token request
 * is in flight looks dead after the stale window, the next process takes over
 * and spends the same single-use refresh token again. Here liveness is the
 * holder's life: the lock file names its PID, host and process start time, and
 * a lock is taken over only when that process is gone. A live holder, however
 * slow, is waited for up to `lockWaitMs()`, longer than the longest refresh a
 * healthy holder can make; then the waiter gives up with exit 4 and spends
 * nothing. It is also cheaper: one O_EXCL create per attempt, no directory and
 * no mtime refresh timer while held.
 */

/**
 * http/client.ts gives every request 15 s; the refresher makes up to 3 attempts
 * with 0.4 s and 1.2 s pauses, then retries a refused keychain write for ~7 s.
 * A healthy holder is done within ~54 s, so a waiter waits 60 s before it gives up.
 */
export const DEFAULT_LOCK_WAIT_MS = 60_000;
/** A lock from another host (a state directory on a network share) cannot be checked for life; trust it this long. */
const FOREIGN_HOLDER_TRUST_MS = 10 * 60_000;
/** A lock file that is still empty or torn this long after it was created belongs to a holder that died writing it. */
const TORN_LOCK_GRACE_MS = 2_000;

export interface LockHolder {
  pid: number;
  host: string;
  /** The holder process's start time as the kernel counts it (Linux), so a reused PID is not mistaken for it. */
  pstart: string | null;
  startedAt: number;
  nonce: string;
}

/** How long a waiter waits for a live holder; TOKENTRAY_LOCK_WAIT_MS overrides it (tests, slow links). */
export function lockWaitMs(): number {
  const raw = process.env['TOKENTRAY_LOCK_WAIT_MS'];
  const n = raw !== undefined && /^\d+$/.test(raw) ? Number(raw) : NaN;
  return Number.isFinite(n) ? n : DEFAULT_LOCK_WAIT_MS;
}

let ownStart: string | null | undefined;
/** Field 22 of /proc/<pid>/stat: start time in clock ticks since boot (Linux only; null elsewhere). */
function processStart(pid: number): string | null {
  if (process.platform !== 'linux') return null;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19] ?? null;
  } catch {
    return null;
  }
}

/** This process as a lock or a metadata mark records it. */
export function thisProcess(): Pick<LockHolder, 'pid' | 'host' | 'pstart'> {
  if (ownStart === undefined) ownStart = processStart(process.pid);
  return { pid: process.pid, host: hostname(), pstart: ownStart };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the PID exists but belongs to someone else (so it is not a Tokentray of ours, but alive).
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether the recorded holder may still be working: its process exists and is the same process. */
export function holderMayBeAlive(holder: LockHolder, now: number): boolean {
  if (holder.host !== hostname()) return now - holder.startedAt < FOREIGN_HOLDER_TRUST_MS;
  if (!alive(holder.pid)) return false;
  if (holder.pstart !== null) {
    const current = processStart(holder.pid);
    if (current !== null && current !== holder.pstart) return false;
  }
  return true;
}

function parseHolder(text: string): LockHolder | null {
  try {
    const v = JSON.parse(text) as Partial<LockHolder>;
    if (typeof v.pid !== 'number' || typeof v.host !== 'string' || typeof v.nonce !== 'string') return null;
    return {
      pid: v.pid,
      host: v.host,
      pstart: typeof v.pstart === 'string' ? v.pstart : null,
      startedAt: typeof v.startedAt === 'number' ? v.startedAt : 0,
      nonce: v.nonce,
    };
  } catch {
    return null;
  }
}

async function tryCreate(path: string, me: LockHolder): Promise<boolean> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(path, 'wx', 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
  try {
    await handle.writeFile(JSON.stringify(me));
  } finally {
    await handle.close();
  }
  return true;
}

/** Whether the lock file's holder is gone: its process has ended, or it died before writing the file. */
async function holderGone(path: string, text: string, now: number): Promise<boolean> {
  const holder = parseHolder(text);
  if (holder !== null) return !holderMayBeAlive(holder, now);
  const mtime = await fs
    .stat(path)
    .then((st) => st.mtimeMs)
    .catch(() => now);
  return now - mtime > TORN_LOCK_GRACE_MS;
}

/**
 * Removes a dead holder's lock so that waiters can compete for it again. Reapers take turns
 * through a guard file (O_EXCL, like the lock) and judge the lock afresh under it: a waiter that
 * read the dead lock earlier can otherwise remove the live lock another waiter created after the
 * first reap, and two processes would hold the account. Only the guard holder removes someone
 * else's lock, and a live holder's lock is never judged gone, so the check and the removal cannot
 * be separated by a new lock. A guard left by a reaper that died (a kill between two syscalls) is
 * cleared by the same liveness rule.
 */
async function reap(path: string, me: LockHolder): Promise<boolean> {
  const guard = `${path}.reap`;
  if (!(await tryCreate(guard, me))) {
    const text = await fs.readFile(guard, 'utf8').catch(() => null);
    if (text !== null && (await holderGone(guard, text, Date.now()))) await fs.rm(guard, { force: true });
    return false;
  }
  try {
    const text = await fs.readFile(path, 'utf8').catch(() => null);
    if (text !== null && (await holderGone(path, text, Date.now()))) await fs.rm(path, { force: true });
    return true;
  } finally {
    await fs.rm(guard, { force: true });
  }
}

function busy(accountId: string, waitedMs: number): TokentrayError {
  return new TokentrayError(
    'PROVIDER_UNAVAILABLE',
    `Another Tokentray process is refreshing ${accountId}; try again (waited ${Math.round(waitedMs / 1000)} s, no token was spent).`,
  );
}

export interface AccountLockOptions {
  /** Patience for a live holder; defaults to lockWaitMs(). */
  waitMs?: number;
  sleep?: (ms: number) => Promise<void>;
  /**
   * Re-creates `locksDir` when it has gone (a cleaned /tmp); a plain 0700 mkdir by default. A
   * folder in a place other users can write re-checks its owner here (lock-dir.ts).
   */
  ensureDir?: () => Promise<unknown>;
}

export async function withAccountLock<T>(
  locksDir: string,
  accountId: string,
  work: () => Promise<T>,
  options: AccountLockOptions = {},
): Promise<T> {
  const path = join(locksDir, `${accountId}.lock`);
  const waitMs = options.waitMs ?? lockWaitMs();
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const me: LockHolder = {
    ...thisProcess(),
    startedAt: Date.now(),
    nonce: randomBytes(9).toString('base64url'),
  };
  const began = Date.now();
  let pause = 5;
  for (;;) {
    let created: boolean;
    try {
      created = await tryCreate(path, me);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      await (options.ensureDir ?? (() => fs.mkdir(locksDir, { recursive: true, mode: 0o700 })))();
      continue;
    }
    if (created) break;
    const text = await fs.readFile(path, 'utf8').catch(() => null);
    if (text === null) continue; // released between our create and our read
    const now = Date.now();
    if (await holderGone(path, text, now)) {
      // Another waiter is reaping it: give it the moment it needs.
      if (!(await reap(path, me))) await sleep(1);
      continue;
    }
    if (now - began >= waitMs) throw busy(accountId, now - began);
    await sleep(Math.min(pause, Math.max(1, waitMs - (now - began))));
    pause = Math.min(pause * 2, 100);
  }
  try {
    return await work();
  } finally {
    // Remove the lock only while it is still ours (a reaper never removes a live holder's lock).
    const text = await fs.readFile(path, 'utf8').catch(() => null);
    if (text !== null && parseHolder(text)?.nonce === me.nonce) await fs.rm(path, { force: true });
  }
}
