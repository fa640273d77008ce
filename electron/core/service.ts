import { EventEmitter } from 'node:events';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { endpointUrlProblem } from '../shared/endpoint-url';
import type { AccountSummary, ProviderSummary, StorageStatus, TaskList, TokenInspection } from '../shared/models';
import type { Clock } from './clock';
import { TokentrayError } from './errors';
import type { HttpClient } from './http/client';
import { AccountRepository } from './accounts/account-repository';
import { canRefresh, refreshDueAt, toSummary } from './accounts/account-status';
import { pinnedAccountContext } from './accounts/pinned-context';
import { ConnectService } from './connect/connect-service';
import type { TokenFile } from './connect/token-file';
import { IdTokenVerifier } from './oauth/id-token-signature';
import { FileJwksStore } from './oauth/jwks-cache';
import { decodeJwt } from './oauth/jwt';
import { discoverProvider } from './providers/discovery';
import { summarizeProvider } from './providers/provider-summary';
import { ProviderRegistry, safeProviderId } from './providers/registry';
import type { ProviderConfig, ProviderDefinition } from './providers/types';
import { fileAccountLocks, scopedAccountLocks, type AccountLocks } from './refresh/account-locks';
import { Refresher } from './refresh/refresher';
import type {
  AccountsListener,
  ConnectAttempt,
  GenericProviderInput,
  ProgressListener,
  ProviderSetInput,
  StartConnectOptions,
  SyncSummary,
  TaskFetchOptions,
  TokentrayService,
} from './service-api';
import { TaskCache } from './tasks/task-cache';
import { TaskService } from './tasks/task-service';
import { MetadataStore } from './vault/metadata';
import type { SecretStore } from './vault/secret-store';
import { Vault, installationId } from './vault/vault';

export interface CoreOptions {
  stateDir: string;
  providers: readonly ProviderDefinition[];
  store: SecretStore;
  http: HttpClient;
  clock: Clock;
  demoBaseUrl: () => Promise<string>;
  closeDemo?: () => Promise<void>;
  sleep?: (ms: number) => Promise<void>;
  /**
   * The account lock that goes with `store`: a shared store brings its own; otherwise lock files,
   * keyed on `store.lockScope` when it has one (the keychain), else under the state directory.
   */
  locks?: AccountLocks;
  /** A shared store's change feed (PostgreSQL LISTEN): which account another machine changed, and whether the store answers. */
  sharedFeed?: SharedFeed;
  closeStore?: () => Promise<void>;
}

export interface SharedFeed {
  watch(handlers: { onAccount(accountId: string): void; onReachable(reachable: boolean): void }): () => void;
}

/** An endpoint URL the user typed, checked; null when none was given. */
function validUrl(value: string | null | undefined, what: string): string | null {
  return checkedUrl(value, what, false);
}

/** A redirect URI may be the app's own scheme, and is kept exactly as registered (no trailing-slash trim). */
function validRedirectUri(value: string | null | undefined): string | null {
  return checkedUrl(value, 'The redirect URI', true);
}

function checkedUrl(value: string | null | undefined, what: string, redirect: boolean): string | null {
  if (value === undefined || value === null || value === '') return null;
  // Tokens, refresh tokens and the client secret travel to these: https, or plain http on this machine only.
  const problem = endpointUrlProblem(value, `${what} "${value.slice(0, 80)}"`, { appScheme: redirect });
  if (problem !== null) throw new TokentrayError('USAGE', problem);
  return redirect ? value : value.replace(/\/+$/, '');
}

/** The core behind every front door: CLI, Electron main and the development bridge. */
export class TokentrayCore implements TokentrayService {
  readonly metadata: MetadataStore;
  readonly vault: Vault;
  readonly registry: ProviderRegistry;
  readonly repo: AccountRepository;
  readonly refresher: Refresher;
  private readonly connect: ConnectService;
  private readonly taskService: TaskService;
  private readonly events = new EventEmitter();
  /** Reachable until the change feed says otherwise: the window shows no alarm before anything is known. */
  private storeReachable = true;
  private readonly tokenCalls = new Map<string, Promise<string>>();

