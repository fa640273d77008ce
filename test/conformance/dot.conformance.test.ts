// The conformance matrix's Django OAuth Toolkit row: Tokentray's generic OpenID Connect provider,
// driven through the built `tokentray` CLI, against DOT 1.7 from Debian (see dot-server.ts).
// Skipped, with the reason printed, where DOT is not installed; CI (TOKENTRAY_REQUIRE_SERVERS=1)
// fails instead.
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli';
import { makeTestCore, readAllFiles, type TestCore } from '../support/test-core';
import { dotMissing, startDot, type DotServer } from './dot-server';

interface Configuration {
  name: string;
}

// DOT 1.7 signs ID tokens with RS256 (or HS256 with the client secret) only, and always rotates
// with ROTATE_REFRESH_TOKEN, so one configuration covers what it can do.
const CONFIGURATIONS: Configuration[] = [{ name: 'Django OAuth Toolkit 1.7 RS256, rotating refresh tokens' }];

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

type Cell = 'pass' | 'FAIL';
const matrix = new Map<string, Map<Check, Cell>>();

/** Runs one check, records it in the matrix and prints it. */
async function record(config: string, name: Check, body: () => Promise<void>): Promise<void> {
  const row = matrix.get(config) ?? new Map<Check, Cell>();
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
  if (matrix.size === 0) return;
  const width = Math.max(...[...matrix.keys()].map((k) => k.length), 13);
  const lines = [
    ['configuration'.padEnd(width), ...CHECKS].join(' | '),
    ...[...matrix].map(([config, row]) =>
      [config.padEnd(width), ...CHECKS.map((c) => (row.get(c) ?? '-').padEnd(c.length))].join(' | '),
    ),
  ];
  console.log(`\nOIDC conformance matrix (Django OAuth Toolkit)\n${lines.join('\n')}\n`);
}

afterAll(printMatrix);

async function expire(t: TestCore, id: string): Promise<void> {
  const { meta, secret } = await t.core.repo.load(id);
  await t.core.repo.saveTokens(meta, {
    ...secret,
    tokens: { ...secret.tokens, issuedAt: Date.now() - 7200_000, expiresAt: Date.now() - 1000 },
  });
}

async function connect(t: TestCore, server: DotServer, login: string): Promise<string> {
  const attempt = await t.core.startConnect('corp');
  expect(attempt.redirectUri).toBe(server.redirectUri);
  const authorize = new URL(attempt.authorizeUrl);
  expect(authorize.searchParams.get('nonce')).toMatch(/.{16,}/);
  const redirected = await server.signIn(attempt.authorizeUrl, login);
  expect((await fetch(redirected)).status).toBe(200);
  return (await attempt.result).id;
}

async function twentyAtOnce(t: TestCore, id: string, server: DotServer): Promise<void> {
  const env = { home: t.home, service: t.service };
  const before = server.stats.refreshGrants;
  await expire(t, id);
  const results = await Promise.all(Array.from({ length: 20 }, () => runCli(['token', id], env)));
  for (const r of results) expect(r.code, r.stderr).toBe(0);
  const tokens = new Set(results.map((r) => r.stdout.trim()));
  expect(tokens.size).toBe(1);
  expect(server.stats.refreshGrants - before).toBe(1);
  const userinfo = await fetch(server.userinfoUrl, { headers: { authorization: `Bearer ${[...tokens][0]}` } });
  expect(userinfo.status).toBe(200);
}

const missing = dotMissing();
if (missing !== null) console.log(`[conformance] Django OAuth Toolkit: skipped, ${missing}`);

