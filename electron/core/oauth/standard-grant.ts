import * as oauth from 'oauth4webapi';
import { isLoopbackHostname } from '../../shared/endpoint-url';
import { TokenAnswerRejected, refreshTokenOf, safeDetail } from '../errors';
import type { HttpClient, HttpResponse } from '../http/client';
import type { Grant, ProviderContext, StandardTokenEndpoint, TokenResponse } from '../providers/types';
import { IdTokenSignatureError, IdTokenVerifier, type IdTokenKeySource } from './id-token-signature';
import { MemoryJwksStore } from './jwks-cache';

/**
 * Token requests of providers that follow RFC 6749 (generic OIDC, the demo, TickTick) go through
 * oauth4webapi: it builds the grant request (client authentication included), and it validates
 * a successful answer (token_type, expires_in, and an OpenID Connect ID Token's issuer, audience
 * and times). Tokentray's HTTP client carries the request (User-Agent, timeouts, the body cap),
 * and a refusal goes back to the provider's own classifier, so the messages users see stay the
 * provider's. Providers whose endpoint is not RFC 6749 (amoCRM's JSON body, Basecamp's
 * type=web_server, ClickUp's query string) build and read their own (ProviderDefinition hooks).
 */

const TOKEN_TIMEOUT_MS = 20_000;

export type GrantOutcome = { tokens: TokenResponse } | { refused: HttpResponse };

/** The authorization server as oauth4webapi sees it: the issuer when the provider has one, else the token endpoint's origin. */
function authorizationServer(ctx: ProviderContext): oauth.AuthorizationServer {
  return {
    issuer: ctx.endpoints.issuer ?? new URL(ctx.endpoints.tokenUrl).origin,
    token_endpoint: ctx.endpoints.tokenUrl,
    ...(ctx.endpoints.revokeUrl ? { revocation_endpoint: ctx.endpoints.revokeUrl } : {}),
    // Without the discovered list oauth4webapi expects RS256 and refuses ES256/PS256/EdDSA ID tokens.
    ...(ctx.config.generic?.idTokenSigningAlgs?.length
      ? { id_token_signing_alg_values_supported: ctx.config.generic.idTokenSigningAlgs }
      : {}),
  };
}

function clientAuth(ctx: ProviderContext, endpoint: StandardTokenEndpoint): oauth.ClientAuth {
  const method = endpoint.clientAuth;
  if (method === 'none' || ctx.clientSecret === null) return oauth.None();
  if (method === 'client_secret_post') return oauth.ClientSecretPost(ctx.clientSecret);
  return basicNeedsEncoding(ctx.config.clientId, ctx.clientSecret, endpoint.basicEncoding ?? 'auto')
    ? oauth.ClientSecretBasic(ctx.clientSecret)
    : rawClientSecretBasic(ctx.config.clientId, ctx.clientSecret);
}

/**
 * RFC 6749 §2.3.1 form-encodes the id and secret before HTTP Basic, and oauth4webapi does so; many
 * servers compare them undecoded instead (Glewlwyd refuses `tokentray-app` sent as
 * `tokentray%2Dapp`; TickTick's legacy Spring Security OAuth server answers "Full authentication is
 * required"). The raw pair is what both kinds read alike whenever decoding would not change it:
 * no `%` or `+` in either (a decoding server turns them into other characters) and no `:` in the
 * id (RFC 7617 §2). Only then is the encoded form sent. `raw` (TickTick) always sends the pair as
 * it is, as the seed's TickTick library does.
 */
function basicNeedsEncoding(id: string, secret: string, encoding: 'auto' | 'raw'): boolean {
  if (encoding === 'raw') return false;
  return /[%+]/.test(id) || /[%+]/.test(secret) || id.includes(':');
}

function rawClientSecretBasic(id: string, secret: string): oauth.ClientAuth {
  return (_as, _client, _body, headers) => {
    headers.set('authorization', `Basic ${Buffer.from(`${id}:${secret}`, 'utf8').toString('base64')}`);
  };
}

/** Plain http is allowed only on this machine (the demo, a development identity provider); endpoint-url.ts refuses it elsewhere. */
function isLoopback(url: string): boolean {
  return isLoopbackHostname(new URL(url).hostname);
}

/**
 * oauth4webapi's requests, sent by Tokentray's HTTP client. Its User-Agent gives way to ours, and
 * the last answer is kept so a refusal can be classified from the provider's own status and body.
 */
function transport(http: HttpClient, sent: { last: HttpResponse | null }): typeof fetch {
  return async (input, init) => {
    const headers: Record<string, string> = {};
    new Headers(init?.headers).forEach((value, key) => {
      if (key !== 'user-agent') headers[key] = value;
    });
    const res = await http.send({
      method: (init?.method ?? 'POST') as 'POST',
      url: String(input instanceof Request ? input.url : input),
      headers,
      body: typeof init?.body === 'string' ? init.body : init?.body ? String(init.body) : null,
      timeoutMs: TOKEN_TIMEOUT_MS,
    });
    sent.last = res;
    const text = lenientTokenAnswer(res) ?? res.text ?? (res.body === null ? '' : JSON.stringify(res.body));
    // A JSON body under another content type (text/plain, say) is still the answer; see lenientTokenAnswer.
    const contentType = res.body && typeof res.body === 'object' ? 'application/json' : res.headers['content-type'];
    const empty = text === '' || res.status === 204 || res.status === 205 || res.status === 304;
    return new Response(empty ? null : text, {
      status: res.status,
      headers: contentType ? { 'content-type': contentType } : {},
    });
  };
}

