import type { Clock } from '../clock';
import { TokenAnswerRejected, TokentrayError } from '../errors';
import type { HttpClient } from '../http/client';
import { REFRESH_RETRY, RETRYABLE_CODES, nextRetry } from '../http/retry-policy';
import { canRefresh } from '../accounts/account-status';
import type { AccountRepository, LoadedAccount } from '../accounts/account-repository';
import { pinnedAccountContext } from '../accounts/pinned-context';
import { jwtExpiry } from '../oauth/jwt';
import type { IdTokenVerifier } from '../oauth/id-token-signature';
import { exchangeToken } from '../oauth/token-exchange';
import type { ProviderRegistry } from '../providers/registry';
import type { StoredTokens, TokenResponse } from '../providers/types';
import type { AccountMeta } from '../vault/metadata';
import { fingerprintOf } from '../vault/vault';
import { holderMayBeAlive, thisProcess } from './account-lock';
import { fileAccountLocks, type AccountLocks } from './account-locks';
import { effectiveMinValidMs, needsRefresh } from './token-freshness';

export interface RefresherOptions {
  repo: AccountRepository;
  registry: ProviderRegistry;
  http: HttpClient;
  clock: Clock;
  locksDir: string;
  /** The account lock; lock files under `locksDir` unless a shared store brings its own. */
  locks?: AccountLocks;
  sleep?: (ms: number) => Promise<void>;
  onChange?: () => void;
  /** ID token signatures against the providers' keys; a per-process key cache without it. */
  idTokens?: IdTokenVerifier;
}

