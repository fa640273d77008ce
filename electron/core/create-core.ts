import { join } from 'node:path';
import { systemClock, type Clock } from './clock';
import { createHttpClient, type HttpClient } from './http/client';
import { BUILTIN_PROVIDERS } from './providers/builtin';
import { keychainServiceName, resolveStateDir } from './paths';
import { readStoreConfig } from './store/store-config';
import { TokentrayCore } from './service';
import type { TokentrayService } from './service-api';
import { ChunkedSecretStore, WINDOWS_SECRET_LIMIT_BYTES } from './vault/chunked-store';
import { KeytarSecretStore } from './vault/keytar-store';
import type { SecretStore } from './vault/secret-store';

export interface CreateCoreOptions {
  home?: string;
  keychainService?: string;
  clock?: Clock;
  http?: HttpClient;
}

/** The keychain as the product uses it: Windows needs its 2,560-byte items split. */
export function productSecretStore(service: string): SecretStore {
  const keychain = new KeytarSecretStore(service);
  return process.platform === 'win32' ? new ChunkedSecretStore(keychain, WINDOWS_SECRET_LIMIT_BYTES) : keychain;
}

/**
 * The shared store when `tokentray store use postgres://…` chose it (store.json); null for the
 * keychain. Loaded lazily so the local path never loads the PostgreSQL driver.
 */
async function openConfiguredStore(
  stateDir: string,
  keychain: SecretStore,
): Promise<{ store: import('./store/shared-store').SharedStore } | null> {
  const config = readStoreConfig(stateDir);
  if (config.kind !== 'postgres') return null;
  const [{ SharedStore }, { resolveTeamKey }] = await Promise.all([
    import('./store/shared-store'),
    import('./store/team-key'),
  ]);
  return {
    store: await SharedStore.opening({
      url: config.url,
      key: resolveTeamKey(config.keyFile, keychain),
      cache: keychain,
    }),
  };
}

/**
 * The file store when `tokentray store use file` chose it. The key is read on first use, so a
 * command that needs no secret (and `tokentray doctor`) still runs without it.
 */
export async function openFileStore(
  stateDir: string,
  keyFile: string | null,
): Promise<import('./store/file-store').FileSecretStore> {
  const [{ FileSecretStore }, { fileStoreKeySource, resolveFileStoreKey }] = await Promise.all([
    import('./store/file-store'),
    import('./store/file-store-key'),
  ]);
  return new FileSecretStore(
    stateDir,
    resolveFileStoreKey(keyFile).then((r) => r.key),
    () => fileStoreKeySource(keyFile)?.path ?? 'no key file',
  );
}

/**
 * Builds the core for a front door. The secret store is the OS keychain, or the
 * shared or file store the user chose with `tokentray store use`: there is deliberately
 * no option to pass another one here.
 */
export async function createTokentrayCore(options: CreateCoreOptions = {}): Promise<TokentrayCore & TokentrayService> {
  const clock = options.clock ?? systemClock;
  const stateDir = options.home ?? resolveStateDir();
  // Request pacing is shared by every process using this state directory (see SharedRateLimiter).
  const http = options.http ?? createHttpClient({ clock, rateDir: join(stateDir, 'rate') });
  let demo: { url: string; close(): Promise<void> } | null = null;
  const keychain = productSecretStore(options.keychainService ?? keychainServiceName());
  const config = readStoreConfig(stateDir);
  const shared = await openConfiguredStore(stateDir, keychain);
  // The file store takes the keychain's place, lock files and single-flight refresh included.
  const file = config.kind === 'file' ? await openFileStore(stateDir, config.keyFile) : null;
  return new TokentrayCore({
    stateDir,
    providers: BUILTIN_PROVIDERS,
    store: shared?.store ?? file ?? keychain,
    locks: shared?.store,
    sharedFeed: shared?.store,
    closeStore: shared ? () => shared.store.close() : undefined,
    http,
    clock,
    demoBaseUrl: async () => {
      if (!demo) {
        const { ensureDemoServer } = await import('./demo/demo-server');
        demo = await ensureDemoServer();
      }
      return demo.url;
    },
    closeDemo: async () => {
      if (demo) {
        const { closeDemoServer } = await import('./demo/demo-server');
        await closeDemoServer();
        demo = null;
      }
    },
  });
}
