// Every token the provider ever issued — the current ones and every one a refresh
// rotated out — is searched for in every file under the state directory, every
// CLI output (but the one `tokentray token` prints) and every IPC frame the
// renderer could receive. A leak of an old token is as bad as one of the current. Run on the
// keychain and on the encrypted file store (no D-Bus), whose files live in the state directory.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIpcRouter, type IpcRouter } from '../../electron/core/ipc-router';
import { BUILTIN_PROVIDERS } from '../../electron/core/providers/builtin';
import { FileSecretStore } from '../../electron/core/store/file-store';
import { readKeyFile } from '../../electron/core/store/team-key';
import { startAmocrmEmulator, type EmulatorHandle } from '../fakes/amocrm-emulator';
import { runCli, type CliResult } from '../support/cli';
import { freePort } from '../support/free-port';
import { NO_DBUS } from '../support/no-dbus';
import { makeTestCore, readAllFiles, uniqueKeychainService, type TestCore } from '../support/test-core';

const REFRESHES = 6;

describe.each(['keychain', 'file'] as const)(
  'leak scan over every issued token, rotated-out ones included, on the %s store',
  (kind) => {
    let emu: EmulatorHandle;
    let t: TestCore;
    let router: IpcRouter;
    let home: string;
    let keyDir: string;
    const frames: string[] = [];
    const outputs: CliResult[] = [];
    const copied: string[] = [];
    /** The file store's processes run as on a server: no D-Bus at all. */
    const extra = kind === 'file' ? NO_DBUS : {};

    async function ipc(channel: string, payload: unknown): Promise<unknown> {
      const result = await router.handle(channel, payload);
      frames.push(JSON.stringify(result));
      expect(result.ok, JSON.stringify(result)).toBe(true);
      return (result as { data: unknown }).data;
    }

    async function cli(args: string[]): Promise<CliResult> {
      const r = await runCli(args, { home, service: t.service, extra });
      outputs.push(args[0] === 'token' ? { ...r, stdout: '' } : r);
      return r;
    }

    beforeAll(async () => {
      home = mkdtempSync(join(tmpdir(), `tokentray-leak-${kind}-`));
      keyDir = mkdtempSync(join(tmpdir(), 'tokentray-leak-key-'));
      const redirectUri = `http://127.0.0.1:${await freePort()}/callback/amocrm`;
      emu = await startAmocrmEmulator({ redirectUri, taskCount: 12 });
      if (kind === 'file') {
        const keyFile = join(keyDir, 'store.key');
        const service = uniqueKeychainService();
        const use = await runCli(['store', 'use', 'file', '--key-file', keyFile], { home, service, extra });
        expect(use.code, use.stderr).toBe(0);
        const store = new FileSecretStore(home, readKeyFile(keyFile), () => keyFile);
        t = makeTestCore({ store, service, home, providers: BUILTIN_PROVIDERS });
      } else t = makeTestCore({ keychain: true, home, providers: BUILTIN_PROVIDERS });
      router = createIpcRouter(t.core, {
        copyToken: async (accountId) => {
          copied.push(await t.core.getAccessToken(accountId));
        },
        openExternal: async () => undefined,
      });
      router.subscribe((event, payload) => frames.push(JSON.stringify({ event, payload })));
      await t.core.setProvider('amocrm', {
        clientId: emu.clientId,
        clientSecret: emu.clientSecret,
        redirectUri,
        authorizeUrl: `${emu.url}/oauth`,
        apiUrl: emu.url,
      });
    });

    afterAll(async () => {
      router.close();
      await t.cleanup();
      await emu.close();
      rmSync(home, { recursive: true, force: true });
      rmSync(keyDir, { recursive: true, force: true });
    });

    it('no token reaches a file, a CLI output or an IPC frame after many refreshes', async () => {
      const account = (await ipc('completeConnectWithCode', {
        provider: 'amocrm',
        code: emu.issueAuthorizationCode({ user: 'alice' }),
        host: 'example.amocrm.ru',
      })) as { id: string };
      for (let i = 0; i < REFRESHES; i += 1) {
        // Half the refreshes in this process (the tray), half in CLI runs.
        if (i % 2 === 0) await ipc('refresh', { accountId: account.id });
        else expect((await cli(['refresh', account.id])).code).toBe(0);
        await ipc('listAccounts', undefined);
        await ipc('inspect', { accountId: account.id });
        await ipc('copyToken', { accountId: account.id });
      }
      await ipc('tasks', { accountId: account.id });
      for (const args of [
        ['accounts'],
        ['accounts', '--json'],
        ['inspect', account.id, '--json'],
        ['tasks', account.id, '--json'],
        ['token', account.id],
        ['doctor'],
        ['doctor', '--json'],
      ])
        expect((await cli(args)).code).toBe(0);

      const issued = emu.issuedTokens();
      // One access and one refresh token per connect and per refresh.
      expect(issued.length).toBe(2 * (REFRESHES + 1));
      const secrets = [...issued, emu.clientSecret];
      const files = await readAllFiles(home);
      const printed = outputs.map((o) => o.stdout + o.stderr).join('\n');
      const wire = frames.join('\n');
      expect(frames.length).toBeGreaterThan(4 * REFRESHES);
      for (const secret of secrets) {
        expect(files).not.toContain(secret);
        expect(printed).not.toContain(secret);
        expect(wire).not.toContain(secret);
      }
      // The clipboard action did get real tokens: the scan searched for the right things.
      expect(copied.length).toBe(REFRESHES);
      for (const token of copied) expect(issued).toContain(token);
    }, 120_000);
  },
);
