import { randomUUID } from 'node:crypto';
import { OPENABLE_URLS_TEXT, isOpenableUrl } from '../../shared/endpoint-url';
import type { AccountSummary } from '../../shared/models';
import type { Clock } from '../clock';
import { endpointPinOf, pinDifferences } from '../accounts/endpoint-pin';
import { TokentrayError } from '../errors';
import type { HttpClient } from '../http/client';
import type { AccountRepository } from '../accounts/account-repository';
import { toSummary } from '../accounts/account-status';
import { isHostName, parseCallback, validateCallback } from '../oauth/callback';
import { jwtExpiry } from '../oauth/jwt';
import { newAuthorizationSecrets, statesEqual } from '../oauth/pkce';
import type { IdTokenVerifier } from '../oauth/id-token-signature';
import { exchangeToken } from '../oauth/token-exchange';
import { expiryFrom } from '../refresh/refresher';
import type { ProviderRegistry } from '../providers/registry';
import type { ProviderContext, ProviderDefinition, StoredTokens } from '../providers/types';
import type { PendingConnect, Vault } from '../vault/vault';
import type { TokenFile } from './token-file';
import { DEFAULT_CONNECT_TIMEOUT_MS, startLoopbackListener, type LoopbackListener } from './loopback';
import type { ConnectAttempt, ConnectPhase, StartConnectOptions } from '../service-api';

/** How long a sign-in started for pasting stays redeemable (amoCRM codes live 20 minutes). */
const PASTE_WINDOW_MS = 20 * 60_000;

interface LiveAttempt {
  pending: PendingConnect;
  listener: LoopbackListener<AccountSummary> | null;
  resolve(summary: AccountSummary): void;
  reject(error: unknown): void;
  timer: NodeJS.Timeout | null;
}

export interface ConnectServiceOptions {
  registry: ProviderRegistry;
  repo: AccountRepository;
  vault: Vault;
  http: HttpClient;
  clock: Clock;
  onProgress(attemptId: string, provider: string, phase: ConnectPhase): void;
  onChange(): void;
  /** ID token signatures against the providers' keys; a per-process key cache without it. */
  idTokens?: IdTokenVerifier;
}

/**
 * The account address for tokens that came without one, asked of the provider. A lookup that
 * fails leaves it unknown, and the identity call then asks the user for --host.
 */
async function locateHost(
  http: HttpClient,
  provider: ProviderDefinition,
  ctx: ProviderContext,
  tokens: StoredTokens,
): Promise<string | null> {
  if (!provider.locateAccount) return null;
  try {
    return await provider.locateAccount(http, ctx, tokens);
  } catch {
    return null;
  }
}

/** A redirect URI the loopback listener can serve: http on 127.0.0.1 or localhost. */
function loopbackTarget(redirectUri: string): { host: string; port: number | null; path: string } | null {
  let url: URL;
  try {
    url = new URL(redirectUri);
  } catch {
    return null;
  }
  if (url.protocol !== 'http:' || (url.hostname !== '127.0.0.1' && url.hostname !== 'localhost')) return null;
  return { host: url.hostname, port: url.port === '' ? null : Number(url.port), path: url.pathname || '/' };
}

/**
 * Connecting accounts: browser sign-in through the loopback listener, a
 * tokentray:// deep link or a pasted redirect URL / code, and personal tokens.
 * Every path ends in the same place: tokens exchanged, the login identified
 * with one call, then stored (keychain first).
 */
export class ConnectService {
  private readonly attempts = new Map<string, LiveAttempt>();

  constructor(private readonly o: ConnectServiceOptions) {}

