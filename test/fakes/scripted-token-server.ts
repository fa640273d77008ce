import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TokentrayCore } from '../../electron/core/service';

export interface ScriptedReply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** Hold the answer this long (to widen race windows). */
  delayMs?: number;
}

/**
 * A token endpoint whose answers the test scripts one by one; when the script
 * runs out it issues rotating tokens. Records every refresh token presented and
 * counts reuse, because reuse is what loses accounts at single-use providers.
 */
export async function startScriptedTokenServer() {
  const script: ScriptedReply[] = [];
  const presented: string[] = [];
  let issued = 0;
  let reuse = 0;
  const valid = new Set<string>();
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const form = new URLSearchParams(body);
      const rt = form.get('refresh_token');
      if (req.url?.startsWith('/userinfo')) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ sub: 'user-1', email: 'user1@example.test' }));
        return;
      }
      if (req.method !== 'POST') {
        // A token endpoint, not a discovery server: a provider that asks for its metadata (the ID
        // token check looks for a jwks_uri) finds none, and no token is issued for the question.
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: 'not_found' }));
        return;
      }
      if (rt) presented.push(rt);
      const next = script.shift();
      const reply = (r: ScriptedReply): void => {
        res.writeHead(r.status, { 'content-type': 'application/json', ...r.headers });
        res.end(r.body === undefined ? '' : JSON.stringify(r.body));
      };
      const answer = (): void => {
        if (next) {
          const body = next.body as { refresh_token?: string } | undefined;
          if (next.status === 200 && body?.refresh_token) {
            if (rt !== null) valid.delete(rt);
            valid.add(body.refresh_token);
          }
          return reply(next);
        }
        if (rt !== null) {
          if (!valid.has(rt)) {
            reuse += 1;
            return reply({ status: 400, body: { error: 'invalid_grant', error_description: 'refresh token reused' } });
          }
          valid.delete(rt);
        }
        issued += 1;
        const refresh = `rt-${issued}-${Math.random().toString(36).slice(2)}`;
        valid.add(refresh);
        reply({
          status: 200,
          body: {
            access_token: `at-${issued}-${Math.random().toString(36).slice(2)}`,
            refresh_token: refresh,
            expires_in: 3600,
            token_type: 'Bearer',
          },
        });
      };
      if (next?.delayMs) setTimeout(answer, next.delayMs);
      else answer();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    script,
    presented,
    stats: {
      get issued() {
        return issued;
      },
      get reuse() {
        return reuse;
      },
    },
    /** Makes a refresh token valid (the one the test stores as the account's). */
    accept(refreshToken: string) {
      valid.add(refreshToken);
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** Registers the scripted server as generic provider "scripted" and stores an account with the given tokens. */
export async function seedScriptedAccount(
  core: TokentrayCore,
  url: string,
  tokens: { accessToken: string; refreshToken: string | null; expiresAt: number | null; issuedAt: number },
): Promise<string> {
  await core.metadata.writeProvider({
    provider: 'scripted',
    clientId: 'client',
    redirectUri: null,
    authorizeUrl: null,
    tokenUrl: null,
    apiUrl: null,
    generic: {
      name: 'Scripted',
      issuer: url,
      authorizationEndpoint: `${url}/authorize`,
      tokenEndpoint: `${url}/token`,
      revocationEndpoint: null,
      userinfoEndpoint: `${url}/userinfo`,
      tokenEndpointAuthMethod: 'client_secret_post',
      scopes: ['openid'],
      issParameterSupported: false,
    },
    hasClientSecret: true,
    updatedAt: new Date().toISOString(),
  });
  await core.vault.writeClientSecret('scripted', 'scripted-client-secret');
  const meta = await core.repo.upsertFromIdentity({
    provider: 'scripted',
    identity: { subject: 'user-1', label: 'Scripted user', workspaces: [], extra: {} },
    tokens: { ...tokens, tokenType: 'Bearer', host: null, personal: false },
    scopes: ['openid'],
    label: null,
    // What a connect against the provider above records.
    pin: { issuer: url, tokenUrl: `${url}/token`, apiUrl: url, revokeUrl: null, userinfoUrl: `${url}/userinfo` },
  });
  return meta.id;
}
