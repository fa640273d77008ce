import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { createServer, type Server } from 'node:http';
import Provider from 'oidc-provider';

export type IdTokenAlg = 'RS256' | 'ES256' | 'PS256' | 'EdDSA';

export interface ConformanceServer {
  issuer: string;
  clientId: string;
  clientSecret: string;
  stats: { refreshGrants: number; invalidGrants: number };
  /** Refresh tokens presented again after the server had already answered 2xx for them. */
  spentReplays: number;
  /** Stops listening (an outage); `resume` listens on the same port again with the same state. */
  pause(): Promise<void>;
  resume(): Promise<void>;
  close(): Promise<void>;
}

/** Requests the test itself sends (probes of the server's state) carry this header and are not counted. */
export const PROBE_HEADER = 'x-conformance-probe';

function signingKey(alg: IdTokenAlg): KeyObject {
  if (alg === 'ES256') return generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  if (alg === 'EdDSA') return generateKeyPairSync('ed25519').privateKey;
  return generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
}

/**
 * `oidc-provider` on 127.0.0.1 signing ID tokens with `alg`, rotating refresh tokens (a spent one
 * coming back revokes the whole grant), counting every refresh-token presentation.
 */
export async function startConformanceServer(options: {
  alg: IdTokenAlg;
  accessTokenTtlSeconds: number;
  clientId?: string;
  clientSecret?: string;
}): Promise<ConformanceServer> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const issuer = `http://127.0.0.1:${port}`;
  const clientId = options.clientId ?? 'tokentray-conformance';
  const clientSecret = options.clientSecret ?? 'conformance-secret-0123456789';
  const key = signingKey(options.alg);
  const jwk = { ...key.export({ format: 'jwk' }), kid: `k-${options.alg}`, alg: options.alg, use: 'sig' };
  const stats = { refreshGrants: 0, invalidGrants: 0 };
  const spent = new Set<string>();
  const handle = { spentReplays: 0 };
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        redirect_uris: ['http://127.0.0.1/callback/corp'],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
        id_token_signed_response_alg: options.alg,
        application_type: 'native',
      },
    ],
    jwks: { keys: [jwk] },
    enabledJWA: { idTokenSigningAlgValues: [options.alg] },
    pkce: { required: () => true },
    features: { revocation: { enabled: true }, devInteractions: { enabled: true } },
    scopes: ['openid', 'offline_access', 'profile', 'email'],
    claims: { openid: ['sub'], email: ['email'], profile: ['name'] },
    findAccount: async (_ctx: unknown, sub: string) => ({
      accountId: sub,
      claims: async () => ({ sub, email: `${sub}@example.test`, name: sub }),
    }),
    ttl: { AccessToken: options.accessTokenTtlSeconds },
    rotateRefreshToken: true,
    issueRefreshToken: async () => true,
  } as ConstructorParameters<typeof Provider>[1]);
  provider.proxy = false;
  type Ctx = { get(h: string): string; oidc?: { params?: { grant_type?: string; refresh_token?: string } } };
  const presented = (ctx: Ctx): string | undefined =>
    ctx.get(PROBE_HEADER) || ctx.oidc?.params?.grant_type !== 'refresh_token'
      ? undefined
      : ctx.oidc.params.refresh_token;
  provider.on('grant.success', (ctx: Ctx) => {
    const token = presented(ctx);
    if (token === undefined) return;
    stats.refreshGrants += 1;
    if (spent.has(token)) handle.spentReplays += 1;
    spent.add(token);
  });
  provider.on('grant.error', (ctx: Ctx, error: { error?: string }) => {
    if (error.error === 'invalid_grant') stats.invalidGrants += 1;
    const token = presented(ctx);
    if (token !== undefined && spent.has(token)) handle.spentReplays += 1;
  });
  server.on('request', provider.callback());
  const close = (): Promise<void> =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return {
    issuer,
    clientId,
    clientSecret,
    stats,
    get spentReplays() {
      return handle.spentReplays;
    },
    pause: close,
    resume: () => new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve)),
    close,
  };
}