/**
 * A successful token answer missing token_type, or giving expires_in as a string, is read as
 * Bearer and a number before oauth4webapi sees it. RFC 6749 §5.1 requires both as oauth4webapi
 * checks them, but a rotating provider has already spent the old refresh token when it answers:
 * refusing its answer over a formality would lose the account. Null when nothing needs mending.
 */
function lenientTokenAnswer(res: HttpResponse): string | null {
  if (res.status < 200 || res.status >= 300 || !res.body || typeof res.body !== 'object') return null;
  const body = { ...(res.body as Record<string, unknown>) };
  let mended = false;
  if (typeof body['access_token'] === 'string' && body['token_type'] === undefined) {
    body['token_type'] = 'Bearer';
    mended = true;
  }
  const expiresIn = body['expires_in'];
  if (typeof expiresIn === 'string' && /^\d+$/.test(expiresIn)) {
    body['expires_in'] = Number(expiresIn);
    mended = true;
  }
  return mended ? JSON.stringify(body) : null;
}

function requestOptions(
  http: HttpClient,
  ctx: ProviderContext,
  endpoint: StandardTokenEndpoint,
  sent: { last: HttpResponse | null },
): oauth.TokenEndpointRequestOptions {
  return {
    [oauth.customFetch]: transport(http, sent),
    [oauth.allowInsecureRequests]: isLoopback(ctx.endpoints.tokenUrl),
    ...(endpoint.scope ? { additionalParameters: { scope: endpoint.scope } } : {}),
  };
}

/** Keys kept per process when the caller brings no verifier of its own (tests of one exchange). */
const processJwks = new MemoryJwksStore();

/**
 * Where a discovered provider's ID tokens are checked against: its `jwks_uri`, its signing
 * algorithms (RS256 when the document listed none, OpenID Connect Discovery 1.0 §3), and the
 * client secret for HS*. Providers added before the `jwks_uri` was kept read it from their
 * discovery document again, once per token answer.
 */
async function keySource(http: HttpClient, ctx: ProviderContext): Promise<IdTokenKeySource | null> {
  const generic = ctx.config.generic;
  if (!generic) return null;
  let jwksUri = generic.jwksUri;
  if (jwksUri === undefined) {
    const { discoverProvider } = await import('../providers/discovery');
    try {
      jwksUri = (await discoverProvider(http, generic.name, generic.issuer, generic.scopes, null)).jwksUri ?? null;
    } catch {
      throw new IdTokenSignatureError(
        `the provider's discovery document could not be read to find its signing keys`,
        true,
      );
    }
  }
  return {
    jwksUri,
    algorithms: generic.idTokenSigningAlgs?.length ? generic.idTokenSigningAlgs : ['RS256'],
    clientSecret: ctx.clientSecret,
  };
}

/**
 * One authorization-code or refresh grant at a standard token endpoint. An ID token in a 2xx
 * answer from a discovered (OpenID Connect) provider has its signature checked by `idTokens`
 * before oauth4webapi checks its claims.
 */
export async function standardGrant(
  http: HttpClient,
  ctx: ProviderContext,
  grant: Grant,
  endpoint: StandardTokenEndpoint,
  idTokens: IdTokenVerifier = new IdTokenVerifier({ http, store: processJwks, clock: { now: () => Date.now() } }),
): Promise<GrantOutcome> {
  const as = authorizationServer(ctx);
  const client: oauth.Client = { client_id: ctx.config.clientId };
  const auth = clientAuth(ctx, endpoint);
  const sent: { last: HttpResponse | null } = { last: null };
  const options = requestOptions(http, ctx, endpoint, sent);
  let response: Response;
  if (grant.kind === 'authorization_code') {
    // The callback itself was validated by oauth/callback.ts (through oauth4webapi too); this marks the code as such.
    const callback = oauth.validateAuthResponse(
      as,
      client,
      new URLSearchParams({ code: grant.code }),
      oauth.skipStateCheck,
    );
    response = await oauth.authorizationCodeGrantRequest(
      as,
      client,
      auth,
      callback,
      ctx.redirectUri,
      grant.codeVerifier ?? oauth.nopkce,
      options,
    );
  } else {
    response = await oauth.refreshTokenGrantRequest(as, client, auth, grant.refreshToken, options);
  }
  if (!response.ok || sent.last === null)
    return { refused: sent.last ?? { status: response.status, headers: {}, body: null } };
  const raw = sent.last.body;
  try {
    const idToken = idTokenOf(raw);
    if (idToken !== null) {
      const source = await keySource(http, ctx);
      if (source !== null) await idTokens.verify(idToken, source);
    }
    const result =
      grant.kind === 'authorization_code'
        ? await oauth.processAuthorizationCodeResponse(
            as,
            client,
            response,
            // An ID token must carry the nonce this sign-in sent (OIDC Core §3.1.3.7); a plain OAuth
            // answer (TickTick, a server that issued no ID token) is read the OAuth 2.0 way.
            grant.nonce && hasIdToken(raw) ? { expectedNonce: grant.nonce } : undefined,
          )
        : await oauth.processRefreshTokenResponse(as, client, response);
    const subject = oauth.getValidatedIdTokenClaims(result)?.sub;
    // OpenID Connect Core 1.0 §12.2: a refreshed ID token names the same End-User as the first one.
    if (grant.kind === 'refresh_token' && subject !== undefined && grant.subject && subject !== grant.subject) {
      throw new IdTokenSignatureError("the refreshed ID token names another user (its sub is not this account's)");
    }
    return {
      tokens: { ...toTokenResponse(result, raw), ...(subject !== undefined ? { idTokenSubject: subject } : {}) },
    };
  } catch (error) {
    throw unusableAnswer(raw, error, grant.kind);
  }
}