  async start(providerId: string, options: StartConnectOptions = {}): Promise<ConnectAttempt> {
    const provider = await this.o.registry.get(providerId);
    if (!provider.methods.includes('loopback') && !provider.methods.includes('paste')) {
      throw new TokentrayError(
        'USAGE',
        `${provider.name} connects with a personal token only; use \`tokentray connect ${provider.id} --token-stdin\`.`,
      );
    }
    const ctx = await this.o.registry.context(provider);
    // One sign-in per provider at a time: a new one replaces the old.
    for (const [id, live] of this.attempts) if (live.pending.provider === provider.id) this.cancel(id);

    const timeoutMs = options.timeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    const { state, codeVerifier, codeChallenge, nonce } = await newAuthorizationSecrets(provider.pkce);
    const attemptId = randomUUID();
    const target =
      provider.methods.includes('loopback') && options.listen !== false ? loopbackTarget(ctx.redirectUri) : null;
    let redirectUri = ctx.redirectUri;
    let resolve!: (s: AccountSummary) => void;
    let reject!: (e: unknown) => void;
    const result = new Promise<AccountSummary>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    result.catch(() => undefined);
    const pending: PendingConnect = {
      attemptId,
      provider: provider.id,
      state,
      codeVerifier,
      nonce,
      redirectUri,
      label: options.label ?? null,
      expiresAt: this.o.clock.now() + Math.max(timeoutMs, PASTE_WINDOW_MS),
      pin: endpointPinOf(provider, ctx),
    };
    const live: LiveAttempt = { pending, listener: null, resolve, reject, timer: null };

    if (target) {
      if (target.port === null && !provider.ephemeralPortAllowed) {
        throw new TokentrayError(
          'PROVIDER_CONFIG_INVALID',
          `${provider.name} only redirects to the exact registered URI, which needs a port; set one with \`tokentray provider set ${provider.id} --redirect-uri http://127.0.0.1:PORT${target.path}\`.`,
        );
      }
      const listener = await startLoopbackListener<AccountSummary>({
        port: target.port ?? 0,
        path: target.path,
        expectedState: state,
        timeoutMs,
        // A `localhost` redirect may reach [::1]: hold that address too (RFC 8252 §8.3).
        bindIpv6Loopback: target.host === 'localhost',
        complete: (params) => this.completeFromParams(live, params),
        describe: (summary) => `${summary.providerName}: ${summary.label} is now connected.`,
      });
      redirectUri = `http://${target.host}:${listener.port}${target.path}`;
      pending.redirectUri = redirectUri;
      live.listener = listener;
      listener.result.then(resolve, reject).finally(() => this.forget(attemptId));
    } else {
      live.timer = setTimeout(() => {
        reject(
          new TokentrayError(
            'CONNECT_TIMEOUT',
            `No sign-in arrived within ${Math.round(timeoutMs / 1000)} seconds; start connecting again when you are ready.`,
          ),
        );
        this.forget(attemptId);
      }, timeoutMs);
      live.timer.unref?.();
    }
    const authorizeUrl = provider.buildAuthorizeUrl({ ...ctx, redirectUri }, { state, codeChallenge, nonce });
    // Whoever opens it (window, tray, CLI) hands it to the OS opener: the one rule for opened URLs holds here first.
    if (!isOpenableUrl(authorizeUrl)) {
      live.listener?.close();
      if (live.timer) clearTimeout(live.timer);
      throw new TokentrayError(
        'PROVIDER_CONFIG_INVALID',
        `${provider.name}'s sign-in address is not one Tokentray opens (only ${OPENABLE_URLS_TEXT}); set the provider up again.`,
      );
    }
    // Kept in the keychain so a later `connect --redirected-url` (another process) can finish it.
    try {
      await this.o.vault.writePending(pending);
    } catch (error) {
      // No keychain (a server without a Secret Service): the sign-in could never be finished, so
      // nothing started for it may outlive this error (a listener left open kept the CLI for 5 minutes).
      live.listener?.close();
      if (live.timer) clearTimeout(live.timer);
      throw error;
    }
    this.attempts.set(attemptId, live);
    this.o.onProgress(attemptId, provider.id, 'waiting-for-browser');
    return {
      attemptId,
      provider: provider.id,
      authorizeUrl,
      redirectUri: target ? redirectUri : null,
      result,
      cancel: () => this.cancel(attemptId),
    };
  }

  cancel(attemptId: string): void {
    const live = this.attempts.get(attemptId);
    if (!live) return;
    if (live.listener) live.listener.close();
    else live.reject(new TokentrayError('CONNECT_CANCELLED', 'Connecting was cancelled.'));
    this.forget(attemptId);
  }

