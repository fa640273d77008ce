import type { Clock } from '../clock';
import { TokentrayError } from '../errors';
import type { Identity, StoredTokens } from '../providers/types';
import type { AccountMeta, MetadataStore } from '../vault/metadata';
import type { AccountSecret, Vault } from '../vault/vault';
import { fingerprintOf } from '../vault/vault';
import { fileAccountLocks, type AccountLocks } from '../refresh/account-locks';
import type { RefreshEvent } from '../../shared/models';
import type { EndpointPin } from './endpoint-pin';

const HISTORY_LIMIT = 20;

export interface LoadedAccount {
  meta: AccountMeta;
  secret: AccountSecret;
}

/**
 * Accounts as two halves: the keychain item (tokens, the source of truth) and
 * the metadata file (everything shown offline). Loading reconciles them, so a
 * crash between the two writes, or a damaged metadata file, costs nothing.
 */
export class AccountRepository {
  /**
   * Rotated tokens the keychain refused (refresher.ts keeps them here until it can store
   * them). Every reader in this process (tasks, inspect, copy token) is served these, never
   * the keychain's older item whose refresh token the provider has already spent.
   */
  readonly unsaved = new Map<string, LoadedAccount>();

  constructor(
    private readonly metadata: MetadataStore,
    private readonly vault: Vault,
    private readonly clock: Clock,
    /** Where the per-account locks live; metadata is repaired only while holding one. */
    locksDir: string = metadata.locksDir,
    /** The account lock itself; lock files under `locksDir` unless a shared store brings its own. */
    private readonly locks: AccountLocks = fileAccountLocks(locksDir),
  ) {}

  /** Metadata of every account, offline (no keychain access); damaged files are rebuilt on demand by `load`. */
  async listMeta(): Promise<Array<AccountMeta | { id: string; corrupt: true }>> {
    const out: Array<AccountMeta | { id: string; corrupt: true }> = [];
    for (const id of await this.metadata.listAccountIds()) {
      const meta = await this.metadata.readAccount(id).catch(() => 'corrupt' as const);
      if (meta === null) continue;
      out.push(meta === 'corrupt' ? { id, corrupt: true } : meta);
    }
    return out;
  }

  /** Resolves an account given by id or by a label that names exactly one account. */
  async resolveId(ref: string): Promise<string> {
    const trimmed = ref.trim();
    const looksLikeId = /^[a-z0-9][a-z0-9._-]{0,127}$/.test(trimmed);
    // An id is one file to look at; only labels need every account's metadata.
    if (looksLikeId && (await this.metadata.readAccount(trimmed).catch(() => 'corrupt' as const)) !== null)
      return trimmed;
    const all = await this.listMeta();
    const byLabel = all.filter((m): m is AccountMeta => !('corrupt' in m) && m.label === trimmed);
    if (byLabel.length === 1) return byLabel[0]!.id;
    if (byLabel.length > 1) {
      throw new TokentrayError(
        'AMBIGUOUS_ACCOUNT',
        `Several accounts are labelled "${trimmed.slice(0, 60)}"; use the account id instead (${byLabel.map((m) => m.id).join(', ')}).`,
      );
    }
    if (looksLikeId && (await this.vault.readAccount(trimmed)) !== null) return trimmed;
    throw new TokentrayError(
      'NOT_FOUND',
      `No account is called "${trimmed.slice(0, 60)}"; run \`tokentray accounts\` to see ids and labels.`,
    );
  }

  /**
   * The keychain item and its metadata. When they disagree (a crash between the two writes,
   * a lost or damaged file), the metadata is repaired, but only under the account lock and
   * after reading both again: a reader that raced a refresh in another process would
   * otherwise write the older half back over the newer.
   */
  async load(id: string): Promise<LoadedAccount> {
    const held = this.unsaved.get(id);
    if (held) return held;
    const first = await this.read(id);
    const { stored, secret } = first;
    if (stored !== null && stored !== 'corrupt' && stored.fingerprint === fingerprintOf(secret.tokens.accessToken))
      return { meta: stored, secret };
    // The two halves disagree: maybe a crash, maybe a refresh that landed between our two reads.
    return this.locks.withLock(id, () => this.loadLocked(id));
  }

  /** `load` for a caller that already holds the account lock (the refresher). */
  async loadLocked(id: string): Promise<LoadedAccount> {
    const held = this.unsaved.get(id);
    if (held) return held;
    const now = await this.read(id);
    const repaired = this.repaired(id, now);
    if (repaired === null) return { meta: now.stored as AccountMeta, secret: now.secret };
    await this.metadata.writeAccount(repaired);
    return { meta: repaired, secret: now.secret };
  }

  private async read(id: string): Promise<{ secret: AccountSecret; stored: AccountMeta | null | 'corrupt' }> {
    // Independent reads (keychain over D-Bus, metadata from disk): side by side.
    const [secret, stored] = await Promise.all([
      this.vault.readAccount(id),
      this.metadata.readAccount(id).catch(() => 'corrupt' as const),
    ]);
    if (secret === null) {
      if (stored === null)
        throw new TokentrayError(
          'NOT_FOUND',
          `No account is called "${id}"; run \`tokentray accounts\` to see ids and labels.`,
        );
      throw new TokentrayError(
        'KEYCHAIN_ITEM_MISSING',
        `The keychain no longer holds the tokens of account "${id}" (deleted outside Tokentray?); reconnect the account.`,
      );
    }
    return { secret, stored };
  }

