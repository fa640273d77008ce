import type { ConnectMethod, SkippedSource, Task, Workspace } from '../../shared/models';
import type { HttpClient, HttpResponse } from '../http/client';

/**
 * A provider is data plus a few small functions. Nothing outside this folder
 * switches on a provider's name; adding one means one file here and its
 * emulator in test/fakes/.
 */

/** The endpoints actually in force: the provider's defaults, overridden by `tokentray provider set`. */
export interface ProviderEndpoints {
  authorizeUrl: string;
  tokenUrl: string;
  apiUrl: string;
  revokeUrl: string | null;
  /** Generic OIDC: the issuer to check `iss` against. */
  issuer: string | null;
}

/** Non-secret provider configuration stored under the state directory. */
export interface ProviderConfig {
  provider: string;
  clientId: string;
  redirectUri: string | null;
  authorizeUrl: string | null;
  tokenUrl: string | null;
  apiUrl: string | null;
  /** Generic providers only. */
  generic: GenericProviderMetadata | null;
  hasClientSecret: boolean;
  updatedAt: string;
}

export interface GenericProviderMetadata {
  name: string;
  issuer: string;
  authorizationEndpoint: string;
  tokenEndpoint: string;
  revocationEndpoint: string | null;
  userinfoEndpoint: string | null;
  tokenEndpointAuthMethod: 'client_secret_basic' | 'client_secret_post' | 'none';
  scopes: string[];
  issParameterSupported: boolean;
  /**
   * The discovery document's id_token_signing_alg_values_supported: oauth4webapi expects RS256
   * without it, and refuses ES256, PS256 or EdDSA ID tokens. Absent in configurations written
   * before it was kept (then RS256, as before).
   */
  idTokenSigningAlgs?: string[];
  /** token_endpoint_auth_methods_supported, as discovered. */
  authMethodsSupported?: string[];
  /**
   * The discovery document's jwks_uri: ID token signatures are checked against its keys. Null when
   * the document names none; absent in configurations written before it was kept (then it is read
   * from the discovery document again when an ID token arrives).
   */
  jwksUri?: string | null;
}

/** What the provider context hands to a provider's functions. */
export interface ProviderContext {
  config: ProviderConfig;
  endpoints: ProviderEndpoints;
  clientSecret: string | null;
  redirectUri: string;
}

/** Parameters a callback (loopback, deep link or pasted URL) brought. */
export interface CallbackParams {
  code: string;
  state: string | null;
  /** amoCRM/Kommo: the account host the user picked. */
  referer: string | null;
  iss: string | null;
}

export type Grant =
  | {
      kind: 'authorization_code';
      code: string;
      codeVerifier: string | null;
      host: string | null;
      /** The nonce sent with an OpenID sign-in; the ID token must carry it. */
      nonce?: string | null;
    }
  | {
      kind: 'refresh_token';
      refreshToken: string;
      host: string | null;
      /** The access token being replaced: amoCRM reads its shared API domain from it (relocateAccount). */
      accessToken?: string;
      /** The account's login: a refreshed ID token must name the same one (OpenID Connect Core 1.0 §12.2). */
      subject?: string;
    };

export interface HttpRequestSpec {
  method: 'POST' | 'GET';
  url: string;
  headers: Record<string, string>;
  body: string | null;
}

/** Parsed token endpoint answer, before it is stored. */
export interface TokenResponse {
  accessToken: string;
  refreshToken: string | null;
  expiresInSeconds: number | null;
  /** Absolute expiry when the provider gives one instead of expires_in. */
  expiresAt: number | null;
  scopes: string[] | null;
  tokenType: string | null;
  /** The account host the tokens belong to now, when a refresh found the account moved (amoCRM). */
  host?: string;
  /** `sub` of the ID token in the answer, once its signature and claims were checked. */
  idTokenSubject?: string;
}

/**
 * How a failed token-endpoint answer is to be read. Only `reconnect` may mark
 * an account as needing a new consent.
 */
export type TokenErrorKind = 'reconnect' | 'client_config' | 'bad_code' | 'rate_limited' | 'unavailable';

export interface TokenErrorClassification {
  kind: TokenErrorKind;
  /** Provider text safe to show (the hint for amoCRM, error_description otherwise). */
  detail: string;
}

