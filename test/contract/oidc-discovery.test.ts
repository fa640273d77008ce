import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokentrayError } from '../../electron/core/errors';
import { makeTestCore, type TestCore } from '../support/test-core';

/**
 * Servers we did not write: Django OAuth Toolkit publishes its discovery document only at
 * `/o/.well-known/openid-configuration/` and answers the slashless path with 301
 * (../shared/providers.md, "Generic OAuth 2.0 / OpenID Connect provider").
 */
let server: Server;
let other: Server;
let base: string;
let otherBase: string;
const cores: TestCore[] = [];
/** The User-Agent of every discovery request the server saw. */
const agents: string[] = [];

function listen(s: Server): Promise<string> {
  return new Promise((resolve) =>
    s.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(s.address() as AddressInfo).port}`)),
  );
}

function doc(issuer: string): string {
  return JSON.stringify({
    issuer,
    authorization_endpoint: `${issuer.replace(/\/$/, '')}/authorize/`,
    token_endpoint: `${issuer.replace(/\/$/, '')}/token/`,
    response_types_supported: ['code'],
    // A thin document: no scopes_supported, no revocation endpoint.
  });
}

beforeAll(async () => {
  server = createServer((req, res) => {
    const path = req.url ?? '/';
    agents.push(req.headers['user-agent'] ?? '');
    if (path === '/huge/.well-known/openid-configuration') {
      // A "document" far larger than any discovery document: the client must stop reading it.
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(`{"issuer":"${base}/huge","padding":"${'x'.repeat(3 * 1024 * 1024)}"}`);
    } else if (path === '/o/.well-known/openid-configuration') {
      res.writeHead(301, { location: '/o/.well-known/openid-configuration/' }).end();
    } else if (path === '/o/.well-known/openid-configuration/') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(doc(`${base}/o`));
    } else if (path === '/slash/.well-known/openid-configuration') {
      res.writeHead(308, { location: '/slash/.well-known/openid-configuration/' }).end();
    } else if (path === '/slash/.well-known/openid-configuration/') {
      // This one states its issuer with the trailing slash.
      res.writeHead(200, { 'content-type': 'application/json' }).end(doc(`${base}/slash/`));
    } else if (path === '/away/.well-known/openid-configuration') {
      res.writeHead(302, { location: `${otherBase}/away/.well-known/openid-configuration` }).end();
    } else {
      res.writeHead(404).end();
    }
  });
  other = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' }).end(doc(`${otherBase}/away`));
  });
  base = await listen(server);
  otherBase = await listen(other);
});
afterAll(async () => {
  for (const t of cores) await t.cleanup();
  await new Promise((r) => server.close(r));
  await new Promise((r) => other.close(r));
});

function core(): TestCore {
  const t = makeTestCore({ keychain: false });
  cores.push(t);
  return t;
}

describe('generic provider discovery against servers with their own spelling', () => {
  it('follows a same-origin 301 to the trailing-slash document and keeps the issuer as stated', async () => {
    const t = core();
    const summary = await t.core.addGenericProvider({ name: 'django', issuer: `${base}/o`, clientId: 'c1' });
    expect(summary).toMatchObject({ id: 'django', configured: true });
    const config = await t.core.metadata.readProvider('django');
    expect(config?.generic?.issuer).toBe(`${base}/o`);
    expect(config?.generic?.tokenEndpoint).toBe(`${base}/o/token/`);
  });

  it('accepts the issuer with a trailing slash when the document says so, whichever form was typed', async () => {
    const t = core();
    await t.core.addGenericProvider({ name: 'slashy', issuer: `${base}/slash`, clientId: 'c1' });
    expect((await t.core.metadata.readProvider('slashy'))?.generic?.issuer).toBe(`${base}/slash/`);
  });

  it('does not follow a redirect to another server, and says so', async () => {
    const t = core();
    const err = await t.core
      .addGenericProvider({ name: 'away', issuer: `${base}/away`, clientId: 'c1' })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TokentrayError);
    expect((err as TokentrayError).message).toMatch(/redirects to http:\/\/127\.0\.0\.1:\d+, another server/);
    expect(await t.core.metadata.readProvider('away')).toBeNull();
  });

  it("is fetched by Tokentray's HTTP client: its User-Agent, and a cap on the body", async () => {
    const t = core();
    agents.length = 0;
    await t.core.addGenericProvider({ name: 'agent', issuer: `${base}/o`, clientId: 'c1' });
    expect(agents.length).toBeGreaterThan(0);
    for (const agent of agents) expect(agent).toMatch(/^Tokentray\//);
    const err = await t.core
      .addGenericProvider({ name: 'huge', issuer: `${base}/huge`, clientId: 'c1' })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TokentrayError);
    expect((err as TokentrayError).message).toMatch(/larger than 1 MiB/);
    expect(await t.core.metadata.readProvider('huge')).toBeNull();
  });

  it('keeps a fixed-port redirect URI given with provider add', async () => {
    const t = core();
    const summary = await t.core.addGenericProvider({
      name: 'fixed',
      issuer: `${base}/o`,
      clientId: 'c1',
      redirectUri: 'http://127.0.0.1:8765/callback/fixed',
    });
    expect(summary.redirectUri).toBe('http://127.0.0.1:8765/callback/fixed');
    const bad = await t.core
      .addGenericProvider({ name: 'typo', issuer: `${base}/o`, clientId: 'c1', redirectUri: 'not a url' })
      .catch((e: unknown) => e);
    expect((bad as TokentrayError).code).toBe('USAGE');
  });
});