  private forget(attemptId: string): void {
    const live = this.attempts.get(attemptId);
    if (!live) return;
    if (live.timer) clearTimeout(live.timer);
    this.attempts.delete(attemptId);
  }

  private async completeFromParams(live: LiveAttempt, params: URLSearchParams): Promise<AccountSummary> {
    const provider = await this.o.registry.get(live.pending.provider);
    const ctx = await this.o.registry.context(provider);
    const callback = validateCallback(params, {
      state: live.pending.state,
      issuer: ctx.endpoints.issuer,
      issRequired: ctx.config.generic?.issParameterSupported ?? false,
    });
    try {
      return await this.finish(provider, { ...ctx, redirectUri: live.pending.redirectUri }, live.pending, {
        code: callback.code,
        codeVerifier: live.pending.codeVerifier,
        host: callback.referer,
        label: live.pending.label,
      });
    } finally {
      // The code went to the token endpoint: whatever its answer, this sign-in cannot be finished
      // again, so a refused one (an ID token that failed its checks) leaves nothing in the keychain.
      await this.o.vault.deletePending(provider.id).catch(() => undefined);
    }
  }

  /** A deep link (tokentray://…) for whichever attempt is waiting; false when none is. */
  async handleDeepLink(url: string): Promise<boolean> {
    let params: URLSearchParams;
    try {
      params = parseCallback(url);
    } catch {
      return false;
    }
    // Like the loopback listener: a link that does not carry an attempt's state exactly once is
    // ignored before anything else is checked, so a stray or hostile link cannot end a sign-in.
    const states = params.getAll('state');
    if (states.length !== 1) return false;
    const state = states[0]!;
    for (const live of this.attempts.values()) {
      if (live.listener !== null || !statesEqual(live.pending.state, state)) continue;
      this.completeFromParams(live, params).then(live.resolve, live.reject);
      this.forget(live.pending.attemptId);
      return true;
    }
    return false;
  }

  /** The paste flow: the full URL the browser landed on. */
  async completeWithUrl(providerId: string, redirectedUrl: string, label?: string): Promise<AccountSummary> {
    const provider = await this.o.registry.get(providerId);
    const params = parseCallback(redirectedUrl);
    const live = [...this.attempts.values()].find((a) => a.pending.provider === provider.id);
    const pending = live?.pending ?? (await this.o.vault.readPending(provider.id));
    if (!pending || pending.expiresAt < this.o.clock.now()) {
      throw new TokentrayError(
        'STATE_MISMATCH',
        `No ${provider.name} sign-in is in progress (or it expired); run \`tokentray connect ${provider.id} --no-browser\`, open the URL it prints, then paste the address you land on.`,
      );
    }
    const ctx = await this.o.registry.context(provider);
    const callback = validateCallback(params, {
      state: pending.state,
      issuer: ctx.endpoints.issuer,
      issRequired: ctx.config.generic?.issParameterSupported ?? false,
    });
    const summary = await this.finish(provider, { ...ctx, redirectUri: pending.redirectUri }, pending, {
      code: callback.code,
      codeVerifier: pending.codeVerifier,
      host: callback.referer,
      label: label ?? pending.label,
    });
    await this.o.vault.deletePending(provider.id).catch(() => undefined);
    if (live) {
      live.listener?.close();
      live.resolve(summary);
      this.forget(live.pending.attemptId);
    }
    return summary;
  }

