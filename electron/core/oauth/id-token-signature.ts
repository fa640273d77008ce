import { compactVerify, createLocalJWKSet, errors, type JSONWebKeySet } from 'jose';
import type { Clock } from '../clock';
import { safeDetail } from '../errors';
import { ResponseTooLargeError, type HttpClient } from '../http/client';
import type { CachedJwks, JwksStore } from './jwks-cache';
import { decodeJwt } from './jwt';

/**
 * ID token signatures, checked against the provider's published keys. oauth4webapi checks an ID
 * token's claims but not its signature when it comes from the token endpoint (it relies on TLS,
 * as OpenID Connect Core 1.0 §3.1.3.7 point 6 allows); Tokentray checks it anyway (point 6's
 * general rule, §3.1.3.7 points 6-8), so a proxy, a misconfigured server or a compromised
 * connection cannot hand over an identity the provider never signed. `jose` does the
 * cryptography and the key selection (kty, kid, alg, use, crv, RFC 7515 §4.1 / RFC 7517 §4).
 */

/** How long fetched keys are used without asking again; an unknown `kid` asks at once. */
export const JWKS_MAX_AGE_MS = 10 * 60_000;
/** A key set is a few KiB; a bigger answer is not one. */
const JWKS_MAX_BYTES = 512 * 1024;
const JWKS_TIMEOUT_MS = 15_000;

/**
 * An ID token whose signature could not be accepted. `keysUnavailable`: the keys could not be
 * fetched (an outage), rather than the token failing them. The message is one clause, safe to show.
 */
export class IdTokenSignatureError extends Error {
  constructor(
    message: string,
    readonly keysUnavailable = false,
  ) {
    super(message);
    this.name = 'IdTokenSignatureError';
  }
}

export interface IdTokenKeySource {
  /** The provider's `jwks_uri` (OpenID Connect Discovery 1.0 §3), or null when it published none. */
  jwksUri: string | null;
  /** The discovered `id_token_signing_alg_values_supported`; RS256 when the document gave none (§3). */
  algorithms: readonly string[];
  /** HS256/384/512 ID tokens are keyed with the client secret's octets (OpenID Connect Core 1.0 §10.1). */
  clientSecret: string | null;
}

export interface IdTokenVerifierOptions {
  http: HttpClient;
  store: JwksStore;
  clock: Clock;
  maxAgeMs?: number;
}

export class IdTokenVerifier {
  constructor(private readonly o: IdTokenVerifierOptions) {}

  /**
   * Resolves when `idToken` is signed by a key the provider publishes (or, for HS*, with the client
   * secret) with an algorithm its discovery document lists. Keys come from the cache while fresh;
   * a `kid` the cached set lacks means the provider rotated its keys (OpenID Connect Core 1.0
   * §10.1.1), so the set is fetched once more for this token, and only then is the token refused.
   */
  async verify(idToken: string, source: IdTokenKeySource): Promise<void> {
    const header = decodeJwt(idToken)?.header;
    if (!header) throw new IdTokenSignatureError('the ID token is not a signed JWT');
    const alg = header['alg'] as string;
    // RFC 7519 §6: an unsecured JWT. Never accepted from the token endpoint: anyone could write one.
    if (alg === 'none') throw new IdTokenSignatureError('the ID token is unsigned (alg "none")');
    if (!source.algorithms.includes(alg)) {
      throw new IdTokenSignatureError(
        `the ID token is signed with ${safeDetail(alg, 20)}, which the provider's discovery document does not list`,
      );
    }
    if (alg.startsWith('HS')) {
      if (source.clientSecret === null) {
        throw new IdTokenSignatureError(
          `the ID token is signed with ${safeDetail(alg, 20)}, which needs a client secret, and this provider has none`,
        );
      }
      await verifyOnce(idToken, new TextEncoder().encode(source.clientSecret), alg);
      return;
    }
    if (source.jwksUri === null) {
      throw new IdTokenSignatureError(
        "the provider publishes no signing keys (no jwks_uri) to check the ID token's signature",
      );
    }
    const uri = source.jwksUri;
    let keys = await this.o.store.read(uri);
    let fetched = false;
    const now = this.o.clock.now();
    const maxAge = this.o.maxAgeMs ?? JWKS_MAX_AGE_MS;
    if (keys === null || now - keys.fetchedAt >= maxAge || keys.fetchedAt > now) {
      keys = await this.fetch(uri);
      fetched = true;
    }
    for (;;) {
      try {
        await verifyOnce(idToken, createLocalJWKSet(keys.jwks as JSONWebKeySet), alg);
        return;
      } catch (error) {
        if (error instanceof errors.JWKSNoMatchingKey && !fetched) {
          keys = await this.fetch(uri);
          fetched = true;
          continue;
        }
        if (error instanceof errors.JWKSNoMatchingKey) {
          const kid = typeof header['kid'] === 'string' ? ` (kid ${safeDetail(header['kid'], 40)})` : '';
          throw new IdTokenSignatureError(`no key the provider publishes matches the ID token's signing key${kid}`);
        }
        if (error instanceof errors.JWKSMultipleMatchingKeys) {
          throw new IdTokenSignatureError(
            'the ID token names no signing key (kid) and the provider publishes several that could fit',
          );
        }
        throw error;
      }
    }
  }

