// An in-memory TokentrayService for the IPC router's unit tests and for
// developing the renderer without a keychain. Deterministic: the same options
// give the same accounts, tokens and tasks. Not used by the product.
import { createHash, randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { TokentrayError } from '../../electron/core/errors';
import { BUILTIN_PROVIDERS } from '../../electron/core/providers/builtin';
import { summarizeProvider } from '../../electron/core/providers/provider-summary';
import type {
  AccountsListener,
  ConnectAttempt,
  GenericProviderInput,
  ProgressListener,
  ProviderSetInput,
  StartConnectOptions,
  SyncSummary,
  TokentrayService,
} from '../../electron/core/service-api';
import type {
  AccountSummary,
  ProviderSummary,
  RefreshEvent,
  StorageStatus,
  Task,
  TaskList,
  TokenInspection,
} from '../../electron/shared/models';

export interface FakeServiceOptions {
  /** Tasks per account. */
  taskCount?: number;
  now?: () => number;
  /** Accounts connected up front, by provider id. */
  seed?: Array<{ provider: string; label: string; status?: AccountSummary['status'] }>;
}

interface FakeAccount {
  summary: AccountSummary;
  accessToken: string;
  refreshToken: string | null;
  issuedAt: number;
  history: RefreshEvent[];
  tasksFetchedAt: number | null;
}

interface PendingAttempt {
  provider: string;
  label: string | undefined;
  resolve(account: AccountSummary): void;
  reject(error: unknown): void;
}

const TOKEN_LIFETIME_S = 300;

/** The real built-in definitions, as the real service summarises them, none set up yet (the demo needs none). */
const PROVIDERS: ProviderSummary[] = BUILTIN_PROVIDERS.map((p) => summarizeProvider(p, null));

const VERBS = ['Review', 'Draft', 'Fix', 'Plan', 'Call', 'Update', 'Ship', 'Prepare', 'Check', 'Write'];
const THINGS = [
  'quarterly report',
  'onboarding checklist',
  'invoice for Acme',
  'release notes',
  'landing page copy',
  'sprint retro',
  'API rate limits',
  'customer interview',
  'pricing table',
  'support backlog',
];
const PROJECTS = ['Marketing', 'Product', 'Sales', 'Operations', 'Design'];
const PEOPLE = ['Alice', 'Bob', 'Chen', 'Dana', 'Emil'];

function base64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

function isoDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

export class FakeTokentrayService implements TokentrayService {
  readonly calls: Array<{ method: string; args: unknown[] }> = [];
  readonly providers: ProviderSummary[] = PROVIDERS.map((p) => ({ ...p, methods: [...p.methods] }));
  readonly accounts = new Map<string, FakeAccount>();
  /** Client secrets "stored in the keychain". */
  readonly secrets = new Map<string, string>();
  private readonly attempts = new Map<string, PendingAttempt>();
  private readonly events = new EventEmitter();
  private readonly failures = new Map<string, unknown>();
  private readonly now: () => number;
  private readonly taskCount: number;
  private counter = 0;
  private revoked = false;

  constructor(options: FakeServiceOptions = {}) {
    this.now = options.now ?? (() => Date.now());
    this.taskCount = options.taskCount ?? 40;
    for (const s of options.seed ?? []) {
      const account = this.createAccount(s.provider, s.label);
      if (s.status) account.summary = { ...account.summary, status: s.status };
    }
  }

  /** The next call of `method` throws `error`. */
  failNext(method: keyof TokentrayService, error: unknown): void {
    this.failures.set(method, error);
  }

  /** Every issued refresh token stops working: the next refresh marks accounts "reconnect". */
  revokeAll(): void {
    this.revoked = true;
  }

  /** What the browser's loopback redirect would do for a pending attempt. */
  completeAttempt(attemptId: string, outcome: 'allow' | 'deny' = 'allow'): AccountSummary | null {
    const pending = this.attempts.get(attemptId);
    if (!pending) throw new Error(`no pending attempt ${attemptId}`);
    this.attempts.delete(attemptId);
    if (outcome === 'deny') {
      pending.reject(new TokentrayError('ACCESS_DENIED', 'You declined access in the browser.'));
      return null;
    }
    this.progress(attemptId, pending.provider, 'exchanging-code');
    this.progress(attemptId, pending.provider, 'verifying-identity');
    const account = this.createAccount(pending.provider, pending.label ?? null);
    this.progress(attemptId, pending.provider, 'stored');
    pending.resolve(account.summary);
    this.changed();
    return account.summary;
  }

  pendingAttempts(): string[] {
    return [...this.attempts.keys()];
  }

  private record(method: string, args: unknown[]): void {
    this.calls.push({ method, args });
    const failure = this.failures.get(method);
    if (failure !== undefined) {
      this.failures.delete(method);
      throw failure;
    }
  }

  private progress(attemptId: string, providerId: string, phase: Parameters<ProgressListener>[0]['phase']): void {
    this.events.emit('progress', { attemptId, provider: providerId, phase });
  }

  private changed(): void {
    const list = [...this.accounts.values()].map((a) => this.summaryNow(a));
    this.events.emit('accounts', list);
  }

  private providerById(id: string): ProviderSummary {
    const found = this.providers.find((p) => p.id === id);
    if (!found) throw new TokentrayError('NOT_FOUND', `There is no provider "${id}"; see the providers list.`);
    return found;
  }

  private issueTokens(subject: string, providerId: string): { access: string; refresh: string; issuedAt: number } {
    this.counter += 1;
    const issuedAt = this.now();
    const header = base64url({ alg: 'HS256', typ: 'JWT', kid: 'demo-1' });
    const claims = base64url({
      iss: 'http://127.0.0.1/demo',
      sub: subject,
      aud: `tokentray-${providerId}`,
      scope: 'tasks:read profile',
      iat: Math.floor(issuedAt / 1000),
      exp: Math.floor(issuedAt / 1000) + TOKEN_LIFETIME_S,
      jti: `jti-${this.counter}`,
    });
    return {
      access: `${header}.${claims}.fakesig${this.counter}`,
      refresh: `fake-refresh-${this.counter}-${randomUUID()}`,
      issuedAt,
    };
  }

  private createAccount(providerId: string, label: string | null): FakeAccount {
    const p = this.providerById(providerId);
    const index = [...this.accounts.values()].filter((a) => a.summary.provider === providerId).length;
    const user = ['alice', 'bob', 'carol', 'dave'][index % 4] ?? 'user';
    const id = `${providerId}-${user}${index >= 4 ? `-${index}` : ''}`;
    const tokens = this.issueTokens(user, providerId);
    const summary: AccountSummary = {
      id,
      provider: providerId,
      providerName: p.name,
      label: label ?? `${user}@${providerId === 'demo' ? 'demo.tokentray.dev' : `${providerId}.example`}`,
      status: 'ok',
      statusDetail: null,
      expiresAt: new Date(tokens.issuedAt + TOKEN_LIFETIME_S * 1000).toISOString(),
      lastRefreshAt: null,
      connectedAt: new Date(tokens.issuedAt).toISOString(),
      scopes: ['tasks:read', 'profile'],
      workspaces: [
        { id: `${id}-w1`, name: 'Acme Inc.', url: null },
        { id: `${id}-w2`, name: 'Side projects', url: null },
      ],
      fingerprint: createHash('sha256').update(tokens.access).digest('hex').slice(0, 12),
      // As the real definition says: ClickUp and TickTick issue no refresh tokens.
      canRefresh: BUILTIN_PROVIDERS.find((d) => d.id === providerId)?.refresh !== 'none',
      demo: p.kind === 'demo',
    };
    const account: FakeAccount = {
      summary,
      accessToken: tokens.access,
      refreshToken: tokens.refresh,
      issuedAt: tokens.issuedAt,
      history: [],
      tasksFetchedAt: null,
    };
    this.accounts.set(id, account);
    return account;
  }

  private summaryNow(account: FakeAccount): AccountSummary {
    const s = account.summary;
    if (s.status === 'reconnect' || s.status === 'error' || s.expiresAt === null) return s;
    const left = Date.parse(s.expiresAt) - this.now();
    if (left <= 0) return { ...s, status: 'expired', statusDetail: 'The access token has expired.' };
    return s;
  }

  private resolve(ref: string): FakeAccount {
    const account =
      this.accounts.get(ref) ?? [...this.accounts.values()].find((a) => a.summary.label === ref) ?? undefined;
    if (!account) throw new TokentrayError('NOT_FOUND', `No account "${ref}"; see \`tokentray accounts\`.`);
    return account;
  }

  async listProviders(): Promise<ProviderSummary[]> {
    this.record('listProviders', []);
    return this.providers.map((p) => ({ ...p }));
  }

  async setProvider(providerId: string, input: ProviderSetInput): Promise<ProviderSummary> {
    this.record('setProvider', [providerId, input]);
    const p = this.providerById(providerId);
    if (p.kind === 'demo') throw new TokentrayError('USAGE', 'The demo provider needs no set-up.');
    if (input.clientSecret) this.secrets.set(providerId, input.clientSecret);
    p.configured = true;
    if (input.redirectUri) p.redirectUri = input.redirectUri;
    return { ...p };
  }

  async addGenericProvider(input: GenericProviderInput): Promise<ProviderSummary> {
    this.record('addGenericProvider', [input]);
    const id = input.name.toLowerCase().replace(/[^a-z0-9]+/g, '-');
    const p: ProviderSummary = {
      id,
      name: input.name,
      kind: 'generic',
      configured: true,
      methods: ['loopback', 'paste'],
      redirectUri: `http://127.0.0.1/callback/${id}`,
      needsHost: false,
      hostExample: null,
      registerUrl: null,
      personalTokenHint: null,
    };
    if (input.clientSecret) this.secrets.set(id, input.clientSecret);
    this.providers.push(p);
    return { ...p };
  }

  async removeDemo(): Promise<void> {
    this.record('removeDemo', []);
    for (const [id, a] of this.accounts) if (a.summary.demo) this.accounts.delete(id);
    const index = this.providers.findIndex((p) => p.kind === 'demo');
    if (index >= 0) this.providers.splice(index, 1);
    this.changed();
  }

  async startConnect(providerId: string, options: StartConnectOptions = {}): Promise<ConnectAttempt> {
    this.record('startConnect', [providerId, options]);
    const p = this.providerById(providerId);
    if (!p.configured)
      throw new TokentrayError('PROVIDER_NOT_CONFIGURED', `${p.name} is not set up yet; add its client id first.`);
    const attemptId = randomUUID();
    let resolve!: (a: AccountSummary) => void;
    let reject!: (e: unknown) => void;
    const result = new Promise<AccountSummary>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    result.catch(() => undefined);
    this.attempts.set(attemptId, { provider: providerId, label: options.label, resolve, reject });
    queueMicrotask(() => this.progress(attemptId, providerId, 'waiting-for-browser'));
    const listen = options.listen !== false;
    return {
      attemptId,
      provider: providerId,
      authorizeUrl: `https://auth.example.com/${providerId}/authorize?state=${attemptId}`,
      redirectUri: listen ? (p.redirectUri ?? 'http://127.0.0.1:49152/callback') : null,
      result,
      cancel: () => {
        const pending = this.attempts.get(attemptId);
        if (!pending) return;
        this.attempts.delete(attemptId);
        pending.reject(new TokentrayError('CONNECT_CANCELLED', 'Connecting was cancelled.'));
      },
    };
  }

  async completeConnectWithUrl(
    providerId: string,
    redirectedUrl: string,
    options?: { label?: string },
  ): Promise<AccountSummary> {
    this.record('completeConnectWithUrl', [providerId, redirectedUrl, options]);
    const state = new URL(redirectedUrl).searchParams.get('state');
    const attemptId = [...this.attempts.keys()].find((id) => id === state);
    if (!attemptId) throw new TokentrayError('STATE_MISMATCH', 'No sign-in is in progress for that address.');
    const summary = this.completeAttempt(attemptId);
    if (!summary) throw new TokentrayError('ACCESS_DENIED', 'You declined access in the browser.');
    return summary;
  }

  async completeConnectWithCode(
    providerId: string,
    code: string,
    options?: { host?: string; label?: string },
  ): Promise<AccountSummary> {
    this.record('completeConnectWithCode', [providerId, code, options]);
    const p = this.providerById(providerId);
    if (p.needsHost && !options?.host)
      throw new TokentrayError('USAGE', `${p.name} codes belong to one account: add the account's host.`);
    if (code.length < 8) throw new TokentrayError('AUTH_CODE_INVALID', 'That code was not accepted; copy it again.');
    const account = this.createAccount(providerId, options?.label ?? null);
    this.changed();
    return account.summary;
  }

  async connectWithToken(
    providerId: string,
    token: string,
    options?: { label?: string; host?: string },
  ): Promise<AccountSummary> {
    this.record('connectWithToken', [providerId, token, options]);
    const p = this.providerById(providerId);
    if (!p.methods.includes('token'))
      throw new TokentrayError('USAGE', `${p.name} has no personal tokens; connect with the browser instead.`);
    if (!token.startsWith('pk_') && p.id === 'clickup')
      throw new TokentrayError('TOKEN_INVALID', 'ClickUp rejected that token; check that you copied all of it.');
    const account = this.createAccount(providerId, options?.label ?? null);
    account.accessToken = token;
    account.refreshToken = null;
    account.summary = { ...account.summary, expiresAt: null, canRefresh: false };
    this.changed();
    return account.summary;
  }

  async handleDeepLink(url: string): Promise<boolean> {
    this.record('handleDeepLink', [url]);
    return false;
  }

  async listAccounts(): Promise<AccountSummary[]> {
    this.record('listAccounts', []);
    return [...this.accounts.values()].map((a) => this.summaryNow(a));
  }

  async inspect(ref: string): Promise<TokenInspection> {
    this.record('inspect', [ref]);
    const a = this.resolve(ref);
    const s = this.summaryNow(a);
    const [, claimsPart] = a.accessToken.split('.');
    let claims: Record<string, unknown> | null = null;
    try {
      claims = claimsPart ? (JSON.parse(Buffer.from(claimsPart, 'base64url').toString('utf8')) as never) : null;
    } catch {
      claims = null;
    }
    const expiresAt = s.expiresAt === null ? null : Date.parse(s.expiresAt);
    return {
      accountId: s.id,
      provider: s.provider,
      label: s.label,
      status: s.status,
      statusDetail: s.statusDetail,
      tokenKind: a.refreshToken === null ? 'personal' : claims ? 'jwt' : 'opaque',
      issuedAt: new Date(a.issuedAt).toISOString(),
      expiresAt: s.expiresAt,
      secondsLeft: expiresAt === null ? null : Math.round((expiresAt - this.now()) / 1000),
      lifetimeSeconds: expiresAt === null ? null : Math.round((expiresAt - a.issuedAt) / 1000),
      refreshDueAt: expiresAt === null ? null : new Date(expiresAt - 60_000).toISOString(),
      scopes: s.scopes,
      jwt: claims ? { header: { alg: 'HS256', typ: 'JWT', kid: 'demo-1' }, claims } : null,
      lastRefreshAt: s.lastRefreshAt,
      fingerprint: s.fingerprint,
      hasRefreshToken: a.refreshToken !== null,
      canRefresh: s.canRefresh,
      refreshHistory: [...a.history],
    };
  }

  async refresh(ref: string): Promise<AccountSummary> {
    this.record('refresh', [ref]);
    const a = this.resolve(ref);
    const at = new Date(this.now()).toISOString();
    if (this.revoked || a.summary.status === 'reconnect') {
      a.history.unshift({ at, outcome: 'failed', code: 'RECONNECT_REQUIRED' });
      a.summary = {
        ...a.summary,
        status: 'reconnect',
        statusDetail: `${a.summary.providerName} needs you to connect this account again.`,
      };
      this.changed();
      throw new TokentrayError(
        'RECONNECT_REQUIRED',
        `${a.summary.providerName} needs you to connect this account again.`,
      );
    }
    if (!a.summary.canRefresh) throw new TokentrayError('USAGE', 'This token cannot be refreshed.');
    const tokens = this.issueTokens(a.summary.id, a.summary.provider);
    a.accessToken = tokens.access;
    a.refreshToken = tokens.refresh;
    a.issuedAt = tokens.issuedAt;
    a.history.unshift({ at, outcome: 'ok', code: null });
    a.summary = {
      ...a.summary,
      status: 'ok',
      statusDetail: null,
      lastRefreshAt: at,
      expiresAt: new Date(tokens.issuedAt + TOKEN_LIFETIME_S * 1000).toISOString(),
      fingerprint: createHash('sha256').update(tokens.access).digest('hex').slice(0, 12),
    };
    this.changed();
    return a.summary;
  }

  async disconnect(ref: string): Promise<void> {
    this.record('disconnect', [ref]);
    const a = this.resolve(ref);
    this.accounts.delete(a.summary.id);
    this.changed();
  }

  async getAccessToken(ref: string): Promise<string> {
    this.record('getAccessToken', [ref]);
    return this.resolve(ref).accessToken;
  }

  async tasks(ref: string, options?: { offline?: boolean }): Promise<TaskList> {
    this.record('tasks', [ref, options]);
    const a = this.resolve(ref);
    const offline = options?.offline === true || a.summary.status === 'reconnect';
    if (!offline) a.tasksFetchedAt = this.now();
    const fetchedAt = a.tasksFetchedAt;
    return {
      accountId: a.summary.id,
      tasks: this.makeTasks(a.summary),
      fetchedAt: fetchedAt === null ? null : new Date(fetchedAt).toISOString(),
      offline,
      ageSeconds: fetchedAt === null ? null : Math.round((this.now() - fetchedAt) / 1000),
      error: offline && a.summary.status === 'reconnect' ? { code: 'RECONNECT_REQUIRED', message: 'Reconnect.' } : null,
    };
  }

  async syncTasks(ref: string, options?: { full?: boolean }): Promise<SyncSummary> {
    this.record('syncTasks', [ref, options]);
    const a = this.resolve(ref);
    a.tasksFetchedAt = this.now();
    return {
      accountId: a.summary.id,
      mode: options?.full === true ? 'full' : 'incremental',
      count: this.taskCount,
      received: 0,
      fetchedAt: new Date(a.tasksFetchedAt).toISOString(),
      skipped: [],
    };
  }

  private makeTasks(s: AccountSummary): Task[] {
    const day = 86_400_000;
    const today = Date.parse(`${isoDay(this.now())}T00:00:00Z`);
    const out: Task[] = [];
    for (let i = 0; i < this.taskCount; i += 1) {
      const offset = (i * 7) % 45;
      const dueMs = today + (offset - 10) * day;
      const hasDue = i % 9 !== 0;
      const timed = i % 3 === 0;
      out.push({
        id: `${s.id}-t${i}`,
        accountId: s.id,
        provider: s.provider,
        title: `${VERBS[i % VERBS.length]} ${THINGS[(i * 3) % THINGS.length]} #${i + 1}`,
        status: i % 11 === 0 ? 'done' : 'open',
        due: hasDue
          ? {
              date: isoDay(dueMs),
              dateTime: timed ? new Date(dueMs + 15 * 3_600_000).toISOString() : null,
              timeZone: timed ? 'Europe/Berlin' : null,
            }
          : null,
        priority: { level: i % 5, original: i % 5 },
        project: PROJECTS[i % PROJECTS.length] ?? null,
        workspace: s.workspaces[i % 2]?.name ?? null,
        assignees: [PEOPLE[i % PEOPLE.length] ?? 'Alice'],
        url: `https://app.example.com/${s.provider}/t/${i}`,
        updatedAt: new Date(this.now() - i * 60_000).toISOString(),
      });
    }
    return out;
  }

  onAccountsChanged(listener: AccountsListener): () => void {
    this.events.on('accounts', listener);
    return () => this.events.off('accounts', listener);
  }

  onConnectProgress(listener: ProgressListener): () => void {
    this.events.on('progress', listener);
    return () => this.events.off('progress', listener);
  }

  private storage: StorageStatus = { backend: 'keychain', reachable: true };

  /** Test control: plays a shared store going away or coming back. */
  setStorage(status: StorageStatus): void {
    this.storage = status;
    this.events.emit('storage', status);
  }

  storageStatus(): StorageStatus {
    return this.storage;
  }

  onStorageChanged(listener: (status: StorageStatus) => void): () => void {
    this.events.on('storage', listener);
    return () => this.events.off('storage', listener);
  }

  async close(): Promise<void> {
    for (const id of [...this.attempts.keys()]) {
      this.attempts.get(id)?.reject(new TokentrayError('CONNECT_CANCELLED', 'Connecting was cancelled.'));
    }
    this.attempts.clear();
    this.events.removeAllListeners();
  }
}
