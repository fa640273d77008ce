import { describe, expect, it } from 'vitest';
import { accountStatus, refreshDueAt, toSummary } from '../../electron/core/accounts/account-status';
import type { ProviderDefinition } from '../../electron/core/providers/types';
import type { AccountMeta } from '../../electron/core/vault/metadata';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 10, 25, 12, 0, 0);

function provider(refresh: ProviderDefinition['refresh'], warnDays = 14): ProviderDefinition {
  return {
    id: 'p',
    name: 'Provider',
    kind: 'builtin',
    refresh,
    warnBeforeExpirySeconds: warnDays * 86_400,
  } as ProviderDefinition;
}

function meta(over: Partial<AccountMeta>): AccountMeta {
  return {
    version: 1,
    id: 'p-1',
    provider: 'p',
    subject: '1',
    label: 'Work',
    workspaces: [],
    extra: {},
    scopes: [],
    issuedAt: NOW - DAY,
    expiresAt: NOW + DAY,
    lastRefreshAt: null,
    connectedAt: NOW - DAY,
    state: 'ok',
    stateDetail: null,
    lastErrorCode: null,
    fingerprint: 'abc',
    hasRefreshToken: true,
    personal: false,
    host: null,
    refreshHistory: [],
    ...over,
  };
}

describe('account status', () => {
  it('refreshable tokens: ok, then expiring under max(5 min, 10% of lifetime), then expired', () => {
    const m = meta({ issuedAt: NOW - DAY, expiresAt: NOW + DAY }); // lifetime 2 days → margin 4.8 h
    expect(accountStatus(m, provider('rotating'), NOW).status).toBe('ok');
    expect(refreshDueAt(m, provider('rotating'))).toBe(NOW + DAY - 0.2 * DAY);
    expect(accountStatus(m, provider('rotating'), NOW + DAY - 4 * 3_600_000).status).toBe('expiring');
    const expired = accountStatus(m, provider('rotating'), NOW + DAY + 1);
    expect(expired.status).toBe('expired');
    expect(expired.detail).toMatch(/refreshed on next use/);
  });

  it('short-lived tokens use the 5-minute floor', () => {
    const m = meta({ issuedAt: NOW, expiresAt: NOW + 10 * 60_000 });
    expect(refreshDueAt(m, provider('rotating'))).toBe(NOW + 5 * 60_000);
  });

  it('the margin never exceeds half the lifetime: a 5-minute or 30-second token is not due when issued', () => {
    for (const lifetime of [30_000, 5 * 60_000, 8 * 60_000]) {
      const m = meta({ issuedAt: NOW, expiresAt: NOW + lifetime });
      expect(refreshDueAt(m, provider('rotating'))).toBe(NOW + lifetime / 2);
      expect(accountStatus(m, provider('rotating'), NOW + 1_000).status).toBe('ok');
      expect(accountStatus(m, provider('rotating'), NOW + lifetime / 2).status).toBe('expiring');
    }
    // Items stored before the issue time was known keep the plain 5 minutes.
    const legacy = meta({ issuedAt: null, expiresAt: NOW + 30 * 60_000 });
    expect(refreshDueAt(legacy, provider('rotating'))).toBe(NOW + 25 * 60_000);
  });

  it('tokens that cannot be refreshed (TickTick) warn 14 days ahead and say to reconnect', () => {
    const m = meta({ hasRefreshToken: false, issuedAt: NOW - 160 * DAY, expiresAt: NOW + 13 * DAY });
    const s = accountStatus(m, provider('none'), NOW);
    expect(s.status).toBe('expiring');
    expect(s.detail).toMatch(/cannot refresh it; reconnect before then/);
    expect(s.detail).toMatch(/13 days/);
    expect(accountStatus({ ...m, expiresAt: NOW + 20 * DAY }, provider('none'), NOW).status).toBe('ok');
    expect(accountStatus(m, provider('none'), NOW + 14 * DAY).detail).toMatch(/reconnect the account/);
  });

  it('tokens without expiry (ClickUp) stay ok; reconnect and error states win', () => {
    expect(accountStatus(meta({ expiresAt: null }), provider('none'), NOW).status).toBe('ok');
    expect(accountStatus(meta({ state: 'reconnect', stateDetail: 'revoked' }), provider('rotating'), NOW)).toEqual({
      status: 'reconnect',
      detail: 'revoked',
    });
    expect(accountStatus(meta({ state: 'error', stateDetail: 'bad client' }), provider('rotating'), NOW).status).toBe(
      'error',
    );
  });

  it('summaries carry ISO dates, a fingerprint and no secret', () => {
    const s = toSummary(meta({ lastRefreshAt: NOW }), provider('rotating'), NOW);
    expect(s.expiresAt).toBe(new Date(NOW + DAY).toISOString());
    expect(s.lastRefreshAt).toBe(new Date(NOW).toISOString());
    expect(s.canRefresh).toBe(true);
    expect(Object.keys(s)).not.toContain('accessToken');
  });
});
