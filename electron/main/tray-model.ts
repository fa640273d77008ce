// What the tray shows, as plain data (no electron import) so it is decided in one
// place and testable without a display: the icon state and the menu's account lines.
import type { AccountSummary } from '../shared/models';

export type TrayState = 'ok' | 'expiring' | 'reconnect' | 'offline';
export const TRAY_STATES: readonly TrayState[] = ['ok', 'expiring', 'reconnect', 'offline'];

/**
 * The most urgent thing wins: an account the user must reconnect, then "the
 * network or provider is failing" (refreshes are being retried), then a token
 * nearing an end Tokentray cannot push back.
 */
export function trayStateOf(
  accounts: readonly AccountSummary[],
  options: { online: boolean; retrying: number },
): TrayState {
  const needsUser = accounts.some(
    (a) => a.status === 'reconnect' || a.status === 'error' || (a.status === 'expired' && !a.canRefresh),
  );
  if (needsUser) return 'reconnect';
  if (!options.online || options.retrying > 0) return 'offline';
  if (accounts.some((a) => (a.status === 'expiring' && !a.canRefresh) || (a.status === 'expired' && a.canRefresh)))
    return 'expiring';
  return 'ok';
}

export const TRAY_TOOLTIPS: Record<TrayState, string> = {
  ok: 'Tokentray: all tokens are fresh',
  expiring: 'Tokentray: a token expires soon',
  reconnect: 'Tokentray: an account needs to be reconnected',
  offline: 'Tokentray: offline, refreshes will be retried',
};

export function timeLeft(expiresAt: string | null, now: number): string {
  if (expiresAt === null) return 'no expiry';
  const ms = Date.parse(expiresAt) - now;
  if (Number.isNaN(ms)) return 'unknown expiry';
  if (ms <= 0) return 'expired';
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 60) return `${Math.max(1, minutes)} min left`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h left`;
  return `${Math.floor(hours / 24)} d left`;
}

export function accountLine(account: AccountSummary, now: number): string {
  const state =
    account.status === 'reconnect' || account.status === 'error'
      ? 'reconnect needed'
      : timeLeft(account.expiresAt, now);
  return `${account.providerName}: ${account.label} (${state})`;
}
