import { resolve } from 'node:path';
import { TokentrayError } from '../errors';
import { AccountRepository } from '../accounts/account-repository';
import { systemClock } from '../clock';
import { accountMetaSchema, MetadataStore, providerConfigSchema } from '../vault/metadata';
import { Vault } from '../vault/vault';
import type { SecretStore } from '../vault/secret-store';
import { randomBytes } from 'node:crypto';
import { checkTeamKey, resealKeyCheck } from './key-check';
import { TEAM_KEY_BYTES } from './envelope';
import { migrate, schemaVersion } from './migrations';
import { databaseError, isUnreachable, SharedStore, unreachableError } from './shared-store';
import { readStoreConfig, redactUrl, writeStoreConfig } from './store-config';
import { encodeKey, loadOrCreateKeyFile, readKeyFile, resolveTeamKey, TEAM_KEY_ITEM, writeKeyFile } from './team-key';
import { fileStoreDir, FileSecretStore } from './file-store';
import { fileStoreKeySource, noKeyError, resolveFileStoreKey } from './file-store-key';

/** `tokentray store …`: choosing the backend and moving accounts between the keychain and the shared store. */
export interface StoreCommandContext {
  stateDir: string;
  /** This machine's OS keychain, whichever store is in use. */
  keychain: SecretStore;
}

/** What the store moves: accounts and client secrets; pending sign-ins stay on the machine that started them. */
const MOVABLE = /^(account|client-secret):/;

function checkUrl(url: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new TokentrayError(
      'USAGE',
      'Give a PostgreSQL connection string such as postgres://user@host/db?sslmode=verify-full, or `local`.',
    );
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw new TokentrayError(
      'USAGE',
      `"${parsed.protocol}" is not a PostgreSQL connection string; it starts with postgres://.`,
    );
  }
}

async function connected<T>(store: SharedStore, work: (client: import('pg').PoolClient) => Promise<T>): Promise<T> {
  let client;
  try {
    client = await store.pool.connect();
  } catch (error) {
    throw isUnreachable(error) ? unreachableError(error) : error;
  }
  try {
    return await work(client);
  } catch (error) {
    throw isUnreachable(error) ? unreachableError(error) : databaseError(error);
  } finally {
    client.release();
  }
}

async function openConfigured(ctx: StoreCommandContext): Promise<{ store: SharedStore; url: string }> {
  const config = readStoreConfig(ctx.stateDir);
  if (config.kind !== 'postgres') {
    throw new TokentrayError(
      'USAGE',
      `This machine uses ${config.kind === 'file' ? 'the file store' : 'the local keychain'}, not a shared store; run \`tokentray store use postgres://… --key-file PATH\` first.`,
    );
  }
  const key = await resolveTeamKey(config.keyFile, ctx.keychain);
  return { store: new SharedStore({ url: config.url, key, cache: ctx.keychain }), url: config.url };
}

/**
 * Provider settings this machine lacks come from the store. Accounts in the shared store
 * that this machine has no metadata for yet get it: the copy
 * `store push` shared (labels, workspaces), else one rebuilt from the account itself (an
 * account connected on a machine already using the store), through the repository's own
 * repair, under the account lock.
 */
async function adoptSharedAccounts(
  ctx: StoreCommandContext,
  store: SharedStore,
  entries: Array<{ name: string; value: string }>,
): Promise<void> {
  const metadata = new MetadataStore(ctx.stateDir);
  const known = async (id: string): Promise<boolean> => {
    const local = await metadata.readAccount(id).catch(() => 'corrupt' as const);
    return local !== null && local !== 'corrupt';
  };
  for (const e of entries) {
    if (!e.name.startsWith('provider:')) continue;
    const parsed = providerConfigSchema.safeParse(JSON.parse(e.value));
    if (parsed.success && (await metadata.readProvider(parsed.data.provider)) === null)
      await metadata.writeProvider(parsed.data);
  }
  const adopted: string[] = [];
  for (const e of entries) {
    if (!e.name.startsWith('account:')) continue;
    const id = e.name.slice('account:'.length);
    if (!(await known(id))) adopted.push(id);
  }
  for (const e of entries) {
    if (!e.name.startsWith('meta:')) continue;
    const parsed = accountMetaSchema.safeParse(JSON.parse(e.value));
    if (parsed.success && adopted.includes(parsed.data.id)) await metadata.writeAccount(parsed.data);
  }
  // Loading reconciles each with the account as it is now (the shared copy may be older).
  const repo = new AccountRepository(metadata, new Vault(store), systemClock, metadata.locksDir, store);
  // One damaged account must not stop the others; `tokentray token` on it says what is wrong.
  for (const id of adopted) await repo.load(id).catch(() => undefined);
}

