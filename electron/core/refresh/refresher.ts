import type { Clock } from '../clock';
import { TokentrayError } from '../errors';
import type { HttpClient } from '../http/client';
import { canRefresh } from '../accounts/account-status';
import type { AccountRepository, LoadedAccount } from '../accounts/account-repository';
import { jwtExpiry } from '../oauth/jwt';
import { exchangeToken } from '../oauth/token-exchange';
import type { ProviderRegistry } from '../providers/registry';
import type { StoredTokens, TokenResponse } from '../providers/types';
import type { AccountMeta } from '../vault/metadata';
import { fingerprintOf } from '../vault/vault';
import { withAccountLock } from './account-lock';
import { effectiveMinValidMs, needsRefresh } from './token-freshness';

export interface RefresherOptions {
  repo: AccountRepository;
  registry: ProviderRegistry;
  http: HttpClient;
  clock: Clock;
  locksDir: string;
  sleep?: (ms: number) => Promise<void>;
  onChange?: () => void;
}

const TRANSIENT = new Set(['PROVIDER_UNAVAILABLE', 'RATE_LIMITED']);

/** Expiry from a token response, measured on our own clock so a skewed provider clock does not matter. */
export function expiryFrom(response: TokenResponse, now: number): number | null {
  if (response.expiresInSeconds !== null) return now + response.expiresInSeconds * 1000;
  if (response.expiresAt !== null) return response.expiresAt;
  return jwtExpiry(response.accessToken);
}

/**
 * Gives out valid access tokens and refreshes them without ever spending a
 * refresh token twice: one refresh in flight per account in this process (a
 * promise map) and across processes (a lock file), and the stored token is
 * re-read after taking the lock so a refresh someone else just did is reused.
 */
