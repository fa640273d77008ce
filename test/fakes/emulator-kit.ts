import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * What every provider emulator shares: a 127.0.0.1 server that never crashes
 * on a bad request, the grant bookkeeping (codes, access tokens, single-use or
 * reusable refresh tokens) with counters tests assert on, an outage switch and
 * rate windows that measure the peak request rate a client really produced.
 * Each emulator (clickup-, basecamp-, ticktick-, amocrm-emulator.ts) adds only
 * its provider's wire format and quirks on top.
 */

export interface EmulatorStats {
  /** Every request that reached the server (token endpoint and API). */
  requests: number;
  apiRequests: number;
  authorizationCodeGrants: number;
  refreshGrants: number;
  /** A refresh token presented after it was spent: a refresh race in the client. */
  refreshTokenReuse: number;
  /** Answers that were 429 (or the provider's rate-limit equivalent). */
  rateLimited: number;
  /** The most API requests seen inside any one-second window. */
  peakRequestsPerSecond: number;
}

export interface Grant {
  user: string;
  /** Provider-specific non-secret values (amoCRM host, ClickUp team ids, …). */
  extra: Record<string, string>;
}

interface AccessRecord extends Grant {
  expiresAt: number | null;
  revoked: boolean;
}

interface RefreshRecord extends Grant {
  spent: boolean;
  revoked: boolean;
}

interface CodeRecord extends Grant {
  expiresAt: number;
  used: boolean;
  redirectUri: string | null;
}

export type CodeResult = { ok: true; grant: Grant } | { ok: false; reason: 'unknown' | 'expired' | 'used' };
export type RefreshResult = { ok: true; grant: Grant } | { ok: false; reason: 'unknown' | 'spent' | 'revoked' };

export function secretToken(prefix: string, bytes = 24): string {
  return `${prefix}${randomBytes(bytes).toString('base64url')}`;
}

export class GrantBook {
  readonly stats: EmulatorStats = {
    requests: 0,
    apiRequests: 0,
    authorizationCodeGrants: 0,
    refreshGrants: 0,
    refreshTokenReuse: 0,
    rateLimited: 0,
    peakRequestsPerSecond: 0,
  };
  private readonly codes = new Map<string, CodeRecord>();
  private readonly access = new Map<string, AccessRecord>();
  private readonly refresh = new Map<string, RefreshRecord>();
  /** Every access and refresh token ever issued, rotated-out ones included: what leak scans search for. */
  readonly issued: string[] = [];

  constructor(
    private readonly options: { singleUseRefresh: boolean; codeTtlSeconds?: number; now?: () => number } = {
      singleUseRefresh: true,
    },
  ) {}

  now(): number {
    return this.options.now ? this.options.now() : Date.now();
  }

  issueCode(grant: Grant, redirectUri: string | null = null): string {
    const code = secretToken('code_', 18);
    const ttl = (this.options.codeTtlSeconds ?? 1200) * 1000;
    this.codes.set(code, { ...grant, expiresAt: this.now() + ttl, used: false, redirectUri });
    return code;
  }

  redeemCode(code: string): CodeResult & { redirectUri?: string | null } {
    const record = this.codes.get(code);
    if (!record) return { ok: false, reason: 'unknown' };
    if (record.used) return { ok: false, reason: 'used' };
    if (record.expiresAt < this.now()) return { ok: false, reason: 'expired' };
    record.used = true;
    this.stats.authorizationCodeGrants += 1;
    return { ok: true, grant: { user: record.user, extra: record.extra }, redirectUri: record.redirectUri };
  }

  /** Registers an access token the emulator minted (opaque or JWT). */
  addAccessToken(token: string, grant: Grant, ttlSeconds: number | null): void {
    this.issued.push(token);
    this.access.set(token, {
      ...grant,
      expiresAt: ttlSeconds === null ? null : this.now() + ttlSeconds * 1000,
      revoked: false,
    });
  }

  addRefreshToken(token: string, grant: Grant): void {
    this.issued.push(token);
    this.refresh.set(token, { ...grant, spent: false, revoked: false });
  }

