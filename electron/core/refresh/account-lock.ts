import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import lockfile from 'proper-lockfile';
import { TokentrayError } from '../errors';

/**
 * A lock per account shared by every process on this machine (the tray app and
 * any number of CLI runs). proper-lockfile keeps the lock fresh while held, so a
 * crashed holder's lock goes stale after a couple of seconds instead of wedging
 * the account.
 */
export async function withAccountLock<T>(locksDir: string, accountId: string, work: () => Promise<T>): Promise<T> {
  await fs.mkdir(locksDir, { recursive: true, mode: 0o700 });
  const target = join(locksDir, `${accountId}.lock-target`);
  await fs.writeFile(target, '', { flag: 'a', mode: 0o600 });
  let release: () => Promise<void>;
  try {
    release = await lockfile.lock(target, {
      realpath: false,
      stale: 2_000,
      update: 500,
      retries: { retries: 400, factor: 1.15, minTimeout: 5, maxTimeout: 100, randomize: true },
      onCompromised: () => {
        // Another process judged our lock stale (we were frozen for seconds). The
        // refresh already in flight still persists its result; nothing to undo here.
      },
    });
  } catch (error) {
    throw new TokentrayError(
      'INTERNAL',
      `Another Tokentray process has held account "${accountId}" locked for too long; try again in a moment.`,
      {
        cause: error,
      },
    );
  }
  try {
    return await work();
  } finally {
    await release().catch(() => undefined);
  }
}
