import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAmocrmEmulator, type EmulatorHandle } from '../fakes/amocrm-emulator';
import { amocrmSetArgs, runCli } from '../support/cli';
import { freePort } from '../support/free-port';
import { NO_DBUS } from '../support/no-dbus';
import { readAllFiles, uniqueKeychainService } from '../support/test-core';

const KILLS_PER_STEP = Number(process.env['CRASH_KILLS_PER_STEP'] ?? 20);
/** The file store's run has one step more and shares CI's time with the keychain's: half as many kills each. */
const FILE_KILLS_PER_STEP = Number(
  process.env['CRASH_FILE_KILLS_PER_STEP'] ?? Math.max(1, Math.ceil(KILLS_PER_STEP / 2)),
);
const STEPS = ['before-token-call', 'after-token-response', 'after-secret-write', 'during-metadata-write'] as const;
/** The file store writes its own files: a kill between its temp file and the rename too. */
const FILE_STEPS = [...STEPS, 'during-secret-write'] as const;
type Step = (typeof FILE_STEPS)[number];
/** Steps where the provider has spent the refresh token but its answer never reached the store. */
const ANSWER_LOST: readonly Step[] = ['after-token-response', 'during-secret-write'];

/** The keychain, or the encrypted file store on a machine without D-Bus (`tokentray store use file`). */
type StoreKind = 'keychain' | 'file';

let emu: EmulatorHandle;
let redirectUri: string;
let home: string;
let service: string;
let child: string;
let storeKind: StoreKind = 'keychain';
let keyFile = '';

/** What every process of this store kind runs with: no D-Bus at all for the file store. */
const storeEnv = (): Record<string, string> => (storeKind === 'file' ? { ...NO_DBUS } : {});

function runChild(
  env: Record<string, string>,
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  return new Promise((done) => {
    const p = spawn(process.execPath, [child], {
      env: {
        ...process.env,
        TOKENTRAY_HOME: home,
        TOKENTRAY_KEYCHAIN_SERVICE: service,
        NODE_PATH: resolve('node_modules'),
        ...storeEnv(),
        CRASH_STORE: storeKind,
        CRASH_KEY_FILE: keyFile,
        ...env,
      },
    });
    let stderr = '';
    p.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    p.on('close', (code, signal) => done({ code, signal, stderr }));
  });
}

const cli = (args: string[]) => runCli(args, { home, service, extra: storeEnv() });

async function accounts(): Promise<Array<{ id: string; status: string }>> {
  const r = await cli(['accounts', '--json']);
  expect(r.code, `accounts must stay readable after a crash: ${r.stderr}`).toBe(0);
  return JSON.parse(r.stdout) as Array<{ id: string; status: string }>;
}

async function connectFresh(): Promise<string> {
  const r = await cli([
    'connect',
    'amocrm',
    '--code',
    emu.issueAuthorizationCode({ user: 'alice' }),
    '--host',
    'example.amocrm.ru',
    '--json',
  ]);
  expect(r.code, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as { id: string }).id;
}

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tokentray-crash-bin-'));
  child = join(dir, 'crash-child.cjs');
  await build({
    entryPoints: ['test/reliability/crash-child.ts'],
    outfile: child,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    external: ['keytar'],
    logLevel: 'silent',
  });
  redirectUri = `http://127.0.0.1:${await freePort()}/callback/amocrm`;
  emu = await startAmocrmEmulator({ redirectUri, taskCount: 5 });
});

afterAll(async () => {
  await emu.close();
});

/** A fresh state directory (and keychain service) on the given store, with amoCRM set up. */
async function useStore(kind: StoreKind): Promise<void> {
  storeKind = kind;
  home = mkdtempSync(join(tmpdir(), `tokentray-crash-${kind}-`));
  service = uniqueKeychainService();
  if (kind === 'file') {
    keyFile = join(home, '..', `${home.split('/').pop()!}.key`);
    const use = await cli(['store', 'use', 'file', '--key-file', keyFile]);
    expect(use.code, use.stderr).toBe(0);
  }
  const set = await runCli(amocrmSetArgs(emu, redirectUri), { home, service, extra: storeEnv() }, emu.clientSecret);
  expect(set.code, set.stderr).toBe(0);
}

async function dropStore(): Promise<void> {
  if (storeKind === 'keychain') {
    const { KeytarSecretStore } = await import('../../electron/core/vault/keytar-store');
    const store = new KeytarSecretStore(service);
    for (const k of await store.keys()) await store.delete(k);
  } else rmSync(keyFile, { force: true });
  rmSync(home, { recursive: true, force: true });
}

