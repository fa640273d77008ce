import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpClient } from '../../electron/core/http/client';
import { standardGrant } from '../../electron/core/oauth/standard-grant';
import type { ProviderContext } from '../../electron/core/providers/types';
import { providerContext } from '../support/provider-context';

/** A token endpoint that answers whatever the test puts in `next`, and keeps what it was sent. */
let server: Server;
let url = '';
let next: { status: number; body: unknown; contentType?: string } = { status: 200, body: {} };
const seen: Array<{ authorization: string | undefined; userAgent: string | undefined; form: URLSearchParams }> = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      seen.push({
        authorization: req.headers.authorization,
        userAgent: req.headers['user-agent'],
        form: new URLSearchParams(body),
      });
      res.writeHead(next.status, { 'content-type': next.contentType ?? 'application/json' });
      res.end(JSON.stringify(next.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

function ctx(): ProviderContext {
  return providerContext({
    provider: 'std',
    clientId: 'client one',
    clientSecret: 's3cret:/',
    endpoints: {
      authorizeUrl: `${url}/authorize`,
      tokenUrl: `${url}/token`,
      apiUrl: url,
      revokeUrl: null,
      issuer: null,
    },
    redirectUri: 'http://127.0.0.1:4000/callback/std',
  });
}

const http = createHttpClient({ sleep: async () => undefined });
const refresh = { kind: 'refresh_token' as const, refreshToken: 'rt-1', host: null };

describe('standard token grants through oauth4webapi', () => {
  it('sends the RFC 6749 refresh request with HTTP Basic client authentication and our User-Agent', async () => {
    next = { status: 200, body: { access_token: 'at', token_type: 'Bearer', expires_in: 60, scope: 'a b' } };
    const outcome = await standardGrant(http, ctx(), refresh, { clientAuth: 'client_secret_basic', scope: 'a b' });
    expect(outcome).toEqual({
      tokens: {
        accessToken: 'at',
        refreshToken: null,
        expiresInSeconds: 60,
        expiresAt: null,
        scopes: ['a', 'b'],
        tokenType: 'Bearer',
      },
    });
    const sent = seen.at(-1)!;
    expect(Object.fromEntries(sent.form)).toEqual({ grant_type: 'refresh_token', refresh_token: 'rt-1', scope: 'a b' });
    // Sent raw: RFC 6749 §2.3.1's form-decoding reads this pair unchanged, and servers that compare
    // undecoded (Glewlwyd, TickTick) would refuse the encoded form `client+one:s3cret%3A%2F`.
    expect(Buffer.from(sent.authorization!.replace(/^Basic /, ''), 'base64').toString()).toBe('client one:s3cret:/');
    expect(sent.userAgent).toMatch(/^Tokentray\//);
  });

  it('keeps a rotated answer that leaves out token_type or sends expires_in as text, instead of losing it', async () => {
    next = {
      status: 200,
      body: { access_token: 'at-2', refresh_token: 'rt-2', expires_in: '3600' },
      contentType: 'text/plain',
    };
    const outcome = await standardGrant(http, ctx(), refresh, { clientAuth: 'client_secret_post' });
    expect(outcome).toMatchObject({ tokens: { accessToken: 'at-2', refreshToken: 'rt-2', expiresInSeconds: 3600 } });
    expect(seen.at(-1)!.form.get('client_secret')).toBe('s3cret:/');
  });

  it('hands a refusal back as the provider sent it, for the provider to classify', async () => {
    next = { status: 400, body: { error: 'invalid_grant', error_description: 'spent' } };
    const outcome = await standardGrant(http, ctx(), refresh, { clientAuth: 'none' });
    expect(outcome).toMatchObject({ refused: { status: 400, body: { error: 'invalid_grant' } } });
  });

  it('refuses a 2xx without an access token as a passing failure, naming no token', async () => {
    next = { status: 200, body: { refresh_token: 'rt-leak-check', token_type: 'Bearer' } };
    const error = await standardGrant(http, ctx(), refresh, { clientAuth: 'none' }).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'TOKEN_RESPONSE_INVALID',
      message: expect.stringMatching(/without an access token/),
      // Carried out for the refresher to store, but never serialized.
      salvagedRefreshToken: 'rt-leak-check',
    });
    expect(JSON.stringify(error) + String((error as Error).message)).not.toContain('rt-leak-check');
  });

  it('form-encodes Basic only where a decoding server would read the raw pair differently (+, %)', async () => {
    next = { status: 200, body: { access_token: 'at', token_type: 'Bearer' } };
    const plus = { ...ctx(), clientSecret: 's+cret' };
    await standardGrant(http, plus, refresh, { clientAuth: 'client_secret_basic' });
    expect(Buffer.from(seen.at(-1)!.authorization!.replace(/^Basic /, ''), 'base64').toString()).toBe(
      'client+one:s%2Bcret',
    );
    // TickTick: always the raw pair, as its legacy server compares it.
    await standardGrant(http, plus, refresh, { clientAuth: 'client_secret_basic', basicEncoding: 'raw' });
    expect(Buffer.from(seen.at(-1)!.authorization!.replace(/^Basic /, ''), 'base64').toString()).toBe(
      'client one:s+cret',
    );
  });
});
