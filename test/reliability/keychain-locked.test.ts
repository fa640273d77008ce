// A real gnome-keyring on a private D-Bus session, locked and unlocked under
// the CLI's feet. A locked Secret Service answers reads with "no such item",
// which must not be mistaken for a deleted account.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAmocrmEmulator, type EmulatorHandle } from '../fakes/amocrm-emulator';
import { amocrmSetArgs, runCli, type CliResult } from '../support/cli';
import { freePort } from '../support/free-port';
import { makeTestCore } from '../support/test-core';
import { BUILTIN_PROVIDERS } from '../../electron/core/providers/builtin';

const PASSWORD = 'tokentray-locked-test';
let bus = '';
let busPid = 0;
let data = '';
let home = '';
let emu: EmulatorHandle;
const service = `tokentray-locked-${process.pid}`;

function keyringEnv(): NodeJS.ProcessEnv {
  return { ...process.env, DBUS_SESSION_BUS_ADDRESS: bus, XDG_DATA_HOME: data };
}

function startKeyring(replace: boolean): void {
  const args = ['--unlock', '--components=secrets', ...(replace ? ['--replace'] : [])];
  spawnSync('gnome-keyring-daemon', args, { input: PASSWORD, env: keyringEnv(), encoding: 'utf8', timeout: 15_000 });
}

function lockKeyring(): void {
  execFileSync(
    'dbus-send',
    [
      '--session',
      '--dest=org.freedesktop.secrets',
      '--type=method_call',
      '--print-reply',
      '/org/freedesktop/secrets',
      'org.freedesktop.Secret.Service.Lock',
      'array:objpath:/org/freedesktop/secrets/collection/login',
    ],
    { env: keyringEnv(), timeout: 15_000 },
  );
}

function cli(args: string[], stdin?: string): Promise<CliResult> {
  return runCli(args, { home, service, extra: { DBUS_SESSION_BUS_ADDRESS: bus, XDG_DATA_HOME: data } }, stdin);
}

beforeAll(async () => {
  data = mkdtempSync(join(tmpdir(), 'tokentray-locked-keyring-'));
  home = mkdtempSync(join(tmpdir(), 'tokentray-locked-home-'));
  const out = execFileSync('dbus-daemon', ['--session', '--fork', '--print-address=1', '--print-pid=1'], {
    encoding: 'utf8',
    env: { ...process.env, XDG_DATA_HOME: data },
  }).split('\n');
  bus = out[0]!.trim();
  busPid = Number(out[1]);
  startKeyring(false);
  const redirectUri = `http://127.0.0.1:${await freePort()}/callback/amocrm`;
  emu = await startAmocrmEmulator({ redirectUri });
  const set = await cli(amocrmSetArgs(emu, redirectUri), `${emu.clientSecret}\n`);
  expect(set.code, set.stderr).toBe(0);
});

afterAll(async () => {
  await emu?.close();
  // gnome-keyring-daemon leaves with its session bus.
  if (busPid) process.kill(busPid);
  rmSync(data, { recursive: true, force: true });
  rmSync(home, { recursive: true, force: true });
});

describe('a locked keychain', () => {
  it('is reported as KEYCHAIN_UNAVAILABLE (exit 5, "unlock"), loses nothing, and works again once unlocked', async () => {
    const token = emu.issueLongLivedToken({ user: 'alice', ttlSeconds: 86_400 * 90 });
    const connected = await cli(['connect', 'amocrm', '--token-stdin', '--label', 'locked-test'], `${token}\n`);
    expect(connected.code, connected.stderr).toBe(0);
    expect((await cli(['token', 'locked-test'])).stdout.trim()).toBe(token);

    lockKeyring();
    const whileLocked = await cli(['token', 'locked-test', '--json']);
    expect(whileLocked.code).toBe(5);
    expect(whileLocked.stderr).toMatch(/unlock/);
    expect(whileLocked.stderr).toMatch(/never falls back/);
    expect(JSON.parse(whileLocked.stdout)).toMatchObject({ error: { code: 'KEYCHAIN_UNAVAILABLE' } });
    expect(whileLocked.stdout + whileLocked.stderr).not.toContain(token);
    // The plain `token` a script runs as $(tokentray token …): the same refusal, and nothing on stdout
    // that the script could take for a token.
    const plainLocked = await cli(['token', 'locked-test']);
    expect(plainLocked.code).toBe(5);
    expect(plainLocked.stdout).toBe('');
    expect(plainLocked.stderr).toMatch(/unlock/);
    expect(plainLocked.stderr).not.toContain(token);
    // doctor names the state and exits 5, as every command that needs the keychain does now.
    const doctor = await cli(['doctor', '--json']);
    expect(doctor.code).toBe(5);
    expect(JSON.parse(doctor.stdout)).toMatchObject({
      keychain: { state: 'locked', detail: expect.stringMatching(/locked/) },
      store: { kind: 'local', answers: false },
    });
    expect(doctor.stdout + doctor.stderr).not.toContain(token);
    const connectLocked = await cli(['connect', 'amocrm', '--token-stdin'], `${token}\n`);
    expect(connectLocked.code).toBe(5);
    // The account is still listed from its metadata, not dropped.
    const listed = await cli(['accounts', '--json']);
    expect(listed.code, listed.stderr).toBe(0);
    expect(JSON.parse(listed.stdout)).toEqual([expect.objectContaining({ label: 'locked-test' })]);

    startKeyring(true);
    const unlocked = await cli(['token', 'locked-test']);
    expect(unlocked.code, unlocked.stderr).toBe(0);
    expect(unlocked.stdout.trim()).toBe(token);
  });
});

