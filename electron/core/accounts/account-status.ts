import type { AccountStatus, AccountSummary } from '../../shared/models';
import type { ProviderDefinition } from '../providers/types';
import type { AccountMeta } from '../vault/metadata';

const FIVE_MINUTES_MS = 5 * 60_000;

export function canRefresh(
  meta: Pick<AccountMeta, 'hasRefreshToken' | 'personal'>,
  provider: ProviderDefinition,
): boolean {
  return provider.refresh !== 'none' && meta.hasRefreshToken && !meta.personal;
}

/**
 * How early to refresh: when less than max(5 minutes, 10% of the token's lifetime) is left,
 * but never more than half the lifetime, so a token that lives 5 minutes or less (Keycloak's
 * default) is not due the moment it is issued and every caller does not rotate it again.
 * Items stored before issuedAt was known keep the plain 5 minutes.
 */
export function refreshMarginMs(issuedAt: number | null, expiresAt: number): number {
  if (issuedAt === null || expiresAt <= issuedAt) return FIVE_MINUTES_MS;
  const lifetime = expiresAt - issuedAt;
  return Math.min(Math.max(FIVE_MINUTES_MS, lifetime * 0.1), lifetime / 2);
}

/** When the app should act: refresh (refreshable tokens) or warn the user (tokens that only a new consent renews). */
export function refreshDueAt(meta: AccountMeta, provider: ProviderDefinition): number | null {
  if (meta.expiresAt === null) return null;
  if (canRefresh(meta, provider)) return meta.expiresAt - refreshMarginMs(meta.issuedAt, meta.expiresAt);
  return meta.expiresAt - provider.warnBeforeExpirySeconds * 1000;
}

function humanSpan(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  if (minutes < 90) return `${minutes} minute${minutes === 1 ? '' : 's'}`;
  const hours = Math.round(minutes / 60);
  if (hours < 48) return `${hours} hours`;
  return `${Math.round(hours / 24)} days`;
}

export function accountStatus(
  meta: AccountMeta,
  provider: ProviderDefinition,
  now: number,
): { status: AccountStatus; detail: string | null } {
  if (meta.state === 'reconnect')
    return {
      status: 'reconnect',
      detail: meta.stateDetail ?? `${provider.name} needs you to connect this account again.`,
    };
  if (meta.state === 'error') return { status: 'error', detail: meta.stateDetail };
  if (meta.expiresAt === null) return { status: 'ok', detail: null };
  const refreshable = canRefresh(meta, provider);
  if (now >= meta.expiresAt) {
    return {
      status: 'expired',
      detail: refreshable
        ? 'The access token has expired; it will be refreshed on next use.'
        : `The access token has expired and ${provider.name} cannot refresh it; reconnect the account.`,
    };
  }
  const due = refreshDueAt(meta, provider);
  if (due !== null && now >= due) {
    return {
      status: 'expiring',
      detail: refreshable
        ? `Expires in ${humanSpan(meta.expiresAt - now)}; Tokentray refreshes it automatically.`
        : `Expires in ${humanSpan(meta.expiresAt - now)} and ${provider.name} cannot refresh it; reconnect before then.`,
    };
  }
  return { status: 'ok', detail: null };
}

export function toSummary(meta: AccountMeta, provider: ProviderDefinition, now: number): AccountSummary {
  const { status, detail } = accountStatus(meta, provider, now);
  const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());
  return {
    id: meta.id,
    provider: meta.provider,
    providerName: provider.name,
    label: meta.label,
    status,
    statusDetail: detail,
    expiresAt: iso(meta.expiresAt),
    lastRefreshAt: iso(meta.lastRefreshAt),
    connectedAt: new Date(meta.connectedAt).toISOString(),
    scopes: meta.scopes,
    workspaces: meta.workspaces,
    fingerprint: meta.fingerprint,
    canRefresh: canRefresh(meta, provider),
    demo: provider.kind === 'demo',
  };
}
