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
  KEYCHAIN_UNAVAILABLE: 5,
};

/** The CLI's exit code contract: 0 ok, 2 usage, 3 reconnect, 4 provider down/limited, 5 keychain, 1 other. */
export function exitCodeFor(code: ErrorCode): number {
  return EXIT_CODES[code] ?? 1;
}

/** Provider-supplied text (error descriptions, hints) cut short and stripped of anything token-shaped. */
export function safeDetail(text: unknown, max = 160): string {
  if (typeof text !== 'string') return '';
  const cleaned = text
    .replace(/[\r\n\t]+/g, ' ')
    .replace(
      /\b(pk_[A-Za-z0-9_]+|eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.?[A-Za-z0-9_-]*|[A-Za-z0-9_\-+/=]{32,})/g,
      '[redacted]',
    )
    .trim();
  return cleaned.length > max ? `${cleaned.slice(0, max)}…` : cleaned;
}
