import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TokentrayError } from '../errors';

/**
 * Where the keychain's account locks live: a per-user directory that does not depend on the
 * state directory.
 *
 * Why: the secret follows the keychain service, the state directory follows TOKENTRAY_HOME,
 * XDG_CONFIG_HOME and HOME. A cron job, `systemd --user` unit or `sudo -u` shell with another
 * home resolves the account from the keychain and rebuilds its metadata in its own directory;
 * a lock under that directory would not exclude the tray, and both would spend one single-use
 * refresh token. So the lock is keyed on what they share, the keychain service, under a
 * directory every process of this user computes alike.
 *
 * Why /tmp/tokentray-<uid> and not $XDG_RUNTIME_DIR or os.tmpdir(): cron and `sudo -u` runs have
 * no XDG_RUNTIME_DIR while the desktop session has one, and TMPDIR may differ between them; a
 * fixed path is the one every process of the user agrees on. /tmp is shared with other users, so
 * the directory must be ours: created 0700, a real directory (not a symbolic link), owned by this
 * uid, writable by no one else. One that fails this is refused, never used: another user who
 * could remove our lock files could make two processes spend one refresh token. (/tmp's sticky
 * bit stops other users from removing or renaming a directory that is ours.) Windows has no uid
 * and a per-user temporary folder, which it uses.
 */

/** The per-user root every process of this user computes alike. */
export function userLockRoot(): string {
  if (process.platform === 'win32' || typeof process.getuid !== 'function') return join(tmpdir(), 'tokentray-locks');
  return `/tmp/tokentray-${process.getuid()}`;
}

function refused(path: string, why: string): TokentrayError {
  return new TokentrayError(
    'INTERNAL',
    `The lock folder ${path} ${why}, so Tokentray will not use it; have its owner or an administrator remove it, then run the command again (nothing was spent).`,
  );
}

export interface LockDirOptions {
  /** The root to use instead of userLockRoot() (tests). */
  root?: string;
  /** The uid the folders must belong to; this process's own by default (tests). */
  uid?: number;
}

/** Creates `path` 0700 if missing, then checks it is a real directory only this user can write. */
async function ensureOwnDir(path: string, uid: number | null): Promise<void> {
  try {
    await fs.mkdir(path, { mode: 0o700 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  const st = await fs.lstat(path);
  if (st.isSymbolicLink()) throw refused(path, 'is a symbolic link');
  if (!st.isDirectory()) throw refused(path, 'is not a folder');
  if (uid === null) return;
  if (st.uid !== uid) throw refused(path, 'belongs to another user');
  if ((st.mode & 0o022) !== 0) throw refused(path, 'is writable by other users');
}

/**
 * The lock folder for one keychain service (hashed: a service name may hold any character),
 * created and checked on every call: /tmp may be cleaned between two runs, and a folder
 * another user created meanwhile must be refused then too.
 */
export async function storeLockDir(storeKey: string, options: LockDirOptions = {}): Promise<string> {
  const root = options.root ?? userLockRoot();
  const uid = options.uid ?? (typeof process.getuid === 'function' ? process.getuid() : null);
  const dir = storeLockPath(storeKey, root);
  await ensureOwnDir(root, uid);
  await ensureOwnDir(dir, uid);
  return dir;
}

/** Where storeLockDir keeps one store's locks, without creating anything (tokentray doctor). */
export function storeLockPath(storeKey: string, root: string = userLockRoot()): string {
  return join(root, createHash('sha256').update(storeKey).digest('hex').slice(0, 32));
}
