import { TokenAnswerRejected, TokentrayError, refreshTokenOf, safeDetail } from '../errors';
import type { HttpClient, HttpResponse } from '../http/client';
import { parseRetryAfter } from '../http/retry-after';
import type { Grant, ProviderContext, ProviderDefinition, TokenResponse } from '../providers/types';
import type { IdTokenVerifier } from './id-token-signature';
import { standardGrant } from './standard-grant';

/**
 * Sends one token request and turns the answer into tokens or a coded error.
 * Only the provider's own "grant is dead" answer becomes RECONNECT_REQUIRED;
 * everything transient stays retryable so no account is given up too early.
 */
export async function exchangeToken(
  http: HttpClient,
  provider: ProviderDefinition,
  ctx: ProviderContext,
  grant: Grant,
  nowMs: number,
  /** Checks ID token signatures against the provider's keys (cached by the caller's store). */
  idTokens?: IdTokenVerifier,
): Promise<TokenResponse> {
  const complete = (response: TokenResponse): Promise<TokenResponse> =>
    provider.completeTokenResponse ? provider.completeTokenResponse(http, ctx, response) : Promise.resolve(response);
  let res: HttpResponse;
  if (provider.standardTokenEndpoint) {
    const outcome = await standardGrant(http, ctx, grant, provider.standardTokenEndpoint, idTokens);
    if ('tokens' in outcome) return complete(outcome.tokens);
    res = outcome.refused;
  } else {
    const send = async (g: Grant): Promise<HttpResponse> => {
      const spec = provider.buildTokenRequest(ctx, g);
      return http.send({
        method: spec.method,
        url: spec.url,
        headers: spec.headers,
        body: spec.body,
        timeoutMs: 20_000,
      });
    };
    // A 2xx answer may already have spent the refresh token: one Tokentray cannot read carries the
    // new refresh token out (TokenAnswerRejected) instead of becoming a retry with the old one.
    const parse = (answer: HttpResponse): TokenResponse => {
      try {
        return provider.parseTokenResponse(answer.body);
      } catch (error) {
        if (error instanceof TokenAnswerRejected) throw error;
        const why = error instanceof TokentrayError ? ` (${safeDetail(error.message, 160)})` : '';
        throw new TokenAnswerRejected(
          `${provider.name}'s token answer could not be read${why}; any new refresh token in it is kept.`,
          refreshTokenOf(answer.body),
        );
      }
    };
    res = await send(grant);
    if (res.status >= 200 && res.status < 300) return complete(parse(res));
    if (grant.kind === 'refresh_token' && provider.relocateAccount) {
      // The account may have moved (amoCRM: a new subdomain); ask where, and try there once.
      const host = await provider.relocateAccount(http, ctx, grant, res);
      if (host !== null && host !== grant.host) {
        const moved = await send({ ...grant, host });
        if (moved.status >= 200 && moved.status < 300) {
          return complete({ ...parse(moved), host });
        }
        res = moved;
      }
    }
  }
  const { kind, detail } = provider.classifyTokenError(res.status, res.body);
  const said = detail ? ` (${detail.replace(/[.!\s]+$/, '')})` : '';
  switch (kind) {
    case 'reconnect':
      throw new TokentrayError(
        'RECONNECT_REQUIRED',
        grant.kind === 'refresh_token'
          ? `${provider.name} no longer accepts this account's refresh token${said}; reconnect the account.`
          : `${provider.name} rejected the authorization${said}; connect the account again.`,
      );
    case 'client_config':
      throw new TokentrayError(
        'PROVIDER_CONFIG_INVALID',
        `${provider.name} rejected the client id or secret${said}; check them with \`tokentray provider set ${provider.id}\`.`,
      );
    case 'bad_code':
      if (grant.kind === 'refresh_token') {
        // There is no code in a refresh: a refusal that is not a dead grant is the server's
        // (403) or the configuration's (a wrong token URL, a redirect URI it does not know).
        if (res.status === 403) {
          throw new TokentrayError(
            'FORBIDDEN',
            `${provider.name} refused the refresh request${said}; the account is kept, try again later.`,
          );
        }
        throw new TokentrayError(
          'PROVIDER_CONFIG_INVALID',
          `${provider.name}'s token endpoint answered ${res.status} to a refresh${said}; check its token URL and redirect URI with \`tokentray provider set ${provider.id}\`.`,
        );
      }
      throw new TokentrayError(
        'AUTH_CODE_INVALID',
        `${provider.name} did not accept the authorization code${said}; codes are single-use and short-lived, so connect again for a fresh one.`,
      );
    case 'rate_limited': {
      const waitMs = parseRetryAfter(res.headers, nowMs);
      const seconds = waitMs === null ? 60 : Math.ceil(waitMs / 1000);
      throw new TokentrayError(
        'RATE_LIMITED',
        `${provider.name} is rate limiting token requests; try again in ${seconds} seconds.`,
        {
          retryAfterSeconds: seconds,
        },
      );
    }
    case 'unavailable':
      throw new TokentrayError(
        'PROVIDER_UNAVAILABLE',
        `${provider.name}'s token endpoint answered ${res.status}; it may be down, try again later.`,
      );
  }
}
