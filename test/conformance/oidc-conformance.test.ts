// The conformance matrix: Tokentray's generic OpenID Connect provider, driven through the real built
// `tokentray` CLI, against authorization servers in configurations our other tests do not use.
// Each server is started here on 127.0.0.1 and stopped after; the matrix is printed as it runs.
import { afterAll, describe, expect, it } from 'vitest';
import { signInAndConsent } from '../fakes/browser-user';
import { runCli } from '../support/cli';
import { makeTestCore, readAllFiles, type TestCore } from '../support/test-core';
import { PROBE_HEADER, startConformanceServer, type ConformanceServer, type IdTokenAlg } from './oidc-provider-server';

interface Configuration {
  name: string;
  alg: IdTokenAlg;
  ttl: number;
}

const CONFIGURATIONS: Configuration[] = [
  { name: 'oidc-provider RS256, rotating + reuse detection', alg: 'RS256', ttl: 3600 },
  { name: 'oidc-provider ES256', alg: 'ES256', ttl: 3600 },
  { name: 'oidc-provider PS256', alg: 'PS256', ttl: 3600 },
  { name: 'oidc-provider EdDSA', alg: 'EdDSA', ttl: 3600 },
  { name: 'oidc-provider short access token (30 s)', alg: 'RS256', ttl: 30 },
];

const CHECKS = [
  'discovery',
  'connect',
  'fresh token',
  '20× refresh',
  '2nd expiry',
  'outage=4',
  'revoke=3',
  'disconnect',
  'no token on disk',
  'no spent RT',
] as const;
type Check = (typeof CHECKS)[number];

const matrix = new Map<string, Map<Check, 'pass' | 'FAIL'>>();

/** Runs one check, records it in the matrix and prints its row so far. */
async function check(config: string, name: Check, body: () => Promise<void>): Promise<void> {
  const row = matrix.get(config) ?? new Map<Check, 'pass' | 'FAIL'>();
  matrix.set(config, row);
  try {
    await body();
    row.set(name, 'pass');
  } catch (error) {
    row.set(name, 'FAIL');
    throw error;
  } finally {
    console.log(`[conformance] ${config} :: ${name} -> ${row.get(name)}`);
  }
}

function printMatrix(): void {
  const width = Math.max(...[...matrix.keys()].map((k) => k.length), 13);
  const lines = [
    ['configuration'.padEnd(width), ...CHECKS].join(' | '),
    ...[...matrix].map(([config, row]) =>
      [config.padEnd(width), ...CHECKS.map((c) => (row.get(c) ?? '-').padEnd(c.length))].join(' | '),
    ),
  ];
  console.log(`\nOIDC conformance matrix\n${lines.join('\n')}\n`);
}

afterAll(printMatrix);

function basic(server: ConformanceServer): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(server.clientId)}:${encodeURIComponent(server.clientSecret)}`).toString('base64')}`;
}