  /** The paste flow with a bare code (amoCRM/Kommo show one in the integration settings). */
  async completeWithCode(
    providerId: string,
    code: string,
    host: string | undefined,
    label?: string,
  ): Promise<AccountSummary> {
    const provider = await this.o.registry.get(providerId);
    if (!provider.methods.includes('paste'))
      throw new TokentrayError('USAGE', `${provider.name} does not support pasting a code.`);
    const trimmed = code.trim();
    if (trimmed === '' || trimmed.length > 4096 || !/^[\x21-\x7e]+$/.test(trimmed)) {
      throw new TokentrayError(
        'CALLBACK_INVALID',
        'That does not look like an authorization code; copy the code again (it has no spaces).',
      );
    }
    const cleanHost = host
      ?.trim()
      .replace(/^https?:\/\//, '')
      .replace(/\/.*$/, '');
    if (provider.needsHost && !cleanHost) {
      throw new TokentrayError(
        'USAGE',
        `${provider.name} codes belong to one account: add --host with the account's address, e.g. ${provider.hostExample ?? 'example.com'}.`,
      );
    }
    if (cleanHost !== undefined && !isHostName(cleanHost)) {
      throw new TokentrayError(
        'USAGE',
        `"${cleanHost.slice(0, 80)}" is not a host name; give the account's address such as ${provider.hostExample ?? 'example.com'}.`,
      );
    }
    const ctx = await this.o.registry.context(provider);
    const pending = await this.o.vault.readPending(provider.id);
    const usable = pending && pending.expiresAt >= this.o.clock.now() ? pending : null;
    return this.finish(provider, { ...ctx, redirectUri: usable?.redirectUri ?? ctx.redirectUri }, usable, {
      code: trimmed,
      codeVerifier: usable?.codeVerifier ?? null,
      host: cleanHost ?? null,
      label: label ?? null,
    });
  }

  /** Personal / long-lived tokens: verified with one identity call before anything is stored. */
  async connectWithToken(
    providerId: string,
    token: string,
    options: { label?: string; host?: string },
  ): Promise<AccountSummary> {
    const provider = await this.o.registry.get(providerId);
    if (!provider.methods.includes('token')) {
      throw new TokentrayError(
        'USAGE',
        `${provider.name} has no personal tokens; connect with the browser instead (\`tokentray connect ${provider.id}\`).`,
      );
    }
    const trimmed = token.trim();
    if (trimmed === '' || /\s/.test(trimmed) || trimmed.length > 65_536) {
      throw new TokentrayError(
        'TOKEN_INVALID',
        `That does not look like a ${provider.name} token (empty, or it contains spaces); copy it again.`,
      );
    }
    const ctx = await this.o.registry.context(provider, { requireClient: false });
    const now = this.o.clock.now();
    const tokens: StoredTokens = {
      accessToken: trimmed,
      refreshToken: null,
      tokenType: null,
      expiresAt: jwtExpiry(trimmed),
      issuedAt: now,
      host: options.host?.trim() || null,
      personal: true,
    };
    if (tokens.expiresAt !== null && tokens.expiresAt <= now) {
      throw new TokentrayError('TOKEN_INVALID', `That ${provider.name} token has already expired; create a new one.`);
    }
    tokens.host ??= await locateHost(this.o.http, provider, ctx, tokens);
    const identity = await identifyOrRefuse(
      this.o.http,
      provider,
      ctx,
      tokens,
      `${provider.name} rejected that token; check that you copied all of it and that it has not been revoked.`,
    );
    const meta = await this.o.repo.upsertFromIdentity({
      provider: provider.id,
      pin: endpointPinOf(provider, ctx),
      identity,
      tokens,
      scopes: [],
      label: options.label ?? null,
    });
    this.o.onChange();
    return toSummary(meta, provider, this.o.clock.now());
  }

  /**
   * `tokentray import`: tokens an older tool obtained (a cron job's file, a library's
   * cache), verified with one identity call and stored like a connected account.
   * The provider must be set up: from now on Tokentray refreshes (or reconnects) it.
   */
  async importTokens(
    providerId: string,
    file: TokenFile,
    options: { label?: string; host?: string; issuedAt: number },
  ): Promise<AccountSummary> {
    const provider = await this.o.registry.get(providerId);
    if (provider.kind === 'demo') throw new TokentrayError('USAGE', 'The demo provider has no token files to import.');
    const host = options.host?.trim() || file.host;
    if (host !== null && !isHostName(host)) {
      throw new TokentrayError(
        'USAGE',
        `"${host.slice(0, 80)}" is not a host name; give the account's address such as ${provider.hostExample ?? 'example.com'}.`,
      );
    }
    const ctx = await this.o.registry.context(provider);
    const now = this.o.clock.now();
    if (file.expiresAt !== null && file.expiresAt <= now) {
      throw new TokentrayError(
        'TOKEN_INVALID',
        `The access token in that file expired on ${new Date(file.expiresAt).toISOString()}; nothing was stored. ${
          file.refreshToken
            ? 'Let the old job refresh it once more and import the new file at once, or connect again with `tokentray connect ' +
              provider.id +
              '`.'
            : `Connect again with \`tokentray connect ${provider.id}\`.`
        }`,
      );
    }
    const tokens: StoredTokens = {
      accessToken: file.accessToken,
      refreshToken: provider.refresh === 'none' ? null : file.refreshToken,
      tokenType: file.tokenType,
      expiresAt: file.expiresAt,
      issuedAt: Math.min(options.issuedAt, now),
      host,
      personal: false,
    };
    tokens.host ??= await locateHost(this.o.http, provider, ctx, tokens);
    const identity = await identifyOrRefuse(
      this.o.http,
      provider,
      ctx,
      tokens,
      `${provider.name} rejected the token in that file (revoked or expired); nothing was stored. Connect again with \`tokentray connect ${provider.id}\`.`,
    );
    const meta = await this.o.repo.upsertFromIdentity({
      provider: provider.id,
      pin: endpointPinOf(provider, ctx),
      identity,
      tokens,
      scopes: file.scopes ?? provider.scopes,
      label: options.label ?? null,
    });
    this.o.onChange();
    return toSummary(meta, provider, this.o.clock.now());
  }

  private async finish(
    provider: ProviderDefinition,
    ctx: ProviderContext,
    pending: PendingConnect | null,
    p: { code: string; codeVerifier: string | null; host: string | null; label: string | null },
  ): Promise<AccountSummary> {
    const attemptId = pending?.attemptId ?? 'paste';
    // A provider replaced while the user was signing in must not receive the code meant for the old one.
    const now = endpointPinOf(provider, ctx);
    if (pending?.pin && now && pinDifferences(pending.pin, now).length > 0) {
      throw new TokentrayError(
        'CONNECT_CANCELLED',
        `The settings of ${provider.name} changed while you were signing in, so the sign-in was not finished and nothing was sent; start connecting again.`,
      );
    }
    this.o.onProgress(attemptId, provider.id, 'exchanging-code');
    const response = await exchangeToken(
      this.o.http,
      provider,
      ctx,
      {
        kind: 'authorization_code',
        code: p.code,
        codeVerifier: p.codeVerifier,
        host: p.host,
        nonce: pending?.nonce ?? null,
      },
      this.o.clock.now(),
      this.o.idTokens,
    );
    const issuedAt = this.o.clock.now();
    const tokens: StoredTokens = {
      accessToken: response.accessToken,
      refreshToken: response.refreshToken,
      tokenType: response.tokenType,
      expiresAt: expiryFrom(response, issuedAt),
      issuedAt,
      host: p.host,
      personal: false,
    };
    this.o.onProgress(attemptId, provider.id, 'verifying-identity');
    const identity = await provider.identify(this.o.http, {
      ...ctx,
      accountId: 'new',
      tokens,
      workspaces: [],
      extra: {},
      idTokenSubject: response.idTokenSubject ?? null,
    });
    const meta = await this.o.repo.upsertFromIdentity({
      provider: provider.id,
      pin: endpointPinOf(provider, ctx),
      identity,
      tokens,
      scopes: response.scopes ?? provider.scopes,
      label: p.label,
    });
    this.o.onProgress(attemptId, provider.id, 'stored');
    this.o.onChange();
    return toSummary(meta, provider, this.o.clock.now());
  }

  closeAll(): void {
    for (const id of [...this.attempts.keys()]) this.cancel(id);
  }
}

/** Checks a token the user handed over (pasted or imported): a provider that refuses it means a bad token, not a lost grant. */
async function identifyOrRefuse(
  http: HttpClient,
  provider: ProviderDefinition,
  ctx: ProviderContext,
  tokens: StoredTokens,
  refusal: string,
): ReturnType<ProviderDefinition['identify']> {
  try {
    return await provider.identify(http, { ...ctx, accountId: 'new', tokens, workspaces: [], extra: {} });
  } catch (error) {
    if (error instanceof TokentrayError && error.code === 'RECONNECT_REQUIRED')
      throw new TokentrayError('TOKEN_INVALID', refusal);
    throw error;
  }
}