  constructor(private readonly o: CoreOptions) {
    this.metadata = new MetadataStore(o.stateDir);
    this.vault = new Vault(o.store, installationId(o.stateDir));
    this.registry = new ProviderRegistry({
      builtins: o.providers,
      metadata: this.metadata,
      vault: this.vault,
      demoBaseUrl: o.demoBaseUrl,
      demoEnabled: () => this.demoEnabled(),
    });
    // The lock follows the secrets: a keychain service is shared by every process of this user
    // whatever its state directory (cron, `sudo -u`, systemd units), so its lock is keyed on the
    // service in a per-user folder; stores without a scope lock beside them in the state directory.
    const locks =
      o.locks ??
      (o.store.lockScope !== undefined
        ? scopedAccountLocks(o.store.lockScope)
        : fileAccountLocks(this.metadata.locksDir));
    this.repo = new AccountRepository(this.metadata, this.vault, o.clock, this.metadata.locksDir, locks);
    const onChange = (): void => this.emitAccounts();
    // One key cache for every process on this state folder: see oauth/jwks-cache.ts.
    const idTokens = new IdTokenVerifier({
      http: o.http,
      store: new FileJwksStore(join(this.metadata.cacheDir, 'jwks')),
      clock: o.clock,
    });
    this.refresher = new Refresher({
      repo: this.repo,
      registry: this.registry,
      http: o.http,
      clock: o.clock,
      locksDir: this.metadata.locksDir,
      locks,
      sleep: o.sleep,
      onChange,
      idTokens,
    });
    this.connect = new ConnectService({
      registry: this.registry,
      repo: this.repo,
      vault: this.vault,
      http: o.http,
      clock: o.clock,
      onChange,
      onProgress: (attemptId, provider, phase) => this.events.emit('progress', { attemptId, provider, phase }),
      idTokens,
    });
    this.taskService = new TaskService({
      repo: this.repo,
      registry: this.registry,
      refresher: this.refresher,
      http: o.http,
      cache: new TaskCache(this.metadata.cacheDir),
      clock: o.clock,
      onChange,
    });
  }

  private get demoFlag(): string {
    return join(this.o.stateDir, 'demo-removed');
  }

  private async demoEnabled(): Promise<boolean> {
    try {
      await fs.access(this.demoFlag);
      return false;
    } catch {
      return true;
    }
  }

  private emitAccounts(): void {
    if (this.events.listenerCount('accounts') === 0) return;
    this.listAccounts().then(
      (accounts) => this.events.emit('accounts', accounts),
      () => undefined,
    );
  }

  async listProviders(): Promise<ProviderSummary[]> {
    const out: ProviderSummary[] = [];
    for (const provider of await this.registry.all()) {
      out.push(
        summarizeProvider(provider, provider.kind === 'demo' ? null : await this.metadata.readProvider(provider.id)),
      );
    }
    return out;
  }

