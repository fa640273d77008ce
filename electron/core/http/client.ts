import { createHash } from 'node:crypto';
import { request as undiciRequest, type Dispatcher } from 'undici';
import { TokentrayError, safeDetail } from '../errors';
import type { Clock } from '../clock';
import { systemClock } from '../clock';
import { RateLimiter, SharedRateLimiter, type PacingLimiter } from './rate-limiter';
import { parseRetryAfter } from './retry-after';
import { API_CALL_RETRY, nextRetry, type RetryPolicy } from './retry-policy';

export const USER_AGENT = 'Tokentray/0.1 (https://tokentray.dev; hello@tokentray.dev)';

/** The most one response (one page) may carry before Tokentray stops reading it. */
export const DEFAULT_MAX_BODY_BYTES = 32 * 1024 * 1024;

/**
 * The API answered 401 to this request's Authorization header: the access token
 * itself was refused. Whoever holds the account can refresh and retry once
 * (tasks/token-recovery.ts); uncaught, it is a plain RECONNECT_REQUIRED.
 */
export class TokenRejectedError extends TokentrayError {
  constructor(
    message: string,
    /**
     * Which Authorization header the API refused, as a digest (authorizationDigest): an error
     * object may be printed whole in a debug log, so it never carries the token itself.
     */
    readonly rejectedAuthorization: string | null,
  ) {
    super('RECONNECT_REQUIRED', message);
  }
}

