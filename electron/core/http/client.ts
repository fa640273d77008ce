import { request as undiciRequest, type Dispatcher } from 'undici';
import { TokentrayError, safeDetail } from '../errors';
import type { Clock } from '../clock';
import { systemClock } from '../clock';
import { RateLimiter } from './rate-limiter';
import { parseRetryAfter } from './retry-after';

export const USER_AGENT = 'Tokentray/0.1 (https://tokentray.dev; hello@tokentray.dev)';

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
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string>;
  /** Parsed JSON when the body is JSON, the raw text otherwise, null when empty. */
  body: unknown;
}

export interface HttpClient {
  /** One raw exchange: no status mapping, only transport errors become PROVIDER_UNAVAILABLE. */
  send(req: HttpRequest): Promise<HttpResponse>;
  /**
   * An authenticated API call: 401/403 → RECONNECT_REQUIRED, 429 (and the
   * provider's own rate-limit signals) → waits per Retry-After and retries a few
   * times, then RATE_LIMITED; 5xx and timeouts → retried with backoff, then
   * PROVIDER_UNAVAILABLE. Returns the response for 2xx (204 included).
   */
  api(
    req: HttpRequest & { providerName: string; isRateLimited?: (res: HttpResponse) => boolean },
  ): Promise<HttpResponse>;
}

export interface HttpClientOptions {
  timeoutMs?: number;
  clock?: Clock;
  sleep?: (ms: number) => Promise<void>;
  maxRetries?: number;
  dispatcher?: Dispatcher;
  /** Longest wait honoured from Retry-After before giving up with RATE_LIMITED. */
  maxRetryAfterMs?: number;
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
  const maxRetries = options.maxRetries ?? 3;
  const maxRetryAfterMs = options.maxRetryAfterMs ?? 60_000;
  const limiter = new RateLimiter(clock, sleep);

  async function send(req: HttpRequest): Promise<HttpResponse> {
    if (req.rateKey && req.requestsPerSecond) await limiter.take(req.rateKey, req.requestsPerSecond);
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
      const text = await res.body.text();
      const flat = flattenHeaders(res.headers);
      return { status: res.statusCode, headers: flat, body: parseBody(text, flat['content-type']) };
    } catch (error) {
      throw new TokentrayError(
        'PROVIDER_UNAVAILABLE',
        `Could not reach ${hostOf(req.url)} (${transportReason(error)}); check your connection and try again.`,
        { cause: error },
      );
    }
  }

  async function api(
    req: HttpRequest & { providerName: string; isRateLimited?: (res: HttpResponse) => boolean },
  ): Promise<HttpResponse> {
    let attempt = 0;
    for (;;) {
      let res: HttpResponse;
      try {
        res = await send(req);
      } catch (error) {
        if (attempt >= maxRetries) throw error;
        await sleep(backoffMs(attempt));
        attempt += 1;
        continue;
      }
      const limited = res.status === 429 || (req.isRateLimited?.(res) ?? false);
      if (res.status >= 200 && res.status < 300 && !limited) return res;
      if (limited) {
        const waitMs = parseRetryAfter(res.headers, clock.now()) ?? backoffMs(attempt);
        if (attempt >= maxRetries || waitMs > maxRetryAfterMs) {
          throw new TokentrayError(
            'RATE_LIMITED',
            `${req.providerName} is rate limiting requests; try again in ${Math.ceil(waitMs / 1000)} seconds.`,
            { retryAfterSeconds: Math.ceil(waitMs / 1000) },
          );
        }
        if (req.rateKey) limiter.pause(req.rateKey, waitMs);
        await sleep(waitMs);
        attempt += 1;
        continue;
      }
      if (res.status === 401) {
        throw new TokentrayError(
          'RECONNECT_REQUIRED',
          `${req.providerName} no longer accepts this account's token (${describe(res)}); reconnect the account.`,
        );
      }
      if (res.status >= 500) {
        if (attempt >= maxRetries) {
          throw new TokentrayError(
            'PROVIDER_UNAVAILABLE',
            `${req.providerName} answered ${res.status}; it may be down, try again later.`,
          );
        }
        await sleep(backoffMs(attempt));
        attempt += 1;
        continue;
      }
      if (res.status === 403) {
        throw new TokentrayError(
          'RECONNECT_REQUIRED',
          `${req.providerName} refused access (${describe(res)}); reconnect the account and grant access again.`,
        );
      }
      throw new TokentrayError('INTERNAL', `${req.providerName} answered ${res.status} (${describe(res)}).`);
    }
  }

  return { send, api };
}

function lower(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) out[k.toLowerCase()] = v;
  return out;
}

function backoffMs(attempt: number): number {
  return Math.min(8_000, 250 * 2 ** attempt);
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
