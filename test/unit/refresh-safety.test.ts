// Refresh safety inside one machine: a keychain that refuses the rotated tokens,
// listing without secrets, metadata repair that cannot roll back, and the lock.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { withAccountLock } from '../../electron/core/refresh/account-lock';
import { createRefreshScheduler } from '../../electron/core/refresh/scheduler';
import { fingerprintOf } from '../../electron/core/vault/vault';
import type { SecretStore } from '../../electron/core/vault/secret-store';
import { MemorySecretStore } from '../fakes/memory-store';
import { seedScriptedAccount, startScriptedTokenServer } from '../fakes/scripted-token-server';
import { makeTestCore, type TestCore } from '../support/test-core';

let server: Awaited<ReturnType<typeof startScriptedTokenServer>>;
let t: TestCore;
let store: MemorySecretStore;
let now: number;
const clock = { now: () => now };

beforeEach(async () => {
  server = await startScriptedTokenServer();
  now = Date.now();
  t = makeTestCore({ clock });
  store = t.store as MemorySecretStore;
});
afterEach(async () => {
  await t.cleanup();
  await server.close();
});

async function seed(expiresInMs: number, label = 'user-1'): Promise<string> {
  server.accept('rt-initial');
  const id = await seedScriptedAccount(t.core, server.url, {
    accessToken: 'at-initial',
    refreshToken: 'rt-initial',
    expiresAt: now + expiresInMs,
    issuedAt: now + expiresInMs - 3_600_000,
  });
  expect(id).toContain(label);
  return id;
}

/** A second process on the same state directory and keychain. */
function otherProcess(shared: SecretStore = store): TestCore {
  return makeTestCore({ home: t.home, store: shared, clock });
}

function deadPid(): number {
  const done = spawnSync(process.execPath, ['-e', '0']);
  return done.pid!;
}

