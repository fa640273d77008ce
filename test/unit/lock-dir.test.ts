// The keychain's account locks live in a per-user folder under /tmp, which other users can write
// to: a folder that is not ours (a symbolic link, another owner, writable by others) is refused,
// never used, and one that a /tmp cleaner removed comes back.
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { scopedAccountLocks } from '../../electron/core/refresh/account-locks';
import { storeLockDir, userLockRoot } from '../../electron/core/refresh/lock-dir';

const posix = process.platform !== 'win32';
let base: string;
let root: string;

beforeEach(() => {
  base = mkdtempSync(join(tmpdir(), 'tokentray-lockdir-'));
  root = join(base, 'tokentray-locks');
});
afterEach(() => rmSync(base, { recursive: true, force: true }));

describe('the per-user lock folder', () => {
  it('does not depend on TOKENTRAY_HOME, XDG_CONFIG_HOME, HOME or TMPDIR', () => {
    const before = userLockRoot();
    const saved = { ...process.env };
    try {
      Object.assign(process.env, { TOKENTRAY_HOME: base, XDG_CONFIG_HOME: base, HOME: base });
      if (posix) process.env['TMPDIR'] = base;
      expect(userLockRoot()).toBe(before);
    } finally {
      for (const k of ['TOKENTRAY_HOME', 'XDG_CONFIG_HOME', 'HOME', 'TMPDIR']) {
        if (saved[k] === undefined) delete process.env[k];
        else process.env[k] = saved[k];
      }
    }
  });

  it('is created 0700, one folder per keychain service, the same folder for the same service', async () => {
    const a = await storeLockDir('keychain:tokentray', { root });
    expect(await storeLockDir('keychain:tokentray', { root })).toBe(a);
    expect(await storeLockDir('keychain:other', { root })).not.toBe(a);
    if (posix) {
      expect(statSync(root).mode & 0o777).toBe(0o700);
      expect(statSync(a).mode & 0o777).toBe(0o700);
    }
  });

  it('refuses a symbolic link, and writes nothing where it points', async () => {
    const elsewhere = join(base, 'elsewhere');
    mkdirSync(elsewhere, { mode: 0o700 });
    symlinkSync(elsewhere, root);
    await expect(storeLockDir('keychain:tokentray', { root })).rejects.toThrow(
      /lock folder .* is a symbolic link, so Tokentray will not use it; have its owner or an administrator remove it/,
    );
    expect(readdirSync(elsewhere)).toEqual([]);
  });

  it.runIf(posix)('refuses a folder other users can write to', async () => {
    mkdirSync(root, { mode: 0o700 });
    chmodSync(root, 0o777);
    await expect(storeLockDir('keychain:tokentray', { root })).rejects.toThrow(/is writable by other users/);
    expect(readdirSync(root)).toEqual([]);
  });

  it.runIf(posix)('refuses a folder that belongs to another user', async () => {
    mkdirSync(root, { mode: 0o700 });
    const someoneElse = statSync(root).uid + 1;
    await expect(storeLockDir('keychain:tokentray', { root, uid: someoneElse })).rejects.toThrow(
      /belongs to another user/,
    );
  });

  it('a refused folder stops the lock before the work runs', async () => {
    const elsewhere = join(base, 'elsewhere');
    mkdirSync(elsewhere, { mode: 0o700 });
    symlinkSync(elsewhere, root);
    let ran = false;
    await expect(
      scopedAccountLocks('keychain:tokentray', { root }).withLock('acc', async () => {
        ran = true;
      }),
    ).rejects.toMatchObject({ code: 'INTERNAL' });
    expect(ran).toBe(false);
  });

  it('two holders of one scope exclude each other; a folder a /tmp cleaner removed comes back', async () => {
    const locks = scopedAccountLocks('keychain:tokentray', { root });
    const other = scopedAccountLocks('keychain:tokentray', { root });
    let inside = 0;
    let most = 0;
    const work = async (): Promise<void> => {
      inside += 1;
      most = Math.max(most, inside);
      await new Promise((r) => setTimeout(r, 20));
      inside -= 1;
    };
    await Promise.all([locks.withLock('acc', work), other.withLock('acc', work), locks.withLock('acc', work)]);
    expect(most).toBe(1);
    rmSync(root, { recursive: true, force: true });
    expect(await other.withLock('acc', async () => existsSync(root))).toBe(true);
  });
});
