// Short-lived access tokens (Keycloak's default is 5 minutes) against a real
// authorization server with rotating refresh tokens. The refresh margin never
// exceeds half the lifetime, so a token someone has just obtained is handed out
// as it is: one refresh per expiry, not one per call.
import { afterEach, describe, expect, it } from 'vitest';
import { signInAndConsent } from '../fakes/browser-user';
import { startOidcServer, type OidcServerHandle } from '../fakes/oidc-server';
import { runCli } from '../support/cli';
import { makeTestCore, type TestCore } from '../support/test-core';

let oidc: OidcServerHandle | undefined;
let t: TestCore | undefined;

afterEach(async () => {
  await t?.cleanup();
  await oidc?.close();
  t = undefined;
  oidc = undefined;
});

async function connectedAccount(ttlSeconds: number): Promise<{ id: string; t: TestCore; oidc: OidcServerHandle }> {
  oidc = await startOidcServer({ accessTokenTtlSeconds: ttlSeconds });
  t = makeTestCore({ keychain: true });
  await t.core.addGenericProvider({
    name: 'corp',
    issuer: oidc.issuer,
    clientId: oidc.clientId,
    clientSecret: oidc.clientSecret,
  });
  const attempt = await t.core.startConnect('corp');
  const redirected = await signInAndConsent(attempt.authorizeUrl, attempt.redirectUri!, 'alice');
  expect((await fetch(redirected)).status).toBe(200);
  const account = await attempt.result;
  return { id: account.id, t, oidc };
}

/** As if the token had been obtained 60% of its lifetime ago: less than half of it is left, so it is due. */
async function ageStoredToken(core: TestCore['core'], id: string, ttlSeconds: number): Promise<void> {
  const { meta, secret } = await core.repo.load(id);
  const shift = ttlSeconds * 600;
  await core.repo.saveTokens(meta, {
    ...secret,
    tokens: { ...secret.tokens, issuedAt: secret.tokens.issuedAt - shift, expiresAt: secret.tokens.expiresAt! - shift },
  });
}

describe.each([30, 300])('an access token that lives %i s (real oidc-provider, rotating refresh tokens)', (ttl) => {
  it('is not due when it was just issued, and twenty concurrent `tokentray token` make exactly one refresh', async () => {
    const { id, t: tc, oidc: server } = await connectedAccount(ttl);
    const env = { home: tc.home, service: tc.service };
    // Just connected: handed out as it is, no refresh.
    const fresh = await runCli(['token', id], env);
    expect(fresh.code, fresh.stderr).toBe(0);
    expect(server.stats.refreshGrants).toBe(0);

    await ageStoredToken(tc.core, id, ttl);
    const results = await Promise.all(Array.from({ length: 20 }, () => runCli(['token', id], env)));
    for (const r of results) expect(r.code, r.stderr).toBe(0);
    const tokens = new Set(results.map((r) => r.stdout.trim()));
    expect(tokens.size).toBe(1);
    expect(tokens.has(fresh.stdout.trim())).toBe(false);
    expect(server.stats.refreshGrants).toBe(1);
    expect(server.stats.invalidGrants).toBe(0);

    // Right after a refresh, by another process: twenty calls in a row make no further refresh.
    for (let i = 0; i < 20; i += 1) {
      const r = await runCli(['token', id], env);
      expect(r.code, r.stderr).toBe(0);
      expect(tokens.has(r.stdout.trim())).toBe(true);
    }
    expect(server.stats.refreshGrants).toBe(1);
  }, 120_000);
});
