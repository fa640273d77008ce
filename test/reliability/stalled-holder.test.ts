// The account lock against real processes: a holder frozen (SIGSTOP) in the middle of
// its token request for longer than any mtime staleness window, a holder killed there,
// and a waiter that runs out of patience. amoCRM's refresh tokens are single-use and the
// emulator counts every reuse, so a lock handed to a second process shows up as a reuse.
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeLockDir } from '../../electron/core/refresh/lock-dir';
import { HttpFailure } from '../fakes/emulator-kit';
import { startAmocrmEmulator, type EmulatorHandle } from '../fakes/amocrm-emulator';
import { amocrmSetArgs, runCli, startCli, type CliResult } from '../support/cli';
import { freePort } from '../support/free-port';
import { makeTestCore, readAllFiles, uniqueKeychainService } from '../support/test-core';

/** Longer than proper-lockfile's 2 s staleness (the old lock) with room to spare. */
const FROZEN_MS = 5_000;

let emu: EmulatorHandle;
let home: string;
let service: string;
let accountId: string;

const cli = (args: string[]) => runCli(args, { home, service });

function start(args: string[], extra: Record<string, string> = {}): { child: ChildProcess; done: Promise<CliResult> } {
  return startCli(args, { home, service, extra });
}

/** Makes the stored token expired, as after a night asleep, so the next `token` must refresh. */
async function expireStoredToken(): Promise<string> {
  const t = makeTestCore({ keychain: true, service, home });
  const { meta, secret } = await t.core.repo.load(accountId);
  await t.core.repo.saveTokens(meta, { ...secret, tokens: { ...secret.tokens, expiresAt: Date.now() - 1_000 } });
  await t.core.close();
  return secret.tokens.accessToken;
}

async function status(): Promise<string | undefined> {
  const r = await cli(['accounts', '--json']);
  expect(r.code, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as Array<{ id: string; status: string }>).find((a) => a.id === accountId)?.status;
}

async function works(token: string): Promise<boolean> {
  const res = await fetch(`${emu.url}/api/v4/account`, { headers: { authorization: `Bearer ${token}` } });
  return res.status === 200;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), 'tokentray-stall-'));
  service = uniqueKeychainService();
  const redirectUri = `http://127.0.0.1:${await freePort()}/callback/amocrm`;
  emu = await startAmocrmEmulator({ redirectUri, taskCount: 1 });
  const set = await runCli(amocrmSetArgs(emu, redirectUri), { home, service }, emu.clientSecret);
  expect(set.code, set.stderr).toBe(0);
  const connected = await cli([
    'connect',
    'amocrm',
    '--code',
    emu.issueAuthorizationCode({ user: 'alice' }),
    '--host',
    'example.amocrm.ru',
    '--json',
  ]);
  expect(connected.code, connected.stderr).toBe(0);
  accountId = (JSON.parse(connected.stdout) as { id: string }).id;
});

afterAll(async () => {
  emu.setTokenHooks({});
  const t = makeTestCore({ keychain: true, service, home });
  await t.cleanup();
  await emu.close();
  rmSync(home, { recursive: true, force: true });
  rmSync(await storeLockDir(`keychain:${service}`), { recursive: true, force: true });
});

/**
 * Starts `tokentray token` and freezes it (SIGSTOP) the moment the provider has spent the refresh
 * token and its answer is on the way: a holder with a token request in flight.
 */
async function startFrozenHolder(): Promise<{ child: ChildProcess; done: Promise<CliResult> }> {
  let frozen!: () => void;
  const isFrozen = new Promise<void>((r) => (frozen = r));
  const holder = start(['token', accountId]);
  // Armed in the same tick as the spawn: the request cannot arrive before.
  emu.setTokenHooks({
    after: () => {
      holder.child.kill('SIGSTOP');
      frozen();
    },
  });
  await isFrozen;
  emu.setTokenHooks({});
  return holder;
}

