import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ExpiryNoticeBook, expiryNoticeFor, fileNotices } from '../../electron/core/refresh/expiry-notices';
import type { AccountSummary } from '../../electron/shared/models';

const DAY = 86_400_000;
const NOW = Date.parse('2030-03-01T12:00:00Z');

function account(overrides: Partial<AccountSummary> = {}): AccountSummary {
  return {
    id: 'ticktick-me',
    provider: 'ticktick',
    providerName: 'TickTick',
    label: 'me@example.com',
    status: 'expiring',
    statusDetail: null,
    expiresAt: new Date(NOW + 10 * DAY).toISOString(),
    lastRefreshAt: null,
    connectedAt: new Date(NOW - 170 * DAY).toISOString(),
    scopes: [],
    workspaces: [],
    fingerprint: 'abc',
    canRefresh: false,
    demo: false,
    ...overrides,
  };
}

const warnAt = (a: AccountSummary): number => Date.parse(a.expiresAt as string) - 14 * DAY;

describe('expiry notices', () => {
  it('tells about a token that cannot be refreshed once it is inside its warning window', () => {
    const a = account();
    const notice = expiryNoticeFor(a, warnAt(a), NOW);
    expect(notice).toMatchObject({ accountId: 'ticktick-me', expired: false, provider: 'ticktick' });
    expect(notice?.body).toContain('10 days');
    expect(notice?.body).toContain('reconnect');
    expect(notice?.body).not.toContain('abc');
  });

  it('says nothing before the warning window, nor for tokens Tokentray refreshes itself', () => {
    const far = account({ expiresAt: new Date(NOW + 30 * DAY).toISOString() });
    expect(expiryNoticeFor(far, warnAt(far), NOW)).toBeNull();
    const refreshable = account({ canRefresh: true });
    expect(expiryNoticeFor(refreshable, warnAt(refreshable), NOW)).toBeNull();
    expect(expiryNoticeFor(account({ expiresAt: null }), null, NOW)).toBeNull();
    expect(expiryNoticeFor(account({ status: 'reconnect' }), null, NOW)).toBeNull();
  });

  it('uses a few days as the window when the core gives none', () => {
    const soon = account({ expiresAt: new Date(NOW + 2 * DAY).toISOString() });
    const later = account({ expiresAt: new Date(NOW + 5 * DAY).toISOString() });
    expect(expiryNoticeFor(soon, null, NOW)).not.toBeNull();
    expect(expiryNoticeFor(later, null, NOW)).toBeNull();
  });

  it('gives one notice per account per token lifetime, and a new one after a reconnect', () => {
    const book = new ExpiryNoticeBook();
    const a = account();
    const shown = [NOW, NOW + DAY, NOW + 5 * DAY, NOW + 11 * DAY].map((t) => book.take(a, warnAt(a), t));
    expect(shown.filter((n) => n !== null)).toHaveLength(1);

    const other = account({ id: 'ticktick-work', label: 'work' });
    expect(book.take(other, warnAt(other), NOW)).not.toBeNull();

    const reconnected = account({ expiresAt: new Date(NOW + 180 * DAY).toISOString() });
    expect(book.take(reconnected, warnAt(reconnected), NOW + 170 * DAY)).not.toBeNull();
    expect(book.take(reconnected, warnAt(reconnected), NOW + 171 * DAY)).toBeNull();
  });

  it('says "expired" when the app first sees the token after its end', () => {
    const a = account({ expiresAt: new Date(NOW - DAY).toISOString(), status: 'expired' });
    const notice = new ExpiryNoticeBook().take(a, warnAt(a), NOW);
    expect(notice?.expired).toBe(true);
    expect(notice?.title).toContain('reconnect');
  });

  it('remembers shown notices across restarts', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'tokentray-notices-')), 'expiry-notices.json');
    const a = account();
    const first = new ExpiryNoticeBook(await fileNotices(path));
    expect(first.take(a, warnAt(a), NOW)).not.toBeNull();
    // The write is best effort and asynchronous; give it a moment to land.
    for (let i = 0; i < 50 && !safeRead(path).includes(a.id); i += 1) await new Promise((r) => setTimeout(r, 10));
    const second = new ExpiryNoticeBook(await fileNotices(path));
    expect(second.take(a, warnAt(a), NOW + DAY)).toBeNull();
  });
});

function safeRead(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}
