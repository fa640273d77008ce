import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Clock } from '../../electron/core/clock';
import { createHttpClient, type HttpClient } from '../../electron/core/http/client';
import type { ProviderDefinition } from '../../electron/core/providers/types';
import { TokentrayCore } from '../../electron/core/service';
import { KeytarSecretStore } from '../../electron/core/vault/keytar-store';
import type { SecretStore } from '../../electron/core/vault/secret-store';
import { MemorySecretStore } from '../fakes/memory-store';

export interface TestCore {
  core: TokentrayCore;
  home: string;
  store: SecretStore;
  service: string;
  cleanup(): Promise<void>;
}

let counter = 0;

/** A unique keychain service name per test, so tests never touch each other's (or the user's) items. */
export function uniqueKeychainService(): string {
  counter += 1;
  return `tokentray-test-${process.pid}-${Date.now().toString(36)}-${counter}`;
}

export function makeTestCore(
  options: {
    keychain?: boolean;
    service?: string;
    clock?: Clock;
    http?: HttpClient;
    home?: string;
    providers?: readonly ProviderDefinition[];
    demoBaseUrl?: () => Promise<string>;
    /** Share another test core's store: a second process on the same keychain. */
    store?: SecretStore;
  } = {},
): TestCore {
  const home = options.home ?? mkdtempSync(join(tmpdir(), 'tokentray-test-'));
  const service = options.service ?? uniqueKeychainService();
  const store: SecretStore =
    options.store ?? (options.keychain ? new KeytarSecretStore(service) : new MemorySecretStore());
  const clock = options.clock ?? { now: () => Date.now() };
  const core = new TokentrayCore({
    stateDir: home,
    providers: options.providers ?? [],
    store,
    http: options.http ?? createHttpClient({ clock, sleep: async () => undefined }),
    clock,
    sleep: async () => undefined,
    demoBaseUrl: options.demoBaseUrl ?? (async () => Promise.reject(new Error('demo server not started in this test'))),
  });
  return {
    core,
    home,
    store,
    service,
    cleanup: async () => {
      await core.close();
      for (const key of await store.keys().catch(() => [])) await store.delete(key).catch(() => undefined);
      if (!options.home) rmSync(home, { recursive: true, force: true });
    },
  };
}

/** Every file under a folder, as text, to search for planted secrets. */
export async function readAllFiles(dir: string): Promise<string> {
  const { readdir, readFile } = await import('node:fs/promises');
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const texts: string[] = [];
  for (const e of entries) {
    if (!e.isFile()) continue;
    const parent =
      (e as unknown as { parentPath?: string; path?: string }).parentPath ?? (e as unknown as { path: string }).path;
    texts.push(await readFile(join(parent, e.name), 'utf8'));
  }
  return texts.join('\n');
}
