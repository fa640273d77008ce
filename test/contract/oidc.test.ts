import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signInAndConsent } from '../fakes/browser-user';
import { startOidcServer, type OidcServerHandle } from '../fakes/oidc-server';
import { makeTestCore, readAllFiles, type TestCore } from '../support/test-core';

let oidc: OidcServerHandle;
let t: TestCore;

beforeAll(async () => {
  oidc = await startOidcServer({ accessTokenTtlSeconds: 3600 });
  t = makeTestCore({ keychain: true });
});
afterAll(async () => {
  await t.cleanup();
  await oidc.close();
});

async function connectAlice(login = 'alice') {
  const attempt = await t.core.startConnect('corp', { label: login === 'alice' ? 'Corp Alice' : undefined });
  expect(attempt.redirectUri).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/callback\/corp$/);
  const url = new URL(attempt.authorizeUrl);
  expect(url.searchParams.get('code_challenge_method')).toBe('S256');
  const redirected = await signInAndConsent(attempt.authorizeUrl, attempt.redirectUri!, login);
  const res = await fetch(redirected);
  expect(res.status).toBe(200);
  expect(res.headers.get('referrer-policy')).toBe('no-referrer');
  return attempt.result;
}

describe('generic OpenID Connect provider against oidc-provider', () => {
  it('is added from its discovery document', async () => {
    const summary = await t.core.addGenericProvider({
      name: 'corp',
      issuer: oidc.issuer,
      clientId: oidc.clientId,
      clientSecret: oidc.clientSecret,
    });
    expect(summary).toMatchObject({ id: 'corp', kind: 'generic', configured: true, methods: ['loopback', 'paste'] });
  });

  it('connects through the real loopback redirect with PKCE and stores the account', async () => {
    const account = await connectAlice();
    expect(account).toMatchObject({ provider: 'corp', label: 'Corp Alice', status: 'ok', canRefresh: true });
    expect(account.scopes).toContain('offline_access');
    const accounts = await t.core.listAccounts();
    expect(accounts.map((a) => a.id)).toEqual([account.id]);
  });

  it('connecting the same login again updates the account instead of duplicating it', async () => {
    await connectAlice();
    expect(await t.core.listAccounts()).toHaveLength(1);
    await connectAlice('bob');
    expect(await t.core.listAccounts()).toHaveLength(2);
  });

  it('rotates the refresh token on refresh, and 100 concurrent callers cause one refresh', async () => {
    const [alice] = (await t.core.listAccounts()).filter((a) => a.label === 'Corp Alice');
    const before = await t.core.getAccessToken(alice!.id);
    const refreshed = await t.core.refresh(alice!.id);
    const after = await t.core.getAccessToken(alice!.id);
    expect(after).not.toBe(before);
    expect(refreshed.lastRefreshAt).not.toBeNull();
    const grantsBefore = oidc.stats.refreshGrants;
    // Let the token expire (as after a long sleep), then ask for it 100 times at once.
    const loaded = await t.core.repo.load(alice!.id);
    await t.core.repo.saveTokens(loaded.meta, {
      ...loaded.secret,
      tokens: { ...loaded.secret.tokens, expiresAt: Date.now() - 1000 },
    });
    const tokens = await Promise.all(Array.from({ length: 100 }, () => t.core.getAccessToken(alice!.id)));
    expect(new Set(tokens).size).toBe(1);
    expect(oidc.stats.refreshGrants - grantsBefore).toBe(1);
    expect(oidc.stats.invalidGrants).toBe(0);
  });

  it('keeps no token in any file under the state directory', async () => {
    const [alice] = await t.core.listAccounts();
    const token = await t.core.getAccessToken(alice!.id);
    const files = await readAllFiles(t.home);
    expect(files).not.toContain(token);
    expect(files).not.toContain(oidc.clientSecret);
  });

  it('marks the account "reconnect" when the grant is revoked, and keeps it', async () => {
    const [alice] = (await t.core.listAccounts()).filter((a) => a.label === 'Corp Alice');
    await t.core.disconnect(alice!.id).catch(() => undefined);
    // Re-connect, then replay a spent refresh token directly: oidc-provider revokes the whole grant.
    const account = await connectAlice();
    const { secret } = await t.core.repo.load(account.id);
    const spent = secret.tokens.refreshToken!;
    await t.core.refresh(account.id);
    const replay = await fetch(`${oidc.issuer}/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${oidc.clientId}:${oidc.clientSecret}`).toString('base64')}`,
      },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: spent }).toString(),
    });
    expect(replay.status).toBe(400);
    await expect(t.core.refresh(account.id)).rejects.toMatchObject({ code: 'RECONNECT_REQUIRED' });
    const listed = (await t.core.listAccounts()).find((a) => a.id === account.id);
    expect(listed?.status).toBe('reconnect');
    // The secrets are still there for inspection or a clean disconnect.
    const inspection = await t.core.inspect(account.id);
    expect(inspection.refreshHistory[0]).toMatchObject({ outcome: 'failed', code: 'RECONNECT_REQUIRED' });
  });
});

describe('paste and deep-link flows against oidc-provider', () => {
  it('finishes a sign-in in another process from the pasted redirected URL (state kept in the keychain)', async () => {
    const attempt = await t.core.startConnect('corp', { listen: false, label: 'pasted' });
    expect(attempt.redirectUri).toBeNull();
    const redirectUri = new URL(attempt.authorizeUrl).searchParams.get('redirect_uri')!;
    const landed = await signInAndConsent(attempt.authorizeUrl, redirectUri, 'carol');
    attempt.cancel();
    // A second core on the same home and keychain stands for the next `tokentray connect --redirected-url` run.
    const other = makeTestCore({ keychain: true, service: t.service, home: t.home });
    const forged = landed.replace(/state=[^&]+/, 'state=forged');
    await expect(other.core.completeConnectWithUrl('corp', forged)).rejects.toMatchObject({ code: 'STATE_MISMATCH' });
    const account = await other.core.completeConnectWithUrl('corp', landed);
    expect(account).toMatchObject({ provider: 'corp', label: 'pasted', status: 'ok' });
    // The pending sign-in is single-use.
    await expect(other.core.completeConnectWithUrl('corp', landed)).rejects.toMatchObject({ code: 'STATE_MISMATCH' });
    await other.core.close();
  });

  it('routes a tokentray:// deep link to the pending sign-in and ignores it when none is pending', async () => {
    expect(await t.core.handleDeepLink('tokentray://callback/corp?code=x&state=nothing-pending')).toBe(false);
    await t.core.setProvider('corp', {
      clientId: oidc.clientId,
      redirectUri: 'tokentray://callback/corp',
      whenInUse: 'keep-endpoints',
    });
    const attempt = await t.core.startConnect('corp', { label: 'deep' });
    expect(attempt.redirectUri).toBeNull();
    const landed = await signInAndConsent(attempt.authorizeUrl, 'tokentray://', 'dave');
    expect(await t.core.handleDeepLink(landed.replace(/state=[^&]+/, 'state=forged'))).toBe(false);
    expect(await t.core.handleDeepLink(landed)).toBe(true);
    expect(await attempt.result).toMatchObject({ label: 'deep', status: 'ok' });
    expect(await t.core.handleDeepLink(landed)).toBe(false);
    await t.core.setProvider('corp', {
      clientId: oidc.clientId,
      redirectUri: 'http://127.0.0.1/callback/corp',
      whenInUse: 'keep-endpoints',
    });
  });
});