describe('a keychain that refuses the rotated tokens', () => {
  it('is retried with backoff: two refusals, then stored; the old refresh token is sent once', async () => {
    const id = await seed(-1000);
    store.refuseNextWrites = 2;
    const token = await t.core.getAccessToken(id);
    expect(token).toMatch(/^at-1-/);
    expect(server.presented).toEqual(['rt-initial']);
    expect((await t.core.repo.load(id)).secret.tokens.accessToken).toBe(token);
    expect((await t.core.listAccounts())[0]).toMatchObject({ status: 'ok' });
  });

  it('keeps refusing: KEYCHAIN_UNAVAILABLE says what happened, the new tokens are served from memory, nobody spends the old refresh token, and the retry stores them', async () => {
    const id = await seed(-1000);
    store.refuseNextWrites = 1_000;
    const failure = (await t.core.getAccessToken(id).catch((e: unknown) => e)) as Error & { code: string };
    expect(failure.code).toBe('KEYCHAIN_UNAVAILABLE');
    expect(failure.message).toMatch(/issued new tokens .* the keychain would not store them/);
    expect(failure.message).toMatch(/keeps them in memory/);
    expect(failure.message).not.toMatch(/at-1-|rt-1-/);
    expect(server.presented).toEqual(['rt-initial']);

    // This process keeps serving the new access token.
    const served = await t.core.getAccessToken(id);
    expect(served).toMatch(/^at-1-/);
    // Every other reader in this process (tasks, inspect, copy token) gets them too.
    expect((await t.core.repo.load(id)).secret.tokens.accessToken).toBe(served);

    // Another process sees the mark in the metadata and spends nothing.
    const other = otherProcess();
    await expect(other.core.getAccessToken(id)).rejects.toMatchObject({
      code: 'KEYCHAIN_UNAVAILABLE',
      message: expect.stringMatching(/keychain would not store the new tokens/),
    });
    await expect(other.core.refresh(id)).rejects.toMatchObject({ code: 'KEYCHAIN_UNAVAILABLE' });
    expect(server.presented).toEqual(['rt-initial']);
    expect((await other.core.listAccounts())[0]).toMatchObject({ status: 'expired' });

    // When the in-memory token falls due, this process refreshes with the in-memory refresh token.
    now += 2 * 3_600_000;
    await expect(t.core.getAccessToken(id)).rejects.toMatchObject({ code: 'KEYCHAIN_UNAVAILABLE' });
    expect(server.presented).toHaveLength(2);
    expect(server.presented[1]).toMatch(/^rt-1-/);
    expect(server.stats.reuse).toBe(0);
    const second = await t.core.getAccessToken(id);
    expect(second).toMatch(/^at-2-/);

    // The keychain accepts again: the tray's retry (a refresh) stores what it holds, with no token call.
    store.refuseNextWrites = 0;
    await t.core.refresh(id);
    expect(server.presented).toHaveLength(2);
    expect(await other.core.getAccessToken(id)).toBe(second);
    const meta = await t.core.repo.readMeta(id);
    expect(meta?.unsavedRotation ?? null).toBeNull();
    expect(meta?.fingerprint).toBe(fingerprintOf(second));
    await other.core.close();
  });

  it('a provider outage while refreshing from memory does not erase the mark other processes rely on', async () => {
    const id = await seed(-1000);
    store.refuseNextWrites = 1_000;
    await expect(t.core.getAccessToken(id)).rejects.toMatchObject({ code: 'KEYCHAIN_UNAVAILABLE' });
    now += 2 * 3_600_000;
    for (let i = 0; i < 3; i += 1) server.script.push({ status: 503, body: { error: 'temporarily_unavailable' } });
    await expect(t.core.getAccessToken(id)).rejects.toMatchObject({ code: 'PROVIDER_UNAVAILABLE' });
    expect((await t.core.repo.readMeta(id))?.unsavedRotation?.pid).toBe(process.pid);
    const other = otherProcess();
    await expect(other.core.getAccessToken(id)).rejects.toMatchObject({ code: 'KEYCHAIN_UNAVAILABLE' });
    expect(server.presented.filter((rt) => rt === 'rt-initial')).toHaveLength(1);
    await other.core.close();
  });

  it("the tray's scheduler retries until the keychain accepts, without another token call", async () => {
    const id = await seed(-1000);
    store.refuseNextWrites = 12;
    const failures: string[] = [];
    const refreshed = new Promise<string>((resolve) => {
      const scheduler = createRefreshScheduler({
        core: t.core,
        clock,
        jitterMs: 0,
        overdueDelayMs: 0,
        overdueSpreadMs: 0,
        backoffBaseMs: 5,
        backoffMaxMs: 20,
        random: () => 0,
        onRefreshFailed: (_id, error) => failures.push((error as { code?: string }).code ?? '?'),
        onRefreshed: (account) => {
          scheduler.stop();
          resolve(account.id);
        },
      });
      void scheduler.replan();
    });
    expect(await refreshed).toBe(id);
    expect(failures.length).toBeGreaterThanOrEqual(2);
    expect(new Set(failures)).toEqual(new Set(['KEYCHAIN_UNAVAILABLE']));
    expect(server.presented).toEqual(['rt-initial']);
    const stored = await t.core.repo.load(id);
    expect(stored.secret.tokens.accessToken).toMatch(/^at-1-/);
    expect(stored.meta.unsavedRotation ?? null).toBeNull();
  });

  it('when the process holding the rotated tokens is gone, others say "reconnect" instead of spending the old token', async () => {
    const id = await seed(-1000);
    const meta = (await t.core.repo.readMeta(id))!;
    await t.core.repo.saveMeta({
      ...meta,
      unsavedRotation: { pid: deadPid(), host: hostname(), pstart: null, since: now },
    });
    await expect(t.core.getAccessToken(id)).rejects.toMatchObject({ code: 'RECONNECT_REQUIRED' });
    expect(server.presented).toEqual([]);
    expect((await t.core.listAccounts())[0]).toMatchObject({ status: 'reconnect' });
  });
});

describe('listing', () => {
  it('reads no secret and writes nothing to the keychain', async () => {
    await seed(30 * 60_000);
    store.calls.length = 0;
    const listed = await t.core.listAccounts();
    expect(listed).toHaveLength(1);
    expect(store.calls).toEqual([]);
  });

  it('still lists, with status from metadata, while the keychain is locked', async () => {
    await seed(-1000);
    store.available = false;
    expect(await t.core.listAccounts()).toEqual([
      expect.objectContaining({ label: 'Scripted user', status: 'expired' }),
    ]);
  });

  it('the scheduler plans from metadata: no secret read', async () => {
    const id = await seed(30 * 60_000);
    store.calls.length = 0;
    const plan = await t.core.refreshPlan(id);
    expect(plan.canRefresh).toBe(true);
    expect(plan.refreshDueAt).not.toBeNull();
    expect(store.calls).toEqual([]);
  });
});

describe('the refresh path', () => {
  it('reads the keychain item once (under the lock) when the metadata already says the token is due', async () => {
    const id = await seed(-1000);
    store.calls.length = 0;
    await t.core.getAccessToken(id);
    expect(store.calls.filter((c) => c === `get account:${id}`)).toHaveLength(1);
    expect(store.calls.filter((c) => c === `set account:${id}`)).toHaveLength(1);
  });
});

