import { effectiveMinValidMs, needsRefresh } from '../core/refresh/token-freshness';

/**
 * What the fast `tokentray token` paths (keychain and shared store) print for a stored account
 * item, or null when the full CLI must decide: the item is not what we expect, the token is due
 * for a refresh, or `--header` is asked for a pasted personal token, whose scheme only the
 * provider's definition knows (ClickUp's are sent raw). OAuth access tokens are bearer tokens
 * (RFC 6750) with every provider.
 */
export function freshTokenLine(raw: string, minValidSeconds: number, header: boolean, now: number): string | null {
  let item: { tokens?: { accessToken?: unknown; expiresAt?: unknown; issuedAt?: unknown; personal?: unknown } };
  try {
    item = JSON.parse(raw) as typeof item;
  } catch {
    return null;
  }
  const tokens = item.tokens;
  if (
    !tokens ||
    typeof tokens.accessToken !== 'string' ||
    tokens.accessToken === '' ||
    (tokens.expiresAt !== null && typeof tokens.expiresAt !== 'number') ||
    typeof tokens.issuedAt !== 'number'
  )
    return null;
  if (header && tokens.personal !== false) return null;
  const timing = { expiresAt: tokens.expiresAt, issuedAt: tokens.issuedAt };
  if (needsRefresh(timing, effectiveMinValidMs(timing, minValidSeconds), now)) return null;
  return header ? `Authorization: Bearer ${tokens.accessToken}\n` : `${tokens.accessToken}\n`;
}
