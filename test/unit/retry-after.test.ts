import { describe, expect, it } from 'vitest';
import { parseRetryAfter } from '../../electron/core/http/retry-after';

const NOW = Date.UTC(2026, 0, 5, 12, 0, 0);

describe('parseRetryAfter', () => {
  it('reads Retry-After as seconds or as an HTTP date', () => {
    expect(parseRetryAfter({ 'retry-after': '3' }, NOW)).toBe(3000);
    expect(parseRetryAfter({ 'retry-after': new Date(NOW + 5000).toUTCString() }, NOW)).toBe(5000);
  });

  it('reads X-RateLimit-Reset as epoch seconds (ClickUp) and never returns a negative wait', () => {
    expect(parseRetryAfter({ 'x-ratelimit-reset': String(NOW / 1000 + 42) }, NOW)).toBe(42_000);
    expect(parseRetryAfter({ 'x-ratelimit-reset': String(NOW / 1000 - 10) }, NOW)).toBe(0);
  });

  it('prefers Retry-After over X-RateLimit-Reset and says nothing when neither is there', () => {
    expect(parseRetryAfter({ 'retry-after': '1', 'x-ratelimit-reset': String(NOW / 1000 + 60) }, NOW)).toBe(1000);
    expect(parseRetryAfter({}, NOW)).toBeNull();
  });
});
