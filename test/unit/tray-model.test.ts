import { describe, expect, it } from 'vitest';
import { accountLine, timeLeft, trayStateOf } from '../../electron/main/tray-model';
import type { AccountSummary } from '../../electron/shared/models';

const NOW = Date.parse('2030-01-01T00:00:00Z');

function account(overrides: Partial<AccountSummary>): AccountSummary {
  return {
    id: 'a',
    provider: 'oidc',
    providerName: 'OIDC',
    label: 'me',
    status: 'ok',
    statusDetail: null,
    expiresAt: new Date(NOW + 3_600_000).toISOString(),
    lastRefreshAt: null,
    connectedAt: new Date(NOW).toISOString(),
    scopes: [],
    workspaces: [],
    fingerprint: 'f',
    canRefresh: true,
    demo: false,
    ...overrides,
  };
}

describe('tray model', () => {
  const online = { online: true, retrying: 0 };

  it('shows the most urgent state', () => {
    expect(trayStateOf([], online)).toBe('ok');
    expect(trayStateOf([account({})], online)).toBe('ok');
    // Tokentray refreshes these itself: nothing for the user to do.
    expect(trayStateOf([account({ status: 'expiring' })], online)).toBe('ok');
    expect(trayStateOf([account({ status: 'expiring', canRefresh: false })], online)).toBe('expiring');
    expect(trayStateOf([account({ status: 'expiring', canRefresh: false })], { online: false, retrying: 0 })).toBe(
      'offline',
    );
    expect(trayStateOf([account({})], { online: true, retrying: 1 })).toBe('offline');
    expect(
      trayStateOf([account({ status: 'reconnect' }), account({ status: 'expiring', canRefresh: false })], {
        online: false,
        retrying: 2,
      }),
    ).toBe('reconnect');
    expect(trayStateOf([account({ status: 'expired', canRefresh: false })], online)).toBe('reconnect');
  });

  it('labels accounts with the time their token has left', () => {
    expect(timeLeft(new Date(NOW + 5 * 60_000).toISOString(), NOW)).toBe('5 min left');
    expect(timeLeft(new Date(NOW + 5 * 3_600_000).toISOString(), NOW)).toBe('5 h left');
    expect(timeLeft(new Date(NOW + 12 * 86_400_000).toISOString(), NOW)).toBe('12 d left');
    expect(timeLeft(new Date(NOW - 1).toISOString(), NOW)).toBe('expired');
    expect(timeLeft(null, NOW)).toBe('no expiry');
    expect(accountLine(account({ providerName: 'TickTick', label: 'work' }), NOW)).toBe('TickTick: work (1 h left)');
    expect(accountLine(account({ status: 'reconnect' }), NOW)).toBe('OIDC: me (reconnect needed)');
  });
});