/** Pauses between keychain write attempts after the provider rotated the tokens (~7 s in all; account-lock.ts counts on it). */
const SAVE_RETRY_MS = [250, 1_000, 2_000, 4_000];

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
  /**
   * Rotated tokens the keychain refused to store. This process alone holds them: it keeps
   * serving them (the repository hands them to every reader), refreshes with them, and
   * stores them as soon as the keychain lets it.
   */
  private get unsaved(): Map<string, LoadedAccount> {
    return this.o.repo.unsaved;
  }
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly locks: AccountLocks;

  constructor(private readonly o: RefresherOptions) {
    this.sleep = o.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.locks = o.locks ?? fileAccountLocks(o.locksDir);
  }

  /** A token valid for at least `minValidSeconds` (when the provider can make one), refreshing first if needed. */
  async getValidToken(accountId: string, minValidSeconds = 0): Promise<string> {
    if (this.unsaved.has(accountId)) await this.storeUnsaved(accountId).catch(() => undefined);
    else {
      const early = await this.refreshIfDueByMetadata(accountId, minValidSeconds);
      if (early !== null) return early;
    }
    const loaded = this.unsaved.get(accountId) ?? (await this.loadExplained(accountId));
    if (loaded.meta.unsavedRotation && !this.unsaved.has(accountId)) {
      // Refused at once while the holder lives; once it is gone, settled under the lock.
      this.refuseUnsavedElsewhere(loaded.meta);
      await this.locks.withLock(accountId, async () =>
        this.checkUnsavedElsewhere((await this.o.repo.loadLocked(accountId)).meta),
      );
    }
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
      const fresh = await this.refreshOnce(accountId, loaded.meta.fingerprint, false, minValidMs);
      return fresh.accessToken;
    } catch (error) {
      // An early refresh that failed for a passing reason still leaves a usable token.
      if (error instanceof TokentrayError && RETRYABLE_CODES.has(error.code) && stillValid) return tokens.accessToken;
      throw error;
    }
  }

  /** Refreshes now (the user asked, or the scheduler found the token due). */
  async refresh(accountId: string): Promise<AccountMeta> {
    if (this.unsaved.has(accountId)) {
      // The tray's retry: storing what the provider already gave us is the refresh.
      await this.storeUnsaved(accountId);
      return (await this.o.repo.load(accountId)).meta;
    }
    // The decision needs metadata only; the keychain is read once, under the lock.
    const meta = (await this.o.repo.readMeta(accountId)) ?? (await this.loadExplained(accountId)).meta;
    this.refuseUnsavedElsewhere(meta);
    const provider = await this.o.registry.get(meta.provider);
    if (!canRefresh(meta, provider)) {
      throw new TokentrayError(
        meta.personal ? 'USAGE' : 'RECONNECT_REQUIRED',
        meta.personal
          ? `"${meta.label}" uses a personal token, which ${provider.name} does not refresh; it stays valid until you revoke it.`
          : `${provider.name} issues no refresh token, so "${meta.label}" can only be renewed by connecting it again.`,
      );
    }
    await this.refreshOnce(accountId, meta.fingerprint, true);
    // What the refresh just wrote (or found) is in the metadata file; no second keychain read.
    return (await this.o.repo.readMeta(accountId)) ?? (await this.o.repo.load(accountId)).meta;
  }

  /**
   * When the metadata alone says the token is due, go straight to the lock: the keychain is
   * read once, under it (the re-read the lock needs anyway), instead of once before and once
   * after. Null when the metadata cannot decide; the caller then reads the keychain.
   */
  private async refreshIfDueByMetadata(accountId: string, minValidSeconds: number): Promise<string | null> {
    const meta = await this.o.repo.readMeta(accountId);
    if (meta === null || meta.state !== 'ok' || meta.unsavedRotation || meta.issuedAt === null) return null;
    const timing = { expiresAt: meta.expiresAt, issuedAt: meta.issuedAt };
    const minValidMs = effectiveMinValidMs(timing, minValidSeconds);
    const now = this.o.clock.now();
    if (!needsRefresh(timing, minValidMs, now)) return null;
    const provider = await this.o.registry.get(meta.provider).catch(() => null);
    if (provider === null || !canRefresh(meta, provider)) return null;
    try {
      return (await this.refreshOnce(accountId, meta.fingerprint, false, minValidMs)).accessToken;
    } catch (error) {
      // An early refresh that failed for a passing reason still leaves a usable token.
      if (error instanceof TokentrayError && RETRYABLE_CODES.has(error.code) && meta.expiresAt !== null) {
        const { secret } = await this.o.repo.load(accountId);
        const left = secret.tokens.expiresAt === null ? Infinity : secret.tokens.expiresAt - this.o.clock.now();
        if (left > minValidMs) return secret.tokens.accessToken;
      }
      throw error;
    }
  }

  /**
   * The API refused `rejectedAccessToken` (401) although we believed it valid:
   * the provider revoked it early. One refresh, single-flight with
   * getValidToken (same promise map, same lock). If the stored token already
   * differs, someone refreshed meanwhile: that token is returned, no call made.
   * Accounts that cannot refresh get RECONNECT_REQUIRED.
   */
  async refreshAfterRejection(accountId: string, rejectedAccessToken: string): Promise<StoredTokens> {
    const loaded = this.unsaved.get(accountId) ?? (await this.loadExplained(accountId));
    const provider = await this.o.registry.get(loaded.meta.provider);
    if (loaded.secret.tokens.accessToken !== rejectedAccessToken) return loaded.secret.tokens;
    if (!this.unsaved.has(accountId)) this.refuseUnsavedElsewhere(loaded.meta);
    if (loaded.meta.state === 'reconnect') throw this.reconnectError(loaded.meta, provider.name);
    if (!canRefresh(loaded.meta, provider) || loaded.secret.tokens.refreshToken === null) {
      throw new TokentrayError(
        'RECONNECT_REQUIRED',
        `${provider.name} no longer accepts the token of "${loaded.meta.label}" and it cannot be refreshed; reconnect the account.`,
      );
    }
    // `force`: the token looks fresh by its expiry, but the provider said otherwise.
    return this.refreshOnce(accountId, fingerprintOf(rejectedAccessToken), true);
  }

  private refreshOnce(
    accountId: string,
    seenFingerprint: string,
    force = false,
    minValidMs = 0,
  ): Promise<StoredTokens> {
    const running = this.inflight.get(accountId);
    if (running) return running;
    const job = this.locks
      .withLock(accountId, () => this.refreshLocked(accountId, seenFingerprint, force, minValidMs))
      .finally(() => {
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
    const { meta, secret } = this.unsaved.get(accountId) ?? (await this.o.repo.loadLocked(accountId));
    const provider = await this.o.registry.get(meta.provider);
    const now = this.o.clock.now();
    if (!this.unsaved.has(accountId)) await this.checkUnsavedElsewhere(meta);
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

    // Checked against the account's pin: a changed token endpoint gets nothing.
    const { ctx, pin } = await pinnedAccountContext(this.o, provider, { meta, secret });
    let response: TokenResponse | undefined;
    for (let attempt = 0; response === undefined; attempt += 1) {
      try {
        response = await exchangeToken(
          this.o.http,
          provider,
          ctx,
          {
            kind: 'refresh_token',
            refreshToken,
            host: secret.tokens.host,
            accessToken: secret.tokens.accessToken,
            subject: secret.subject,
          },
          this.o.clock.now(),
          this.o.idTokens,
        );
      } catch (error) {
        if (error instanceof TokenAnswerRejected) {
          // The endpoint answered 2xx: this refresh token is spent, never to be sent again.
          await this.keepSalvaged(meta, secret, refreshToken, error, provider.name);
          throw error;
        }
        const retryable = error instanceof TokentrayError && RETRYABLE_CODES.has(error.code);
        const retryAfterMs =
          error instanceof TokentrayError && error.retryAfterSeconds !== undefined
            ? error.retryAfterSeconds * 1000
            : null;
        const next = nextRetry(REFRESH_RETRY, attempt, retryAfterMs);
        if (retryable && next.retry) {
          await this.sleep(next.waitMs);
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
      // A refresh that found the account moved (amoCRM's new subdomain) keeps its new home.
      host: response.host ?? secret.tokens.host,
      personal: false,
    };
    const updated = this.o.repo.withHistory(
      {
        ...meta,
        pin,
        scopes: response.scopes ?? meta.scopes,
        lastRefreshAt: issuedAt,
        state: 'ok',
        stateDetail: null,
        lastErrorCode: null,
      },
      { outcome: 'ok', code: null },
    );
    await this.persistRotated(updated, { ...secret, tokens }, tokens.refreshToken !== refreshToken, provider.name);
    this.o.onChange?.();
    return tokens;
  }

  /**
   * A 2xx refresh answer that failed validation: store the rotated refresh token it carried (the
   * old one is spent at a rotating server, and reuse detection would revoke the grant), keep the
   * old access token, and record the failure. Without a new refresh token the server did not
   * rotate, and the stored one stays.
   */
  private async keepSalvaged(
    meta: AccountMeta,
    secret: LoadedAccount['secret'],
    spent: string,
    error: TokenAnswerRejected,
    providerName: string,
  ): Promise<void> {
    const salvaged = error.salvagedRefreshToken;
    if (salvaged === null || salvaged === spent) {
      await this.recordFailure(meta, error);
      return;
    }
    const updated = this.o.repo.withHistory(
      { ...meta, lastErrorCode: error.code },
      { outcome: 'failed', code: error.code },
    );
    await this.persistRotated(
      updated,
      { ...secret, tokens: { ...secret.tokens, refreshToken: salvaged } },
      true,
      providerName,
    );
    this.o.onChange?.();
  }

  /**
   * Keychain first, metadata second, retried with backoff: the provider has already spent the
   * old refresh token, so these tokens are the account. If the keychain still refuses, they stay
   * in this process's memory and the metadata tells every other process not to spend the old
   * refresh token, until `storeUnsaved` (the tray's scheduler, or the next call) gets them in.
   */
  private async persistRotated(
    meta: AccountMeta,
    secret: LoadedAccount['secret'],
    rotated: boolean,
    providerName: string,
  ): Promise<void> {
    let failure: unknown;
    for (let attempt = 0; attempt <= SAVE_RETRY_MS.length; attempt += 1) {
      try {
        await this.o.repo.saveTokens({ ...meta, unsavedRotation: null }, secret);
        this.unsaved.delete(meta.id);
        return;
      } catch (error) {
        // Anything but the keychain (the metadata file, say) failed after the keychain took the
        // tokens: they are stored, and the next load repairs the metadata from them.
        if (!(error instanceof TokentrayError) || error.code !== 'KEYCHAIN_UNAVAILABLE') throw error;
        failure = error;
        if (attempt < SAVE_RETRY_MS.length) await this.sleep(SAVE_RETRY_MS[attempt]!);
      }
    }
    // Rotated now, or earlier by a refresh whose tokens are still only in memory: either way the
    // keychain's refresh token is spent.
    const spent = rotated || (this.unsaved.get(meta.id)?.meta.unsavedRotation ?? null) !== null;
    const mark = spent ? { ...thisProcess(), since: this.o.clock.now() } : null;
    // The in-memory copy carries the mark too, so a failure recorded from it cannot erase it.
    this.unsaved.set(meta.id, { meta: { ...meta, unsavedRotation: mark }, secret });
    const stored = await this.o.repo.readMeta(meta.id);
    if (mark && stored) {
      await this.o.repo
        .saveMeta({ ...stored, lastErrorCode: 'KEYCHAIN_UNAVAILABLE', unsavedRotation: mark })
        .catch(() => undefined);
    }
    const reason = failure instanceof Error ? failure.message : 'the keychain refused the write';
    throw new TokentrayError(
      'KEYCHAIN_UNAVAILABLE',
      `${providerName} issued new tokens for "${meta.label}", but the keychain would not store them: ${reason} ` +
        (spent
          ? 'This process keeps them in memory and stores them as soon as the keychain accepts; if it exits first, the account must be reconnected.'
          : 'The stored refresh token still works, so nothing is lost.'),
      { cause: failure },
    );
  }

  /** Tries once to store tokens that the keychain refused earlier; throws KEYCHAIN_UNAVAILABLE while it still refuses. */
  private async storeUnsaved(accountId: string): Promise<void> {
    await this.locks.withLock(accountId, async () => {
      const held = this.unsaved.get(accountId);
      if (!held) return;
      await this.o.repo.saveTokens({ ...held.meta, unsavedRotation: null }, held.secret);
      this.unsaved.delete(accountId);
    });
    this.o.onChange?.();
  }

  /** A keychain that cannot be read may be the one another process is waiting for: say so when it is. */
  private async loadExplained(accountId: string): Promise<LoadedAccount> {
    try {
      return await this.o.repo.load(accountId);
    } catch (error) {
      if (error instanceof TokentrayError && error.code === 'KEYCHAIN_UNAVAILABLE') {
        const meta = await this.o.repo.readMeta(accountId);
        if (meta) this.refuseUnsavedElsewhere(meta);
      }
      throw error;
    }
  }

  /** Outside the lock: a fast, clear refusal when another process holds this account's only tokens. */
  private refuseUnsavedElsewhere(meta: AccountMeta): void {
    const mark = meta.unsavedRotation;
    if (!mark || this.unsaved.has(meta.id)) return;
    if (holderMayBeAlive({ ...mark, startedAt: mark.since, nonce: '' }, this.o.clock.now())) {
      throw new TokentrayError(
        'KEYCHAIN_UNAVAILABLE',
        `Tokentray process ${mark.pid} refreshed "${meta.label}" but the keychain would not store the new tokens; it keeps retrying. Unlock the keychain, then try again.`,
      );
    }
  }

  /**
   * Under the lock: the same refusal, or, when the process that held the rotated tokens is
   * gone, the plain truth: the provider spent the stored refresh token, so only a reconnect helps.
   */
  private async checkUnsavedElsewhere(meta: AccountMeta): Promise<void> {
    const mark = meta.unsavedRotation;
    if (!mark) return;
    this.refuseUnsavedElsewhere(meta);
    const detail = `Tokentray process ${mark.pid} refreshed this account but ended before the keychain stored the new tokens`;
    await this.o.repo.saveMeta({
      ...meta,
      unsavedRotation: null,
      state: 'reconnect',
      stateDetail: detail,
      lastErrorCode: 'RECONNECT_REQUIRED',
    });
    this.o.onChange?.();
    throw new TokentrayError(
      'RECONNECT_REQUIRED',
      `${detail}; the provider no longer accepts the stored refresh token. Run \`tokentray connect ${meta.provider}\`.`,
    );
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
