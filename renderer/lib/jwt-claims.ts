// Presentation of decoded JWT claims: registered time claims become dates,
// everything else is shown as compact JSON. The token itself never gets here.

export const TIME_CLAIMS = new Set(['exp', 'iat', 'nbf', 'auth_time', 'updated_at']);

export interface ClaimRow {
  name: string;
  value: string;
  /** ISO instant for NumericDate claims, shown next to the raw number. */
  date: string | null;
}

export function claimRows(claims: Record<string, unknown>): ClaimRow[] {
  return Object.entries(claims).map(([name, value]) => {
    const isTime = TIME_CLAIMS.has(name) && typeof value === 'number' && Number.isFinite(value);
    return {
      name,
      value: typeof value === 'string' ? value : JSON.stringify(value),
      date: isTime ? new Date(value * 1000).toISOString() : null,
    };
  });
}

/** Position of "now" and of the refresh point on a token's lifetime, in 0..1. */
export function timelinePositions(
  issuedAt: string | null,
  expiresAt: string | null,
  refreshDueAt: string | null,
  now: number,
): { now: number; refresh: number | null } | null {
  if (issuedAt === null || expiresAt === null) return null;
  const start = Date.parse(issuedAt);
  const end = Date.parse(expiresAt);
  if (!(end > start)) return null;
  const clamp = (v: number): number => Math.min(1, Math.max(0, v));
  return {
    now: clamp((now - start) / (end - start)),
    refresh: refreshDueAt === null ? null : clamp((Date.parse(refreshDueAt) - start) / (end - start)),
  };
}