  async setProvider(providerId: string, input: ProviderSetInput): Promise<ProviderSummary> {
    const provider = await this.registry.get(safeProviderId(providerId));
    if (provider.kind === 'demo') throw new TokentrayError('USAGE', 'The demo provider needs no set-up.');
    const clientId = input.clientId.trim();
    if (clientId === '' || clientId.length > 512 || /\s/.test(clientId)) {
      throw new TokentrayError(
        'USAGE',
        'The client id is empty or contains spaces; copy it again from the app you registered.',
      );
    }
    const previous = await this.metadata.readProvider(provider.id);
    const secret = input.clientSecret === undefined || input.clientSecret === null ? null : input.clientSecret.trim();
    if (secret === '') throw new TokentrayError('USAGE', 'The client secret is empty; paste it on standard input.');
    const config: ProviderConfig = {
      provider: provider.id,
      clientId,
      redirectUri: validRedirectUri(input.redirectUri) ?? previous?.redirectUri ?? null,
      authorizeUrl: validUrl(input.authorizeUrl, 'The authorize URL') ?? previous?.authorizeUrl ?? null,
      tokenUrl: validUrl(input.tokenUrl, 'The token URL') ?? previous?.tokenUrl ?? null,
      apiUrl: validUrl(input.apiUrl, 'The API URL') ?? previous?.apiUrl ?? null,
      generic: previous?.generic ?? null,
      hasClientSecret:
        (input.clientSecret !== undefined && input.clientSecret !== null) || (previous?.hasClientSecret ?? false),
      updatedAt: new Date(this.o.clock.now()).toISOString(),
    };
    // Decided before anything is written: a refused change leaves the secret and the file as they were.
    const users = await this.accountsUsing(provider.id);
    const mode = input.whenInUse ?? 'refuse';
    const endpointsChange =
      config.authorizeUrl !== (previous?.authorizeUrl ?? null) ||
      config.tokenUrl !== (previous?.tokenUrl ?? null) ||
      config.apiUrl !== (previous?.apiUrl ?? null);
    if (users.length > 0 && mode === 'refuse') {
      throw new TokentrayError(
        'USAGE',
        `${provider.name} is used by ${accountsText(users.length)}, so its settings can only be changed from the command line (\`tokentray provider set ${provider.id} …\`).`,
      );
    }
    if (users.length > 0 && mode === 'keep-endpoints' && endpointsChange) {
      throw new TokentrayError(
        'USAGE',
        `Changing the endpoints of ${provider.name} would send the tokens of its ${accountsText(users.length)} elsewhere; add --replace to change them, then reconnect those accounts.`,
      );
    }
    if (secret !== null) await this.vault.writeClientSecret(provider.id, secret);
    await this.metadata.writeProvider(config);
    if (endpointsChange) await this.markReplaced(users, provider.name, 'provider set');
    return summarizeProvider(provider, config);
  }

  /**
   * Accounts whose tokens a change of this provider's settings would redirect. A damaged
   * metadata file names no provider; its id (accountIdFor: provider-subject) still does.
   */
  private async accountsUsing(providerId: string): Promise<string[]> {
    const out: string[] = [];
    for (const meta of await this.repo.listMeta()) {
      if ('corrupt' in meta ? meta.id.startsWith(`${providerId}-`) : meta.provider === providerId) out.push(meta.id);
    }
    return out;
  }

  /** After a CLI `--replace`: the accounts' pins name the old endpoints, so each must be connected again. */
  private async markReplaced(users: string[], providerName: string, command: string): Promise<void> {
    for (const id of users) {
      const latest = await this.repo.readMeta(id);
      if (latest === null) continue;
      await this.repo.saveMeta({
        ...latest,
        state: 'reconnect',
        stateDetail: `the settings of ${providerName} were replaced (\`tokentray ${command} … --replace\`)`,
        lastErrorCode: 'RECONNECT_REQUIRED',
      });
    }
    if (users.length > 0) this.emitAccounts();
  }