/** The secret part of an account as the vault stores it. */
export interface StoredTokens {
  accessToken: string;
  refreshToken: string | null;
  tokenType: string | null;
  /** ms epoch, null when the token does not expire. */
  expiresAt: number | null;
  issuedAt: number;
  /** The host an amoCRM/Kommo account lives on. */
  host: string | null;
  /** True for pasted personal/long-lived tokens. */
  personal: boolean;
}

export interface Identity {
  /** Stable id of the login at the provider; connecting it again updates the account. */
  subject: string;
  label: string;
  workspaces: Workspace[];
  /** Provider-specific, non-secret values the API calls need later (e.g. Basecamp hrefs). */
  extra: Record<string, string>;
}

export interface AccountContext extends ProviderContext {
  accountId: string;
  /**
   * `sub` of the verified ID token that came with these tokens, at connect: a userinfo answer must
   * name the same user (OpenID Connect Core 1.0 §5.3.2).
   */
  idTokenSubject?: string | null;
  tokens: StoredTokens;
  workspaces: Workspace[];
  extra: Record<string, string>;
  /**
   * This login's task list has been read in full before (a saved list exists): a provider may
   * read a refusal of it as passing rather than as a right never granted (amoCRM's 403).
   */
  tasksReadBefore?: boolean;
}

/** What an incremental sync starts from: the cursors the previous walk or sync left. */
export interface TaskSyncBase {
  cursors: Readonly<Record<string, string>>;
  /** When the base was last brought up to date (ms epoch). */
  fetchedAt: number;
  /**
   * The saved tasks of one resource, read from the base on demand (Basecamp re-reads a list whose
   * page changed and must learn which of its to-dos are gone). Streams the file; memory is the
   * tasks returned.
   */
  tasksWhere(predicate: (task: Task) => boolean): Promise<Task[]>;
}

/**
 * An incremental sync's answer. `complete: false` means the provider could not answer from these
 * cursors (one is missing or the server no longer honours it): the engine walks everything instead
 * and ignores the rest of the answer.
 */
export interface TaskSyncResult {
  /** Tasks created, changed, completed, reopened or moved since the base (whole tasks, as fetchTasks builds them). */
  upserts: Task[];
  /** Ids of tasks known to be gone (or moved out of this account's reach). */
  deletes: string[];
  /** The cursors to keep; keys not named are dropped. */
  cursors: Record<string, string>;
  complete: boolean;
}

export interface ApiPacing {
  rateKey: string;
  isRateLimited?: (res: HttpResponse) => boolean;
}

/**
 * An RFC 6749 token endpoint: requests and answers go through oauth4webapi
 * (oauth/standard-grant.ts); the provider only says how its client authenticates.
 */
export interface StandardTokenEndpoint {
  clientAuth: 'client_secret_basic' | 'client_secret_post' | 'none';
  /** Sent with every token request (TickTick asks for its scopes there). */
  scope?: string;
  /**
   * HTTP Basic credentials: `auto` sends the raw id and secret unless a decoding server would read
   * them differently (oauth/standard-grant.ts); `raw` always sends them as they are (TickTick).
   */
  basicEncoding?: 'auto' | 'raw';
}

/**
 * How a provider's token endpoint is spoken to: the standard way, or (amoCRM's JSON body and
 * account host, Basecamp's type=web_server, ClickUp's query string) with its own small hooks.
 */
export type TokenEndpointHooks =
  | { standardTokenEndpoint: StandardTokenEndpoint; buildTokenRequest?: undefined; parseTokenResponse?: undefined }
  | {
      standardTokenEndpoint?: undefined;
      buildTokenRequest(ctx: ProviderContext, grant: Grant): HttpRequestSpec;
      parseTokenResponse(body: unknown): TokenResponse;
    };

export type ProviderDefinition = ProviderBehaviour & TokenEndpointHooks;

