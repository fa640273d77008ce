// A server without a Secret Service: real `tokentray` processes with the D-Bus session pointing
// nowhere (no keychain at all), an amoCRM emulator whose refresh tokens are single-use (it counts
// every reuse), and the encrypted file store that `tokentray store use file` sets up.
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileSecretStore } from '../../electron/core/store/file-store';
import { readKeyFile } from '../../electron/core/store/team-key';
import { BUILTIN_PROVIDERS } from '../../electron/core/providers/builtin';
import { startAmocrmEmulator, type EmulatorHandle } from '../fakes/amocrm-emulator';
import { amocrmSetArgs, runCli, type CliResult } from '../support/cli';
import { freePort } from '../support/free-port';
import { NO_DBUS } from '../support/no-dbus';
import { makeTestCore, readAllFiles, uniqueKeychainService } from '../support/test-core';

const root = mkdtempSync(join(tmpdir(), 'tokentray-filestore-'));
const home = join(root, 'state');
const keyFile = join(root, 'keys', 'server.key');
const service = uniqueKeychainService();
let emu: EmulatorHandle;
let redirectUri: string;
let accountId: string;

const cli = (args: string[], extra: Record<string, string> = {}, stdin?: string): Promise<CliResult> =>
  runCli(args, { home, service, extra: { ...NO_DBUS, ...extra } }, stdin);

async function ok(r: Promise<CliResult>): Promise<CliResult> {
  const result = await r;
  expect(result.code, result.stderr).toBe(0);
  return result;
}

/** Every file under the file store's folder with its content: what "changes nothing" compares. */
function snapshot(): Record<string, string> {
  const dir = join(home, 'secrets');
  const out: Record<string, string> = { 'store.json': readFileSync(join(home, 'store.json'), 'utf8') };
  for (const name of readdirSync(dir)) out[name] = readFileSync(join(dir, name), 'utf8');
  return out;
}

async function apiWorks(token: string): Promise<void> {
  const res = await fetch(`${emu.url}/api/v4/account`, { headers: { authorization: `Bearer ${token.trim()}` } });
  expect(res.status).toBe(200);
}

beforeAll(async () => {
  redirectUri = `http://127.0.0.1:${await freePort()}/callback/amocrm`;
  emu = await startAmocrmEmulator({ redirectUri, taskCount: 3 });
});

afterAll(async () => {
  await emu.close();
  rmSync(root, { recursive: true, force: true });
});

describe('without a Secret Service', () => {
  it('a command that needs the keychain exits 5 at once, leaves nothing running and names what to do', async () => {
    const fresh = mkdtempSync(join(root, 'keychain-'));
    // A browser sign-in starts a loopback listener for 300 s by default; it must not keep the process.
    const r = await runCli(['connect', 'demo', '--no-browser'], { home: fresh, service, extra: NO_DBUS });
    expect(r.signal).toBeNull();
    expect(r.code, r.stderr).toBe(5);
    expect(r.stderr).toContain('tokentray store use file');
    expect(r.stderr).toContain('shared store');
    expect(r.stderr).toMatch(/Secret Service/);
    const set = await runCli(
      amocrmSetArgs(emu, redirectUri),
      { home: fresh, service, extra: NO_DBUS },
      emu.clientSecret,
    );
    expect(set.code, set.stderr).toBe(5);
    expect(set.stderr).not.toContain(emu.clientSecret);
  });
});

