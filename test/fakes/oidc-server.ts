import type { AddressInfo } from 'node:net';
import { createServer, type Server } from 'node:http';
import { generateKeyPairSync } from 'node:crypto';
import Provider from 'oidc-provider';

export interface OidcServerHandle {
  issuer: string;
  clientId: string;
  clientSecret: string;
  close(): Promise<void>;
  stats: { refreshGrants: number; invalidGrants: number };
}

/**
 * A real authorization server (the `oidc-provider` package) on 127.0.0.1:
 * authorization code + PKCE, rotating refresh tokens, and replay detection
 * that revokes the whole grant when a spent refresh token comes back.
 */
export type IdTokenAlg = 'RS256' | 'ES256' | 'PS256' | 'EdDSA';

export interface OidcServerOptions {
  accessTokenTtlSeconds?: number;
  /** The one algorithm the server signs ID tokens with (its JWKS holds just that key). */
  idTokenAlg?: IdTokenAlg;
  clientId?: string;
  clientSecret?: string;
  authMethod?: 'client_secret_basic' | 'client_secret_post';
}

/** A private signing key of the kind the algorithm needs, as a JWK oidc-provider accepts. */
function signingJwk(alg: IdTokenAlg): Record<string, unknown> {
  const pair =
    alg === 'ES256'
      ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
      : alg === 'EdDSA'
        ? generateKeyPairSync('ed25519')
        : generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...pair.privateKey.export({ format: 'jwk' }), alg, use: 'sig', kid: `${alg.toLowerCase()}-1` };
}

export async function startOidcServer(options: OidcServerOptions = {}): Promise<OidcServerHandle> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const clientId = options.clientId ?? 'tokentray-test';
  const clientSecret = options.clientSecret ?? 'oidc-client-secret-for-tests-0123456789';
  const alg = options.idTokenAlg;
  const stats = { refreshGrants: 0, invalidGrants: 0 };
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        redirect_uris: ['http://127.0.0.1/callback/corp', 'tokentray://callback/corp'],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        token_endpoint_auth_method: options.authMethod ?? 'client_secret_basic',
        ...(alg ? { id_token_signed_response_alg: alg } : {}),
        // Native clients get RFC 8252 behaviour: any port on loopback redirects, custom schemes allowed.
        application_type: 'native',
      },
    ],
    pkce: { required: () => true },
    ...(alg
      ? {
          jwks: { keys: [signingJwk(alg)] },
          enabledJWA: { idTokenSigningAlgValues: [alg] },
        }
      : {}),
    features: { revocation: { enabled: true }, devInteractions: { enabled: true } },
    scopes: ['openid', 'offline_access', 'profile', 'email'],
    claims: { openid: ['sub'], email: ['email'], profile: ['name'] },
    findAccount: async (_ctx: unknown, sub: string) => ({
      accountId: sub,
      claims: async () => ({ sub, email: `${sub}@example.test`, name: sub }),
    }),
    ttl: { AccessToken: options.accessTokenTtlSeconds ?? 3600 },
    rotateRefreshToken: true,
    issueRefreshToken: async () => true,
  } as ConstructorParameters<typeof Provider>[1]);
  provider.proxy = false;
  provider.on('grant.success', (ctx: { oidc?: { params?: { grant_type?: string } } }) => {
    if (ctx.oidc?.params?.grant_type === 'refresh_token') stats.refreshGrants += 1;
  });
  provider.on('grant.error', (_ctx: unknown, error: { error?: string }) => {
    if (error.error === 'invalid_grant') stats.invalidGrants += 1;
  });
  server.on('request', provider.callback());
  return {
    issuer,
    clientId,
    clientSecret,
    stats,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
