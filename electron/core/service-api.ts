import type {
  AccountSummary,
  ProviderSummary,
  SkippedSource,
  StorageStatus,
  TaskList,
  TokenInspection,
} from '../shared/models';

/**
 * The one facade the front doors (CLI, Electron main, development bridge) use.
 * Implemented by `TokentrayCore` in core/service.ts. Only `getAccessToken` ever
 * returns a secret, and only the CLI and main's "Copy token" call it.
 */
export interface ProviderSetInput {
  clientId: string;
  clientSecret?: string | null;
  redirectUri?: string | null;
  authorizeUrl?: string | null;
  tokenUrl?: string | null;
  apiUrl?: string | null;
  /**
   * When accounts use this provider: `refuse` any change (the default, and all the window gets),
   * `keep-endpoints` lets the client id, secret and redirect URI change but no endpoint
   * (`tokentray provider set`), `replace` changes endpoints too and marks those accounts for
   * reconnection (`tokentray provider set … --replace`).
   */
  whenInUse?: 'refuse' | 'keep-endpoints' | 'replace';
}

export interface GenericProviderInput {
  name: string;
  issuer: string;
  clientId: string;
  clientSecret?: string | null;
  scopes?: string[];
  /** The redirect URI registered with the server, when it is not "any port on 127.0.0.1". */
  redirectUri?: string | null;
  /**
   * The RFC 7009 revocation endpoint, for a server whose discovery document names none (Django
   * OAuth Toolkit 1.7 serves /o/revoke_token/ but does not list it). CLI only, on the issuer's
   * own origin: the refresh token goes there at `disconnect`.
   */
  revocationUrl?: string | null;
  /**
   * Overwrite a provider of that name that accounts use, marking them for reconnection
   * (`tokentray provider add … --replace` only; the window can never pass it).
   */
  replace?: boolean;
}

export type ConnectPhase = 'waiting-for-browser' | 'exchanging-code' | 'verifying-identity' | 'stored';

export interface ConnectProgress {
  attemptId: string;
  provider: string;
  phase: ConnectPhase;
}

/** A browser sign-in in progress: the URL to open and the account it will yield. */
export interface ConnectAttempt {
  attemptId: string;
  provider: string;
  authorizeUrl: string;
  /** Where the browser will be sent back: a loopback URL, or null when only pasting works. */
  redirectUri: string | null;
  /** Resolves when the loopback callback (or a deep link / paste) completes the attempt. */
  result: Promise<AccountSummary>;
  cancel(): void;
}

export interface StartConnectOptions {
  label?: string;
  timeoutMs?: number;
  /** False when the redirect cannot reach a loopback listener (https redirect): paste only. */
  listen?: boolean;
}

export type AccountsListener = (accounts: AccountSummary[]) => void;
export type ProgressListener = (progress: ConnectProgress) => void;

export interface TaskFetchOptions {
  /** Serve the saved list without asking the provider. */
  offline?: boolean;
  /** "Refresh everything": walk the whole account (deletions, moves) instead of syncing what changed. */
  full?: boolean;
}

/** What a background sync did, without the list (TokentrayService.syncTasks). */
export interface SyncSummary {
  accountId: string;
  mode: 'full' | 'incremental';
  /** Tasks in the list now. */
  count: number;
  /** Tasks the provider sent. */
  received: number;
  fetchedAt: string;
  skipped: SkippedSource[];
}

export interface TokentrayService {
  listProviders(): Promise<ProviderSummary[]>;
  setProvider(provider: string, input: ProviderSetInput): Promise<ProviderSummary>;
  addGenericProvider(input: GenericProviderInput): Promise<ProviderSummary>;
  removeDemo(): Promise<void>;

  startConnect(provider: string, options?: StartConnectOptions): Promise<ConnectAttempt>;
  /** Completes a pending attempt (or, for a bare code, a fresh one) from a pasted URL / deep link / code. */
  completeConnectWithUrl(
    provider: string,
    redirectedUrl: string,
    options?: { label?: string },
  ): Promise<AccountSummary>;
  completeConnectWithCode(
    provider: string,
    code: string,
    options?: { host?: string; label?: string },
  ): Promise<AccountSummary>;
  connectWithToken(
    provider: string,
    token: string,
    options?: { label?: string; host?: string },
  ): Promise<AccountSummary>;
  /** Routes a tokentray:// deep link to the pending attempt it belongs to; false when none is pending. */
  handleDeepLink(url: string): Promise<boolean>;

  listAccounts(): Promise<AccountSummary[]>;
  inspect(account: string): Promise<TokenInspection>;
  /** When an account's token is due, from metadata alone (the background scheduler's question). */
  refreshPlan?(accountId: string): Promise<Pick<TokenInspection, 'refreshDueAt' | 'canRefresh'>>;
  refresh(account: string): Promise<AccountSummary>;
  disconnect(account: string): Promise<void>;
  getAccessToken(account: string, options?: { minValidSeconds?: number }): Promise<string>;
  /** `full`: walk the whole account ("Refresh everything") instead of syncing what changed. */
  tasks(account: string, options?: TaskFetchOptions): Promise<TaskList>;
  /** Brings the account's saved task list up to date without reading it whole (the tray's background sync). */
  syncTasks(account: string, options?: { full?: boolean }): Promise<SyncSummary>;

  onAccountsChanged(listener: AccountsListener): () => void;
  /** On a shared store: follow other machines' changes (they reach onAccountsChanged) and report reachability. */
  watchSharedStore?(onReachable?: (reachable: boolean) => void): () => void;
  /** The keychain, or the shared store and whether it answered last (as `watchSharedStore` follows it). */
  storageStatus(): StorageStatus;
  onStorageChanged(listener: (status: StorageStatus) => void): () => void;
  onConnectProgress(listener: ProgressListener): () => void;
  close(): Promise<void>;
}