describe('a keychain locked in the middle of a refresh (the provider has already rotated the tokens)', () => {
  /** An account with single-use refresh tokens; `tokentray refresh` rotates them. */
  async function refreshableAccount(user: string): Promise<string> {
    const connected = await cli([
      'connect',
      'amocrm',
      '--code',
      emu.issueAuthorizationCode({ user }),
      '--host',
      'example.amocrm.ru',
      '--json',
    ]);
    expect(connected.code, connected.stderr).toBe(0);
    return (JSON.parse(connected.stdout) as { id: string }).id;
  }

  function lockOnNextTokenAnswer(): void {
    emu.setTokenHooks({
      after: () => {
        lockKeyring();
        emu.setTokenHooks({});
      },
    });
  }

  it('a CLI run: KEYCHAIN_UNAVAILABLE says what happened, and no later process spends the old refresh token', async () => {
    const id = await refreshableAccount('bob');
    const grants = emu.stats.refreshGrants;
    lockOnNextTokenAnswer();
    const r = await cli(['refresh', id, '--json']);
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(/issued new tokens for .* but the keychain would not store them/);
    expect(r.stderr).toMatch(/if it exits first, the account must be reconnected/);
    expect(JSON.parse(r.stdout)).toMatchObject({ error: { code: 'KEYCHAIN_UNAVAILABLE' } });
    const meta = JSON.parse(readFileSync(join(home, 'accounts', `${id}.json`), 'utf8')) as {
      unsavedRotation?: { pid: number } | null;
    };
    expect(meta.unsavedRotation?.pid).toBeGreaterThan(0);

    startKeyring(true);
    // The process that held the new tokens is gone and the provider has spent the stored refresh
    // token: the honest answer is "reconnect", given without sending that token again.
    const after = await cli(['token', id]);
    expect(after.code).toBe(3);
    expect(after.stderr).toMatch(/ended before the keychain stored the new tokens/);
    expect(emu.stats.refreshGrants - grants).toBe(1);
    expect(emu.stats.refreshTokenReuse).toBe(0);
    const listed = JSON.parse((await cli(['accounts', '--json'])).stdout) as Array<{ id: string; status: string }>;
    expect(listed.find((a) => a.id === id)?.status).toBe('reconnect');
  });

  it('a long-running process (the tray): keeps serving the new tokens from memory; other processes wait for it and spend nothing', async () => {
    const id = await refreshableAccount('carol');
    // This test process plays the tray, on the same private keyring as the CLI runs.
    process.env['DBUS_SESSION_BUS_ADDRESS'] = bus;
    const tray = makeTestCore({ keychain: true, service, home, providers: BUILTIN_PROVIDERS });
    const before = await tray.core.getAccessToken(id);
    const grants = emu.stats.refreshGrants;
    lockOnNextTokenAnswer();
    await expect(tray.core.refresh(id)).rejects.toMatchObject({
      code: 'KEYCHAIN_UNAVAILABLE',
      message: expect.stringMatching(/keeps them in memory/),
    });
    const served = await tray.core.getAccessToken(id);
    expect(served).not.toBe(before);
    const api = await fetch(`${emu.url}/api/v4/account`, { headers: { authorization: `Bearer ${served}` } });
    expect(api.status).toBe(200);

    for (const args of [
      ['token', id],
      ['refresh', id],
    ]) {
      const other = await cli(args);
      expect(other.code, other.stderr).toBe(5);
      expect(other.stderr).toMatch(/refreshed .* but the keychain would not store the new tokens; it keeps retrying/);
      expect(other.stdout + other.stderr).not.toContain(served);
    }
    expect(emu.stats.refreshGrants - grants).toBe(1);
    expect(emu.stats.refreshTokenReuse).toBe(0);
    await tray.core.close();
  });
});
