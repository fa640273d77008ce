import { withAccountLock } from './account-lock';
import { storeLockDir, type LockDirOptions } from './lock-dir';

/**
 * The account lock the refresher and the repository take, whatever stores the
 * secrets: lock files on one machine (account-lock.ts), a database lock when
 * several machines share one store (store/shared-store.ts). Writes made by
 * `work` belong to the lock's holder; the lock is released when it settles.
 */
export interface AccountLocks {
  withLock<T>(accountId: string, work: () => Promise<T>): Promise<T>;
}

/**
 * Lock files per account in a fixed folder: the file store's (beside its secrets, so every
 * process that reaches those files reaches its locks too) and stores that live in one process.
 */
export function fileAccountLocks(locksDir: string): AccountLocks {
  return { withLock: (accountId, work) => withAccountLock(locksDir, accountId, work) };
}

/**
 * The one-machine lock keyed on the store that holds the secret (the keychain service), not on
 * the state directory, in a per-user folder every process of the user finds: see lock-dir.ts.
 */
export function scopedAccountLocks(scope: string, options: LockDirOptions = {}): AccountLocks {
  const ensureDir = (): Promise<string> => storeLockDir(scope, options);
  return {
    withLock: async (accountId, work) => withAccountLock(await ensureDir(), accountId, work, { ensureDir }),
  };
}