describe('the encrypted file store, without D-Bus', () => {
  it('refuses a key file other users can read, and sets up nothing', async () => {
    const open = join(root, 'open.key');
    writeFileSync(open, `${randomBytes(32).toString('base64')}\n`, { mode: 0o644 });
    chmodSync(open, 0o644);
    const r = await cli(['store', 'use', 'file', '--key-file', open]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`chmod 600 ${open}`);
    expect(() => statSync(join(home, 'store.json'))).toThrow();
  });

  it('`store use file --key-file` creates the key 0600 and the store 0700; accounts connect and give tokens', async () => {
    const use = await ok(cli(['store', 'use', 'file', '--key-file', keyFile]));
    expect(use.stderr).toMatch(/Created a new store key/);
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(statSync(join(home, 'secrets')).mode & 0o777).toBe(0o700);
    const set = await ok(cli(amocrmSetArgs(emu, redirectUri), {}, emu.clientSecret));
    // There is no keychain here: saying the secret went there would send the user looking in the wrong place.
    expect(set.stderr).toMatch(/client secret stored in the encrypted file store/);
    const connected = await ok(
      cli([
        'connect',
        'amocrm',
        '--code',
        emu.issueAuthorizationCode({ user: 'alice' }),
        '--host',
        'example.amocrm.ru',
        '--label',
        'work-amo',
        '--json',
      ]),
    );
    accountId = (JSON.parse(connected.stdout) as { id: string }).id;
    await apiWorks((await ok(cli(['token', 'work-amo']))).stdout);
    const status = JSON.parse((await ok(cli(['store', 'status', '--json']))).stdout) as Record<string, unknown>;
    expect(status).toMatchObject({ kind: 'file', reachable: true, accounts: 1 });
  });

  it('20 concurrent `tokentray token` on an expired single-use token make exactly 1 refresh, 0 reuses', async () => {
    const store = new FileSecretStore(home, readKeyFile(keyFile), () => keyFile);
    const t = makeTestCore({ store, home, providers: BUILTIN_PROVIDERS });
    const { meta, secret } = await t.core.repo.load(accountId);
    await t.core.repo.saveTokens(meta, { ...secret, tokens: { ...secret.tokens, expiresAt: Date.now() - 60_000 } });
    await t.core.close();
    const refreshesBefore = emu.stats.refreshGrants;
    const reuseBefore = emu.stats.refreshTokenReuse;
    const results = await Promise.all(Array.from({ length: 20 }, () => cli(['token', accountId])));
    for (const r of results) expect(r.code, r.stderr).toBe(0);
    expect(new Set(results.map((r) => r.stdout)).size).toBe(1);
    expect(results[0]!.stdout.trim()).not.toBe(secret.tokens.accessToken);
    expect(emu.stats.refreshGrants - refreshesBefore).toBe(1);
    expect(emu.stats.refreshTokenReuse - reuseBefore).toBe(0);
    await apiWorks(results[0]!.stdout);
  });

  it('no token or client secret is readable anywhere in the state directory', async () => {
    await ok(cli(['refresh', 'work-amo']));
    const files = await readAllFiles(home);
    const issued = emu.issuedTokens();
    expect(issued.length).toBeGreaterThan(4);
    for (const secret of [...issued, emu.clientSecret]) expect(files).not.toContain(secret);
    // File names do not say which providers or accounts the store holds either.
    expect(readdirSync(join(home, 'secrets')).join(' ')).not.toMatch(/amocrm|account|client/);
    for (const name of readdirSync(join(home, 'secrets')))
      expect(statSync(join(home, 'secrets', name)).mode & 0o777).toBe(0o600);
  });

  it('a process with another key reads nothing, says so, and changes nothing', async () => {
    const other = join(root, 'other.key');
    writeFileSync(other, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600 });
    const before = snapshot();
    for (const args of [
      ['token', 'work-amo'],
      ['refresh', 'work-amo'],
      ['token', 'work-amo', '--header'],
    ]) {
      const r = await cli(args, { TOKENTRAY_STORE_KEY_FILE: other });
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain(`The key in ${other} does not open the file store`);
      expect(r.stderr).toContain('Nothing was changed');
      expect(r.stdout).toBe('');
    }
    const again = await cli(['store', 'use', 'file', '--key-file', other]);
    expect(again.code).toBe(2);
    expect(snapshot()).toEqual(before);
    // The right key still opens everything.
    await apiWorks((await ok(cli(['token', 'work-amo']))).stdout);
  });

  it('a key file that became readable by others is refused until it is private again', async () => {
    chmodSync(keyFile, 0o640);
    try {
      const r = await cli(['token', 'work-amo']);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`chmod 600 ${keyFile}`);
    } finally {
      chmodSync(keyFile, 0o600);
    }
    await ok(cli(['token', 'work-amo']));
  });

  it('the key from systemd credentials ($CREDENTIALS_DIRECTORY/tokentray.key) works; TOKENTRAY_STORE_KEY_FILE wins', async () => {
    const creds = mkdtempSync(join(root, 'creds-'));
    writeFileSync(join(creds, 'tokentray.key'), readFileSync(keyFile), { mode: 0o600 });
    const configured = JSON.parse(readFileSync(join(home, 'store.json'), 'utf8')) as Record<string, unknown>;
    // As a service would run it: the store set up without --key-file, the key from systemd alone.
    writeFileSync(join(home, 'store.json'), JSON.stringify({ kind: 'file', keyFile: null }), { mode: 0o600 });
    try {
      await apiWorks((await ok(cli(['token', 'work-amo'], { CREDENTIALS_DIRECTORY: creds }))).stdout);
      const none = await cli(['token', 'work-amo']);
      expect(none.code).toBe(2);
      expect(none.stderr).toMatch(/has no key here/);
      const other = join(root, 'other.key');
      const wins = await cli(['token', 'work-amo'], { CREDENTIALS_DIRECTORY: creds, TOKENTRAY_STORE_KEY_FILE: other });
      expect(wins.stderr).toContain(`The key in ${other} does not open`);
    } finally {
      writeFileSync(join(home, 'store.json'), JSON.stringify(configured), { mode: 0o600 });
    }
  });

  it('`store use local` without a keychain exits 5 and leaves the file store in use and whole', async () => {
    const before = snapshot();
    const r = await cli(['store', 'use', 'local']);
    expect(r.code, r.stderr).toBe(5);
    expect(snapshot()).toEqual(before);
    await ok(cli(['token', 'work-amo']));
  });
});

describe('moving between the file store and the keychain (with a Secret Service)', () => {
  const withKeychain = (args: string[]): Promise<CliResult> =>
    runCli(args, { home, service, extra: { TOKENTRAY_STORE_KEY_FILE: '' } });

  afterAll(async () => {
    const { KeytarSecretStore } = await import('../../electron/core/vault/keytar-store');
    const keychain = new KeytarSecretStore(service);
    for (const k of await keychain.keys().catch(() => [])) await keychain.delete(k).catch(() => undefined);
  });

  it('`store use local` moves the accounts into the keychain, `store use file` moves them back', async () => {
    const moved = await ok(withKeychain(['store', 'use', 'local']));
    expect(moved.stderr).toMatch(/Moved 1 account from the file store/);
    expect(readdirSync(join(home, 'secrets')).filter((n) => n !== 'key-check.json')).toEqual([]);
    await apiWorks((await ok(withKeychain(['token', 'work-amo']))).stdout);
    // The keychain is the store now: without it, the account cannot be read.
    expect((await cli(['token', 'work-amo'])).code).toBe(5);

    const back = await ok(withKeychain(['store', 'use', 'file', '--key-file', keyFile]));
    expect(back.stderr).toMatch(/1 account, 1 moved in/);
    const { KeytarSecretStore } = await import('../../electron/core/vault/keytar-store');
    const left = (await new KeytarSecretStore(service).keys()).filter((k) => /^(account|client-secret):/.test(k));
    expect(left).toEqual([]);
    await apiWorks((await ok(cli(['token', 'work-amo']))).stdout);
    expect(emu.stats.refreshTokenReuse).toBe(0);
  });
});