describe('metadata repair', () => {
  it('a reader that raced a refresh (saw the old keychain item, then the new metadata) cannot roll the metadata back', async () => {
    const id = await seed(-1000);
    const oldItem = store.items.get(`account:${id}`)!;
    const fresh = await t.core.getAccessToken(id);
    const after = (await t.core.repo.readMeta(id))!;
    expect(after.fingerprint).toBe(fingerprintOf(fresh));
    // The reader's keychain read lands just before the refresh's write, its metadata read just after.
    let stale = true;
    const racing: SecretStore = {
      get: async (k) => {
        if (stale && k === `account:${id}`) {
          stale = false;
          return oldItem;
        }
        return store.get(k);
      },
      set: (k, v) => store.set(k, v),
      delete: (k) => store.delete(k),
      keys: () => store.keys(),
    };
    const reader = otherProcess(racing);
    const loaded = await reader.core.repo.load(id);
    expect(loaded.secret.tokens.accessToken).toBe(fresh);
    const meta = (await t.core.repo.readMeta(id))!;
    expect(meta.fingerprint).toBe(fingerprintOf(fresh));
    expect(meta.expiresAt).toBe(after.expiresAt);
    await reader.core.close();
  });

  it('a real crash leftover (newer keychain item) is still repaired, and a newer metadata state is never downgraded', async () => {
    const id = await seed(-1000);
    const meta = (await t.core.repo.readMeta(id))!;
    await t.core.repo.saveMeta({ ...meta, fingerprint: 'stale', issuedAt: meta.issuedAt! - 1000, state: 'error' });
    const repaired = await t.core.repo.load(id);
    expect(repaired.meta).toMatchObject({ fingerprint: fingerprintOf('at-initial'), state: 'ok' });
    // Metadata newer than the keychain item (it describes later tokens): left alone.
    await t.core.repo.saveMeta({ ...repaired.meta, fingerprint: 'newer', issuedAt: repaired.meta.issuedAt! + 5000 });
    await t.core.repo.load(id);
    expect((await t.core.repo.readMeta(id))!.fingerprint).toBe('newer');
  });
});

describe('the account lock', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tokentray-lock-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("takes over a dead holder's lock at once", async () => {
    writeFileSync(
      join(dir, 'acc.lock'),
      JSON.stringify({ pid: deadPid(), host: hostname(), pstart: null, startedAt: Date.now(), nonce: 'dead' }),
    );
    let ran = false;
    await withAccountLock(
      dir,
      'acc',
      async () => {
        ran = true;
      },
      { waitMs: 0 },
    );
    expect(ran).toBe(true);
  });

  it("never takes a live holder's lock, however old: the waiter gives up with exit-4 code and the message", async () => {
    writeFileSync(
      join(dir, 'acc.lock'),
      JSON.stringify({ pid: process.pid, host: hostname(), pstart: null, startedAt: 0, nonce: 'live' }),
    );
    let ran = false;
    const failure = withAccountLock(
      dir,
      'acc',
      async () => {
        ran = true;
      },
      { waitMs: 50 },
    );
    await expect(failure).rejects.toMatchObject({
      code: 'PROVIDER_UNAVAILABLE',
      message: expect.stringMatching(/another Tokentray process is refreshing acc; try again/i),
    });
    expect(ran).toBe(false);
  });

  it.skipIf(process.platform !== 'linux')(
    'a PID reused by another process does not keep the lock (Linux: process start time)',
    async () => {
      writeFileSync(
        join(dir, 'acc.lock'),
        JSON.stringify({ pid: process.pid, host: hostname(), pstart: 'not-this-process', startedAt: 0, nonce: 'x' }),
      );
      expect(await withAccountLock(dir, 'acc', async () => true, { waitMs: 0 })).toBe(true);
    },
  );

  it('many waiters on a dead holder: exactly one holds the lock at any time', async () => {
    // Rounds, because the race it guards against (a waiter that judged the dead lock earlier
    // removing the live lock of the waiter that won) needs an unlucky interleaving to show.
    let most = 0;
    let entered = 0;
    for (let round = 0; round < 6; round += 1) {
      writeFileSync(
        join(dir, 'acc.lock'),
        JSON.stringify({ pid: deadPid(), host: hostname(), pstart: null, startedAt: 0, nonce: `dead-${round}` }),
      );
      let inside = 0;
      await Promise.all(
        Array.from({ length: 20 }, () =>
          withAccountLock(dir, 'acc', async () => {
            inside += 1;
            entered += 1;
            most = Math.max(most, inside);
            await new Promise((r) => setTimeout(r, 2));
            inside -= 1;
          }),
        ),
      );
    }
    expect(entered).toBe(6 * 20);
    expect(most).toBe(1);
  });
});