  /** The metadata to write so it matches the keychain item, or null when it already does. */
  private repaired(
    id: string,
    { secret, stored }: { secret: AccountSecret; stored: AccountMeta | null | 'corrupt' },
  ): AccountMeta | null {
    if (stored === null || stored === 'corrupt') return this.rebuild(id, secret);
    if (stored.fingerprint === fingerprintOf(secret.tokens.accessToken)) return null;
    // A process that could not store its rotated tokens said so in the metadata: the keychain's
    // older item is expected, and "repairing" would erase the warning other processes rely on.
    if (stored.unsavedRotation) return null;
    // Never downgrade: metadata describing tokens newer than the keychain's is left alone.
    if (stored.issuedAt !== null && secret.tokens.issuedAt < stored.issuedAt) return null;
    // The keychain got newer tokens than the metadata file (a crash between the two writes):
    // whatever failure the file recorded was about the older tokens.
    return {
      ...stored,
      ...this.tokenFacts(secret.tokens),
      lastRefreshAt: secret.tokens.issuedAt,
      state: 'ok',
      stateDetail: null,
      lastErrorCode: null,
    };
  }

  private rebuild(id: string, secret: AccountSecret): AccountMeta {
    return {
      version: 1,
      id,
      provider: secret.provider,
      subject: secret.subject,
      label: id,
      workspaces: [],
      extra: {},
      scopes: [],
      connectedAt: secret.tokens.issuedAt,
      lastRefreshAt: null,
      state: 'ok',
      stateDetail: null,
      lastErrorCode: null,
      refreshHistory: [],
      ...this.tokenFacts(secret.tokens),
    };
  }

  tokenFacts(
    tokens: StoredTokens,
  ): Pick<AccountMeta, 'issuedAt' | 'expiresAt' | 'fingerprint' | 'hasRefreshToken' | 'personal' | 'host'> {
    return {
      issuedAt: tokens.issuedAt,
      expiresAt: tokens.expiresAt,
      fingerprint: fingerprintOf(tokens.accessToken),
      hasRefreshToken: tokens.refreshToken !== null,
      personal: tokens.personal,
      host: tokens.host,
    };
  }

  /** Keychain first, metadata second: the metadata never points at tokens that were not stored. */
  async saveTokens(meta: AccountMeta, secret: AccountSecret): Promise<AccountMeta> {
    await this.vault.writeAccount(meta.id, secret);
    const next = { ...meta, ...this.tokenFacts(secret.tokens) };
    await this.metadata.writeAccount(next);
    return next;
  }

  /** The metadata file alone (null when missing or damaged). */
  async readMeta(id: string): Promise<AccountMeta | null> {
    const stored = await this.metadata.readAccount(id).catch(() => null);
    return stored === 'corrupt' ? null : stored;
  }

  async saveMeta(meta: AccountMeta): Promise<void> {
    await this.metadata.writeAccount(meta);
  }

  withHistory(meta: AccountMeta, event: Omit<RefreshEvent, 'at'>): AccountMeta {
    const entry: RefreshEvent = { at: new Date(this.clock.now()).toISOString(), ...event };
    return { ...meta, refreshHistory: [entry, ...meta.refreshHistory].slice(0, HISTORY_LIMIT) };
  }

  /** A new or re-connected login; connecting the same login again updates it instead of duplicating it. */
  async upsertFromIdentity(input: {
    provider: string;
    identity: Identity;
    tokens: StoredTokens;
    scopes: string[];
    label: string | null;
    /** Where these tokens may go from now on: the endpoints they were just issued and checked with. */
    pin: EndpointPin | null;
  }): Promise<AccountMeta> {
    const id = accountIdFor(input.provider, input.identity.subject);
    const existing = await this.metadata.readAccount(id).catch(() => null);
    const previous = existing && existing !== 'corrupt' ? existing : null;
    const now = this.clock.now();
    const meta: AccountMeta = {
      version: 1,
      id,
      provider: input.provider,
      subject: input.identity.subject,
      label: input.label ?? previous?.label ?? input.identity.label,
      workspaces: input.identity.workspaces,
      extra: input.identity.extra,
      scopes: input.scopes,
      connectedAt: previous?.connectedAt ?? now,
      lastRefreshAt: previous?.lastRefreshAt ?? null,
      state: 'ok',
      stateDetail: null,
      lastErrorCode: null,
      refreshHistory: previous?.refreshHistory ?? [],
      pin: input.pin,
      ...this.tokenFacts(input.tokens),
    };
    if (previous === null) await this.metadata.markConnecting(id);
    const saved = await this.saveTokens(meta, {
      v: 1,
      provider: input.provider,
      subject: input.identity.subject,
      tokens: input.tokens,
    });
    if (previous === null) await this.metadata.clearConnecting(id);
    return saved;
  }

  async remove(id: string): Promise<void> {
    await this.vault.deleteAccount(id);
    await this.metadata.deleteAccount(id);
    await this.metadata.clearConnecting(id);
  }
}

/** `provider-subject`, made safe as a file name; a hash keeps ids distinct when characters had to be replaced. */
export function accountIdFor(provider: string, subject: string): string {
  const slug = subject
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 48);
  const exact = slug === subject;
  const suffix = exact ? '' : `-${fingerprintOf(subject).slice(0, 6)}`;
  return `${provider}-${slug || 'account'}${suffix}`;
}
