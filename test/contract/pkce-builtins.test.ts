import { describe, expect, it } from 'vitest';
import { newAuthorizationSecrets } from '../../electron/core/oauth/pkce';
import { BUILTIN_PROVIDERS } from '../../electron/core/providers/builtin';
import { providerContext } from '../support/provider-context';

/**
 * Issue 20, Low: RFC 9700 §2.1.1 — clients send PKCE S256 to every authorization server; one
 * without PKCE ignores the parameters (RFC 6749 §3.1). Every built-in provider gets the challenge
 * in its authorize URL and, where its token request is Tokentray's own builder (amoCRM/Kommo,
 * ClickUp, Basecamp), the verifier in the code redemption. TickTick/Dida365 redeem through
 * oauth4webapi, which sends the verifier it is given. The contract tests drive each emulator
 * through a whole sign-in with these requests.
 */
describe('PKCE for the built-in providers', () => {
  for (const provider of BUILTIN_PROVIDERS) {
    it(`${provider.id}: sends code_challenge (S256) and, at its token endpoint, the code_verifier`, async () => {
      expect(provider.pkce).toBe(true);
      const secrets = await newAuthorizationSecrets(provider.pkce);
      const ctx = providerContext({
        provider: provider.id,
        clientId: 'client-id',
        clientSecret: 'client-secret-value',
        endpoints: {
          authorizeUrl: 'https://auth.example.com/authorize',
          tokenUrl: 'https://auth.example.com/token',
          apiUrl: 'https://api.example.com',
          revokeUrl: null,
          issuer: null,
        },
        redirectUri: provider.defaultRedirectUri,
      });
      const url = new URL(
        provider.buildAuthorizeUrl(ctx, { state: secrets.state, codeChallenge: secrets.codeChallenge }),
      );
      expect(url.searchParams.get('code_challenge')).toBe(secrets.codeChallenge);
      expect(url.searchParams.get('code_challenge_method')).toBe('S256');
      expect(url.searchParams.get('state')).toBe(secrets.state);

      if (provider.buildTokenRequest) {
        const request = provider.buildTokenRequest(ctx, {
          kind: 'authorization_code',
          code: 'the-code',
          codeVerifier: secrets.codeVerifier,
          host: 'example.amocrm.ru',
        });
        const body = String(request.body);
        const fields = body.startsWith('{')
          ? (JSON.parse(body) as Record<string, string>)
          : Object.fromEntries(new URLSearchParams(body));
        expect(fields['code_verifier']).toBe(secrets.codeVerifier);
        expect(fields['code']).toBe('the-code');
      } else {
        expect(provider.standardTokenEndpoint).toBeDefined();
      }
    });
  }
});