export interface ProviderBehaviour {
  id: string;
  name: string;
  kind: 'builtin' | 'generic' | 'demo';
  defaults: Omit<ProviderEndpoints, 'issuer'> & { issuer?: string | null };
  /** Where the user creates an app to get a client id and secret. */
  registerUrl: string | null;
  /** Redirect the user should register when they have not chosen one. */
  defaultRedirectUri: string;
  /** May the loopback listener take any free port, or must it use the registered one? */
  ephemeralPortAllowed: boolean;
  methods: ConnectMethod[];
  pkce: boolean;
  scopes: string[];
  /** Whether a refresh token is issued at all. */
  refresh: 'rotating' | 'reusable' | 'none';
  /** Tokens that cannot be refreshed: warn this many seconds before expiry. */
  warnBeforeExpirySeconds: number;
  /** amoCRM/Kommo: a bare pasted code needs the account host. */
  needsHost: boolean;
  /** An account address to show in hints and placeholders when `needsHost` (amoCRM: example.amocrm.ru). */
  hostExample?: string;
  personalTokenHint: string | null;
  /** Requests per second this provider tolerates from one client. */
  requestsPerSecond: number;

  buildAuthorizeUrl(
    ctx: ProviderContext,
    p: { state: string; codeChallenge: string | null; nonce?: string | null },
  ): string;
  /**
   * Fills in what a successful token answer left out, from the provider's API (Basecamp: the
   * expiry from authorization.json when there is no expires_in). Optional; runs after every
   * code exchange and refresh.
   */
  completeTokenResponse?(http: HttpClient, ctx: ProviderContext, response: TokenResponse): Promise<TokenResponse>;
  classifyTokenError(status: number, body: unknown): TokenErrorClassification;
  /**
   * A refresh the account host refused: where the account lives now, or null. amoCRM moves an
   * account when its subdomain changes; the refresh is sent once more to the host this returns.
   */
  relocateAccount?(
    http: HttpClient,
    ctx: ProviderContext,
    grant: Extract<Grant, { kind: 'refresh_token' }>,
    refused: HttpResponse,
  ): Promise<string | null>;
  /**
   * Tokens that came without the account's address (a pasted token, an imported file): the
   * address the provider names for them, or null when it cannot say. amoCRM tokens name only its
   * shared API server, and every account has its own host.
   */
  locateAccount?(http: HttpClient, ctx: ProviderContext, tokens: StoredTokens): Promise<string | null>;
  /** The value of the Authorization header for API calls. */
  authorizationHeader(tokens: StoredTokens): string;
  /** The API base for this account (amoCRM: the account host unless overridden). */
  apiBase(ctx: ProviderContext, tokens: StoredTokens): string;
  identify(http: HttpClient, ctx: AccountContext): Promise<Identity>;
  /**
   * Every task of the account, a page at a time. A workspace or list the provider refuses on its
   * own (Basecamp's inactive account or deleted list, ClickUp's "Team not authorized") is reported
   * to `onSkip` and the walk goes on; only what ends the whole fetch is thrown.
   */
  fetchTasks(
    http: HttpClient,
    ctx: AccountContext,
    onProgress?: (count: number) => void,
    onSkip?: (skipped: SkippedSource) => void,
    /**
     * The full walk's cursors for the next incremental sync (`syncTasks`): a provider calls it
     * with a key per resource (a workspace, a list page) and what it will send next time to ask
     * "what changed since?". Only a walk that ends without throwing keeps them.
     */
    onCursor?: (key: string, value: string) => void,
  ): AsyncIterable<Task[]>;
  /**
   * What changed since the cursors a full walk or the last sync left, by the provider's documented
   * change feed (electron/core/tasks/task-sync.ts decides when to call it; providers without one,
   * such as TickTick, leave it undefined and every refresh walks). Deletions and moves out of
   * reach are not reported by these feeds: the engine reconciles them with a full walk at most
   * once a day and on "Refresh everything". A refused workspace or list goes to `onSkip` as in
   * `fetchTasks`. Nothing is saved unless this resolves: a throw leaves the previous list.
   */
  syncTasks?(
    http: HttpClient,
    ctx: AccountContext,
    base: TaskSyncBase,
    onSkip?: (skipped: SkippedSource) => void,
  ): Promise<TaskSyncResult>;
  /** Best effort; providers without revocation leave this undefined. */
  revoke?(http: HttpClient, ctx: AccountContext): Promise<void>;
  /**
   * How API calls for this account share the provider's rate limit (the key requests
   * are paced under) and which answers besides 429 mean "slow down". Without it:
   * one budget per account, 429 only. `tokentray api` uses it as the provider's own calls do.
   */
  apiPacing?(ctx: AccountContext): ApiPacing;
}