  /** Spends a refresh token; with single-use refresh, a second use is recorded as reuse. */
  useRefreshToken(token: string): RefreshResult {
    this.stats.refreshGrants += 1;
    const record = this.refresh.get(token);
    if (!record) return { ok: false, reason: 'unknown' };
    if (record.revoked) return { ok: false, reason: 'revoked' };
    if (record.spent) {
      this.stats.refreshTokenReuse += 1;
      return { ok: false, reason: 'spent' };
    }
    if (this.options.singleUseRefresh) record.spent = true;
    return { ok: true, grant: { user: record.user, extra: record.extra } };
  }

  /** The grant behind a live refresh token, without spending it (amoCRM's subdomain lookup reads it). */
  peekRefreshToken(token: string): Grant | null {
    const record = this.refresh.get(token);
    if (!record || record.revoked || record.spent) return null;
    return { user: record.user, extra: record.extra };
  }

  /** The grant behind a bearer token, or why there is none. */
  authenticate(
    token: string | null,
  ): { ok: true; grant: Grant } | { ok: false; reason: 'missing' | 'invalid' | 'expired' } {
    if (!token) return { ok: false, reason: 'missing' };
    const record = this.access.get(token);
    if (!record || record.revoked) return { ok: false, reason: 'invalid' };
    if (record.expiresAt !== null && record.expiresAt <= this.now()) return { ok: false, reason: 'expired' };
    return { ok: true, grant: { user: record.user, extra: record.extra } };
  }

  /** The user removed the app: every access and refresh token dies. */
  revokeAll(): void {
    for (const r of this.access.values()) r.revoked = true;
    for (const r of this.refresh.values()) r.revoked = true;
  }

  /** Access tokens die before their expiry; refresh tokens stay good. */
  revokeAccessTokens(): void {
    for (const r of this.access.values()) r.revoked = true;
  }

  revokeToken(token: string): void {
    const a = this.access.get(token);
    if (a) a.revoked = true;
    const r = this.refresh.get(token);
    if (r) r.revoked = true;
  }

  /** Ages every access token so that the next API call sees it expired. */
  expireAccessTokens(): void {
    for (const r of this.access.values()) if (r.expiresAt !== null) r.expiresAt = this.now() - 1000;
  }
}

/**
 * Counts requests per window and says when one is over the limit. It also
 * keeps the peak rate over any sliding second, which is what tests compare to
 * a provider's documented ceiling.
 */
export class RateWindow {
  private readonly hits: number[] = [];
  private readonly second: number[] = [];
  peakPerSecond = 0;

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Records one request; returns null when allowed, else the seconds until a slot frees. */
  hit(): number | null {
    const t = this.now();
    while (this.second.length > 0 && this.second[0]! <= t - 1000) this.second.shift();
    this.second.push(t);
    this.peakPerSecond = Math.max(this.peakPerSecond, this.second.length);
    while (this.hits.length > 0 && this.hits[0]! <= t - this.windowMs) this.hits.shift();
    if (this.hits.length >= this.limit) {
      return Math.max(1, Math.ceil((this.hits[0]! + this.windowMs - t) / 1000));
    }
    this.hits.push(t);
    return null;
  }

  remaining(): number {
    return Math.max(0, this.limit - this.hits.length);
  }

  resetAtEpochSeconds(): number {
    const first = this.hits[0] ?? this.now();
    return Math.ceil((first + this.windowMs) / 1000);
  }
}

export class HttpFailure extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly headers: Record<string, string> = {},
  ) {
    super(`HTTP ${status}`);
  }
}

export interface EmulatorRequest {
  method: string;
  url: URL;
  headers: IncomingMessage['headers'];
  /** Raw body text (bodies are small here). */
  text: string;
  /** Form fields or JSON object fields, whichever the body was; query fields when the body is empty. */
  fields: Record<string, string>;
  bearer: string | null;
  authorization: string | null;
}

export type EmulatorReply =
  | { status: number; json: unknown; headers?: Record<string, string> }
  | { status: number; html: string; headers?: Record<string, string> }
  | { status: 302; location: string }
  | { status: 204 | 304; headers?: Record<string, string> };

