// Tokens no refresh can renew (TickTick's 180-day token, providers without a
// refresh grant) end one day whatever Tokentray does; the user is told ahead of
// time, once, with a Reconnect action. This module decides *whether* to tell;
// main shows the notification. A "window" is one token's lifetime: the key is
// account + expiry, so reconnecting (a new expiry) opens a new window.
import { promises as fs } from 'node:fs';
import { dirname } from 'node:path';
import type { AccountSummary } from '../../shared/models';

/** Used when the core gives no warning time (it always does for expiring tokens; this is a guard). */
export const DEFAULT_WARN_BEFORE_MS = 3 * 86_400_000;

export interface ExpiryNotice {
  key: string;
  accountId: string;
  provider: string;
  label: string;
  expiresAt: string;
  expired: boolean;
  title: string;
  body: string;
}

export interface NoticeMemory {
  has(key: string): boolean;
  add(key: string): void;
}

function span(ms: number): string {
  const hours = Math.max(1, Math.round(ms / 3_600_000));
  if (hours < 48) return `${hours} hour${hours === 1 ? '' : 's'}`;
  return `${Math.round(hours / 24)} days`;
}

/**
 * The notice an account calls for right now, ignoring whether it was already shown:
 * only tokens that cannot be refreshed, only from the warning time on.
 */
export function expiryNoticeFor(account: AccountSummary, warnAt: number | null, now: number): ExpiryNotice | null {
  if (account.canRefresh || account.expiresAt === null || account.demo) return null;
  // Already flagged for a reconnect (revoked, say): the tray and the window say so; an expiry notice would be noise.
  if (account.status === 'reconnect' || account.status === 'error') return null;
  const expiresAt = Date.parse(account.expiresAt);
  if (Number.isNaN(expiresAt)) return null;
  const warnFrom = warnAt ?? expiresAt - DEFAULT_WARN_BEFORE_MS;
  if (now < warnFrom) return null;
  const expired = now >= expiresAt;
  const who = `${account.providerName} account "${account.label}"`;
  return {
    key: `${account.id}@${account.expiresAt}`,
    accountId: account.id,
    provider: account.provider,
    label: account.label,
    expiresAt: account.expiresAt,
    expired,
    title: expired ? `${account.providerName}: reconnect needed` : `${account.providerName}: token expires soon`,
    body: expired
      ? `The token of your ${who} has expired and cannot be refreshed; reconnect it to keep using it.`
      : `The token of your ${who} expires in ${span(expiresAt - now)} and cannot be refreshed; reconnect it before then.`,
  };
}

/** One notice per account per token lifetime, remembered across restarts when given a persistent memory. */
export class ExpiryNoticeBook {
  constructor(private readonly memory: NoticeMemory = memoryNotices()) {}

  take(account: AccountSummary, warnAt: number | null, now: number): ExpiryNotice | null {
    const notice = expiryNoticeFor(account, warnAt, now);
    if (notice === null || this.memory.has(notice.key)) return null;
    this.memory.add(notice.key);
    return notice;
  }
}

export function memoryNotices(): NoticeMemory {
  const seen = new Set<string>();
  return { has: (key) => seen.has(key), add: (key) => void seen.add(key) };
}

const MAX_REMEMBERED = 500;

/**
 * The desktop app's memory: a small JSON list of keys (account ids and expiry
 * times, nothing secret) so a restart does not repeat a notice already shown.
 * Loaded once; writes are best effort because a lost write only means one repeated notice.
 */
export async function fileNotices(path: string): Promise<NoticeMemory> {
  let keys: string[] = [];
  try {
    const parsed: unknown = JSON.parse(await fs.readFile(path, 'utf8'));
    if (Array.isArray(parsed)) keys = parsed.filter((k): k is string => typeof k === 'string');
  } catch {
    keys = [];
  }
  const seen = new Set(keys);
  let writing: Promise<void> = Promise.resolve();
  const persist = (): void => {
    const snapshot = JSON.stringify([...seen].slice(-MAX_REMEMBERED));
    writing = writing
      .then(async () => {
        await fs.mkdir(dirname(path), { recursive: true, mode: 0o700 });
        await fs.writeFile(path, `${snapshot}\n`, { mode: 0o600 });
      })
      .catch(() => undefined);
  };
  return {
    has: (key) => seen.has(key),
    add: (key) => {
      seen.add(key);
      persist();
    },
  };
}
