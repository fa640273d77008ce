import type { IncomingMessage } from 'node:http';
import type { Clock } from '../clock';
import { findDemoUser, type DemoUser } from './demo-tasks';
import {
  DEMO_CLIENT_ID,
  DEMO_ISSUER,
  REFRESH_PREFIX,
  newId,
  readCode,
  readRefreshToken,
  sealOpaque,
  signAccessToken,
  verifierMatches,
  verifyAccessToken,
  type AccessClaims,
  type CodePayload,
  type RefreshPayload,
} from './demo-tokens';
import { HttpError, NO_STORE, oauthError, only, readForm, sendJson, type DemoRoute } from './demo-http';

/**
 * The demo's authorization server: the token endpoint (authorization code + PKCE S256 for a
 * public client, rotating refresh tokens), RFC 7009 revocation, and the bearer check the API
 * routes use. Tokens are stateless (demo-tokens.ts); what cannot be — revocations and spent
 * codes — is kept in this process's memory only, so another process's demo server still
 * accepts a token revoked here until it expires. Demo tokens grant nothing real.
 * A spent refresh token is not detected as reused (that needs shared state).
 */

const REFRESH_TOKEN_TTL_SECONDS = 30 * 86_400;

export interface DemoServerStats {
  tokenRequests: number;
  codeGrants: number;
  refreshGrants: number;
  apiRequests: number;
  revocations: number;
}

export class DemoAuthorizationServer {
  private readonly revokedAccess = new Map<string, number>(); // jti → exp
  private readonly revokedGrants = new Map<string, number>(); // gid → exp of the refresh token that named it
  private readonly usedCodes = new Map<string, number>(); // jti → exp

  constructor(
    private readonly clock: Clock,
    private readonly accessTokenTtlSeconds: number,
    readonly stats: DemoServerStats,
  ) {}

  nowSeconds(): number {
    return Math.floor(this.clock.now() / 1000);
  }

  /** /token and /revoke. */
  readonly routes: DemoRoute = async (req, res, url) => {
    if (url.pathname === '/token') {
      only(req, 'POST');
      sendJson(res, 200, this.token(await readForm(req)), NO_STORE);
      return true;
    }
    if (url.pathname === '/revoke') {
      only(req, 'POST');
      this.revoke(await readForm(req));
      res.writeHead(200, { ...NO_STORE, 'content-length': '0' });
      res.end();
      return true;
    }
    return false;
  };

  /** The API's bearer check: 401 with a WWW-Authenticate that says why, 403 without the tasks:read scope. */
  authenticate(req: IncomingMessage): { user: DemoUser; claims: AccessClaims } {
    const m = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
    const unauthorized = (description: string, withError = true): HttpError =>
      oauthError(401, 'invalid_token', description, {
        'www-authenticate': withError
          ? `Bearer realm="tokentray-demo", error="invalid_token", error_description="${description}"`
          : 'Bearer realm="tokentray-demo"',
      });
    if (!m) throw unauthorized('An access token is required.', false);
    const claims = verifyAccessToken(m[1]!);
    if (!claims) throw unauthorized('The access token is not one this server issued.');
    if (claims.exp <= this.nowSeconds()) throw unauthorized('The access token has expired.');
    if (this.revokedAccess.has(claims.jti)) throw unauthorized('The access token has been revoked.');
    const user = findDemoUser(claims.sub);
    if (!user) throw unauthorized('The demo user no longer exists.');
    if (!claims.scope.split(' ').includes('tasks:read')) {
      throw new HttpError(
        403,
        { error: 'insufficient_scope', error_description: 'The tasks:read scope is required.' },
        { 'www-authenticate': 'Bearer realm="tokentray-demo", error="insufficient_scope", scope="tasks:read"' },
      );
    }
    return { user, claims };
  }

