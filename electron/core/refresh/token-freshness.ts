import { refreshMarginMs } from '../accounts/account-status';

/** The stored token's timing, the only input to "can it be handed out as it is?". */
export interface TokenTiming {
  expiresAt: number | null;
  issuedAt: number;
}

/** No provider can hand out a token that outlives its own lifetime: asking for more must not cause a refresh storm. */
export function effectiveMinValidMs(tokens: TokenTiming, minValidSeconds: number): number {
  const lifetime = tokens.expiresAt !== null ? tokens.expiresAt - tokens.issuedAt : Infinity;
  return Math.min(minValidSeconds * 1000, lifetime * 0.9);
}

/** Refresh when less than max(asked, the margin: max(5 min, 10% of the lifetime) capped at half of it) is left. */
export function needsRefresh(tokens: TokenTiming, minValidMs: number, now: number): boolean {
  if (tokens.expiresAt === null) return false;
  const margin = Math.max(minValidMs, refreshMarginMs(tokens.issuedAt, tokens.expiresAt));
  return tokens.expiresAt - now < margin;
}
