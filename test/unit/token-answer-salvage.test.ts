// Issue 19: once a token endpoint answered 2xx to a refresh, that refresh token is never sent
// again. A rotating server has already spent it; the new one in the body is stored even when the
// rest of the answer fails validation. And a bare 400 to a refresh is a dead grant, not setup.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TokentrayError } from '../../electron/core/errors';
import { seedScriptedAccount, startScriptedTokenServer } from '../fakes/scripted-token-server';
import { makeTestCore, type TestCore } from '../support/test-core';

let server: Awaited<ReturnType<typeof startScriptedTokenServer>>;
let t: TestCore;
let now: number;
const clock = { now: () => now };

beforeEach(async () => {
  server = await startScriptedTokenServer();
  now = Date.now();
  t = makeTestCore({ clock });
});
afterEach(async () => {
  await t.cleanup();
  await server.close();
});

async function seedExpired(): Promise<string> {
  server.accept('rt-initial');
  return seedScriptedAccount(t.core, server.url, {
    accessToken: 'at-initial',
    refreshToken: 'rt-initial',
    expiresAt: now - 1000,
    issuedAt: now - 3_601_000,
  });
}

async function refusal(promise: Promise<unknown>): Promise<TokentrayError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TokentrayError);
  return error as TokentrayError;
}

describe('a 2xx refresh answer that fails validation', () => {
  const answers: Record<string, Record<string, unknown>> = {
    'an ID token that is not a JWT': {
      access_token: 'at-rotated-SECRET',
      refresh_token: 'rt-rotated-SECRET',
      id_token: 'not-a-jwt',
      token_type: 'Bearer',
      expires_in: 3600,
    },
    'no access token': { refresh_token: 'rt-rotated-SECRET', token_type: 'Bearer', expires_in: 3600 },
  };
  for (const [what, body] of Object.entries(answers)) {
    it(`(${what}) keeps the rotated refresh token, says what was wrong, and never sends the spent one again`, async () => {
      const id = await seedExpired();
      server.script.push({ status: 200, body });
      const error = await refusal(t.core.getAccessToken(id));
      expect(error.code).toBe('TOKEN_RESPONSE_INVALID');
      expect(error.message).not.toMatch(/SECRET|rt-initial/);
      expect(JSON.stringify(error)).not.toMatch(/SECRET/);
      // Sent once, never retried with the spent token.
      expect(server.presented).toEqual(['rt-initial']);
      expect((await t.core.repo.load(id)).secret.tokens.refreshToken).toBe('rt-rotated-SECRET');
      // The next refresh uses the rotated token, and the account works again.
      const token = await t.core.getAccessToken(id);
      expect(token).toMatch(/^at-1-/);
      expect(server.presented).toEqual(['rt-initial', 'rt-rotated-SECRET']);
      expect(server.stats.reuse).toBe(0);
      expect((await t.core.listAccounts())[0]).toMatchObject({ status: 'ok' });
    });
  }

  it('without a new refresh token keeps the stored one (the server did not rotate) and is not retried in the same call', async () => {
    const id = await seedExpired();
    server.script.push({ status: 200, body: { token_type: 'Bearer' } });
    expect((await refusal(t.core.getAccessToken(id))).code).toBe('TOKEN_RESPONSE_INVALID');
    expect(server.presented).toEqual(['rt-initial']);
    expect((await t.core.repo.load(id)).secret.tokens.refreshToken).toBe('rt-initial');
  });
});

describe('lenient where real servers differ', () => {
  it('reads expires_in as a string, token_type in lower case, and keeps the old refresh token and scopes when the answer has none', async () => {
    const id = await seedExpired();
    server.script.push({
      status: 200,
      body: { access_token: 'at-lenient', token_type: 'bearer', expires_in: '600', extra_field: { x: 1 } },
    });
    expect(await t.core.getAccessToken(id)).toBe('at-lenient');
    const { secret, meta } = await t.core.repo.load(id);
    expect(secret.tokens.refreshToken).toBe('rt-initial');
    expect(secret.tokens.expiresAt).toBe(now + 600_000);
    expect(meta.scopes).toEqual(['openid']);
  });
});

describe('a bare 400 to a refresh', () => {
  it('is a dead grant: RECONNECT_REQUIRED (exit 3), status reconnect, and the stored tokens are kept', async () => {
    const id = await seedExpired();
    server.script.push({ status: 400 });
    const error = await refusal(t.core.getAccessToken(id));
    expect(error.code).toBe('RECONNECT_REQUIRED');
    expect(error.message).toMatch(/reconnect/i);
    expect((await t.core.listAccounts())[0]).toMatchObject({ status: 'reconnect' });
    expect((await t.core.repo.load(id)).secret.tokens.refreshToken).toBe('rt-initial');
  });

  it('while invalid_client still means the app setup (status error)', async () => {
    const id = await seedExpired();
    server.script.push({ status: 400, body: { error: 'invalid_client' } });
    expect((await refusal(t.core.getAccessToken(id))).code).toBe('PROVIDER_CONFIG_INVALID');
    expect((await t.core.listAccounts())[0]).toMatchObject({ status: 'error' });
  });
});
