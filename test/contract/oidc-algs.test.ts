// Issue 19: ID tokens signed with anything but RS256 (the discovery document's
// id_token_signing_alg_values_supported), a nonce on every OpenID sign-in, and client ids and
// secrets with characters form-encoding escapes, against the real oidc-provider.
import { afterEach, describe, expect, it } from 'vitest';
import { signInAndConsent } from '../fakes/browser-user';
import { startOidcServer, type IdTokenAlg, type OidcServerHandle } from '../fakes/oidc-server';
import { makeTestCore, type TestCore } from '../support/test-core';

let oidc: OidcServerHandle | null = null;
let t: TestCore | null = null;
afterEach(async () => {
  await t?.cleanup();
  await oidc?.close();
  t = null;
  oidc = null;
});

async function expire(core: TestCore, id: string): Promise<void> {
  const loaded = await core.core.repo.load(id);
  await core.core.repo.saveTokens(loaded.meta, {
    ...loaded.secret,
    tokens: { ...loaded.secret.tokens, expiresAt: Date.now() - 1000 },
  });
}

describe('generic OpenID Connect: ID token algorithms, nonce, client credentials', () => {
  const cases: { alg: IdTokenAlg; authMethod: 'client_secret_basic' | 'client_secret_post' }[] = [
    { alg: 'ES256', authMethod: 'client_secret_basic' },
    { alg: 'PS256', authMethod: 'client_secret_post' },
    { alg: 'EdDSA', authMethod: 'client_secret_basic' },
    { alg: 'RS256', authMethod: 'client_secret_post' },
  ];
  for (const { alg, authMethod } of cases) {
    it(`${alg} ID tokens, ${authMethod}: connects with a nonce, then two refreshes rotate once each, no spent token sent`, async () => {
      oidc = await startOidcServer({
        idTokenAlg: alg,
        authMethod,
        clientId: "tokentray-app_1.x!~*'()",
        clientSecret: "s3cr-et_.!~*'()+/=x",
      });
      t = makeTestCore({ keychain: true });
      await t.core.addGenericProvider({
        name: 'corp',
        issuer: oidc.issuer,
        clientId: oidc.clientId,
        clientSecret: oidc.clientSecret,
      });
      const attempt = await t.core.startConnect('corp');
      const nonce = new URL(attempt.authorizeUrl).searchParams.get('nonce');
      expect(nonce).toMatch(/^[A-Za-z0-9_-]{32,}$/);
      const redirected = await signInAndConsent(attempt.authorizeUrl, attempt.redirectUri!, 'alice');
      expect((await fetch(redirected)).status).toBe(200);
      const account = await attempt.result;
      expect(account).toMatchObject({ provider: 'corp', status: 'ok', canRefresh: true });

      // A token issued a moment ago is handed out as it is.
      const first = await t.core.getAccessToken(account.id);
      expect(oidc.stats.refreshGrants).toBe(0);
      for (const round of [1, 2]) {
        await expire(t, account.id);
        const tokens = await Promise.all(Array.from({ length: 20 }, () => t!.core.getAccessToken(account.id)));
        expect(new Set(tokens).size).toBe(1);
        expect(tokens[0]).not.toBe(first);
        expect(oidc.stats.refreshGrants).toBe(round);
      }
      expect(oidc.stats.invalidGrants).toBe(0);
      expect((await t.core.listAccounts())[0]).toMatchObject({ status: 'ok' });
    });
  }
});