/** The test's own look at the server (not counted as a presentation by Tokentray). */
function probeRefresh(server: ConformanceServer, refreshToken: string): Promise<Response> {
  return fetch(`${server.issuer}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(server), [PROBE_HEADER]: '1' },
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken }).toString(),
  });
}

async function expire(t: TestCore, id: string): Promise<void> {
  const { meta, secret } = await t.core.repo.load(id);
  await t.core.repo.saveTokens(meta, {
    ...secret,
    tokens: { ...secret.tokens, issuedAt: Date.now() - 7200_000, expiresAt: Date.now() - 1000 },
  });
}

async function connect(t: TestCore, login: string): Promise<string> {
  const attempt = await t.core.startConnect('corp');
  expect(attempt.redirectUri).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/callback\/corp$/);
  const redirected = await signInAndConsent(attempt.authorizeUrl, attempt.redirectUri!, login);
  expect((await fetch(redirected)).status).toBe(200);
  return (await attempt.result).id;
}

async function twentyAtOnce(t: TestCore, id: string, server: ConformanceServer): Promise<void> {
  const env = { home: t.home, service: t.service };
  const before = server.stats.refreshGrants;
  await expire(t, id);
  const results = await Promise.all(Array.from({ length: 20 }, () => runCli(['token', id], env)));
  for (const r of results) expect(r.code, r.stderr).toBe(0);
  const tokens = new Set(results.map((r) => r.stdout.trim()));
  expect(tokens.size).toBe(1);
  expect(server.stats.refreshGrants - before).toBe(1);
  const userinfo = await fetch(`${server.issuer}/me`, { headers: { authorization: `Bearer ${[...tokens][0]}` } });
  expect(userinfo.status).toBe(200);
}

describe.each(CONFIGURATIONS)('$name', (config) => {
  let server: ConformanceServer;
  let t: TestCore;
  let id = '';
  const env = (): { home: string; service: string } => ({ home: t.home, service: t.service });
  const step = (name: Check, body: () => Promise<void>) => check(config.name, name, body);

  afterAll(async () => {
    await t?.cleanup();
    await server?.close();
  });

  it('discovery', () =>
    step('discovery', async () => {
      server = await startConformanceServer({
        alg: config.alg,
        accessTokenTtlSeconds: config.ttl,
        // Characters that form-encoding changes, so client authentication is exercised for real.
        clientId: "tt-app_1.!~*'()",
        clientSecret: "s3cr-et_.!~*'()+/=",
      });
      t = makeTestCore({ keychain: true });
      const summary = await t.core.addGenericProvider({
        name: 'corp',
        issuer: server.issuer,
        clientId: server.clientId,
        clientSecret: server.clientSecret,
      });
      expect(summary).toMatchObject({ id: 'corp', configured: true });
    }));

  it(
    'connect through the loopback redirect',
    () =>
      step('connect', async () => {
        id = await connect(t, 'alice');
      }),
    30_000,
  );

  it(
    'a token issued a moment ago is handed out without a refresh',
    () =>
      step('fresh token', async () => {
        const r = await runCli(['token', id], env());
        expect(r.code, r.stderr).toBe(0);
        expect(server.stats.refreshGrants).toBe(0);
      }),
    30_000,
  );

  it(
    '20 concurrent `tokentray token` on an expired token make exactly one refresh',
    () => step('20× refresh', () => twentyAtOnce(t, id, server)),
    60_000,
  );

  it(
    'a second expiry makes exactly one more (the rotated refresh token was stored)',
    () => step('2nd expiry', () => twentyAtOnce(t, id, server)),
    60_000,
  );

  it(
    'an outage is exit 4 and keeps the account',
    () =>
      step('outage=4', async () => {
        await expire(t, id);
        await server.pause();
        try {
          const r = await runCli(['token', id], env());
          expect(r.code, r.stderr).toBe(4);
        } finally {
          await server.resume();
        }
        expect((await t.core.listAccounts()).map((a) => a.id)).toContain(id);
      }),
    60_000,
  );

  it('no issued token on disk', () =>
    step('no token on disk', async () => {
      const { secret } = await t.core.repo.load(id);
      const files = await readAllFiles(t.home);
      expect(files).not.toContain(secret.tokens.accessToken);
      if (secret.tokens.refreshToken) expect(files).not.toContain(secret.tokens.refreshToken);
      expect(files).not.toContain(server.clientSecret);
    }));

  it(
    'a server-side revoke is exit 3 and `reconnect`',
    () =>
      step('revoke=3', async () => {
        const { secret } = await t.core.repo.load(id);
        const revoked = await fetch(`${server.issuer}/token/revocation`, {
          method: 'POST',
          headers: {
            'content-type': 'application/x-www-form-urlencoded',
            authorization: basic(server),
            [PROBE_HEADER]: '1',
          },
          body: new URLSearchParams({
            token: secret.tokens.refreshToken!,
            token_type_hint: 'refresh_token',
          }).toString(),
        });
        expect(revoked.status).toBe(200);
        await expire(t, id);
        const r = await runCli(['token', id], env());
        expect(r.code, r.stderr).toBe(3);
        expect((await t.core.listAccounts()).find((a) => a.id === id)?.status).toBe('reconnect');
      }),
    60_000,
  );

  it(
    '`disconnect` revokes at the server',
    () =>
      step('disconnect', async () => {
        const fresh = await connect(t, 'bob');
        const { secret } = await t.core.repo.load(fresh);
        const r = await runCli(['disconnect', fresh], env());
        expect(r.code, r.stderr).toBe(0);
        expect((await probeRefresh(server, secret.tokens.refreshToken!)).status).toBe(400);
      }),
    60_000,
  );

  it('no spent refresh token is ever sent again', () =>
    step('no spent RT', async () => {
      expect(server.spentReplays).toBe(0);
    }));
});