describe.each<{ kind: StoreKind; steps: readonly Step[]; kills: number }>([
  { kind: 'keychain', steps: STEPS, kills: KILLS_PER_STEP },
  { kind: 'file', steps: FILE_STEPS, kills: FILE_KILLS_PER_STEP },
])(
  'crash consistency on the $kind store: SIGKILL at each step, $kills times per step (amoCRM single-use refresh tokens)',
  ({ kind, steps, kills }) => {
    beforeAll(() => useStore(kind));
    afterAll(() => dropStore());

    it.each(steps)(
      'refresh killed %s: the next `tokentray token` works or clearly asks to reconnect',
      async (step) => {
        let worked = 0;
        let reconnect = 0;
        let lost = 0;
        const reuseBefore = emu.stats.refreshTokenReuse;
        for (let i = 0; i < kills; i += 1) {
          let [account] = (await accounts()).filter((a) => a.status !== 'reconnect');
          const id = account?.id ?? (await connectFresh());
          const killed = await runChild({ CRASH_FLOW: 'refresh', CRASH_STEP: step, CRASH_ACCOUNT: id });
          expect(killed.signal, killed.stderr).toBe('SIGKILL');
          expect((await accounts()).some((a) => a.id === id)).toBe(true);
          const token = await cli(['token', id]);
          if (token.code === 0) {
            const res = await fetch(`${emu.url}/api/v4/account`, {
              headers: { authorization: `Bearer ${token.stdout.trim()}` },
            });
            expect(res.status).toBe(200);
            worked += 1;
          } else {
            expect(token.code, token.stderr).toBe(3);
            expect(token.stderr).toMatch(/reconnect/i);
            reconnect += 1;
            // The refresh is what shows the spent token: ask explicitly, then reconnect for the next round.
            account = undefined;
          }
          if (!ANSWER_LOST.includes(step)) {
            // Tokens that reached the store, or that were never spent, must never be lost.
            expect(token.code, `${step} #${i}: ${token.stderr}`).toBe(0);
          }
          const refreshed = await cli(['refresh', id]);
          if (refreshed.code !== 0) {
            expect(refreshed.code, refreshed.stderr).toBe(3);
            lost += 1;
            await connectFresh();
          }
        }
        const reuse = emu.stats.refreshTokenReuse - reuseBefore;
        console.log(
          `refresh killed ${step}: ${worked} worked, ${reconnect} asked to reconnect, ${lost} grants lost, of ${kills}`,
        );
        expect(worked + reconnect).toBe(kills);
        // Tokens from every refresh, rotated-out and orphaned by a kill included, never reach a file.
        const files = await readAllFiles(home);
        for (const issued of emu.issuedTokens()) expect(files).not.toContain(issued);
        if (ANSWER_LOST.includes(step)) {
          // The provider spent the old refresh token and its answer died with the process: nothing
          // on this side can keep that grant, but it is reported as "reconnect", never as an outage.
          expect(reuse).toBeLessThanOrEqual(2 * lost);
        } else {
          // A kill before the call, or after the keychain write, never spends a token twice.
          expect(lost).toBe(0);
          expect(reuse).toBe(0);
        }
      },
      300_000,
    );

    it.each(steps)(
      'connect killed %s: state stays readable; an account is either fully usable or absent',
      async (step) => {
        const learn = await cli([
          'connect',
          'amocrm',
          '--code',
          emu.issueAuthorizationCode({ user: 'bob' }),
          '--host',
          'example.amocrm.ru',
          '--json',
        ]);
        expect(learn.code, learn.stderr).toBe(0);
        const bobId = (JSON.parse(learn.stdout) as { id: string }).id;
        expect((await cli(['disconnect', bobId])).code).toBe(0);
        const stored = step === 'after-secret-write' || step === 'during-metadata-write';
        for (let i = 0; i < kills; i += 1) {
          const killed = await runChild({
            CRASH_FLOW: 'connect',
            CRASH_STEP: step,
            CRASH_CODE: emu.issueAuthorizationCode({ user: 'bob' }),
          });
          expect(killed.signal, killed.stderr).toBe('SIGKILL');
          const listed = (await accounts()).find((a) => a.id === bobId);
          if (stored) {
            // The tokens reached the store: the account is recovered and works.
            expect(listed?.status, `${step} #${i}`).toBe('ok');
            const token = await cli(['token', bobId]);
            expect(token.code, token.stderr).toBe(0);
            const res = await fetch(`${emu.url}/api/v4/account`, {
              headers: { authorization: `Bearer ${token.stdout.trim()}` },
            });
            expect(res.status).toBe(200);
            expect((await cli(['disconnect', bobId])).code).toBe(0);
          } else {
            // Nothing was stored: no half account appears.
            expect(listed, `${step} #${i}`).toBeUndefined();
          }
        }
        const files = await readAllFiles(home);
        expect(files).not.toMatch(/eyJ[A-Za-z0-9_-]{20,}\.[A-Za-z0-9_-]{20,}/);
      },
      300_000,
    );
  },
);