  private token(form: URLSearchParams): Record<string, unknown> {
    this.stats.tokenRequests += 1;
    this.checkClient(form);
    const grantType = form.get('grant_type');
    if (grantType === 'authorization_code') {
      const payload = this.liveCode(form.get('code'));
      if (payload.client_id !== form.get('client_id')) {
        throw oauthError(400, 'invalid_grant', 'The authorization code was issued to another client.');
      }
      const redirectUri = form.get('redirect_uri');
      if (redirectUri === null) throw oauthError(400, 'invalid_request', 'redirect_uri is required.');
      if (redirectUri !== payload.redirect_uri) {
        throw oauthError(400, 'invalid_grant', 'redirect_uri does not match the one used at /authorize.');
      }
      const verifier = form.get('code_verifier');
      if (verifier === null || verifier === '') throw oauthError(400, 'invalid_request', 'code_verifier is required.');
      if (!verifierMatches(verifier, payload.code_challenge)) {
        throw oauthError(400, 'invalid_grant', 'The PKCE code_verifier does not match the code_challenge.');
      }
      this.remember(this.usedCodes, payload.jti, payload.exp);
      this.stats.codeGrants += 1;
      return this.issueTokens(payload.sub, payload.scope, newId(), 1);
    }
    if (grantType === 'refresh_token') {
      const payload = this.liveRefresh(form.get('refresh_token'));
      this.stats.refreshGrants += 1;
      return this.issueTokens(payload.sub, payload.scope, payload.gid, payload.gen + 1);
    }
    if (grantType === null || grantType === '') throw oauthError(400, 'invalid_request', 'grant_type is required.');
    throw oauthError(400, 'unsupported_grant_type', 'Use authorization_code or refresh_token.');
  }

  /** RFC 7009: 200 whether or not the token was valid, so it reveals nothing. */
  private revoke(form: URLSearchParams): void {
    this.checkClient(form);
    const token = form.get('token');
    if (token === null || token === '') throw oauthError(400, 'invalid_request', 'token is required.');
    this.stats.revocations += 1;
    const access = verifyAccessToken(token);
    if (access) {
      this.remember(this.revokedAccess, access.jti, access.exp);
      return;
    }
    const refresh = readRefreshToken(token);
    if (refresh) this.remember(this.revokedGrants, refresh.gid, refresh.exp);
  }

  private issueTokens(sub: string, scope: string, gid: string, gen: number): Record<string, unknown> {
    const iat = this.nowSeconds();
    const ttl = this.accessTokenTtlSeconds;
    const claims: AccessClaims = { iss: DEMO_ISSUER, sub, exp: iat + ttl, iat, scope, jti: newId() };
    const refresh: RefreshPayload = { sub, gid, gen, scope, iat, exp: iat + REFRESH_TOKEN_TTL_SECONDS };
    return {
      access_token: signAccessToken(claims),
      token_type: 'Bearer',
      expires_in: ttl,
      refresh_token: sealOpaque(REFRESH_PREFIX, 'refresh', { ...refresh, jti: newId(6) }),
      scope,
    };
  }

  private checkClient(form: URLSearchParams): void {
    const clientId = form.get('client_id');
    if (clientId === null || clientId === '') {
      throw oauthError(400, 'invalid_request', 'client_id is required (the demo client is public: no secret, PKCE).');
    }
    if (clientId !== DEMO_CLIENT_ID) {
      throw oauthError(401, 'invalid_client', `Unknown client; the demo client id is "${DEMO_CLIENT_ID}".`, {
        'www-authenticate': 'Basic realm="tokentray-demo"',
      });
    }
  }

  private liveRefresh(token: string | null): RefreshPayload {
    const payload = token ? readRefreshToken(token) : null;
    if (!payload) throw oauthError(400, 'invalid_grant', 'The refresh token is not one this server issued.');
    if (payload.exp <= this.nowSeconds()) throw oauthError(400, 'invalid_grant', 'The refresh token has expired.');
    if (this.revokedGrants.has(payload.gid))
      throw oauthError(400, 'invalid_grant', 'The refresh token has been revoked.');
    if (!findDemoUser(payload.sub)) throw oauthError(400, 'invalid_grant', 'The demo user no longer exists.');
    return payload;
  }

  private liveCode(code: string | null): CodePayload {
    const payload = code ? readCode(code) : null;
    if (!payload) throw oauthError(400, 'invalid_grant', 'The authorization code is not one this server issued.');
    if (payload.exp <= this.nowSeconds()) throw oauthError(400, 'invalid_grant', 'The authorization code has expired.');
    if (this.usedCodes.has(payload.jti)) {
      throw oauthError(400, 'invalid_grant', 'The authorization code has already been used.');
    }
    return payload;
  }

  private remember(map: Map<string, number>, key: string, exp: number): void {
    map.set(key, exp);
    if (map.size > 1000) {
      const now = this.nowSeconds();
      for (const [k, e] of map) if (e <= now) map.delete(k);
    }
  }
}