export async function useShared(ctx: StoreCommandContext, url: string, keyFile: string | null): Promise<string[]> {
  checkUrl(url);
  const lines: string[] = [];
  let key: Buffer;
  let keyPath: string | null = null;
  if (keyFile !== null) {
    keyPath = resolve(keyFile);
    const loaded = await loadOrCreateKeyFile(keyPath);
    key = loaded.key;
    if (loaded.created) {
      lines.push(
        `Created a new team key in ${keyPath} (mode 0600). Give it to every machine that shares this store, over a safe channel.`,
      );
    }
  } else {
    key = await resolveTeamKey(null, ctx.keychain);
  }
  const store = new SharedStore({ url, key, cache: ctx.keychain });
  try {
    const { from, to } = await connected(store, async (client) => {
      const versions = await migrate(client);
      // Before anything is written: a wrong key stops here.
      const check = await checkTeamKey(client, key);
      if (check === 'initialized') lines.push('Set up a new shared store.');
      return versions;
    });
    if (to > from) lines.push(`Schema migrated from version ${from} to ${to}.`);
    const kept = await ctx.keychain.set(TEAM_KEY_ITEM, encodeKey(key).trim()).then(
      () => true,
      () => false,
    );
    if (!kept && keyPath === null && !process.env['TOKENTRAY_STORE_KEY_FILE']) {
      throw new TokentrayError(
        'KEYCHAIN_UNAVAILABLE',
        'The keychain would not keep the team key; give it with --key-file PATH.',
      );
    }
    const entries = await store.entries();
    await adoptSharedAccounts(ctx, store, entries);
    const previous = readStoreConfig(ctx.stateDir);
    const fileKeyFile =
      previous.kind === 'file' ? previous.keyFile : previous.kind === 'postgres' ? previous.fileKeyFile : undefined;
    await writeStoreConfig(ctx.stateDir, {
      kind: 'postgres',
      url,
      keyFile: keyPath,
      ...(fileKeyFile !== undefined ? { fileKeyFile } : {}),
    });
    const shared = entries.filter((e) => e.name.startsWith('account:')).length;
    const fileStore = await previousFileStore(ctx);
    const local =
      (await ctx.keychain.keys().catch(() => [])).filter((k) => k.startsWith('account:')).length +
      (fileStore ? (await fileStore.keys().catch(() => [])).filter((k) => k.startsWith('account:')).length : 0);
    lines.push(
      `This machine now uses the shared store at ${redactUrl(url)} (${shared} account${shared === 1 ? '' : 's'} there).`,
    );
    if (!kept) lines.push('The keychain is not available here: the team key is read from the key file each time.');
    if (local > 0)
      lines.push(
        `This machine's keychain or file store holds ${local} account${local === 1 ? '' : 's'}: run \`tokentray store push\` to move them there.`,
      );
    return lines;
  } finally {
    await store.close();
  }
}

/** The file store this machine used before `store use postgres://…`, when its folder is still there. */
async function previousFileStore(ctx: StoreCommandContext): Promise<FileSecretStore | null> {
  const config = readStoreConfig(ctx.stateDir);
  const keyFile = config.kind === 'postgres' ? (config.fileKeyFile ?? null) : null;
  const probe = new FileSecretStore(ctx.stateDir, Promise.resolve(Buffer.alloc(0)), () => '');
  if (!(await probe.exists())) return null;
  return openFileStoreAt(ctx.stateDir, keyFile);
}

function openFileStoreAt(stateDir: string, keyFile: string | null): FileSecretStore {
  return new FileSecretStore(
    stateDir,
    resolveFileStoreKey(keyFile).then((r) => r.key),
    () => fileStoreKeySource(keyFile)?.path ?? 'no key file',
  );
}

/** Item names to move from a local store; a keychain that is not there (a headless server) holds none. */
async function movableNames(source: SecretStore, isKeychain: boolean): Promise<string[]> {
  try {
    return (await source.keys()).filter((k) => MOVABLE.test(k)).sort();
  } catch (error) {
    if (isKeychain && error instanceof TokentrayError && error.code === 'KEYCHAIN_UNAVAILABLE') return [];
    throw error;
  }
}