/** A digest of an Authorization header value, to recognise it without keeping it. */
export function authorizationDigest(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

/**
 * The provider told us (a 403 block, a long Retry-After) to hold off for longer than a
 * request will wait; seen by this or another process. Not retried: the next try is as early.
 */
export class HoldOffError extends TokentrayError {
  constructor(host: string, waitMs: number) {
    const minutes = Math.max(1, Math.ceil(waitMs / 60_000));
    super(
      'PROVIDER_UNAVAILABLE',
      `${host} asked Tokentray to hold off after a block or rate limit; nothing was sent, try again in ${minutes} minute${minutes === 1 ? '' : 's'}.`,
      { retryAfterSeconds: Math.ceil(waitMs / 1000) },
    );
  }
}

/** A response larger than the request's cap: never retried, the next try would be as large. */
export class ResponseTooLargeError extends TokentrayError {
  constructor(host: string, maxBytes: number) {
    super(
      'PROVIDER_UNAVAILABLE',
      `${host} sent a response larger than ${formatBytes(maxBytes)}, so Tokentray stopped reading it; the endpoint may be broken or not the provider's API.`,
    );
  }
}

export interface HttpRequest {
  method: 'GET' | 'POST' | 'DELETE' | 'PUT' | 'PATCH';
  url: string;
  headers?: Record<string, string>;
  body?: string | null;
  /** Per-request timeout; defaults to the client's. */
  timeoutMs?: number;
  /** Requests sharing a key share a rate limit (usually the provider id + account). */
  rateKey?: string;
  /** Requests per second for this key; providers pass their documented ceiling. */
  requestsPerSecond?: number;
  /** Largest body read from the response; defaults to the client's (32 MiB). */
  maxBodyBytes?: number;
}

/** What `api` needs on top of a raw request. */
export interface ApiRequest extends HttpRequest {
  providerName: string;
  /** Names what is being asked for in messages ("the user list"); the URL's path otherwise. */
  what?: string;
  isRateLimited?: (res: HttpResponse) => boolean;
  /**
   * A 403 that is a temporary refusal rather than a missing permission (amoCRM blocks an IP
   * after a burst, an edge answers HTML): what to tell the user and how long to back off, or
   * null for a real FORBIDDEN.
   */
  temporaryRefusal?: (res: HttpResponse) => TemporaryRefusal | null;
  /**
   * The provider's own reading of a 4xx refusal, before the general one: an answer that refuses
   * one workspace or list rather than the token (ClickUp's "Team not authorized" 401, Basecamp's
   * inactive-account 404). The error to throw, or null for the general reading.
   */
  refusal?: (res: HttpResponse) => TokentrayError | null;
  /**
   * A conditional request (If-None-Match / If-Modified-Since, RFC 9110 §13): a 304 Not Modified
   * is an answer, returned like a 2xx, not an error.
   */
  conditional?: boolean;
}

export interface TemporaryRefusal {
  /** How long to wait before trying again, in ms. */
  waitMs: number;
  /** One sentence naming what the provider refused and when to try again. */
  message: string;
  /** The block covers every request under this rate key (a blocked IP): every process holds off. */
  holdOff: boolean;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string>;
  /** Parsed JSON when the body is JSON, the raw text otherwise, null when empty. */
  body: unknown;
  /** The body exactly as received (`tokentray api` prints it unchanged); absent on synthesized answers. */
  text?: string;
}

export interface HttpClient {
  /** One raw exchange: no status mapping, only transport errors become PROVIDER_UNAVAILABLE. */
  send(req: HttpRequest): Promise<HttpResponse>;
  /**
   * An authenticated API call: 401 → TokenRejectedError (RECONNECT_REQUIRED
   * unless the caller refreshes and retries); 403 → FORBIDDEN (a permission the
   * user lacks; the grant is fine), or PROVIDER_UNAVAILABLE when the provider
   * says it is a temporary block; 404 → NOT_FOUND; 429 (and the provider's own
   * rate-limit signals) → waits per Retry-After and retries a few times, then
   * RATE_LIMITED; 5xx and timeouts → retried with backoff, then
   * PROVIDER_UNAVAILABLE. Returns the response for 2xx (204 included).
   */
  api(req: ApiRequest): Promise<HttpResponse>;
}

export interface HttpClientOptions {
  timeoutMs?: number;
  clock?: Clock;
  sleep?: (ms: number) => Promise<void>;
  maxRetries?: number;
  dispatcher?: Dispatcher;
  /** Longest wait honoured from Retry-After before giving up with RATE_LIMITED. */
  maxRetryAfterMs?: number;
  /** Largest response body read per request unless the request asks for more. */
  maxBodyBytes?: number;
  /**
   * A folder shared by every Tokentray process on this machine: request pacing
   * per rate key is kept there, so the tray app and CLI runs together stay under
   * a provider's ceiling. Without it, pacing is per process.
   */
  rateDir?: string;
}

const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function flattenHeaders(raw: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(raw)) {
    if (value === undefined) continue;
    out[key.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

function parseBody(text: string, contentType: string | undefined): unknown {
  if (text.length === 0) return null;
  const looksJson = (contentType ?? '').includes('json') || /^[[{]/.test(text.trimStart());
  if (!looksJson) return text;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return 'the provider';
  }
}

export function createHttpClient(options: HttpClientOptions = {}): HttpClient {
  const timeoutMs = options.timeoutMs ?? 15_000;
  const clock = options.clock ?? systemClock;
  const sleep = options.sleep ?? defaultSleep;
  const policy: RetryPolicy = {
    ...API_CALL_RETRY,
    retries: options.maxRetries ?? API_CALL_RETRY.retries,
    maxWaitMs: options.maxRetryAfterMs ?? API_CALL_RETRY.maxWaitMs,
  };
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const limiter: PacingLimiter = options.rateDir
    ? new SharedRateLimiter(options.rateDir, clock, sleep)
    : new RateLimiter(clock, sleep);

  async function send(req: HttpRequest): Promise<HttpResponse> {
    if (req.rateKey && req.requestsPerSecond) {
      const heldMs = await limiter.take(req.rateKey, req.requestsPerSecond, policy.maxWaitMs);
      if (heldMs !== null) throw new HoldOffError(hostOf(req.url), heldMs);
    }
    const headers: Record<string, string> = {
      'user-agent': USER_AGENT,
      accept: 'application/json',
      ...lower(req.headers ?? {}),
    };
    const t = req.timeoutMs ?? timeoutMs;
    try {
      const res = await undiciRequest(req.url, {
        method: req.method,
        headers,
        body: req.body ?? undefined,
        headersTimeout: t,
        bodyTimeout: t,
        signal: AbortSignal.timeout(t),
        ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}),
      });
      const flat = flattenHeaders(res.headers);
      const text = await readCapped(res.body, flat, req.maxBodyBytes ?? maxBodyBytes, hostOf(req.url));
      return { status: res.statusCode, headers: flat, body: parseBody(text, flat['content-type']), text };
    } catch (error) {
      if (error instanceof TokentrayError) throw error;
      throw new TokentrayError(
        'PROVIDER_UNAVAILABLE',
        `Could not reach ${hostOf(req.url)} (${transportReason(error)}); check your connection and try again.`,
        { cause: error },
      );
    }
  }

  async function api(req: ApiRequest): Promise<HttpResponse> {
    for (let attempt = 0; ; attempt += 1) {
      let res: HttpResponse;
      try {
        res = await send(req);
      } catch (error) {
        // A hold-off or an oversized answer would be the same on the next try.
        if (error instanceof ResponseTooLargeError || error instanceof HoldOffError) throw error;
        const next = nextRetry(policy, attempt, null);
        if (!next.retry) throw error;
        await sleep(next.waitMs);
        continue;
      }
      const limited = res.status === 429 || (req.isRateLimited?.(res) ?? false);
      if (res.status >= 200 && res.status < 300 && !limited) return res;
      if (res.status === 304 && req.conditional === true && !limited) return res;
      if (limited) {
        const next = nextRetry(policy, attempt, parseRetryAfter(res.headers, clock.now()));
        if (!next.retry) {
          throw new TokentrayError(
            'RATE_LIMITED',
            `${req.providerName} is rate limiting requests; try again in ${Math.ceil(next.waitMs / 1000)} seconds.`,
            { retryAfterSeconds: Math.ceil(next.waitMs / 1000) },
          );
        }
        if (req.rateKey) await limiter.pause(req.rateKey, next.waitMs);
        await sleep(next.waitMs);
        continue;
      }
      const refused = res.status >= 400 && res.status < 500 ? (req.refusal?.(res) ?? null) : null;
      if (refused !== null) throw refused;
      if (res.status === 401) {
        throw new TokenRejectedError(
          `${req.providerName} no longer accepts this account's token (${describe(res)}); reconnect the account.`,
          digestOrNull(lower(req.headers ?? {})['authorization']),
        );
      }
      if (res.status >= 500) {
        const next = nextRetry(policy, attempt, null);
        if (!next.retry) {
          throw new TokentrayError(
            'PROVIDER_UNAVAILABLE',
            `${req.providerName} answered ${res.status}; it may be down, try again later.`,
          );
        }
        await sleep(next.waitMs);
        continue;
      }
      const what = req.what ?? pathOf(req.url);
      if (res.status === 403) {
        const refusal = req.temporaryRefusal?.(res) ?? null;
        if (refusal !== null) {
          // A blocked IP is blocked for every process: they all back off together.
          if (refusal.holdOff && req.rateKey) await limiter.pause(req.rateKey, refusal.waitMs);
          throw new TokentrayError('PROVIDER_UNAVAILABLE', refusal.message, {
            retryAfterSeconds: Math.ceil(refusal.waitMs / 1000),
          });
        }
        // A refusal, not a lost grant: the token works, this user may not see this.
        throw new TokentrayError(
          'FORBIDDEN',
          `${req.providerName} does not allow this account to read ${what} (${describe(res)}); ask an administrator for access.`,
        );
      }
      if (res.status === 404) {
        throw new TokentrayError(
          'NOT_FOUND',
          `${req.providerName} has no ${what} for this account, or it is hidden from this login (${describe(res)}).`,
        );
      }
      throw new TokentrayError('INTERNAL', `${req.providerName} answered ${res.status} (${describe(res)}).`);
    }
  }

  return { send, api };
}

function digestOrNull(value: string | undefined): string | null {
  return value === undefined ? null : authorizationDigest(value);
}

function pathOf(url: string): string {
  try {
    return safeDetail(new URL(url).pathname, 80);
  } catch {
    return 'this resource';
  }
}

function formatBytes(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${Math.round(bytes / (1024 * 1024))} MiB` : `${Math.round(bytes / 1024)} KiB`;
}

/** Reads a body up to `maxBytes`, then stops and drops the connection: a hostile endpoint cannot fill memory. */
async function readCapped(
  body: Dispatcher.ResponseData['body'],
  headers: Record<string, string>,
  maxBytes: number,
  host: string,
): Promise<string> {
  const declared = Number(headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) {
    body.destroy();
    throw new ResponseTooLargeError(host, maxBytes);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
    size += buf.length;
    if (size > maxBytes) {
      body.destroy();
      throw new ResponseTooLargeError(host, maxBytes);
    }
    chunks.push(buf);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function lower(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) out[k.toLowerCase()] = v;
  return out;
}

function transportReason(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string') return code;
  const name = (error as { name?: unknown } | null)?.name;
  return typeof name === 'string' ? name : 'network error';
}

function describe(res: HttpResponse): string {
  const body = res.body;
  if (body && typeof body === 'object') {
    const o = body as Record<string, unknown>;
    const text = o['hint'] ?? o['error_description'] ?? o['err'] ?? o['error'] ?? o['detail'] ?? o['title'];
    if (typeof text === 'string') return safeDetail(text, 100);
  }
  return `HTTP ${res.status}`;
}