  private async fetch(uri: string): Promise<CachedJwks> {
    const host = hostOf(uri);
    let res;
    try {
      res = await this.o.http.send({
        method: 'GET',
        url: uri,
        headers: { accept: 'application/jwk-set+json, application/json' },
        timeoutMs: JWKS_TIMEOUT_MS,
        maxBodyBytes: JWKS_MAX_BYTES,
      });
    } catch (error) {
      const why = error instanceof ResponseTooLargeError ? 'the answer is too large for a key set' : 'no answer';
      throw new IdTokenSignatureError(`the provider's signing keys could not be fetched from ${host} (${why})`, true);
    }
    if (res.status < 200 || res.status >= 300) {
      throw new IdTokenSignatureError(
        `the provider's signing keys at ${host} answered ${res.status}`,
        res.status >= 500 || res.status === 429,
      );
    }
    const body = res.body;
    const keys = body && typeof body === 'object' ? (body as { keys?: unknown }).keys : undefined;
    if (!Array.isArray(keys) || !keys.every((k) => k !== null && typeof k === 'object' && !Array.isArray(k))) {
      throw new IdTokenSignatureError(`the provider's signing keys at ${host} are not a JSON Web Key Set`);
    }
    // Only public members are kept: a set that carries private ones is the provider's mistake, not ours to store.
    const entry: CachedJwks = {
      jwks: { keys: (keys as Record<string, unknown>[]).map(publicMembers) },
      fetchedAt: this.o.clock.now(),
    };
    await this.o.store.write(uri, entry);
    return entry;
  }
}

/** RFC 7518 §6: the private parameters of RSA, EC and OKP keys, and a symmetric key's value. */
const PRIVATE_MEMBERS = new Set(['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k']);

function publicMembers(jwk: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(jwk).filter(([name]) => !PRIVATE_MEMBERS.has(name)));
}

async function verifyOnce(
  idToken: string,
  key: Uint8Array | ReturnType<typeof createLocalJWKSet>,
  alg: string,
): Promise<void> {
  try {
    await compactVerify(idToken, key as Parameters<typeof compactVerify>[1], { algorithms: [alg] });
  } catch (error) {
    if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) throw error;
    if (error instanceof errors.JWSSignatureVerificationFailed) {
      throw new IdTokenSignatureError("the ID token's signature does not match the provider's signing key");
    }
    const code = error instanceof errors.JOSEError ? error.code : 'an unreadable signature';
    throw new IdTokenSignatureError(`the ID token's signature could not be checked (${safeDetail(code, 60)})`);
  }
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return 'the provider';
  }
}
