// The relying-party checks of the OpenID Foundation's RP test plan that apply to a native app using
// the code flow, each against a tampering proxy in front of a real `oidc-provider` on 127.0.0.1:
// the proxy re-signs every ID token with keys the test controls and serves the JWKS the test
// controls, so each check changes exactly one thing. Printed as a matrix (check × result).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TokentrayError } from '../../electron/core/errors';
import { signInAndConsent } from '../fakes/browser-user';
import { runCli } from '../support/cli';
import { makeTestCore, readAllFiles, type TestCore } from '../support/test-core';
import { makeKey, startTamperingServer, type TamperingServer } from './tampering-proxy';

type Expected = 'accepted' | 'refused';
const rows: { check: string; expected: Expected; result: 'pass' | 'FAIL' }[] = [];

/** Runs one check, records it and prints its line as it happens. */
async function check(name: string, expected: Expected, body: () => Promise<void>): Promise<void> {
  let result: 'pass' | 'FAIL' = 'FAIL';
  try {
    await body();
    result = 'pass';
  } finally {
    rows.push({ check: name, expected, result });
    console.log(`[rp-checks] ${name} (${expected}) -> ${result}`);
  }
}

afterAll(() => {
  const width = Math.max(...rows.map((r) => r.check.length), 5);
  const lines = [
    `${'check'.padEnd(width)} | expected | result`,
    ...rows.map((r) => `${r.check.padEnd(width)} | ${r.expected.padEnd(8)} | ${r.result}`),
  ];
  console.log(`\nOpenID relying-party checks (tampering proxy in front of oidc-provider)\n${lines.join('\n')}\n`);
});

let server: TamperingServer;
let t: TestCore;
let firstAccount = '';
let logins = 0;
const env = (): { home: string; service: string } => ({ home: t.home, service: t.service });

beforeAll(async () => {
  server = await startTamperingServer();
  t = makeTestCore({ keychain: true });
  await t.core.addGenericProvider({
    name: 'corp',
    issuer: server.issuer,
    clientId: server.clientId,
    clientSecret: server.clientSecret,
  });
});

afterAll(async () => {
  await t?.cleanup();
  await server?.close();
});

type Outcome = { id: string } | { error: TokentrayError };

/** One sign-in through the loopback redirect, with a login never used before. */
async function connect(): Promise<Outcome> {
  logins += 1;
  const attempt = await t.core.startConnect('corp');
  const outcome = attempt.result.then(
    (a): Outcome => ({ id: a.id }),
    (error: unknown): Outcome => ({ error: error as TokentrayError }),
  );
  const redirected = await signInAndConsent(attempt.authorizeUrl, attempt.redirectUri!, `user${logins}`);
  await fetch(redirected).then((r) => r.text());
  return outcome;
}

async function expectAccepted(): Promise<string> {
  const outcome = await connect();
  if ('error' in outcome) throw new Error(`connect was refused: ${outcome.error.message}`);
  return outcome.id;
}

/** Connect is refused with TOKEN_RESPONSE_INVALID naming `why`, and neither account nor keychain item appears. */
async function expectRefused(why: RegExp): Promise<void> {
  const accountsBefore = (await t.core.listAccounts()).map((a) => a.id);
  const itemsBefore = (await t.store.keys()).sort();
  const outcome = await connect();
  if (!('error' in outcome)) throw new Error(`connect was accepted as ${outcome.id}`);
  expect(outcome.error.code).toBe('TOKEN_RESPONSE_INVALID');
  expect(outcome.error.message).toMatch(why);
  expect(outcome.error.message).toMatch(/Nothing was stored/);
  expect(outcome.error.message).not.toMatch(/eyJ/);
  expect((await t.core.listAccounts()).map((a) => a.id)).toEqual(accountsBefore);
  const itemsAfter = (await t.store.keys()).sort();
  expect(
    itemsAfter.filter((k) => !itemsBefore.includes(k)),
    'new keychain items',
  ).toEqual([]);
  expect(itemsAfter).toEqual(itemsBefore);
}

async function expire(id: string): Promise<void> {
  const { meta, secret } = await t.core.repo.load(id);
  await t.core.repo.saveTokens(meta, {
    ...secret,
    tokens: { ...secret.tokens, issuedAt: Date.now() - 7200_000, expiresAt: Date.now() - 1000 },
  });
}

