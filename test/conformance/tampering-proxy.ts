import { generateKeyPairSync } from 'node:crypto';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CompactSign, exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose';
import Provider from 'oidc-provider';

/**
 * A real `oidc-provider` behind a reverse proxy on 127.0.0.1 that plays a man in the middle: it
 * re-signs every ID token in a token answer with keys the test controls and serves a JWKS the
 * test controls, and on request tampers with the ID token, the userinfo answer or the discovery
 * document. The issuer is the proxy's URL, so everything Tokentray sees comes through it.
 */

export type SigningAlg = 'RS256' | 'ES256';

export interface SigningKey {
  kid: string;
  alg: SigningAlg;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

/** What the proxy does to the next ID tokens: edit the header and claims, and how to sign. */
export interface IdTokenTamper {
  edit?(header: Record<string, unknown>, claims: Record<string, unknown>): void;
  /** `published`: the current key; `foreign`: a key of `alg` not in the JWKS (under the published kid); `none`: unsigned. */
  sign?: { kind: 'published' } | { kind: 'foreign'; alg: SigningAlg; kid: string } | { kind: 'none' };
  /** Leave the `kid` header out. */
  omitKid?: boolean;
}

export interface TamperingServer {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** GETs of the JWKS the proxy serves. */
  readonly jwksFetches: number;
  /** Refresh grants answered 2xx, and refresh tokens presented again after that. */
  readonly refreshGrants: number;
  readonly spentReplays: number;
  /** The key the proxy signs with now. */
  signingKey: SigningKey;
  /** The keys the JWKS lists. */
  published: SigningKey[];
  idToken: IdTokenTamper | null;
  /** Overrides the userinfo answer's `sub`. */
  userinfoSub: string | null;
  /** Overrides the discovery document's `issuer`. */
  discoveryIssuer: string | null;
  newKey(alg: SigningAlg, kid: string): Promise<SigningKey>;
  close(): Promise<void>;
}

export async function makeKey(alg: SigningAlg, kid: string): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { kid, alg, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

function readBody(stream: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });
}

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

