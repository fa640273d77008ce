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
import { encodeKey, loadOrCreateKeyFile, resolveTeamKey, TEAM_KEY_ITEM, writeKeyFile } from './team-key';

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
      'This machine uses the local keychain; run `tokentray store use postgres://… --key-file PATH` first.',
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
    await writeStoreConfig(ctx.stateDir, { kind: 'postgres', url, keyFile: keyPath });
    const shared = entries.filter((e) => e.name.startsWith('account:')).length;
    const local = (await ctx.keychain.keys().catch(() => [])).filter((k) => k.startsWith('account:')).length;
    lines.push(
      `This machine now uses the shared store at ${redactUrl(url)} (${shared} account${shared === 1 ? '' : 's'} there).`,
    );
    if (!kept) lines.push('The keychain is not available here: the team key is read from the key file each time.');
    if (local > 0)
      lines.push(
        `This machine's keychain holds ${local} account${local === 1 ? '' : 's'}: run \`tokentray store push\` to move them there.`,
      );
    return lines;
  } finally {
    await store.close();
  }
}

export async function push(ctx: StoreCommandContext): Promise<string[]> {
  const { store } = await openConfigured(ctx);
  const metadata = new MetadataStore(ctx.stateDir);
  const lines: string[] = [];
  try {
    let moved = 0;
    for (const name of (await ctx.keychain.keys()).filter((k) => MOVABLE.test(k)).sort()) {
      const value = await ctx.keychain.get(name);
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
      await ctx.keychain.delete(name);
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
  kind: 'local' | 'postgres';
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
