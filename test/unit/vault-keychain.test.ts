import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { KeytarSecretStore } from '../../electron/core/vault/keytar-store';
import { seedScriptedAccount } from '../fakes/scripted-token-server';
import { makeTestCore, uniqueKeychainService, type TestCore } from '../support/test-core';

const cleanups: TestCore[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!.cleanup();
});

function core(): TestCore {
  const t = makeTestCore({ keychain: true });
  cleanups.push(t);
  return t;
}

describe('the real OS keychain (Secret Service via keytar)', () => {
  it('round-trips a 16 KB token', async () => {
    const store = new KeytarSecretStore(uniqueKeychainService());
    const token = `eyJ${'A'.repeat(16 * 1024)}.sig`;
    await store.set('account:big', token);
    expect(await store.get('account:big')).toBe(token);
    expect(await store.keys()).toEqual(['account:big']);
    expect(await store.delete('account:big')).toBe(true);
    expect(await store.get('account:big')).toBeNull();
  });

  it('keytar itself errors (not hangs) when no Secret Service answers', () => {
    const result = spawnSync(
      process.execPath,
      [
        '-e',
        `require('keytar').setPassword('tokentray-probe','k','v').then(()=>console.log('stored'),e=>{console.log('error:'+e.message)})`,
      ],
      { env: { ...process.env, DBUS_SESSION_BUS_ADDRESS: 'unix:path=/nonexistent/bus' }, encoding: 'utf8' },
    );
    expect(result.stdout).toMatch(/^error:/);
  });

  it('maps a keychain failure to KEYCHAIN_UNAVAILABLE with a next step', async () => {
    // libsecret keeps its D-Bus connection per process, so the broken keychain lives in a child process.
    const { build } = await import('esbuild');
    const dir = mkdtempSync(join(tmpdir(), 'tokentray-probe-'));
    const entry = join(dir, 'probe.ts');
    writeFileSync(
      entry,
      `import { KeytarSecretStore } from ${JSON.stringify(join(process.cwd(), 'electron/core/vault/keytar-store'))};
       new KeytarSecretStore('tokentray-probe').set('account:x', 'secret-value').then(
         () => console.log(JSON.stringify({ stored: true })),
         (e) => console.log(JSON.stringify({ code: e.code, message: e.message })));`,
    );
    await build({
      entryPoints: [entry],
      outfile: join(dir, 'probe.cjs'),
      bundle: true,
      platform: 'node',
      format: 'cjs',
      external: ['keytar'],
      logLevel: 'silent',
    });
    const result = spawnSync(process.execPath, [join(dir, 'probe.cjs')], {
      env: {
        ...process.env,
        DBUS_SESSION_BUS_ADDRESS: 'unix:path=/nonexistent/bus',
        NODE_PATH: join(process.cwd(), 'node_modules'),
      },
      encoding: 'utf8',
    });
    rmSync(dir, { recursive: true, force: true });
    const outcome = JSON.parse(result.stdout) as { code?: string; message?: string };
    expect(outcome.code).toBe('KEYCHAIN_UNAVAILABLE');
    expect(outcome.message).toMatch(/Secret Service such as gnome-keyring/);
    expect(outcome.message).toMatch(/never falls back/);
    expect(outcome.message).not.toContain('secret-value');
  });

  it("reports an item deleted behind the app's back as KEYCHAIN_ITEM_MISSING and keeps the account listed", async () => {
    const t = core();
    const id = await seedScriptedAccount(t.core, 'http://127.0.0.1:9', {
      accessToken: 'at-x',
      refreshToken: 'rt-x',
      expiresAt: Date.now() + 3_600_000,
      issuedAt: Date.now(),
    });
    await t.store.delete(`account:${id}`);
    await expect(t.core.getAccessToken(id)).rejects.toMatchObject({ code: 'KEYCHAIN_ITEM_MISSING' });
    expect((await t.core.listAccounts()).map((a) => a.id)).toEqual([id]);
  });

  it('rebuilds a damaged metadata file from the keychain instead of failing to start', async () => {
    const t = core();
    const id = await seedScriptedAccount(t.core, 'http://127.0.0.1:9', {
      accessToken: 'at-y',
      refreshToken: 'rt-y',
      expiresAt: Date.now() + 3_600_000,
      issuedAt: Date.now(),
    });
    writeFileSync(join(t.home, 'accounts', `${id}.json`), '{"version":1,"id":"half-wri');
    const accounts = await t.core.listAccounts();
    expect(accounts).toHaveLength(1);
    expect(accounts[0]).toMatchObject({ id, provider: 'scripted', status: 'ok' });
    expect(await t.core.getAccessToken(id)).toBe('at-y');
  });

  it('reconciles metadata with newer tokens after a crash between the keychain write and the metadata write', async () => {
    const t = core();
    const id = await seedScriptedAccount(t.core, 'http://127.0.0.1:9', {
      accessToken: 'at-old',
      refreshToken: 'rt-old',
      expiresAt: Date.now() - 1000,
      issuedAt: Date.now() - 3_601_000,
    });
    const { secret } = await t.core.repo.load(id);
    const newExpiry = Date.now() + 3_600_000;
    await t.core.vault.writeAccount(id, {
      ...secret,
      tokens: {
        ...secret.tokens,
        accessToken: 'at-new',
        refreshToken: 'rt-new',
        expiresAt: newExpiry,
        issuedAt: Date.now(),
      },
    });
    // (no metadata write: the process "died" here)
    expect(await t.core.getAccessToken(id)).toBe('at-new');
    const [summary] = await t.core.listAccounts();
    expect(Date.parse(summary!.expiresAt!)).toBe(newExpiry);
    expect(summary!.status).toBe('ok');
  });
});