export async function startTamperingServer(): Promise<TamperingServer> {
  const proxy = createServer();
  const proxyPort = await listen(proxy);
  const issuer = `http://127.0.0.1:${proxyPort}`;
  const clientId = 'tokentray-rp-checks';
  const clientSecret = 'rp-checks-secret-0123456789abcdef';
  const upstream = createServer();
  const upstreamPort = await listen(upstream);

  // oidc-provider signs with its own keys; the proxy replaces every signature, so these stay unseen.
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        redirect_uris: ['http://127.0.0.1/callback/corp'],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
        id_token_signed_response_alg: 'RS256',
        application_type: 'native',
      },
    ],
    jwks: {
      keys: [
        { ...rsa, kid: 'upstream-rs', alg: 'RS256', use: 'sig' },
        { ...ec, kid: 'upstream-es', alg: 'ES256', use: 'sig' },
      ],
    },
    enabledJWA: { idTokenSigningAlgValues: ['RS256', 'ES256'] },
    pkce: { required: () => true },
    features: { revocation: { enabled: true }, devInteractions: { enabled: true } },
    scopes: ['openid', 'offline_access', 'profile', 'email'],
    claims: { openid: ['sub'], email: ['email'], profile: ['name'] },
    findAccount: async (_ctx: unknown, sub: string) => ({
      accountId: sub,
      claims: async () => ({ sub, email: `${sub}@example.test`, name: sub }),
    }),
    rotateRefreshToken: true,
    issueRefreshToken: async () => true,
  } as ConstructorParameters<typeof Provider>[1]);
  provider.proxy = false;
  const counts = { refreshGrants: 0, spentReplays: 0, jwksFetches: 0 };
  const spent = new Set<string>();
  type Ctx = { oidc?: { params?: { grant_type?: string; refresh_token?: string } } };
  const presented = (ctx: Ctx): string | undefined =>
    ctx.oidc?.params?.grant_type === 'refresh_token' ? ctx.oidc.params.refresh_token : undefined;
  provider.on('grant.success', (ctx: Ctx) => {
    const token = presented(ctx);
    if (token === undefined) return;
    counts.refreshGrants += 1;
    if (spent.has(token)) counts.spentReplays += 1;
    spent.add(token);
  });
  provider.on('grant.error', (ctx: Ctx) => {
    const token = presented(ctx);
    if (token !== undefined && spent.has(token)) counts.spentReplays += 1;
  });
  upstream.on('request', provider.callback());

  const first = await makeKey('RS256', 'rs-1');
  const state: Pick<TamperingServer, 'signingKey' | 'published' | 'idToken' | 'userinfoSub' | 'discoveryIssuer'> = {
    signingKey: first,
    published: [first],
    idToken: null,
    userinfoSub: null,
    discoveryIssuer: null,
  };

  async function resign(idToken: string): Promise<string> {
    const [h, c] = idToken.split('.');
    const header = JSON.parse(Buffer.from(h!, 'base64url').toString()) as Record<string, unknown>;
    const claims = JSON.parse(Buffer.from(c!, 'base64url').toString()) as Record<string, unknown>;
    const tamper = state.idToken;
    const sign = tamper?.sign ?? { kind: 'published' };
    tamper?.edit?.(header, claims);
    if (sign.kind === 'none') return `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`;
    const key = sign.kind === 'foreign' ? await makeKey(sign.alg, sign.kid) : state.signingKey;
    const protectedHeader: Record<string, unknown> = { ...header, alg: key.alg, kid: key.kid };
    if (tamper?.omitKid) delete protectedHeader['kid'];
    return new CompactSign(Buffer.from(JSON.stringify(claims)))
      .setProtectedHeader(protectedHeader as { alg: string })
      .sign(key.privateKey);
  }

  async function rewrite(path: string, status: number, body: Buffer): Promise<Buffer> {
    if (status !== 200) return body;
    if (path === '/token') {
      const json = JSON.parse(body.toString()) as Record<string, unknown>;
      if (typeof json['id_token'] === 'string') json['id_token'] = await resign(json['id_token']);
      return Buffer.from(JSON.stringify(json));
    }
    if (path === '/me' && state.userinfoSub !== null) {
      return Buffer.from(JSON.stringify({ ...(JSON.parse(body.toString()) as object), sub: state.userinfoSub }));
    }
    if (path === '/.well-known/openid-configuration' && state.discoveryIssuer !== null) {
      return Buffer.from(JSON.stringify({ ...(JSON.parse(body.toString()) as object), issuer: state.discoveryIssuer }));
    }
    return body;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', issuer).pathname;
    if (path === '/jwks') {
      counts.jwksFetches += 1;
      res.writeHead(200, { 'content-type': 'application/jwk-set+json' });
      res.end(JSON.stringify({ keys: state.published.map((k) => k.publicJwk) }));
      return;
    }
    const body = await readBody(req);
    const answer = await new Promise<IncomingMessage>((resolve, reject) => {
      const out = request(
        { host: '127.0.0.1', port: upstreamPort, method: req.method, path: req.url, headers: req.headers },
        resolve,
      );
      out.on('error', reject);
      out.end(body);
    });
    const rewritten = await rewrite(path, answer.statusCode ?? 502, await readBody(answer));
    const headers = { ...answer.headers };
    delete headers['content-length'];
    delete headers['transfer-encoding'];
    res.writeHead(answer.statusCode ?? 502, { ...headers, 'content-length': String(rewritten.length) });
    res.end(rewritten);
  }

  proxy.on('request', (req, res) => {
    handle(req, res).catch(() => {
      res.writeHead(502);
      res.end();
    });
  });

  const closeServer = (s: Server): Promise<void> =>
    new Promise((resolve) => {
      s.closeAllConnections();
      s.close(() => resolve());
    });
  // Counters are read live (getters on the handle itself; Object.assign would copy their values once).
  const server = Object.assign(state, {
    issuer,
    clientId,
    clientSecret,
    newKey: makeKey,
    close: async () => {
      await closeServer(proxy);
      await closeServer(upstream);
    },
  });
  return Object.defineProperties(server, {
    jwksFetches: { get: () => counts.jwksFetches },
    refreshGrants: { get: () => counts.refreshGrants },
    spentReplays: { get: () => counts.spentReplays },
  }) as TamperingServer;
}
