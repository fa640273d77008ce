import { describe, expect, it } from 'vitest';
import {
  API_CALL_RETRY,
  API_COMMAND_RETRY,
  REFRESH_RETRY,
  RETRYABLE_CODES,
  backoffMs,
  nextRetry,
} from '../../electron/core/http/retry-policy';

describe('the retry policy', () => {
  it('backs off exponentially with jitter between half and all of each step, never past the cap', () => {
    const low = () => 0;
    const high = () => 1;
    expect([0, 1, 2, 3].map((n) => backoffMs(API_CALL_RETRY, n, low))).toEqual([125, 250, 500, 1000]);
    expect([0, 1, 2, 3].map((n) => backoffMs(API_CALL_RETRY, n, high))).toEqual([250, 500, 1000, 2000]);
    expect(backoffMs(API_CALL_RETRY, 10, high)).toBe(8_000);
    // Two processes that failed together wait different times.
    expect(backoffMs(REFRESH_RETRY, 1, () => 0.1)).not.toBe(backoffMs(REFRESH_RETRY, 1, () => 0.9));
  });

  it("waits what the provider's Retry-After asks, up to the cap; past it, gives up and says how long", () => {
    expect(nextRetry(API_CALL_RETRY, 0, 30_000)).toEqual({ retry: true, waitMs: 30_000 });
    expect(nextRetry(API_CALL_RETRY, 0, 61_000)).toEqual({ retry: false, waitMs: 61_000 });
    expect(nextRetry(API_COMMAND_RETRY, 0, 90_000)).toEqual({ retry: true, waitMs: 90_000 });
    // A refresh someone waits for does not sleep through a long rate limit.
    expect(nextRetry(REFRESH_RETRY, 0, 6_000)).toEqual({ retry: false, waitMs: 6_000 });
  });

  it('stops once the tries are spent: 3 retries for API calls and `tokentray api`, 2 for a refresh', () => {
    expect(nextRetry(API_CALL_RETRY, 2, null).retry).toBe(true);
    expect(nextRetry(API_CALL_RETRY, 3, null).retry).toBe(false);
    expect(nextRetry(API_COMMAND_RETRY, 3, 1_000).retry).toBe(false);
    expect(nextRetry(REFRESH_RETRY, 1, null).retry).toBe(true);
    expect(nextRetry(REFRESH_RETRY, 2, null).retry).toBe(false);
  });

  it('retries only the passing failures', () => {
    expect([...RETRYABLE_CODES].sort()).toEqual(['PROVIDER_UNAVAILABLE', 'RATE_LIMITED']);
    expect(RETRYABLE_CODES.has('RECONNECT_REQUIRED')).toBe(false);
  });
});
