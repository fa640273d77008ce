/**
 * The one retry policy: how many times, how long between tries (exponential backoff with
 * jitter), how long a provider's Retry-After may make us wait, and which answers are worth
 * another try. The HTTP client (API calls), the refresher (token refreshes) and `tokentray api`
 * each pick a named policy here instead of carrying their own loop arithmetic.
 *
 * Why not undici's RetryAgent / interceptors.retry or p-retry: a retry here is decided above
 * the transport, by things those libraries cannot see. A 429 must first pause the pacing
 * folder every Tokentray process shares (rate-limiter.ts), providers signal "slow down" with
 * other answers (TickTick's 500 `exceed_query_limit`, amoCRM's 403 block), a too-long
 * Retry-After must become RATE_LIMITED with the wait in it rather than a silent sleep, and a
 * refresh is retried per TokentrayError code, after the token endpoint's answer has been
 * classified, under the account lock. undici's retry runs inside the dispatcher, below all of
 * that, and p-retry takes no per-answer delay. What is left — the numbers and the jitter — is
 * this small module.
 */

export interface RetryPolicy {
  /** Tries after the first one. */
  retries: number;
  /** Backoff before retry n (0-based): min(maxBackoffMs, baseMs × factorⁿ), then jittered. */
  baseMs: number;
  factor: number;
  maxBackoffMs: number;
  /** The longest wait honoured (a Retry-After included); a longer one gives up at once with that wait. */
  maxWaitMs: number;
}

/** Calls to a provider's API through the HTTP client (tasks, identity, revocation). */
export const API_CALL_RETRY: RetryPolicy = {
  retries: 3,
  baseMs: 250,
  factor: 2,
  maxBackoffMs: 8_000,
  maxWaitMs: 60_000,
};

/**
 * Token refreshes: few and short, because a caller (`tokentray token`, a task fetch) is
 * waiting, and a still-valid token is served anyway when the refresh fails for a passing reason.
 */
export const REFRESH_RETRY: RetryPolicy = {
  retries: 2,
  baseMs: 400,
  factor: 3,
  maxBackoffMs: 5_000,
  maxWaitMs: 5_000,
};

/** `tokentray api`: a script is waiting but asked for this call, so a longer announced wait is worth it. */
export const API_COMMAND_RETRY: RetryPolicy = {
  retries: 3,
  baseMs: 1_000,
  factor: 2,
  maxBackoffMs: 16_000,
  maxWaitMs: 120_000,
};

/** TokentrayError codes that mean "try again later", not "something is wrong". */
export const RETRYABLE_CODES: ReadonlySet<string> = new Set(['PROVIDER_UNAVAILABLE', 'RATE_LIMITED']);

/**
 * "Equal jitter": half the exponential step is fixed, half random, so processes that failed
 * together (the tray and a few CLI runs on one account) do not retry in lockstep, and no wait
 * falls below half its step.
 */
export function backoffMs(policy: RetryPolicy, attempt: number, random: () => number = Math.random): number {
  const step = Math.min(policy.maxBackoffMs, policy.baseMs * policy.factor ** attempt);
  return Math.round(step / 2 + (random() * step) / 2);
}

export interface RetryDecision {
  retry: boolean;
  /** How long to wait before the next try, or (when not retrying) how long the caller should wait. */
  waitMs: number;
}

/**
 * After failed try number `attempt` (0-based): wait what the provider asked (`retryAfterMs`,
 * from Retry-After) or the jittered backoff, unless the tries are spent or the wait is longer
 * than the policy honours.
 */
export function nextRetry(
  policy: RetryPolicy,
  attempt: number,
  retryAfterMs: number | null,
  random: () => number = Math.random,
): RetryDecision {
  const waitMs = retryAfterMs ?? backoffMs(policy, attempt, random);
  return { retry: attempt < policy.retries && waitMs <= policy.maxWaitMs, waitMs };
}
