import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { seedScriptedAccount, startScriptedTokenServer } from '../fakes/scripted-token-server';
import { makeTestCore, type TestCore } from '../support/test-core';

let server: Awaited<ReturnType<typeof startScriptedTokenServer>>;
let t: TestCore;
let now: number;

beforeEach(async () => {
  server = await startScriptedTokenServer();
  now = Date.now();
  t = makeTestCore({ clock: { now: () => now } });
});
afterEach(async () => {
  await t.cleanup();
  await server.close();
});

async function seed(expiresInMs: number | null, refreshToken: string | null = 'rt-initial', lifetimeMs = 3_600_000) {
  if (refreshToken) server.accept(refreshToken);
  return seedScriptedAccount(t.core, server.url, {
    accessToken: 'at-initial',
    refreshToken,
    expiresAt: expiresInMs === null ? null : now + expiresInMs,
    issuedAt: expiresInMs === null ? now : now + expiresInMs - lifetimeMs,
  });
}

describe('refresher', () => {
  it('returns the stored token without a call while it is comfortably valid', async () => {
    const id = await seed(50 * 60_000);
    expect(await t.core.getAccessToken(id)).toBe('at-initial');
    expect(server.stats.issued).toBe(0);
  });

  it('refreshes early: under max(5 min, 10% of lifetime) left', async () => {
    const id = await seed(5.5 * 60_000, 'rt-initial', 2 * 3_600_000); // 10% of 2 h = 12 min > 5.5 min left
    const token = await t.core.getAccessToken(id);
    expect(token).not.toBe('at-initial');
    expect(server.stats.issued).toBe(1);
  });

  it('honours --min-valid', async () => {
    const id = await seed(50 * 60_000);
    expect(await t.core.getAccessToken(id, { minValidSeconds: 3000 })).toBe('at-initial');
    expect(await t.core.getAccessToken(id, { minValidSeconds: 3100 })).not.toBe('at-initial');
  });

  it('100 concurrent callers on an expired token make one token call and share its result', async () => {
    const id = await seed(-1000);
    server.script.push({
      status: 200,
      body: { access_token: 'at-new', refresh_token: 'rt-new', expires_in: 3600 },
      delayMs: 100,
    });
    const tokens = await Promise.all(Array.from({ length: 100 }, () => t.core.getAccessToken(id)));
    expect(new Set(tokens)).toEqual(new Set(['at-new']));
    expect(server.presented).toEqual(['rt-initial']);
  });

  it('callers asking for different validity still share the one refresh in flight', async () => {
    const id = await seed(-1000);
    server.script.push({
      status: 200,
      body: { access_token: 'at-new', refresh_token: 'rt-new', expires_in: 3600 },
      delayMs: 100,
    });
    // Distinct --min-valid values are distinct calls at the service: only the refresher's single flight joins them.
    const tokens = await Promise.all(
      Array.from({ length: 100 }, (_, i) => t.core.getAccessToken(id, { minValidSeconds: i })),
    );
    expect(new Set(tokens)).toEqual(new Set(['at-new']));
    expect(server.presented).toEqual(['rt-initial']);
  });

  it('keeps the old refresh token when the response carries none', async () => {
    const id = await seed(-1000);
    server.script.push({ status: 200, body: { access_token: 'at-2', expires_in: 3600 } });
    await t.core.getAccessToken(id);
    const { secret } = await t.core.repo.load(id);
    expect(secret.tokens.refreshToken).toBe('rt-initial');
    now += 2 * 3_600_000;
    server.script.push({ status: 200, body: { access_token: 'at-3', expires_in: 3600 } });
    expect(await t.core.getAccessToken(id)).toBe('at-3');
    expect(server.presented).toEqual(['rt-initial', 'rt-initial']);
  });

  it.each([
    ['a 500', { status: 500, body: { error: 'server_error' } }, 'PROVIDER_UNAVAILABLE'],
    ['a 503', { status: 503 }, 'PROVIDER_UNAVAILABLE'],
    ['a 429', { status: 429, headers: { 'retry-after': '120' }, body: { error: 'slow_down' } }, 'RATE_LIMITED'],
  ])('%s leaves the account intact and reports %s', async (_name, reply, code) => {
    const id = await seed(-1000);
    for (let i = 0; i < 3; i += 1) server.script.push(reply);
    const error = await t.core.getAccessToken(id).catch((e: unknown) => e);
    expect(error).toMatchObject({ code });
    if (code === 'RATE_LIMITED') expect(error).toMatchObject({ retryAfterSeconds: 120 });
    const [summary] = await t.core.listAccounts();
    expect(summary?.status).toBe('expired');
    const { secret } = await t.core.repo.load(id);
    expect(secret.tokens.refreshToken).toBe('rt-initial');
    // Once the provider is back, the same refresh token still works.
    server.script.length = 0;
    expect(await t.core.getAccessToken(id)).toMatch(/^at-/);
  });

  it('retries a passing 503 with backoff and succeeds', async () => {
    const id = await seed(-1000);
    server.script.push({ status: 503 });
    expect(await t.core.getAccessToken(id)).toMatch(/^at-1-/);
  });

  it('serves the still-valid token when an early refresh fails for a passing reason', async () => {
    const id = await seed(60_000);
    for (let i = 0; i < 3; i += 1) server.script.push({ status: 502 });
    expect(await t.core.getAccessToken(id)).toBe('at-initial');
  });

  it('only invalid_grant marks the account "reconnect", and keeps its secrets', async () => {
    const id = await seed(-1000);
    server.script.push({ status: 400, body: { error: 'invalid_grant', error_description: 'grant revoked' } });
    await expect(t.core.getAccessToken(id)).rejects.toMatchObject({ code: 'RECONNECT_REQUIRED' });
    const [summary] = await t.core.listAccounts();
    expect(summary?.status).toBe('reconnect');
    expect((await t.core.repo.load(id)).secret.tokens.refreshToken).toBe('rt-initial');
    // No further calls: reconnect needs the user.
    await expect(t.core.getAccessToken(id)).rejects.toMatchObject({ code: 'RECONNECT_REQUIRED' });
    expect(server.presented).toHaveLength(1);
  });

  it('a wrong client secret is a configuration error, not a dead account', async () => {
    const id = await seed(-1000);
    server.script.push({ status: 401, body: { error: 'invalid_client' } });
    await expect(t.core.getAccessToken(id)).rejects.toMatchObject({ code: 'PROVIDER_CONFIG_INVALID' });
    const [summary] = await t.core.listAccounts();
    expect(summary?.status).toBe('error');
    expect(await t.core.getAccessToken(id)).toMatch(/^at-/);
    expect((await t.core.listAccounts())[0]?.status).toBe('ok');
  });

  it('tolerates a provider clock 10 minutes off: expiry is measured on our clock from expires_in', async () => {
    const id = await seed(-1000);
    server.script.push({
      status: 200,
      body: { access_token: 'at-skew', refresh_token: 'rt-skew', expires_in: 3600 },
      headers: { date: new Date(now + 10 * 60_000).toUTCString() },
    });
    await t.core.getAccessToken(id);
    const [summary] = await t.core.listAccounts();
    expect(Date.parse(summary!.expiresAt!)).toBe(now + 3_600_000);
    // A laptop that slept past expiry refreshes once on wake, not in a storm.
    now += 5 * 3_600_000;
    await Promise.all(Array.from({ length: 10 }, () => t.core.getAccessToken(id)));
    expect(server.presented.filter((p) => p === 'rt-skew')).toHaveLength(1);
  });
});
