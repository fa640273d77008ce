import { TokenAnswerRejected, refreshTokenOf, safeDetail } from '../errors';
import type { ProviderContext, TokenErrorClassification, TokenResponse } from '../providers/types';

/**
 * PKCE S256 (RFC 7636 §4.3) on an authorization URL. RFC 9700 §2.1.1 asks clients to send it to
 * every server; one that does not support PKCE ignores the unknown parameters (RFC 6749 §3.1:
 * "The authorization server MUST ignore unrecognized request parameters").
 */
export function addPkceChallenge(url: URL, codeChallenge: string | null): URL {
  if (codeChallenge) {
    url.searchParams.set('code_challenge', codeChallenge);
    url.searchParams.set('code_challenge_method', 'S256');
  }
  return url;
}

/** RFC 6749 §4.1.1 authorization request, with PKCE S256 (RFC 7636) when a challenge is given. */
export function standardAuthorizeUrl(
  ctx: ProviderContext,
  p: { state: string; codeChallenge: string | null; nonce?: string | null },
  scopes: readonly string[],
): URL {
  const url = new URL(ctx.endpoints.authorizeUrl);
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('client_id', ctx.config.clientId);
  url.searchParams.set('redirect_uri', ctx.redirectUri);
  url.searchParams.set('scope', scopes.join(' '));
  url.searchParams.set('state', p.state);
  // OpenID Connect Core 1.0 §3.1.2.1: a nonce ties the ID token to this sign-in (§3.1.3.7 checks it).
  // Glewlwyd refuses an openid request without one ("nonce required").
  if (p.nonce && scopes.includes('openid')) url.searchParams.set('nonce', p.nonce);
  return addPkceChallenge(url, p.codeChallenge);
}

function str(o: Record<string, unknown>, key: string): string | null {
  const v = o[key];
  return typeof v === 'string' && v !== '' ? v : null;
}

/** An RFC 6749 §5.1 answer, read by hand for providers whose token request is not standard (amoCRM). */
export function parseStandardTokenResponse(body: unknown): TokenResponse {
  if (!body || typeof body !== 'object') {
    throw new TokenAnswerRejected(
      'The provider answered the token request with something that is not JSON; try again later.',
      null,
    );
  }
  const o = body as Record<string, unknown>;
  const accessToken = str(o, 'access_token');
  if (!accessToken) {
    throw new TokenAnswerRejected(
      'The provider answered the token request without an access token; Tokentray kept any new refresh token it sent, so try again later.',
      refreshTokenOf(body),
    );
  }
  const rawExpires = o['expires_in'];
  const expiresIn =
    typeof rawExpires === 'number'
      ? rawExpires
      : typeof rawExpires === 'string' && /^\d+$/.test(rawExpires)
        ? Number(rawExpires)
        : null;
  const scope = str(o, 'scope');
  return {
    accessToken,
    refreshToken: str(o, 'refresh_token'),
    expiresInSeconds: expiresIn !== null && expiresIn > 0 ? expiresIn : null,
    expiresAt: null,
    scopes: scope ? scope.split(/[\s,]+/).filter(Boolean) : null,
    tokenType: str(o, 'token_type'),
  };
}

/** RFC 6749 §5.2: only invalid_grant means the grant itself is dead. */
export function classifyStandardTokenError(status: number, body: unknown): TokenErrorClassification {
  const o = body && typeof body === 'object' ? (body as Record<string, unknown>) : {};
  const error = typeof o['error'] === 'string' ? o['error'] : '';
  const detail = safeDetail(o['error_description'] ?? error ?? '');
  if (status === 429) return { kind: 'rate_limited', detail };
  if (status >= 500) return { kind: 'unavailable', detail };
  if (error === 'invalid_grant') return { kind: 'reconnect', detail: detail || 'invalid_grant' };
  // A bare 400 names no client problem: Glewlwyd answers a revoked or unknown refresh token so,
  // with no body at all. Only invalid_client / unauthorized_client (or a 401) mean the app's setup.
  if (status === 400 && error === '') return { kind: 'reconnect', detail: 'the token endpoint refused it' };
  if (error === 'invalid_client' || error === 'unauthorized_client' || status === 401)
    return { kind: 'client_config', detail: detail || error };
  return { kind: 'bad_code', detail: detail || error || `HTTP ${status}` };
}