function hasIdToken(raw: unknown): boolean {
  return !!raw && typeof raw === 'object' && (raw as Record<string, unknown>)['id_token'] !== undefined;
}

function idTokenOf(raw: unknown): string | null {
  const value = raw && typeof raw === 'object' ? (raw as Record<string, unknown>)['id_token'] : undefined;
  return typeof value === 'string' ? value : null;
}

function toTokenResponse(result: oauth.TokenEndpointResponse, raw: unknown): TokenResponse {
  const expiresIn = result.expires_in;
  // oauth4webapi lower-cases token_type; keep the provider's spelling.
  const rawType = raw && typeof raw === 'object' ? (raw as Record<string, unknown>)['token_type'] : undefined;
  return {
    accessToken: result.access_token,
    refreshToken: result.refresh_token ?? null,
    expiresInSeconds: expiresIn !== undefined && expiresIn > 0 ? expiresIn : null,
    expiresAt: null,
    scopes: result.scope ? result.scope.split(/[\s,]+/).filter(Boolean) : null,
    tokenType: typeof rawType === 'string' && rawType !== '' ? rawType : (result.token_type ?? null),
  };
}

/**
 * A 2xx answer that is not a usable token response. The server answered 2xx, so a rotating one has
 * already spent the refresh token it was sent: the error carries the new one from the raw body
 * (TokenAnswerRejected), and it is not retried with the old one. That holds for every relying-party
 * check of the ID token too (signature, keys that cannot be fetched, claims): each is
 * TOKEN_RESPONSE_INVALID, never a retryable outage that would send the spent refresh token again.
 * At connect nothing is stored, whatever the answer carried. oauth4webapi's error is not kept as
 * the cause: it carries the response body, tokens included.
 */
function unusableAnswer(raw: unknown, cause: unknown, kind: Grant['kind']): TokenAnswerRejected {
  if (!raw || typeof raw !== 'object') {
    return new TokenAnswerRejected(
      'The provider answered the token request with something that is not JSON; try again later.',
      null,
    );
  }
  const salvaged = kind === 'refresh_token' ? refreshTokenOf(raw) : null;
  const kept =
    kind === 'authorization_code'
      ? ' Nothing was stored; connect again.'
      : salvaged
        ? ' The new refresh token it sent is stored, so the next try uses it.'
        : '';
  const accessToken = (raw as Record<string, unknown>)['access_token'];
  if (typeof accessToken !== 'string' || accessToken === '') {
    return new TokenAnswerRejected(`The provider answered the token request without an access token.${kept}`, salvaged);
  }
  if (cause instanceof IdTokenSignatureError && cause.keysUnavailable) {
    return new TokenAnswerRejected(
      `Tokentray could not check the provider's ID token because ${cause.message}, so it refused the answer.${kept} Try again later.`,
      salvaged,
    );
  }
  const detail =
    cause instanceof IdTokenSignatureError
      ? cause.message
      : cause instanceof Error
        ? safeDetail(cause.message, 120)
        : 'an invalid token response';
  return new TokenAnswerRejected(
    `The provider's token response failed validation (${detail}); Tokentray refused it.${kept} If this repeats, check the provider's ID token settings and signing keys.`,
    salvaged,
  );
}

/** RFC 7009 revocation of one token; best effort, as the caller deletes the account either way. */
export async function standardRevocation(
  http: HttpClient,
  ctx: ProviderContext,
  endpoint: StandardTokenEndpoint,
  token: string,
  hint: 'access_token' | 'refresh_token',
): Promise<void> {
  if (!ctx.endpoints.revokeUrl) return;
  const sent: { last: HttpResponse | null } = { last: null };
  await oauth.revocationRequest(
    authorizationServer(ctx),
    { client_id: ctx.config.clientId },
    clientAuth(ctx, endpoint),
    token,
    {
      [oauth.customFetch]: transport(http, sent),
      [oauth.allowInsecureRequests]: isLoopback(ctx.endpoints.revokeUrl),
      additionalParameters: { token_type_hint: hint },
    },
  );
}
