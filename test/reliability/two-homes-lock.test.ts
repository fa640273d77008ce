// One keychain service, two state directories: the tray under the desktop's HOME and a cron job,
// `sudo -u` shell or `systemd --user` unit with another TOKENTRAY_HOME / XDG_CONFIG_HOME / HOME.
// The second resolves the account from the keychain and rebuilds its metadata in its own
// directory; both must still take one lock, or they spend one single-use amoCRM refresh token
// twice and the loser is told to reconnect an account that still works.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeLockDir } from '../../electron/core/refresh/lock-dir';
import { startAmocrmEmulator, type EmulatorHandle } from '../fakes/amocrm-emulator';
import { amocrmSetArgs, runCli } from '../support/cli';
import { freePort } from '../support/free-port';
import { makeTestCore, uniqueKeychainService } from '../support/test-core';

const RUNS_PER_HOME = 10;

let emu: EmulatorHandle;
let desktop: string;
let cron: string;
let service: string;
let accountId: string;

beforeAll(async () => {
  desktop = mkdtempSync(join(tmpdir(), 'tokentray-desktop-'));
  cron = mkdtempSync(join(tmpdir(), 'tokentray-cron-'));
  service = uniqueKeychainService();
  const redirectUri = `http://127.0.0.1:${await freePort()}/callback/amocrm`;
  emu = await startAmocrmEmulator({ redirectUri, taskCount: 1 });
  // Both homes know the provider (the cron job's owner set it up there too); the account is connected once.
  for (const home of [desktop, cron]) {
    const set = await runCli(amocrmSetArgs(emu, redirectUri), { home, service }, emu.clientSecret);
    expect(set.code, set.stderr).toBe(0);
  }
  const connected = await runCli(
    ['connect', 'amocrm', '--code-stdin', '--host', 'example.amocrm.ru', '--json'],
    { home: desktop, service },
    emu.issueAuthorizationCode({ user: 'alice' }),
  );
  expect(connected.code, connected.stderr).toBe(0);
  accountId = (JSON.parse(connected.stdout) as { id: string }).id;
}, 60_000);

afterAll(async () => {
  const t = makeTestCore({ keychain: true, service, home: desktop });
  await t.cleanup();
  await emu.close();
  rmSync(desktop, { recursive: true, force: true });
  rmSync(cron, { recursive: true, force: true });
  rmSync(await storeLockDir(`keychain:${service}`), { recursive: true, force: true });
});

describe('two state directories on one keychain service', () => {
  it(`${RUNS_PER_HOME} \`token\` runs in each home at once: exactly one refresh, no reuse, every run gets the same working token`, async () => {
    // The cron home has seen the account once (metadata rebuilt from the keychain), as after its first run.
    const first = await runCli(['token', accountId], { home: cron, service });
    expect(first.code, first.stderr).toBe(0);
    // Then the token dies (a night asleep), so every run below finds it due.
    const t = makeTestCore({ keychain: true, service, home: desktop });
    const { meta, secret } = await t.core.repo.load(accountId);
    await t.core.repo.saveTokens(meta, { ...secret, tokens: { ...secret.tokens, expiresAt: Date.now() - 1_000 } });
    await t.core.close();
    const old = secret.tokens.accessToken;
    const grants = emu.stats.refreshGrants;
    const reuse = emu.stats.refreshTokenReuse;

    const runs = await Promise.all(
      [desktop, cron].flatMap((home) =>
        Array.from({ length: RUNS_PER_HOME }, () => runCli(['token', accountId], { home, service })),
      ),
    );

    // All in one comparison, so a failure shows the whole picture (today: 2 refreshes, 1 reuse, losers told to reconnect).
    const tokens = new Set(runs.map((r) => r.stdout.trim()));
    expect({
      refreshes: emu.stats.refreshGrants - grants,
      reuses: emu.stats.refreshTokenReuse - reuse,
      failures: runs.filter((r) => r.code !== 0).map((r) => `${r.code}: ${r.stderr.trim()}`),
      distinctTokens: tokens.size,
    }).toEqual({ refreshes: 1, reuses: 0, failures: [], distinctTokens: 1 });
    const [token] = [...tokens];
    expect(token).not.toBe(old);
    const res = await fetch(`${emu.url}/api/v4/account`, { headers: { authorization: `Bearer ${token!}` } });
    expect(res.status).toBe(200);
    for (const home of [desktop, cron]) {
      const list = await runCli(['accounts', '--json'], { home, service });
      expect(list.code, list.stderr).toBe(0);
      expect(
        (JSON.parse(list.stdout) as Array<{ id: string; status: string }>).find((a) => a.id === accountId),
      ).toMatchObject({
        status: 'ok',
      });
    }
  }, 120_000);
});
