import type { AddressInfo } from 'node:net';
import { createServer, type Server } from 'node:http';
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
export async function startOidcServer(options: { accessTokenTtlSeconds?: number } = {}): Promise<OidcServerHandle> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const clientId = 'tokentray-test';
  const clientSecret = 'oidc-client-secret-for-tests-0123456789';
  const stats = { refreshGrants: 0, invalidGrants: 0 };
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        redirect_uris: ['http://127.0.0.1/callback/corp', 'tokentray://callback/corp'],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
        // Native clients get RFC 8252 behaviour: any port on loopback redirects, custom schemes allowed.
        application_type: 'native',
      },
    ],
    pkce: { required: () => true },
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
