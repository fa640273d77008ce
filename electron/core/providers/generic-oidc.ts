import { TokentrayError } from '../errors';
import type { HttpClient } from '../http/client';
import { decodeJwt } from '../oauth/jwt';
import { classifyStandardTokenError, standardAuthorizeUrl } from '../oauth/standard';
import { standardRevocation } from '../oauth/standard-grant';
import type {
  AccountContext,
  GenericProviderMetadata,
  Identity,
  ProviderDefinition,
  StandardTokenEndpoint,
  StoredTokens,
} from './types';

/** Any OAuth 2.0 / OpenID Connect provider, built from its discovery metadata. */
export function makeGenericProvider(id: string, meta: GenericProviderMetadata): ProviderDefinition {
  const tokenEndpoint: StandardTokenEndpoint = { clientAuth: meta.tokenEndpointAuthMethod };
  const definition: ProviderDefinition = {
    id,
    name: meta.name,
    kind: 'generic',
    defaults: {
      authorizeUrl: meta.authorizationEndpoint,
      tokenUrl: meta.tokenEndpoint,
      apiUrl: meta.issuer,
      revokeUrl: meta.revocationEndpoint,
      issuer: meta.issuer,
    },
    registerUrl: null,
    defaultRedirectUri: `http://127.0.0.1/callback/${id}`,
    // RFC 8252 §7.3: authorization servers must accept any port on loopback redirects.
    ephemeralPortAllowed: true,
    methods: ['loopback', 'paste'],
    pkce: true,
    scopes: meta.scopes,
    refresh: 'rotating',
    warnBeforeExpirySeconds: 3 * 86_400,
    needsHost: false,
    personalTokenHint: null,
    requestsPerSecond: 10,

    buildAuthorizeUrl(ctx, p) {
      const url = standardAuthorizeUrl(ctx, p, meta.scopes);
      // OIDC only issues refresh tokens for offline_access after an explicit consent.
      if (meta.scopes.includes('offline_access')) url.searchParams.set('prompt', 'consent');
      return url.toString();
    },
    standardTokenEndpoint: tokenEndpoint,
    classifyTokenError: classifyStandardTokenError,
    authorizationHeader: (tokens: StoredTokens) => `Bearer ${tokens.accessToken}`,
    apiBase: (ctx) => ctx.endpoints.apiUrl,

    async identify(http: HttpClient, ctx: AccountContext): Promise<Identity> {
      if (meta.userinfoEndpoint) {
        const res = await http.api({
          method: 'GET',
          url: meta.userinfoEndpoint,
          headers: { authorization: `Bearer ${ctx.tokens.accessToken}` },
          providerName: meta.name,
        });
        const body = (res.body ?? {}) as Record<string, unknown>;
        const idTokenSubject = ctx.idTokenSubject ?? null;
        // OpenID Connect Core 1.0 §5.3.2: the UserInfo sub "MUST be verified to exactly match the
        // sub Claim in the ID Token"; otherwise its values must not be used (the answer may be a
        // substituted one, and the account would be stored under someone else's name).
        if (idTokenSubject !== null && body['sub'] !== idTokenSubject) {
          throw new TokentrayError(
            'TOKEN_RESPONSE_INVALID',
            `${meta.name}'s userinfo answer names another user than its ID token (the sub claims differ), so Tokentray refused it. Nothing was stored; connect again, and if this repeats, check the provider.`,
          );
        }
        if (typeof body['sub'] === 'string') {
          const label = [body['email'], body['preferred_username'], body['name'], body['sub']].find(
            (v) => typeof v === 'string',
          ) as string;
          return { subject: body['sub'], label, workspaces: [], extra: {} };
        }
      }
      // Without userinfo, the verified ID token names the user; an access token is only a guess.
      if (ctx.idTokenSubject) {
        return { subject: ctx.idTokenSubject, label: ctx.idTokenSubject, workspaces: [], extra: {} };
      }
      const sub = decodeJwt(ctx.tokens.accessToken)?.claims['sub'];
      if (typeof sub === 'string') return { subject: sub, label: sub, workspaces: [], extra: {} };
      throw new TokentrayError(
        'PROVIDER_CONFIG_INVALID',
        `${meta.name} offers no userinfo endpoint and its tokens name no subject, so Tokentray cannot tell accounts apart; add the "openid" scope.`,
      );
    },

    async *fetchTasks() {
      // A generic identity provider has no task API.
      return;
    },

    async revoke(http, ctx) {
      const token = ctx.tokens.refreshToken ?? ctx.tokens.accessToken;
      await standardRevocation(
        http,
        ctx,
        tokenEndpoint,
        token,
        ctx.tokens.refreshToken ? 'refresh_token' : 'access_token',
      );
    },
  };
  return definition;
}