  async addGenericProvider(input: GenericProviderInput): Promise<ProviderSummary> {
    const id = safeProviderId(input.name);
    if (this.registry.builtin(id))
      throw new TokentrayError('USAGE', `"${id}" is a built-in provider; pick another name for the generic provider.`);
    const issuer = validUrl(input.issuer, 'The issuer');
    if (issuer === null) throw new TokentrayError('USAGE', "Give the provider's issuer URL with --issuer.");
    // Checked before discovery so a typo costs no network round trip.
    const redirectUri = validRedirectUri(input.redirectUri);
    // Before discovery too: a provider in use is never replaced, nor its issuer even asked, unless the CLI says --replace.
    const users = await this.accountsUsing(id);
    if (users.length > 0 && input.replace !== true) {
      throw new TokentrayError(
        'USAGE',
        `The provider "${id}" is used by ${accountsText(users.length)}; to replace it (they will need to be reconnected), run \`tokentray provider add ${id} --issuer <url> --client-id <id> --replace\` in a terminal.`,
      );
    }
    const revocationUrl = input.revocationUrl?.trim() || null;
    if (revocationUrl !== null) {
      const problem = endpointUrlProblem(revocationUrl, 'The revocation URL');
      if (problem !== null) throw new TokentrayError('USAGE', problem);
      if (new URL(revocationUrl).origin !== new URL(issuer).origin) {
        throw new TokentrayError(
          'USAGE',
          `The revocation URL must be on the issuer's own server (${new URL(issuer).origin}); the refresh token is sent there.`,
        );
      }
    }
    const discovered = await discoverProvider(
      this.o.http,
      id,
      issuer,
      input.scopes,
      input.clientSecret ? null : 'none',
    );
    const generic = revocationUrl === null ? discovered : { ...discovered, revocationEndpoint: revocationUrl };
    if (input.clientSecret) await this.vault.writeClientSecret(id, input.clientSecret.trim());
    const config: ProviderConfig = {
      provider: id,
      clientId: input.clientId.trim(),
      redirectUri,
      authorizeUrl: null,
      tokenUrl: null,
      apiUrl: null,
      generic,
      hasClientSecret: Boolean(input.clientSecret),
      updatedAt: new Date(this.o.clock.now()).toISOString(),
    };
    await this.metadata.writeProvider(config);
    await this.markReplaced(users, generic.name, 'provider add');
    return summarizeProvider(await this.registry.get(id), config);
  }

  async removeDemo(): Promise<void> {
    for (const meta of await this.repo.listMeta()) {
      if (!('corrupt' in meta) && this.registry.builtin(meta.provider)?.kind === 'demo')
        await this.repo.remove(meta.id);
    }
    await fs.mkdir(this.o.stateDir, { recursive: true, mode: 0o700 });
    await fs.writeFile(this.demoFlag, 'The demo provider was removed; delete this file to bring it back.\n');
    this.emitAccounts();
  }

  startConnect(provider: string, options?: StartConnectOptions): Promise<ConnectAttempt> {
    return this.connect.start(provider, options);
  }

  completeConnectWithUrl(
    provider: string,
    redirectedUrl: string,
    options?: { label?: string },
  ): Promise<AccountSummary> {
    return this.connect.completeWithUrl(provider, redirectedUrl, options?.label);
  }

  completeConnectWithCode(
    provider: string,
    code: string,
    options?: { host?: string; label?: string },
  ): Promise<AccountSummary> {
    return this.connect.completeWithCode(provider, code, options?.host, options?.label);
  }

  connectWithToken(
    provider: string,
    token: string,
    options?: { label?: string; host?: string },
  ): Promise<AccountSummary> {
    return this.connect.connectWithToken(provider, token, options ?? {});
  }

  /** `tokentray import`: a token file from an older tool, verified and stored (CLI only). */
  importTokens(
    provider: string,
    file: TokenFile,
    options: { label?: string; host?: string; issuedAt: number },
  ): Promise<AccountSummary> {
    return this.connect.importTokens(provider, file, options);
  }

  /** The core's HTTP client (timeouts, Retry-After, per-provider pacing), for `tokentray api`. */
  httpClient(): HttpClient {
    return this.o.http;
  }

  handleDeepLink(url: string): Promise<boolean> {
    return this.connect.handleDeepLink(url);
  }

  cancelConnect(attemptId: string): void {
    this.connect.cancel(attemptId);
  }