const MAX_BODY = 256 * 1024;

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new HttpFailure(413, { error: 'body too large' }));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function fieldsOf(text: string, contentType: string, url: URL): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of url.searchParams) out[k] = v;
  if (text.length === 0) return out;
  if (contentType.includes('json')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new HttpFailure(400, { error: 'invalid_request', error_description: 'body is not JSON' });
    }
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
      for (const [k, v] of Object.entries(parsed))
        if (typeof v === 'string' || typeof v === 'number') out[k] = String(v);
    }
    return out;
  }
  for (const [k, v] of new URLSearchParams(text)) out[k] = v;
  return out;
}

function send(res: ServerResponse, reply: EmulatorReply): void {
  if ('location' in reply) {
    res.writeHead(302, { location: reply.location, 'cache-control': 'no-store' });
    res.end();
    return;
  }
  const headers = { ...(reply.headers ?? {}) };
  if ('json' in reply) {
    const type = headers['content-type'] ?? 'application/json; charset=utf-8';
    res.writeHead(reply.status, { ...headers, 'content-type': type });
    res.end(JSON.stringify(reply.json));
    return;
  }
  if ('html' in reply) {
    res.writeHead(reply.status, { ...headers, 'content-type': 'text/html; charset=utf-8' });
    res.end(reply.html);
    return;
  }
  res.writeHead(reply.status, headers);
  res.end();
}

export interface EmulatorServer {
  url: string;
  close(): Promise<void>;
  /** Answers the next matching request(s) with a fault instead of the emulator's own answer. */
  inject(fault: Fault): void;
  /** Drops faults that have not fired yet. */
  clearFaults(): void;
}

/**
 * A scripted failure for the status matrix: which requests it hits and what they get
 * instead. `hangMs` holds the request that long and then drops the connection (a timeout
 * as the client sees it); `raw` sends a body as is (malformed JSON).
 */
export interface Fault {
  /** Matched against the request path (and method, when given). */
  path: RegExp;
  method?: string;
  status?: number;
  json?: unknown;
  raw?: string;
  headers?: Record<string, string>;
  hangMs?: number;
  /** How many requests it answers; 1 by default. */
  times?: number;
}

/**
 * Starts a 127.0.0.1 server around a handler. A thrown HttpFailure becomes its
 * answer; anything else a 500, so a bug in an emulator shows up as a failed
 * request, not a hung test.
 */
