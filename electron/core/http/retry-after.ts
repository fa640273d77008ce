/**
 * How long to wait before retrying, in ms, from Retry-After (seconds or an
 * HTTP date) or X-RateLimit-Reset (epoch seconds, ClickUp). Null when the
 * response does not say.
 */
export function parseRetryAfter(headers: Record<string, string>, nowMs: number): number | null {
  const retryAfter = headers['retry-after'];
  if (retryAfter !== undefined) {
    const trimmed = retryAfter.trim();
    if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
    const date = Date.parse(trimmed);
    if (!Number.isNaN(date)) return Math.max(0, date - nowMs);
  }
  const reset = headers['x-ratelimit-reset'];
  if (reset !== undefined && /^\d+$/.test(reset.trim())) {
    const value = Number(reset.trim());
    // Epoch seconds are large; small numbers are "seconds from now" (some providers do that).
    return value > 1_000_000_000 ? Math.max(0, value * 1000 - nowMs) : value * 1000;
  }
  return null;
}