export async function push(ctx: StoreCommandContext): Promise<string[]> {
  const { store } = await openConfigured(ctx);
  const metadata = new MetadataStore(ctx.stateDir);
  const lines: string[] = [];
  try {
    let moved = 0;
    const fileStore = await previousFileStore(ctx);
    const sources: Array<{ source: SecretStore; names: string[] }> = [
      { source: ctx.keychain, names: await movableNames(ctx.keychain, true) },
    ];
    if (fileStore) sources.push({ source: fileStore, names: await movableNames(fileStore, false) });
    for (const { source, names } of sources)
      for (const name of names) {
        const value = await source.get(name);
        if (value === null) continue;
        if ((await store.get(name)) !== null) {
          lines.push(
            `${name.replace(':', ' ')} is already in the shared store; the shared copy was kept and this machine's copy left alone.`,
          );
          continue;
        }
        await store.set(name, value);
        if (name.startsWith('account:')) {
          const id = name.slice('account:'.length);
          const meta = await metadata.readAccount(id).catch(() => null);
          if (meta !== null && meta !== 'corrupt') await store.set(`meta:${id}`, JSON.stringify(meta));
          moved += 1;
        }
        // One grant, one place: the shared copy is now the only one any machine refreshes.
        await source.delete(name);
      }
    // Provider settings (client id, endpoints) travel too, so another machine needs only `store use`.
    for (const config of await metadata.listProviderConfigs()) {
      const name = `provider:${config.provider}`;
      if ((await store.get(name)) === null) await store.set(name, JSON.stringify(config));
    }
    lines.unshift(`Moved ${moved} account${moved === 1 ? '' : 's'} into the shared store.`);
    return lines;
  } finally {
    await store.close();
  }
}

export async function useLocal(ctx: StoreCommandContext): Promise<string[]> {
  const config = readStoreConfig(ctx.stateDir);
  if (config.kind === 'file') return fileToKeychain(ctx, config.keyFile);
  if (config.kind !== 'postgres') return ['This machine already keeps its tokens in the local keychain.'];
  const { store } = await openConfigured(ctx);
  try {
    const entries = await store.entries();
    let pulled = 0;
    for (const e of entries) {
      if (!MOVABLE.test(e.name)) continue;
      await ctx.keychain.set(e.name, e.value);
      if (e.name.startsWith('account:')) {
        pulled += 1;
        await ctx.keychain.delete(`shared-cache:${e.name}`).catch(() => false);
      }
    }
    await adoptSharedAccounts(ctx, store, entries);
    await writeStoreConfig(ctx.stateDir, { kind: 'local' });
    return [
      `Copied ${pulled} account${pulled === 1 ? '' : 's'} into this machine's keychain; it no longer uses the shared store.`,
      'Machines still on the shared store keep refreshing these accounts: where a provider rotates refresh tokens (amoCRM), keep each account on one side only (`tokentray disconnect` it on the other).',
    ];
  } finally {
    await store.close();
  }
}

export interface StoreStatus {
  kind: 'local' | 'postgres' | 'file';
  url: string | null;
  reachable: boolean | null;
  schemaVersion: number | null;
  accounts: number | null;
  detail: string | null;
}

export async function status(ctx: StoreCommandContext): Promise<StoreStatus> {
  const config = readStoreConfig(ctx.stateDir);
  if (config.kind === 'local')
    return { kind: 'local', url: null, reachable: null, schemaVersion: null, accounts: null, detail: null };
  if (config.kind === 'file') {
    const base = { kind: 'file' as const, url: fileStoreDir(ctx.stateDir), schemaVersion: null };
    try {
      const keys = await openFileStoreAt(ctx.stateDir, config.keyFile).keys();
      return { ...base, reachable: true, accounts: keys.filter((k) => k.startsWith('account:')).length, detail: null };
    } catch (error) {
      if (!(error instanceof TokentrayError)) throw error;
      return { ...base, reachable: false, accounts: null, detail: error.message };
    }
  }
  const { store } = await openConfigured(ctx);
  try {
    const version = await connected(store, (client) => schemaVersion(client));
    const entries = await store.entries();
    // Accounts other machines connected since show up in `tokentray accounts` from here on.
    await adoptSharedAccounts(ctx, store, entries);
    return {
      kind: 'postgres',
      url: redactUrl(config.url),
      reachable: true,
      schemaVersion: version,
      accounts: entries.filter((e) => e.name.startsWith('account:')).length,
      detail: null,
    };
  } catch (error) {
    if (!(error instanceof TokentrayError) || error.code !== 'PROVIDER_UNAVAILABLE') throw error;
    return {
      kind: 'postgres',
      url: redactUrl(config.url),
      reachable: false,
      schemaVersion: null,
      accounts: null,
      detail: error.message,
    };
  } finally {
    await store.close();
  }
}

