/**
 * The shared store (PostgreSQL on loopback) against the local keychain, measured side by
 * side in the same run: a cached `tokentray token` and the cost a refresh adds on top of
 * the provider's round trip. Target: ≤ 1.3× the keychain's figures.
 */
import { spawnSync } from 'node:child_process';
import { request } from 'undici';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createHttpClient } from '../electron/core/http/client';
import { TokentrayCore } from '../electron/core/service';
import { SharedStore } from '../electron/core/store/shared-store';
import { useShared } from '../electron/core/store/store-commands';
import { loadOrCreateKeyFile } from '../electron/core/store/team-key';
import { KeytarSecretStore } from '../electron/core/vault/keytar-store';
import type { SecretStore } from '../electron/core/vault/secret-store';
import { seedScriptedAccount, type startScriptedTokenServer } from '../test/fakes/scripted-token-server';
import { postgresBinDir, startTestPostgres } from '../test/support/postgres';
import type { Figure } from './bench';
import { median, timeIt } from './stats';

const CLI = resolve('dist/cli/tokentray.cjs');
type Server = Awaited<ReturnType<typeof startScriptedTokenServer>>;

function core(home: string, store: SecretStore, shared: SharedStore | null): TokentrayCore {
  return new TokentrayCore({
    stateDir: home,
    providers: [],
    store,
    locks: shared ?? undefined,
    http: createHttpClient(),
    clock: { now: () => Date.now() },
    demoBaseUrl: async () => Promise.reject(new Error('no demo in this bench')),
  });
}

export async function benchSharedStore(server: Server, service: string): Promise<Figure[]> {
  if (postgresBinDir() === null) {
    return [
      {
        name: 'shared_store',
        value: 0,
        unit: '',
        target: '-',
        ok: null,
        detail: 'skipped: no PostgreSQL server under /usr/lib/postgresql/*/bin',
      },
    ];
  }
  const root = mkdtempSync(join(tmpdir(), 'tokentray-bench-store-'));
  const db = await startTestPostgres();
  const localHome = join(root, 'local');
  const sharedHome = join(root, 'shared');
  const localKeychain = new KeytarSecretStore(`${service}-local`);
  const sharedKeychain = new KeytarSecretStore(`${service}-shared`);
  try {
    const keyFile = join(root, 'team.key');
    await useShared({ stateDir: sharedHome, keychain: sharedKeychain }, db.url, keyFile);
    const shared = new SharedStore({
      url: db.url,
      key: (await loadOrCreateKeyFile(keyFile)).key,
      cache: sharedKeychain,
    });
    const local = core(localHome, localKeychain, null);
    const remote = core(sharedHome, shared, shared);
    const fresh = { refreshToken: 'rt-unused', expiresAt: Date.now() + 3_600_000, issuedAt: Date.now() };
    server.accept('rt-unused');
    const localId = await seedScriptedAccount(local, server.url, { accessToken: 'at-local', ...fresh });
    const sharedId = await seedScriptedAccount(remote, server.url, { accessToken: 'at-shared', ...fresh });

    // Cached `tokentray token`, alternating so both see the same machine load.
    const runs = 25;
    const cliLocal: number[] = [];
    const cliShared: number[] = [];
    const envFor = (home: string, svc: string) => ({
      ...process.env,
      TOKENTRAY_HOME: home,
      TOKENTRAY_KEYCHAIN_SERVICE: svc,
    });
    for (let i = 0; i < runs + 3; i += 1) {
      const a = performance.now();
      const rl = spawnSync(process.execPath, [CLI, 'token', localId], {
        env: envFor(localHome, `${service}-local`),
        encoding: 'utf8',
      });
      const b = performance.now();
      const rs = spawnSync(process.execPath, [CLI, 'token', sharedId], {
        env: envFor(sharedHome, `${service}-shared`),
        encoding: 'utf8',
      });
      const c = performance.now();
      if (rl.stdout.trim() !== 'at-local') throw new Error(`local tokentray token failed: ${rl.stderr}`);
      if (rs.stdout.trim() !== 'at-shared') throw new Error(`shared tokentray token failed: ${rs.stderr}`);
      if (i >= 3) {
        cliLocal.push(b - a);
        cliShared.push(c - b);
      }
    }
    const cliRatio = median(cliShared) / median(cliLocal);

    // A refresh of an expired token, in process: getAccessToken minus one raw token round trip
    // measured next to it, i.e. what the lock, the re-read and the writes cost on each side.
    const rawTrip = async (token: string): Promise<number> => {
      server.accept(token);
      return timeIt(async () => {
        const res = await request(`${server.url}/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({
            grant_type: 'refresh_token',
            refresh_token: token,
            client_id: 'client',
            client_secret: 'scripted-client-secret',
          }).toString(),
        });
        await res.body.json();
      });
    };
    const refreshLocal: number[] = [];
    const refreshShared: number[] = [];
    for (let i = 0; i < 30 + 5; i += 1) {
      const expired = { expiresAt: Date.now() - 1_000, issuedAt: Date.now() - 3_601_000 };
      server.accept(`rt-l-${i}`);
      await seedScriptedAccount(local, server.url, { accessToken: `at-l-${i}`, refreshToken: `rt-l-${i}`, ...expired });
      const rawL = await rawTrip(`rt-raw-l-${i}`);
      const l = await timeIt(() => local.getAccessToken(localId));
      server.accept(`rt-s-${i}`);
      await seedScriptedAccount(remote, server.url, {
        accessToken: `at-s-${i}`,
        refreshToken: `rt-s-${i}`,
        ...expired,
      });
      const rawS = await rawTrip(`rt-raw-s-${i}`);
      const s = await timeIt(() => remote.getAccessToken(sharedId));
      if (i >= 5) {
        refreshLocal.push(l - rawL);
        refreshShared.push(s - rawS);
      }
    }
    const refreshRatio = median(refreshShared) / median(refreshLocal);
    await local.close();
    await remote.close();
    await shared.close();
    return [
      {
        name: 'shared_cli_token_vs_local',
        value: cliRatio,
        unit: '×',
        target: '≤ 1.3×',
        ok: cliRatio <= 1.3,
        detail: `cached token: median ${median(cliShared).toFixed(1)} ms via PostgreSQL vs ${median(cliLocal).toFixed(1)} ms via the keychain, ${runs} runs each`,
      },
      {
        name: 'shared_refresh_overhead_vs_local',
        value: refreshRatio,
        unit: '×',
        target: '≤ 1.3×',
        ok: refreshRatio <= 1.3,
        detail: `refresh overhead (getAccessToken on an expired token minus a raw round trip): median ${median(refreshShared).toFixed(1)} ms via PostgreSQL vs ${median(refreshLocal).toFixed(1)} ms via the keychain`,
      },
    ];
  } finally {
    for (const store of [localKeychain, sharedKeychain])
      for (const k of await store.keys().catch(() => [])) await store.delete(k).catch(() => undefined);
    db.remove();
    rmSync(root, { recursive: true, force: true });
  }
}