  /**
   * No network and no secrets: listing and status come from the metadata files alone (the
   * tray lists on every change). The keychain is read only for what the files cannot say: a
   * damaged file, or an account whose connect was cut short between its keychain write and
   * its metadata write (it left a marker), so such an account is rebuilt, never hidden.
   */
  async listAccounts(): Promise<AccountSummary[]> {
    const now = this.o.clock.now();
    const out: AccountSummary[] = [];
    const listed = await this.repo.listMeta();
    const known = new Set(listed.map((m) => m.id));
    for (const { id, ageMs } of await this.metadata.connecting(now)) {
      if (known.has(id)) {
        await this.metadata.clearConnecting(id);
        continue;
      }
      try {
        const loaded = await this.repo.load(id);
        out.push(toSummary(loaded.meta, await this.registry.get(loaded.meta.provider), now));
        await this.metadata.clearConnecting(id);
      } catch (error) {
        // Nothing reached the keychain: the connect died before storing. A young marker may
        // belong to a connect still running in another process, so it is left to that one.
        if (error instanceof TokentrayError && error.code === 'NOT_FOUND' && ageMs > 60_000)
          await this.metadata.clearConnecting(id);
      }
    }
    for (const meta of listed) {
      if ('corrupt' in meta) {
        try {
          const loaded = await this.repo.load(meta.id);
          out.push(toSummary(loaded.meta, await this.registry.get(loaded.meta.provider), now));
        } catch {
          out.push(brokenSummary(meta.id, now));
        }
        continue;
      }
      let provider: ProviderDefinition;
      try {
        provider = await this.registry.get(meta.provider);
      } catch {
        out.push({
          ...brokenSummary(meta.id, now),
          provider: meta.provider,
          label: meta.label,
          statusDetail: `The provider "${meta.provider}" is no longer set up; add it again or disconnect this account.`,
        });
        continue;
      }
      out.push(toSummary(meta, provider, now));
    }
    return out;
  }

  /** The scheduler's question, answered from metadata alone (no keychain read). */
  async refreshPlan(accountId: string): Promise<Pick<TokenInspection, 'refreshDueAt' | 'canRefresh'>> {
    const meta = await this.repo.readMeta(accountId);
    if (meta === null) return this.inspect(accountId);
    const provider = await this.registry.get(meta.provider);
    const due = refreshDueAt(meta, provider);
    return { refreshDueAt: due === null ? null : new Date(due).toISOString(), canRefresh: canRefresh(meta, provider) };
  }

  async inspect(account: string): Promise<TokenInspection> {
    const id = await this.repo.resolveId(account);
    const { meta, secret } = await this.repo.load(id);
    const provider = await this.registry.get(meta.provider);
    const now = this.o.clock.now();
    const summary = toSummary(meta, provider, now);
    const jwt = decodeJwt(secret.tokens.accessToken);
    const due = refreshDueAt(meta, provider);
    return {
      accountId: meta.id,
      provider: meta.provider,
      label: meta.label,
      status: summary.status,
      statusDetail: summary.statusDetail,
      tokenKind: meta.personal ? 'personal' : jwt ? 'jwt' : 'opaque',
      issuedAt: meta.issuedAt === null ? null : new Date(meta.issuedAt).toISOString(),
      expiresAt: summary.expiresAt,
      secondsLeft: meta.expiresAt === null ? null : Math.round((meta.expiresAt - now) / 1000),
      lifetimeSeconds:
        meta.expiresAt !== null && meta.issuedAt !== null ? Math.round((meta.expiresAt - meta.issuedAt) / 1000) : null,
      refreshDueAt: due === null ? null : new Date(due).toISOString(),
      scopes: meta.scopes,
      jwt,
      lastRefreshAt: summary.lastRefreshAt,
      fingerprint: meta.fingerprint,
      hasRefreshToken: meta.hasRefreshToken,
      canRefresh: summary.canRefresh,
      refreshHistory: meta.refreshHistory,
    };
  }

  async refresh(account: string): Promise<AccountSummary> {
    const id = await this.repo.resolveId(account);
    const meta = await this.refresher.refresh(id);
    return toSummary(meta, await this.registry.get(meta.provider), this.o.clock.now());
  }