describe('a stalled or dead lock holder (real processes, single-use refresh tokens)', () => {
  it('a holder frozen mid-request is waited for, never overtaken: no reuse, both get the one new token, the account stays ok', async () => {
    const old = await expireStoredToken();
    const grants = emu.stats.refreshGrants;
    const reuse = emu.stats.refreshTokenReuse;
    const a = await startFrozenHolder();
    const b = start(['token', accountId]);
    await sleep(FROZEN_MS);
    expect(b.child.exitCode, 'the second process must still be waiting for the frozen holder').toBeNull();
    a.child.kill('SIGCONT');
    const [ra, rb] = await Promise.all([a.done, b.done]);
    expect(ra.code, ra.stderr).toBe(0);
    expect(rb.code, rb.stderr).toBe(0);
    const token = ra.stdout.trim();
    expect(token).not.toBe(old);
    expect(rb.stdout.trim()).toBe(token);
    expect(emu.stats.refreshTokenReuse - reuse).toBe(0);
    expect(emu.stats.refreshGrants - grants).toBe(1);
    expect(await works(token)).toBe(true);
    expect(await status()).toBe('ok');
  }, 60_000);

  it('a holder killed mid-request is taken over at once by the next process', async () => {
    const old = await expireStoredToken();
    const reuse = emu.stats.refreshTokenReuse;
    const a = start(['token', accountId]);
    // Armed in the same tick as the spawn: the request cannot arrive before.
    // Killed before the provider spent anything: the lock file stays behind with a dead PID.
    emu.setTokenHooks({
      before: () => {
        a.child.kill('SIGKILL');
        throw new HttpFailure(503, { title: 'the client went away' });
      },
    });
    expect((await a.done).code).toBe(-1);
    emu.setTokenHooks({});
    // The keychain's lock lives in the per-user folder keyed on the service, not under the state directory.
    const lockFile = join(await storeLockDir(`keychain:${service}`), `${accountId}.lock`);
    expect(existsSync(lockFile), 'the dead holder left its lock').toBe(true);
    const began = Date.now();
    const b = await start(['token', accountId], { TOKENTRAY_LOCK_WAIT_MS: '60000' }).done;
    expect(b.code, b.stderr).toBe(0);
    // Far below the 60 s a live holder would be waited for: the dead one was recognised as dead.
    expect(Date.now() - began).toBeLessThan(30_000);
    expect(b.stdout.trim()).not.toBe(old);
    expect(await works(b.stdout.trim())).toBe(true);
    expect(emu.stats.refreshTokenReuse - reuse).toBe(0);
    expect(await status()).toBe('ok');
  }, 60_000);

  it('a waiter that runs out of patience exits 4 with "another Tokentray process is refreshing", having spent nothing', async () => {
    await expireStoredToken();
    const grants = emu.stats.refreshGrants;
    const reuse = emu.stats.refreshTokenReuse;
    const a = await startFrozenHolder();
    const b = await start(['token', accountId, '--json'], { TOKENTRAY_LOCK_WAIT_MS: '1500' }).done;
    a.child.kill('SIGCONT');
    expect(b.code).toBe(4);
    expect(b.stderr).toMatch(new RegExp(`another Tokentray process is refreshing ${accountId}; try again`, 'i'));
    expect(JSON.parse(b.stdout)).toMatchObject({ error: { code: 'PROVIDER_UNAVAILABLE' } });
    expect(emu.stats.refreshGrants - grants).toBe(1);
    const ra = await a.done;
    expect(ra.code, ra.stderr).toBe(0);
    expect(emu.stats.refreshTokenReuse - reuse).toBe(0);
    expect(await status()).toBe('ok');
    // Every token the emulator ever issued here, rotated-out ones included, stays out of files and output.
    const files = await readAllFiles(home);
    for (const issued of emu.issuedTokens()) {
      expect(files).not.toContain(issued);
      expect(b.stdout + b.stderr + ra.stderr).not.toContain(issued);
    }
  }, 60_000);
});