describe('OpenID relying-party checks through a tampering proxy', () => {
  it(
    'accepts an ID token signed by the published key (baseline)',
    () =>
      check('baseline (kid in JWKS)', 'accepted', async () => {
        server.idToken = null;
        firstAccount = await expectAccepted();
        expect(server.jwksFetches).toBe(1);
      }),
    30_000,
  );

  it(
    'accepts an ID token without kid when the JWKS has a single key',
    () =>
      check('kid absent, single key', 'accepted', async () => {
        server.idToken = { omitKid: true };
        await expectAccepted();
        // The cached set served: nothing asked again.
        expect(server.jwksFetches).toBe(1);
      }),
    30_000,
  );

  const refusals: { name: string; why: RegExp; tamper: TamperingServer['idToken'] }[] = [
    {
      name: 'wrong nonce',
      why: /nonce/,
      tamper: { edit: (_h, c) => void (c['nonce'] = 'not-the-nonce-tokentray-sent') },
    },
    {
      name: 'bad signature (RS256)',
      why: /signature does not match/,
      tamper: { sign: { kind: 'foreign', alg: 'RS256', kid: 'rs-1' } },
    },
    {
      name: 'iss mismatch',
      why: /iss/,
      tamper: { edit: (_h, c) => void (c['iss'] = 'http://127.0.0.1:9/someone-else') },
    },
    { name: 'aud mismatch', why: /aud/, tamper: { edit: (_h, c) => void (c['aud'] = 'another-client') } },
    { name: 'no iat', why: /iat/, tamper: { edit: (_h, c) => void delete c['iat'] } },
    { name: 'no sub', why: /sub/, tamper: { edit: (_h, c) => void delete c['sub'] } },
    { name: 'alg none', why: /unsigned \(alg "none"\)/, tamper: { sign: { kind: 'none' } } },
  ];
  for (const r of refusals) {
    it(
      `refuses an ID token with ${r.name}: nothing stored`,
      () =>
        check(r.name, 'refused', async () => {
          server.idToken = r.tamper;
          await expectRefused(r.why);
        }),
      30_000,
    );
  }

  it(
    'refuses a bad ES256 signature under a published kid, after fetching the keys once more',
    () =>
      check('bad signature (ES256)', 'refused', async () => {
        const es = await makeKey('ES256', 'es-1');
        server.published = [server.signingKey, es];
        const before = server.jwksFetches;
        server.idToken = { sign: { kind: 'foreign', alg: 'ES256', kid: 'es-1' } };
        await expectRefused(/signature does not match/);
        // es-1 was not in the cached set: one refetch (it is there now), then the signature fails.
        expect(server.jwksFetches - before).toBe(1);
      }),
    30_000,
  );

  it(
    'refuses an ID token whose kid is in no JWKS, after exactly one refetch',
    () =>
      check('unknown kid', 'refused', async () => {
        const before = server.jwksFetches;
        server.idToken = { sign: { kind: 'foreign', alg: 'RS256', kid: 'nobody-publishes-this' } };
        await expectRefused(/no key the provider publishes matches/);
        expect(server.jwksFetches - before).toBe(1);
      }),
    30_000,
  );

  it(
    'accepts a refresh after the server rotated its signing key, with one JWKS refetch',
    () =>
      check('key rotated at the server', 'accepted', async () => {
        server.idToken = null;
        const rotated = await server.newKey('RS256', 'rs-2');
        server.signingKey = rotated;
        server.published = [rotated];
        const before = server.jwksFetches;
        const grants = server.refreshGrants;
        await expire(firstAccount);
        const r = await runCli(['token', firstAccount], env());
        expect(r.code, r.stderr).toBe(0);
        expect(server.refreshGrants - grants).toBe(1);
        expect(server.jwksFetches - before).toBe(1);
      }),
    60_000,
  );

  it(
    'refuses a refreshed ID token with a bad signature, keeps the account and stores the rotated refresh token',
    () =>
      check('bad signature at refresh', 'refused', async () => {
        const { secret: old } = await t.core.repo.load(firstAccount);
        server.idToken = { sign: { kind: 'foreign', alg: 'RS256', kid: 'rs-2' } };
        await expire(firstAccount);
        const r = await runCli(['token', firstAccount], env());
        expect(r.code, r.stderr).toBe(4);
        expect(r.stderr).toMatch(/signature does not match/);
        expect(r.stderr).toMatch(/new refresh token it sent is stored/);
        const { secret } = await t.core.repo.load(firstAccount);
        expect(secret.tokens.refreshToken).not.toBe(old.tokens.refreshToken);
        expect(secret.tokens.accessToken).toBe(old.tokens.accessToken);
        // The next refresh, with an honest answer, uses the stored one: the server sees no replay.
        server.idToken = null;
        const again = await runCli(['token', firstAccount], env());
        expect(again.code, again.stderr).toBe(0);
        expect(server.spentReplays).toBe(0);
      }),
    60_000,
  );

  it(
    'refuses a userinfo answer whose sub differs from the ID token: nothing stored',
    () =>
      check('userinfo sub differs', 'refused', async () => {
        server.idToken = null;
        server.userinfoSub = 'somebody-else';
        try {
          await expectRefused(/userinfo answer names another user/);
        } finally {
          server.userinfoSub = null;
        }
      }),
    30_000,
  );

  it(
    'refuses at `provider add` a discovery document whose issuer is not the URL it came from',
    () =>
      check('discovery issuer ≠ URL', 'refused', async () => {
        server.discoveryIssuer = 'https://issuer.example.test';
        try {
          const r = await runCli(
            ['provider', 'add', 'elsewhere', '--issuer', server.issuer, '--client-id', server.clientId],
            env(),
          );
          expect(r.code, r.stderr).toBe(1);
          expect(r.stderr).toMatch(/names the issuer https:\/\/issuer\.example\.test/);
          const listed = JSON.parse((await runCli(['providers', '--json'], env())).stdout) as { id: string }[];
          expect(listed.map((p) => p.id)).not.toContain('elsewhere');
        } finally {
          server.discoveryIssuer = null;
        }
      }),
    30_000,
  );

  it('keeps no issued token on disk, the JWKS cache included', async () => {
    const { secret } = await t.core.repo.load(firstAccount);
    const files = await readAllFiles(t.home);
    expect(files).toContain('"keys"');
    expect(files).not.toContain(secret.tokens.accessToken);
    expect(files).not.toContain(secret.tokens.refreshToken!);
    expect(files).not.toContain(server.clientSecret);
  });
});