  async disconnect(account: string): Promise<void> {
    const id = await this.repo.resolveId(account);
    let loaded;
    try {
      loaded = await this.repo.load(id);
    } catch (error) {
      if (!(error instanceof TokentrayError) || error.code !== 'KEYCHAIN_ITEM_MISSING') throw error;
    }
    if (loaded) {
      const provider = await this.registry.get(loaded.meta.provider).catch(() => null);
      if (provider?.revoke) {
        try {
          // A revocation endpoint that is not the pinned one gets nothing; the account goes anyway.
          const { ctx } = await pinnedAccountContext({ registry: this.registry, repo: this.repo }, provider, loaded, {
            requireClient: false,
          });
          await provider.revoke(this.o.http, ctx);
        } catch {
          // Revocation is a courtesy to the provider; the local secrets go either way.
        }
      }
    }
    await this.repo.remove(id);
    await new TaskCache(this.metadata.cacheDir).delete(id);
    this.emitAccounts();
  }

  /**
   * Callers asking for the same account at the same moment (a script fanning
   * out, the tray and the window together) share one lookup: one metadata
   * read and one keychain read instead of one each, and at most one refresh.
   */
  getAccessToken(account: string, options?: { minValidSeconds?: number }): Promise<string> {
    const minValid = options?.minValidSeconds ?? 0;
    const key = `${account}\u0000${minValid}`;
    const running = this.tokenCalls.get(key);
    if (running) return running;
    const call = this.repo
      .resolveId(account)
      .then((id) => this.refresher.getValidToken(id, minValid))
      .finally(() => this.tokenCalls.delete(key));
    this.tokenCalls.set(key, call);
    return call;
  }

  async tasks(account: string, options?: TaskFetchOptions): Promise<TaskList> {
    return this.taskService.tasks(await this.repo.resolveId(account), options);
  }

  /** Brings the account's saved task list up to date without reading it whole (the tray's background sync). */
  async syncTasks(account: string, options?: { full?: boolean }): Promise<SyncSummary> {
    return this.taskService.sync(await this.repo.resolveId(account), options);
  }

  onAccountsChanged(listener: AccountsListener): () => void {
    this.events.on('accounts', listener);
    return () => this.events.off('accounts', listener);
  }

  /**
   * On a shared store: follow changes other machines make (a refresh on the server shows up
   * here at once) and whether the store answers. Returns a stop function; a no-op locally.
   */
  watchSharedStore(onReachable: (reachable: boolean) => void = () => undefined): () => void {
    if (!this.o.sharedFeed) return () => undefined;
    return this.o.sharedFeed.watch({
      onAccount: (id) => {
        // Reading the account repairs this machine's metadata from the shared item (new expiry, new account).
        void this.repo.load(id).then(
          () => this.emitAccounts(),
          () => undefined,
        );
      },
      onReachable: (reachable) => {
        this.setReachable(reachable);
        onReachable(reachable);
      },
    });
  }

  storageStatus(): StorageStatus {
    return { backend: this.o.sharedFeed ? 'shared' : 'keychain', reachable: this.storeReachable };
  }

  onStorageChanged(listener: (status: StorageStatus) => void): () => void {
    this.events.on('storage', listener);
    return () => this.events.off('storage', listener);
  }

  /** The feed repeats "unreachable" on every reconnect attempt; listeners hear only the changes. */
  private setReachable(reachable: boolean): void {
    if (this.storeReachable === reachable) return;
    this.storeReachable = reachable;
    this.events.emit('storage', this.storageStatus());
  }

  onConnectProgress(listener: ProgressListener): () => void {
    this.events.on('progress', listener);
    return () => this.events.off('progress', listener);
  }

  async close(): Promise<void> {
    this.connect.closeAll();
    this.events.removeAllListeners();
    await this.o.closeDemo?.();
    await this.o.closeStore?.();
  }
}

function accountsText(count: number): string {
  return count === 1 ? '1 account' : `${count} accounts`;
}

function brokenSummary(id: string, now: number): AccountSummary {
  return {
    id,
    provider: 'unknown',
    providerName: 'Unknown',
    label: id,
    status: 'error',
    statusDetail:
      "This account's saved details are unreadable and its keychain item is missing; disconnect and reconnect it.",
    expiresAt: null,
    lastRefreshAt: null,
    connectedAt: new Date(now).toISOString(),
    scopes: [],
    workspaces: [],
    fingerprint: '',
    canRefresh: false,
    demo: false,
  };
}
