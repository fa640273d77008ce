import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request as the server received it: everything a token could hide in. */
export interface RecordedRequest {
  method: string;
  url: string;
  headers: string;
  body: string;
}

export interface RecordingAuthServer {
  /** The issuer: http://127.0.0.1:<port> */
  url: string;
  requests: RecordedRequest[];
  /** Every access and refresh token this server issued. */
  issued: string[];
  /** Every authorization code its authorize endpoint handed out. */
  codes: string[];
  /** All of a request's parts as one text, to search for planted values. */
  everything(): string;
  close(): Promise<void>;
}

/**
 * A small OAuth 2.0 / OIDC authorization server on 127.0.0.1 that records every request it gets:
 * a discovery document naming itself for every endpoint, an authorize endpoint that consents at
 * once (it redirects back with a code and the state), a token endpoint issuing random rotating
 * tokens for any code or refresh token, userinfo and revocation. As the legitimate provider it
 * makes connects cheap; as the attacker it is where a leaked token would show up.
 */
export async function startRecordingAuthServer(options: { subject?: string } = {}): Promise<RecordingAuthServer> {
  const requests: RecordedRequest[] = [];
  const issued: string[] = [];
  const codes: string[] = [];
  const subject = options.subject ?? 'user-1';
  let base = '';
  const json = (res: ServerResponse, status: number, body: unknown): void => {
    res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(JSON.stringify(body));
  };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      requests.push({ method: req.method ?? '', url: req.url ?? '', headers: JSON.stringify(req.headers), body });
      const url = new URL(req.url ?? '/', base);
      if (url.pathname.startsWith('/.well-known/')) {
        return json(res, 200, {
          issuer: base,
          authorization_endpoint: `${base}/authorize`,
          token_endpoint: `${base}/token`,
          userinfo_endpoint: `${base}/userinfo`,
          revocation_endpoint: `${base}/revoke`,
          token_endpoint_auth_methods_supported: ['client_secret_post', 'client_secret_basic'],
          response_types_supported: ['code'],
          code_challenge_methods_supported: ['S256'],
        });
      }
      if (url.pathname === '/authorize') {
        const back = new URL(url.searchParams.get('redirect_uri') ?? `${base}/nowhere`);
        const code = `code-${randomBytes(12).toString('hex')}`;
        codes.push(code);
        back.searchParams.set('code', code);
        back.searchParams.set('state', url.searchParams.get('state') ?? '');
        res.writeHead(302, { location: back.toString() });
        return res.end();
      }
      if (url.pathname === '/token') {
        const access = `at-${randomBytes(18).toString('hex')}`;
        const refresh = `rt-${randomBytes(18).toString('hex')}`;
        issued.push(access, refresh);
        return json(res, 200, { access_token: access, refresh_token: refresh, token_type: 'Bearer', expires_in: 3600 });
      }
      if (url.pathname === '/userinfo') return json(res, 200, { sub: subject, email: `${subject}@example.test` });
      if (url.pathname === '/revoke') {
        res.writeHead(200);
        return res.end();
      }
      json(res, 404, { error: 'not_found' });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: base,
    requests,
    issued,
    codes,
    everything: () => requests.map((r) => `${r.method} ${r.url}\n${r.headers}\n${r.body}`).join('\n'),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