export async function startEmulatorServer(
  handle: (req: EmulatorRequest) => Promise<EmulatorReply> | EmulatorReply,
): Promise<EmulatorServer> {
  const faults: (Fault & { left: number })[] = [];
  const server = createServer((req, res) => {
    void (async () => {
      try {
        const url = new URL(req.url ?? '/', 'http://127.0.0.1');
        const fault = faults.find(
          (f) => f.left > 0 && f.path.test(url.pathname) && (!f.method || f.method === req.method),
        );
        if (fault) {
          fault.left -= 1;
          await readBody(req).catch(() => '');
          if (fault.hangMs !== undefined) {
            await delay(fault.hangMs);
            req.socket.destroy();
            return;
          }
          if (fault.raw !== undefined) {
            res.writeHead(fault.status ?? 200, { 'content-type': 'application/json', ...(fault.headers ?? {}) });
            res.end(fault.raw);
            return;
          }
          send(res, { status: fault.status ?? 500, json: fault.json ?? {}, headers: fault.headers ?? {} });
          return;
        }
        const text = await readBody(req);
        const auth = req.headers.authorization ?? null;
        const bearer = auth ? (/^Bearer\s+(.+)$/i.exec(auth)?.[1] ?? auth) : null;
        const fields = fieldsOf(text, req.headers['content-type'] ?? '', url);
        send(
          res,
          await handle({
            method: req.method ?? 'GET',
            url,
            headers: req.headers,
            text,
            fields,
            bearer,
            authorization: auth,
          }),
        );
      } catch (err) {
        if (err instanceof HttpFailure) {
          send(
            res,
            err.body === null
              ? { status: err.status as 204, headers: err.headers }
              : { status: err.status, json: err.body, headers: err.headers },
          );
        } else {
          send(res, { status: 500, json: { error: 'emulator_bug', message: String(err) } });
        }
      }
    })();
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    inject: (fault) => {
      faults.push({ ...fault, left: fault.times ?? 1 });
    },
    clearFaults: () => {
      faults.splice(0);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * Plays the user at the provider's consent screen: requests the authorize URL
 * with the emulator's `approve_as` switch and returns where the browser would
 * be redirected (the app's callback URL with code and state).
 */
export async function approveConsent(authorizeUrl: string, opts: { user: string; deny?: boolean }): Promise<string> {
  const url = new URL(authorizeUrl);
  url.searchParams.set(opts.deny ? 'deny_as' : 'approve_as', opts.user);
  const res = await fetch(url, { redirect: 'manual' });
  const location = res.headers.get('location');
  if (res.status !== 302 || !location) {
    throw new Error(`consent did not redirect (HTTP ${res.status}): ${await res.text()}`);
  }
  return location;
}

/** A tiny consent page for humans (the e2e tests and demo use approve_as instead). */
export function consentHtml(provider: string, users: readonly string[], url: URL): string {
  const links = users
    .map((u) => {
      const target = new URL(url);
      target.searchParams.set('approve_as', u);
      return `<li><a href="${target.pathname}${target.search}">Allow as ${u}</a></li>`;
    })
    .join('');
  return `<!doctype html><meta charset="utf-8"><title>${provider} emulator</title><h1>${provider} emulator: allow access?</h1><ul>${links}</ul>`;
}

/** Sleeps in emulator-time helpers without pulling timers into the API. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * HTTP Basic client credentials. `form`: RFC 6749 §2.3.1 (form-encoded, then Basic), as
 * spec-following servers decode them; `raw`: compared as sent, as legacy servers do (TickTick).
 */
export function basicCredentials(
  header: string | null,
  decoding: 'form' | 'raw' = 'form',
): { id: string; secret: string } | null {
  const m = header ? /^Basic\s+(.+)$/i.exec(header) : null;
  if (!m) return null;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  if (i < 0) return null;
  if (decoding === 'raw') return { id: decoded.slice(0, i), secret: decoded.slice(i + 1) };
  const form = (s: string): string => decodeURIComponent(s.replace(/\+/g, ' '));
  return { id: form(decoded.slice(0, i)), secret: form(decoded.slice(i + 1)) };
}

/**
 * What a test does to a provider's tasks behind the app's back, as a user in the provider's own UI
 * would (issue 22's property test and the sync contract tests): every change bumps what the
 * provider's change feed reads (ClickUp `date_updated`, amoCRM `updated_at`, Basecamp's ETag and
 * `updated_at`), so an incremental sync must find it; a delete leaves no trace in any feed, as on
 * the real services. Ids are the provider's, as strings; `container` is where a task lives (a
 * ClickUp list, an amoCRM responsible user, a Basecamp to-do list), from `containers()`.
 */
export interface TaskMutator {
  /** Ids of the tasks that exist now (open and completed). */
  taskIds(): string[];
  /** Where tasks can be created and moved to. */
  containers(): string[];
  /** A new open task; returns its id. `due` is a day, YYYY-MM-DD, or null. */
  create(container: string, fields: { title: string; due?: string | null }): string;
  update(id: string, fields: { title?: string; due?: string | null }): void;
  complete(id: string): void;
  reopen(id: string): void;
  delete(id: string): void;
  /** Where this task may be moved as the provider allows (a ClickUp task stays in its workspace). */
  destinations(id: string): string[];
  move(id: string, container: string): void;
}

/** Requests per endpoint ("GET /team/:id/task"), so a test can say which calls a sync made. */
export class EndpointCounter {
  readonly counts: Record<string, number> = {};

  hit(endpoint: string): void {
    this.counts[endpoint] = (this.counts[endpoint] ?? 0) + 1;
  }

  get(endpoint: string): number {
    return this.counts[endpoint] ?? 0;
  }

  reset(): void {
    for (const key of Object.keys(this.counts)) delete this.counts[key];
  }
}

/** A monotonic clock in ms for mutations: two changes never share a millisecond, and none is in the past. */
export function changeClock(): () => number {
  let last = 0;
  return () => {
    last = Math.max(Date.now(), last + 1);
    return last;
  };
}
