import {
  TokenRejectedError,
  authorizationDigest,
  type ApiRequest,
  type HttpClient,
  type HttpResponse,
} from '../http/client';
import type { StoredTokens } from '../providers/types';

export interface TokenRecoveryOptions {
  tokens: StoredTokens;
  /** The provider's Authorization header for a set of tokens. */
  header(tokens: StoredTokens): string;
  /** Refreshes after the API refused `rejectedAccessToken` (Refresher.refreshAfterRejection). */
  recover(rejectedAccessToken: string): Promise<StoredTokens>;
  /**
   * The API base for a set of tokens, or null when unknown. A refresh that moved the account
   * (amoCRM: a new subdomain) changes it, and the retried and later requests go to the new base.
   */
  base?(tokens: StoredTokens): string | null;
}

/**
 * An HttpClient for one account's API calls that survives an access token the
 * provider revoked early (password change, admin action, a guessed expiry): on
 * the first 401 it asks for one refresh, then retries that request once with
 * the new token, and every later request carries the new token too. A second
 * 401, or an account that cannot refresh, surfaces as RECONNECT_REQUIRED.
 */
export function withTokenRecovery(http: HttpClient, o: TokenRecoveryOptions): HttpClient {
  const original = o.header(o.tokens);
  let current = o.tokens;
  let recovery: Promise<StoredTokens> | null = null;

  const originalBase = o.base?.(o.tokens) ?? null;

  const withHeader = (req: ApiRequest, value: string): ApiRequest => {
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers ?? {})) {
      // Only the account's own token is swapped; a request that carries another header keeps it.
      headers[k] = k.toLowerCase() === 'authorization' && v === original ? value : v;
    }
    const base = current === o.tokens ? null : (o.base?.(current) ?? null);
    const url =
      originalBase !== null && base !== null && base !== originalBase && req.url.startsWith(`${originalBase}/`)
        ? `${base}${req.url.slice(originalBase.length)}`
        : req.url;
    return { ...req, url, headers };
  };

  return {
    send: (req) => http.send(req),
    async api(req: ApiRequest): Promise<HttpResponse> {
      const sent = o.header(current);
      try {
        return await http.api(withHeader(req, sent));
      } catch (error) {
        if (
          !(error instanceof TokenRejectedError) ||
          error.rejectedAuthorization !== authorizationDigest(sent) ||
          recovery !== null
        ) {
          throw error;
        }
      }
      recovery ??= o.recover(current.accessToken);
      current = await recovery;
      return http.api(withHeader(req, o.header(current)));
    },
  };
}
