// `tokentray exec --header-file` folders: `Authorization: …` in a 0600 file inside a private
// 0700 folder under the temporary directory. `exec` removes the folder when its command ends;
// a `tokentray` killed with SIGKILL (or a machine that lost power) cannot, so every later
// `tokentray` run sweeps folders whose owner and command have both gone.
import { lstat, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { holderMayBeAlive, thisProcess, type LockHolder } from '../../core/refresh/account-lock';

const PREFIX = 'tokentray-exec-';
const OWNER_FILE = 'owner.json';
/** A folder with no owner record yet this long after it was made belongs to a run that died creating it. */
const UNOWNED_GRACE_MS = 60_000;

interface Owner {
  holder: LockHolder;
  /** The command exec started: it may outlive a killed tokentray and still read its header file. */
  childPid: number | null;
}

function parentDir(): string {
  return tmpdir();
}

/** A new private folder for this run's header files, with an owner record for the sweep. */
export async function createHeaderDir(): Promise<string> {
  const dir = await mkdtemp(join(parentDir(), PREFIX));
  await writeOwner(dir, null);
  return dir;
}

/** Records the command's PID, so the sweep leaves the folder alone while the command still runs. */
export async function recordHeaderDirChild(dir: string, childPid: number | undefined): Promise<void> {
  await writeOwner(dir, childPid ?? null);
}

async function writeOwner(dir: string, childPid: number | null): Promise<void> {
  const owner: Owner = {
    holder: { ...thisProcess(), startedAt: Date.now(), nonce: 'exec' },
    childPid,
  };
  await writeFile(join(dir, OWNER_FILE), JSON.stringify(owner), { mode: 0o600 });
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether a folder's run, or the command it started, may still be using it. */
async function inUse(dir: string, mtimeMs: number): Promise<boolean> {
  let owner: Owner;
  try {
    owner = JSON.parse(await readFile(join(dir, OWNER_FILE), 'utf8')) as Owner;
  } catch {
    return Date.now() - mtimeMs < UNOWNED_GRACE_MS;
  }
  if (typeof owner.holder?.pid !== 'number') return Date.now() - mtimeMs < UNOWNED_GRACE_MS;
  // A folder from another machine (a shared /tmp) is not ours to judge.
  if (owner.holder.host !== hostname()) return true;
  if (holderMayBeAlive({ ...owner.holder, pstart: owner.holder.pstart ?? null }, Date.now())) return true;
  return typeof owner.childPid === 'number' && pidAlive(owner.childPid);
}

/** Deletes header folders of this user whose run and command have both ended. Never throws. */
export async function sweepStaleHeaderDirs(): Promise<void> {
  const uid = process.getuid?.();
  let names: string[];
  try {
    names = (await readdir(parentDir())).filter((name) => name.startsWith(PREFIX));
  } catch {
    return;
  }
  for (const name of names) {
    const dir = join(parentDir(), name);
    try {
      const info = await lstat(dir);
      // Only real folders of this user: never follow a link, never touch another user's.
      if (!info.isDirectory() || (uid !== undefined && info.uid !== uid)) continue;
      if (await inUse(dir, info.mtimeMs)) continue;
      await rm(dir, { recursive: true, force: true });
    } catch {
      // Gone meanwhile, or not readable: nothing to do.
    }
  }
}
