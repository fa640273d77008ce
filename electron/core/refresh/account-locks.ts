import { withAccountLock } from './account-lock';

/**
 * The account lock the refresher and the repository take, whatever stores the
 * secrets: lock files on one machine (account-lock.ts), a database lock when
 * several machines share one store (store/shared-store.ts). Writes made by
 * `work` belong to the lock's holder; the lock is released when it settles.
 */
export interface AccountLocks {
  withLock<T>(accountId: string, work: () => Promise<T>): Promise<T>;
}

/** The one-machine lock: a lock file per account under the state directory. */
export function fileAccountLocks(locksDir: string): AccountLocks {
  return { withLock: (accountId, work) => withAccountLock(locksDir, accountId, work) };
}