export async function rotateKey(ctx: StoreCommandContext, newKeyFile: string): Promise<string[]> {
  const config = readStoreConfig(ctx.stateDir);
  const { store } = await openConfigured(ctx);
  const path = resolve(newKeyFile);
  const newKey = randomBytes(TEAM_KEY_BYTES);
  try {
    // The new key is on disk before any row depends on it.
    await writeKeyFile(path, newKey);
  } catch (error) {
    await store.close();
    if ((error as NodeJS.ErrnoException).code === 'EEXIST')
      throw new TokentrayError('USAGE', `${path} already exists; name a new file for the new team key.`);
    throw error;
  }
  try {
    const count = await store.rotateTo(newKey, (client) => resealKeyCheck(client, newKey));
    await ctx.keychain.set(TEAM_KEY_ITEM, encodeKey(newKey).trim()).catch(() => undefined);
    if (config.kind === 'postgres') await writeStoreConfig(ctx.stateDir, { ...config, keyFile: path });
    return [
      `Re-encrypted ${count} item${count === 1 ? '' : 's'} under the new team key in ${path} (mode 0600).`,
      `Every other machine needs it: copy the file over a safe channel and run \`tokentray store use ${redactUrl(config.kind === 'postgres' ? config.url : '')} --key-file PATH\` there. Until then they report that the team key does not open the store.`,
    ];
  } finally {
    await store.close();
  }
}

/** `store use local` from the file store: every item into the keychain, then out of the files. */
async function fileToKeychain(ctx: StoreCommandContext, keyFile: string | null): Promise<string[]> {
  const files = openFileStoreAt(ctx.stateDir, keyFile);
  const entries = (await files.entries()).filter((e) => MOVABLE.test(e.name));
  // A keychain that refuses stops here, before the configuration changes: the files still hold everything.
  for (const e of entries) await ctx.keychain.set(e.name, e.value);
  await writeStoreConfig(ctx.stateDir, { kind: 'local' });
  for (const e of entries) await files.delete(e.name);
  const n = entries.filter((e) => e.name.startsWith('account:')).length;
  return [
    `Moved ${n} account${n === 1 ? '' : 's'} from the file store into this machine's keychain; it no longer uses the file store.`,
  ];
}

/**
 * `tokentray store use file [--key-file PATH]`: an encrypted file store in the state directory,
 * for a server, container or CI runner without a keychain. The key comes from --key-file (created
 * 0600 when missing), else TOKENTRAY_STORE_KEY_FILE or systemd's credential. The keychain's
 * accounts (or a shared store's) move in; a key that does not open an existing store changes nothing.
 */
export async function useFile(ctx: StoreCommandContext, keyFile: string | null): Promise<string[]> {
  const config = readStoreConfig(ctx.stateDir);
  const lines: string[] = [];
  let keyPath: string | null = null;
  let key: Buffer;
  if (keyFile !== null) {
    keyPath = resolve(keyFile);
    const loaded = await loadOrCreateKeyFile(keyPath);
    key = loaded.key;
    if (loaded.created)
      lines.push(
        `Created a new store key in ${keyPath} (mode 0600). Back it up: without it the stored tokens are lost.`,
      );
  } else {
    const source = fileStoreKeySource(null);
    if (source === null) throw noKeyError();
    key = await readKeyFile(source.path);
  }
  const where = keyPath ?? fileStoreKeySource(null)?.path ?? '';
  const files = new FileSecretStore(ctx.stateDir, Promise.resolve(key), () => where);
  // Before anything moves: a key that is not this store's stops here.
  await files.verify();
  const has = new Set(await files.keys());
  let moved = 0;
  const take = async (name: string, value: string): Promise<boolean> => {
    if (has.has(name)) {
      lines.push(`${name.replace(':', ' ')} is already in the file store; that copy was kept.`);
      return false;
    }
    await files.set(name, value);
    if (name.startsWith('account:')) moved += 1;
    return true;
  };
  const fromKeychain: string[] = [];
  if (config.kind === 'postgres') {
    const { store } = await openConfigured(ctx);
    try {
      const entries = await store.entries();
      for (const e of entries) if (MOVABLE.test(e.name)) await take(e.name, e.value);
      await adoptSharedAccounts(ctx, store, entries);
    } finally {
      await store.close();
    }
    lines.push(
      'Machines still on the shared store keep refreshing these accounts: where a provider rotates refresh tokens (amoCRM), keep each account on one side only.',
    );
  } else if (config.kind === 'local') {
    for (const name of await movableNames(ctx.keychain, true)) {
      const value = await ctx.keychain.get(name);
      if (value !== null && (await take(name, value))) fromKeychain.push(name);
    }
  }
  await writeStoreConfig(ctx.stateDir, { kind: 'file', keyFile: keyPath });
  // One grant, one place: the keychain's copies go once the file store holds them.
  for (const name of fromKeychain) await ctx.keychain.delete(name);
  const total = [...(await files.keys())].filter((k) => k.startsWith('account:')).length;
  lines.unshift(
    `This machine now keeps its tokens in the encrypted file store in ${fileStoreDir(ctx.stateDir)} (${total} account${total === 1 ? '' : 's'}${moved > 0 ? `, ${moved} moved in` : ''}).`,
  );
  if (keyPath === null)
    lines.push('The key is read from TOKENTRAY_STORE_KEY_FILE or $CREDENTIALS_DIRECTORY/tokentray.key each time.');
  return lines;
}