export class Refresher {
  private readonly inflight = new Map<string, Promise<StoredTokens>>();
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly o: RefresherOptions) {
    this.sleep = o.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  /** A token valid for at least `minValidSeconds` (when the provider can make one), refreshing first if needed. */
  async getValidToken(accountId: string, minValidSeconds = 0): Promise<string> {
    const loaded = await this.o.repo.load(accountId);
    const provider = await this.o.registry.get(loaded.meta.provider);
    const now = this.o.clock.now();
    const tokens = loaded.secret.tokens;
    const minValidMs = effectiveMinValidMs(tokens, minValidSeconds);
    if (loaded.meta.state === 'reconnect') throw this.reconnectError(loaded.meta, provider.name);
    if (!needsRefresh(tokens, minValidMs, now)) return tokens.accessToken;
    const stillValid = tokens.expiresAt !== null && tokens.expiresAt - now > minValidMs;
    if (!canRefresh(loaded.meta, provider)) {
      if (stillValid) return tokens.accessToken;
      throw new TokentrayError(
        'RECONNECT_REQUIRED',
        tokens.expiresAt !== null && tokens.expiresAt <= now
          ? `The ${provider.name} token of "${loaded.meta.label}" has expired and ${provider.name} cannot refresh it; reconnect the account.`
          : `The ${provider.name} token of "${loaded.meta.label}" expires sooner than asked and ${provider.name} cannot refresh it; reconnect the account.`,
      );
    }
    try {
      const fresh = await this.refreshOnce(accountId, loaded, false, minValidMs);
      return fresh.accessToken;
    } catch (error) {
      // An early refresh that failed for a passing reason still leaves a usable token.
      if (error instanceof TokentrayError && TRANSIENT.has(error.code) && stillValid) return tokens.accessToken;
      throw error;
    }
  }

  /** Refreshes now (the user asked, or the scheduler found the token due). */
  async refresh(accountId: string): Promise<AccountMeta> {
    const loaded = await this.o.repo.load(accountId);
    const provider = await this.o.registry.get(loaded.meta.provider);
    if (!canRefresh(loaded.meta, provider)) {
      throw new TokentrayError(
        loaded.meta.personal ? 'USAGE' : 'RECONNECT_REQUIRED',
        loaded.meta.personal
          ? `"${loaded.meta.label}" uses a personal token, which ${provider.name} does not refresh; it stays valid until you revoke it.`
          : `${provider.name} issues no refresh token, so "${loaded.meta.label}" can only be renewed by connecting it again.`,
      );
    }
    await this.refreshOnce(accountId, loaded, true);
    return (await this.o.repo.load(accountId)).meta;
  }

  /**
   * The API refused `rejectedAccessToken` (401) although we believed it valid:
   * the provider revoked it early. One refresh, single-flight with
   * getValidToken (same promise map, same lock). If the stored token already
   * differs, someone refreshed meanwhile: that token is returned, no call made.
   * Accounts that cannot refresh get RECONNECT_REQUIRED.
   */
  async refreshAfterRejection(accountId: string, rejectedAccessToken: string): Promise<StoredTokens> {
    const loaded = await this.o.repo.load(accountId);
    const provider = await this.o.registry.get(loaded.meta.provider);
    if (loaded.secret.tokens.accessToken !== rejectedAccessToken) return loaded.secret.tokens;
    if (loaded.meta.state === 'reconnect') throw this.reconnectError(loaded.meta, provider.name);
    if (!canRefresh(loaded.meta, provider) || loaded.secret.tokens.refreshToken === null) {
      throw new TokentrayError(
        'RECONNECT_REQUIRED',
        `${provider.name} no longer accepts the token of "${loaded.meta.label}" and it cannot be refreshed; reconnect the account.`,
      );
    }
    // `force`: the token looks fresh by its expiry, but the provider said otherwise.
    return this.refreshOnce(accountId, loaded, true);
  }

  private refreshOnce(accountId: string, seen: LoadedAccount, force = false, minValidMs = 0): Promise<StoredTokens> {
    const running = this.inflight.get(accountId);
    if (running) return running;
    const seenFingerprint = fingerprintOf(seen.secret.tokens.accessToken);
    const job = withAccountLock(this.o.locksDir, accountId, () =>
      this.refreshLocked(accountId, seenFingerprint, force, minValidMs),
    ).finally(() => {
      this.inflight.delete(accountId);
    });
    this.inflight.set(accountId, job);
    return job;
  }

  private async refreshLocked(
    accountId: string,
    seenFingerprint: string,
    force: boolean,
    minValidMs: number,
  ): Promise<StoredTokens> {
    const { meta, secret } = await this.o.repo.load(accountId);
    const provider = await this.o.registry.get(meta.provider);
    const now = this.o.clock.now();
    // Someone (another process, or a refresh that finished while we waited) already did it.
    if (
      fingerprintOf(secret.tokens.accessToken) !== seenFingerprint &&
      !(secret.tokens.expiresAt !== null && secret.tokens.expiresAt <= now)
    ) {
      return secret.tokens;
    }
    if (!force && !needsRefresh(secret.tokens, minValidMs, now)) return secret.tokens;
    if (meta.state === 'reconnect') throw this.reconnectError(meta, provider.name);
    const refreshToken = secret.tokens.refreshToken;
    if (refreshToken === null) {
      // ClickUp and personal tokens never expire, TickTick's live for months: asking for a refresh
      // of a token that still works is answered with that token, not with "reconnect".
      if (secret.tokens.expiresAt === null || secret.tokens.expiresAt > now) return secret.tokens;
      throw new TokentrayError(
        'RECONNECT_REQUIRED',
        `"${meta.label}" has expired and ${provider.name} issues no refresh tokens; reconnect the account.`,
      );
    }

    const ctx = await this.o.registry.context(provider);
    let response: TokenResponse | undefined;
    for (let attempt = 0; response === undefined; attempt += 1) {
      try {
        response = await exchangeToken(
          this.o.http,
          provider,
          ctx,
          { kind: 'refresh_token', refreshToken, host: secret.tokens.host },
          this.o.clock.now(),
        );
      } catch (error) {
        const retryable = error instanceof TokentrayError && TRANSIENT.has(error.code);
        const wait =
          error instanceof TokentrayError && error.retryAfterSeconds !== undefined
            ? error.retryAfterSeconds * 1000
            : 400 * 3 ** attempt;
        if (retryable && attempt < 2 && wait <= 5_000) {
          await this.sleep(wait);
          continue;
        }
        await this.recordFailure(meta, error);
        throw error;
      }
    }
    const issuedAt = this.o.clock.now();
    const tokens: StoredTokens = {
      accessToken: response.accessToken,
      // Providers that do not rotate may omit the refresh token: the old one stays valid.
      refreshToken: response.refreshToken ?? refreshToken,
      tokenType: response.tokenType ?? secret.tokens.tokenType,
      expiresAt: expiryFrom(response, issuedAt),
      issuedAt,
      host: secret.tokens.host,
      personal: false,
    };
    const updated = this.o.repo.withHistory(
      {
        ...meta,
        scopes: response.scopes ?? meta.scopes,
        lastRefreshAt: issuedAt,
        state: 'ok',
        stateDetail: null,
        lastErrorCode: null,
      },
      { outcome: 'ok', code: null },
    );
    await this.o.repo.saveTokens(updated, { ...secret, tokens });
    this.o.onChange?.();
    return tokens;
  }

  private async recordFailure(meta: AccountMeta, error: unknown): Promise<void> {
    if (!(error instanceof TokentrayError)) return;
    let next = this.o.repo.withHistory(meta, { outcome: 'failed', code: error.code });
    if (error.code === 'RECONNECT_REQUIRED') {
      // Secrets stay in the keychain: the user may still want to inspect or disconnect.
      next = { ...next, state: 'reconnect', stateDetail: error.message, lastErrorCode: error.code };
    } else if (error.code === 'PROVIDER_CONFIG_INVALID') {
      next = { ...next, state: 'error', stateDetail: error.message, lastErrorCode: error.code };
    } else {
      next = { ...next, lastErrorCode: error.code };
    }
    await this.o.repo.saveMeta(next);
    this.o.onChange?.();
  }

  private reconnectError(meta: AccountMeta, providerName: string): TokentrayError {
    return new TokentrayError(
      'RECONNECT_REQUIRED',
      `${providerName} needs "${meta.label}" to be connected again (${meta.stateDetail ?? 'the grant was revoked'}); run \`tokentray connect ${meta.provider}\`.`,
    );
  }
}
