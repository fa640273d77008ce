import type { AppError, ErrorCode } from '../shared/models';

/**
 * Every failure the user can see carries a code. Messages are one sentence that
 * says what went wrong and what to do next; they never contain a secret, which is
 * why callers pass provider text through `safeDetail` before putting it here.
 */
export class TokentrayError extends Error {
  readonly code: ErrorCode;
  readonly retryAfterSeconds: number | undefined;

  constructor(code: ErrorCode, message: string, options?: { retryAfterSeconds?: number; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TokentrayError';
    this.code = code;
    this.retryAfterSeconds = options?.retryAfterSeconds;
  }

  toJSON(): AppError {
    return this.retryAfterSeconds === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, retryAfterSeconds: this.retryAfterSeconds };
  }
}

/**
 * A 2xx token answer Tokentray could not accept (an ID token that fails its checks, a missing
 * access token, an unreadable field). A rotating server has already spent the refresh token it was
 * sent, so sending it again would lose the grant (and trip reuse detection): the new refresh token,
 * read from the raw body before anything was validated, rides along for the refresher to store.
 * It is a non-enumerable field, so it never reaches toJSON, IPC, a log line or a test snapshot.
 */
export class TokenAnswerRejected extends TokentrayError {
  declare readonly salvagedRefreshToken: string | null;

  constructor(message: string, salvagedRefreshToken: string | null) {
    super('TOKEN_RESPONSE_INVALID', message);
    Object.defineProperty(this, 'salvagedRefreshToken', { value: salvagedRefreshToken, enumerable: false });
  }
}

/** The refresh token a raw 2xx token answer carries, read before any validation. */
export function refreshTokenOf(raw: unknown): string | null {
  const value = raw && typeof raw === 'object' ? (raw as Record<string, unknown>)['refresh_token'] : undefined;
  return typeof value === 'string' && value !== '' ? value : null;
}

export function isTokentrayError(value: unknown): value is TokentrayError {
  return value instanceof TokentrayError;
}

/** Turns anything thrown into an AppError without leaking stack traces or raw provider bodies. */
export function toAppError(value: unknown): AppError {
  if (value instanceof TokentrayError) return value.toJSON();
  return {
    code: 'INTERNAL',
    message:
      'Something unexpected went wrong inside Tokentray; run the command again with TOKENTRAY_DEBUG=1 for details.',
  };
}

const EXIT_CODES: Partial<Record<ErrorCode, number>> = {
  USAGE: 2,
  RECONNECT_REQUIRED: 3,
  PROVIDER_UNAVAILABLE: 4,
  RATE_LIMITED: 4,
  // A 2xx token answer that could not be used: try again later (with any rotated refresh token kept).
  TOKEN_RESPONSE_INVALID: 4,
  KEYCHAIN_UNAVAILABLE: 5,
};

/** The CLI's exit code contract: 0 ok, 2 usage, 3 reconnect, 4 provider down/limited, 5 keychain, 1 other. */
export function exitCodeFor(code: ErrorCode): number {
  return EXIT_CODES[code] ?? 1;
}

/** Runs of the characters tokens are made of (base64, base64url, hex), long enough to be one. */
const TOKEN_SHAPED = /\b(pk_[A-Za-z0-9_]+|eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.?[A-Za-z0-9_-]*|[A-Za-z0-9_\-+/=]{32,})/g;
/** A URL path segment that names a resource: a number, or a short lower-case word ("buckets", "v2", "todo_lists"). */
const PATH_SEGMENT = /^(\d+|[a-z][a-z0-9_-]{0,30})$/;

/**
 * A URL path like `/99999991/buckets/1004/todolists/1006/todos` matches the token pattern (it is
 * long and `/` is a base64 character) but names the resource that failed, which the user needs to
 * see. It is kept when every segment is a number or a short lower-case word; a token's segments mix
 * cases, so a token with slashes in it is still redacted.
 */
function redactToken(run: string): string {
  if (!run.includes('/')) return '[redacted]';
  const segments = run.split('/').filter((segment) => segment !== '');
  return segments.length > 0 && segments.every((segment) => PATH_SEGMENT.test(segment)) ? run : '[redacted]';
}

/** Provider-supplied text (error descriptions, hints, URL paths) cut short and stripped of anything token-shaped. */
export function safeDetail(text: unknown, max = 160): string {
  if (typeof text !== 'string') return '';
  const cleaned = text
    .replace(/[\r\n\t]+/g, ' ')
    .replace(TOKEN_SHAPED, redactToken)
    .trim();
  return cleaned.length > max ? `${cleaned.slice(0, max)}…` : cleaned;
}