describe.skipIf(missing !== null).each(CONFIGURATIONS)('$name', (config) => {
  let server: DotServer;
  let t: TestCore;
  let id = '';
  const env = (): { home: string; service: string } => ({ home: t.home, service: t.service });

  const check = (name: Check, body: () => Promise<void>): Promise<void> => record(config.name, name, body);

  afterAll(async () => {
    await t?.cleanup();
    await server?.close();
  });

  it('discovery', () =>
    check('discovery', async () => {
      server = await startDot({
        // Characters that form-encoding changes, so client authentication is exercised for real.
        clientId: "tt-app_1.!~*'()+/=,",
        clientSecret: "s3cr-et_.!~*'()+/=,",
        users: ['alice', 'bob'],
      });
      t = makeTestCore({ keychain: true });
      const input = {
        name: 'corp',
        issuer: server.issuer,
        clientId: server.clientId,
        clientSecret: server.clientSecret,
        redirectUri: server.redirectUri,
      };
      // The refresh token goes to the revocation URL at disconnect: only the issuer's own server.
      await expect(
        t.core.addGenericProvider({ ...input, revocationUrl: 'https://elsewhere.example/revoke' }),
      ).rejects.toThrow(/issuer's own server/);
      // DOT 1.7 serves RFC 7009 at /o/revoke_token/ but its discovery document names no
      // revocation_endpoint (oauth2_provider/views/oidc.py, ConnectDiscoveryInfoView): name it.
      const summary = await t.core.addGenericProvider({ ...input, revocationUrl: `${server.issuer}/revoke_token/` });
      expect(summary).toMatchObject({ id: 'corp', configured: true });
    }));

  it(
    'connect through the loopback redirect',
    () =>
      check('connect', async () => {
        id = await connect(t, server, 'alice');
      }),
    30_000,
  );

  it(
    'a token issued a moment ago is handed out without a refresh',
    () =>
      check('fresh token', async () => {
        const r = await runCli(['token', id], env());
        expect(r.code, r.stderr).toBe(0);
        expect(server.stats.refreshGrants).toBe(0);
      }),
    30_000,
  );

  it(
    '20 concurrent `tokentray token` on an expired token make exactly one refresh',
    () => check('20× refresh', () => twentyAtOnce(t, id, server)),
    60_000,
  );

  it(
    'a second expiry makes exactly one more (the rotated refresh token was stored)',
    () => check('2nd expiry', () => twentyAtOnce(t, id, server)),
    60_000,
  );

  it(
    'an outage is exit 4 and keeps the account',
    () =>
      check('outage=4', async () => {
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
    check('no token on disk', async () => {
      const { secret } = await t.core.repo.load(id);
      const files = await readAllFiles(t.home);
      expect(files).not.toContain(secret.tokens.accessToken);
      if (secret.tokens.refreshToken) expect(files).not.toContain(secret.tokens.refreshToken);
      expect(files).not.toContain(server.clientSecret);
    }));

  it(
    'a revoke through DOT’s revoke_token endpoint is exit 3 and `reconnect`',
    () =>
      check('revoke=3', async () => {
        const { secret } = await t.core.repo.load(id);
        await server.revokeAtServer(secret.tokens.refreshToken!);
        await expire(t, id);
        const r = await runCli(['token', id], env());
        expect(r.code, r.stderr).toBe(3);
        expect((await t.core.listAccounts()).find((a) => a.id === id)?.status).toBe('reconnect');
      }),
    60_000,
  );

  it(
    '`disconnect` revokes at the server (the revocation URL given at provider add)',
    () =>
      check('disconnect', async () => {
        const fresh = await connect(t, server, 'bob');
        const { secret } = await t.core.repo.load(fresh);
        expect(await server.refreshTokenIsLive(secret.tokens.refreshToken!)).toBe(true);
        const r = await runCli(['disconnect', fresh], env());
        expect(r.code, r.stderr).toBe(0);
        expect(await server.refreshTokenIsLive(secret.tokens.refreshToken!)).toBe(false);
        expect((await t.core.listAccounts()).map((a) => a.id)).not.toContain(fresh);
      }),
    60_000,
  );

  it('no spent refresh token is ever sent again', () =>
    check('no spent RT', async () => {
      expect(server.spentReplays).toBe(0);
    }));
});
