import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { systemClock, type Clock } from '../clock';
import { consentPage, errorPage, landingPage, PAGE_HEADERS, taskPage } from './consent-page';
import {
  DEFAULT_DEMO_TASK_COUNT,
  DEMO_USERS,
  MAX_PER_PAGE,
  demoTask,
  demoTaskIndex,
  demoTaskPage,
  findDemoUser,
  type DemoUser,
} from './demo-tasks';
import {
  CODE_PREFIX,
  CONSENT_PREFIX,
  DEMO_CLIENT_ID,
  DEMO_ISSUER,
  DEMO_SCOPE,
  DEMO_SCOPES,
  REFRESH_PREFIX,
  newId,
  readCode,
  readConsentRequest,
  readRefreshToken,
  sealOpaque,
  signAccessToken,
  verifierMatches,
  verifyAccessToken,
  type AccessClaims,
  type CodePayload,
  type ConsentRequest,
  type RefreshPayload,
} from './demo-tokens';

/**
 * The built-in demo provider: a small, standard OAuth 2.0 authorization server
 * (authorization code + PKCE S256, public client, rotating refresh tokens,
 * RFC 7009 revocation) and a tasks API, on plain node:http bound to 127.0.0.1.
 *
 * Every process that needs it (the CLI, the desktop app, the dev bridge) starts
 * its own instance on an ephemeral port, and tokens are stateless (see
 * demo-tokens.ts) so each instance accepts what any other issued. What cannot
 * be stateless is kept in memory of this process only and said so:
 * - revokeAll() and /revoke affect this instance alone; another process still
 *   accepts those tokens until they expire. Demo tokens grant nothing real.
 * - A spent refresh token is not detected as reused (that needs shared state).
 * - An authorization code is single-use within this process; codes live 2 minutes.
 */

export const DEFAULT_ACCESS_TOKEN_TTL_SECONDS = 900;
const REFRESH_TOKEN_TTL_SECONDS = 30 * 86_400;
const CODE_TTL_SECONDS = 120;
const CONSENT_TTL_SECONDS = 600;
const MAX_BODY_BYTES = 64 * 1024;
const MAX_TASK_COUNT = 1_000_000;

export interface DemoServerOptions {
  /** Tasks per demo user; default 300 (TOKENTRAY_DEMO_TASKS). */
  taskCount?: number;
  /** Access token lifetime; default 900 s: refreshed 5 minutes before expiry, so a refresh is visible within 10 minutes (TOKENTRAY_DEMO_TTL_SECONDS). */
  accessTokenTtlSeconds?: number;
  /** 0 = ephemeral (default). */
  port?: number;
  /** Time source for expiry checks; tests move it instead of sleeping. */
  clock?: Clock;
  /** Do not keep the process alive for this server (the per-process singleton uses this). */
  unref?: boolean;
}

export interface DemoServerStats {
  tokenRequests: number;
  codeGrants: number;
  refreshGrants: number;
  apiRequests: number;
  revocations: number;
}

export interface DemoServerHandle {
  /** http://127.0.0.1:PORT, no trailing slash. */
  url: string;
  close(): Promise<void>;
  /** Every token, refresh token and code issued before now stops working here (this process only). */
  revokeAll(): void;
  /** While down, the tasks API answers 503, the way a provider outage looks (the offline cache shows). */
  setApiOutage(down: boolean): void;
  stats: DemoServerStats;
  /**
   * Does what clicking Allow (or Deny) on the consent page does, over HTTP like
   * a browser, and returns the redirect Location (code and state, or error).
   */
  approve(authorizeUrl: string, opts?: { user?: string; deny?: boolean }): Promise<string>;
}

/** Reads TOKENTRAY_DEMO_TASKS and TOKENTRAY_DEMO_TTL_SECONDS; values that are not whole numbers in range are ignored. */
export function demoOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): DemoServerOptions {
  const options: DemoServerOptions = {};
  const tasks = wholeNumber(env['TOKENTRAY_DEMO_TASKS'], 0, MAX_TASK_COUNT);
  if (tasks !== null) options.taskCount = tasks;
  const ttl = wholeNumber(env['TOKENTRAY_DEMO_TTL_SECONDS'], 1, 7 * 86_400);
  if (ttl !== null) options.accessTokenTtlSeconds = ttl;
  return options;
}

function wholeNumber(raw: string | undefined, min: number, max: number): number | null {
  if (raw === undefined || !/^\d{1,9}$/.test(raw.trim())) return null;
  const n = Number(raw.trim());
  return n >= min && n <= max ? n : null;
}

/**
 * Loopback http redirect URIs on any port (RFC 8252 §7.3) and the app's own
 * tokentray:// scheme. Anything else could carry a code off this machine.
 */
export function isAllowedRedirectUri(value: string): boolean {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  if (url.hash || url.username || url.password) return false;
  if (url.protocol === 'tokentray:') return true;
  return url.protocol === 'http:' && (url.hostname === '127.0.0.1' || url.hostname === 'localhost');
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: Record<string, string>,
    readonly headers: Record<string, string> = {},
  ) {
    super(body['error'] ?? `HTTP ${status}`);
  }
}

function oauthError(status: number, error: string, description: string, headers?: Record<string, string>): HttpError {
  return new HttpError(status, { error, error_description: description }, headers);
}

const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' };

export async function startDemoServer(options: DemoServerOptions = {}): Promise<DemoServerHandle> {
  const clock = options.clock ?? systemClock;
  const taskCount = Math.min(MAX_TASK_COUNT, Math.max(0, Math.floor(options.taskCount ?? DEFAULT_DEMO_TASK_COUNT)));
  const ttl = Math.max(1, Math.floor(options.accessTokenTtlSeconds ?? DEFAULT_ACCESS_TOKEN_TTL_SECONDS));
  const stats: DemoServerStats = { tokenRequests: 0, codeGrants: 0, refreshGrants: 0, apiRequests: 0, revocations: 0 };

  // In-memory, this process only (see the note at the top).
  let revokedBefore = 0;
  const revokedAccess = new Map<string, number>(); // jti → exp
  const revokedGrants = new Map<string, number>(); // gid → exp of the refresh token that named it
  const usedCodes = new Map<string, number>(); // jti → exp

  let baseUrl = '';
  let port = 0;

  const nowSeconds = (): number => Math.floor(clock.now() / 1000);
  /**
   * Issue times never fall before the last revokeAll(): it revokes up to the end
   * of the current second, so a token issued in that same second afterwards
   * must carry the next second to stay valid.
   */
  const issuedAt = (): number => Math.max(nowSeconds(), revokedBefore);

  function remember(map: Map<string, number>, key: string, exp: number): void {
    map.set(key, exp);
    if (map.size > 1000) {
      const now = nowSeconds();
      for (const [k, e] of map) if (e <= now) map.delete(k);
    }
  }

  function issueTokens(sub: string, scope: string, gid: string, gen: number): Record<string, unknown> {
    const iat = issuedAt();
    const claims: AccessClaims = { iss: DEMO_ISSUER, sub, exp: iat + ttl, iat, scope, jti: newId() };
    const refresh: RefreshPayload = { sub, gid, gen, scope, iat, exp: iat + REFRESH_TOKEN_TTL_SECONDS };
    return {
      access_token: signAccessToken(claims),
      token_type: 'Bearer',
      expires_in: ttl,
      refresh_token: sealOpaque(REFRESH_PREFIX, 'refresh', { ...refresh, jti: newId(6) }),
      scope,
    };
  }

  function checkClient(form: URLSearchParams): void {
    const clientId = form.get('client_id');
    if (clientId === null || clientId === '') {
      throw oauthError(400, 'invalid_request', 'client_id is required (the demo client is public: no secret, PKCE).');
    }
    if (clientId !== DEMO_CLIENT_ID) {
      throw oauthError(401, 'invalid_client', `Unknown client; the demo client id is "${DEMO_CLIENT_ID}".`, {
        'www-authenticate': 'Basic realm="tokentray-demo"',
      });
    }
  }

  function liveRefresh(token: string | null): RefreshPayload {
    const payload = token ? readRefreshToken(token) : null;
    if (!payload) throw oauthError(400, 'invalid_grant', 'The refresh token is not one this server issued.');
    if (payload.exp <= nowSeconds()) throw oauthError(400, 'invalid_grant', 'The refresh token has expired.');
    if (payload.iat < revokedBefore || revokedGrants.has(payload.gid)) {
      throw oauthError(400, 'invalid_grant', 'The refresh token has been revoked.');
    }
    if (!findDemoUser(payload.sub)) throw oauthError(400, 'invalid_grant', 'The demo user no longer exists.');
    return payload;
  }

  function liveCode(code: string | null): CodePayload {
    const payload = code ? readCode(code) : null;
    if (!payload) throw oauthError(400, 'invalid_grant', 'The authorization code is not one this server issued.');
    if (payload.exp <= nowSeconds()) throw oauthError(400, 'invalid_grant', 'The authorization code has expired.');
    if (payload.iat < revokedBefore) throw oauthError(400, 'invalid_grant', 'The authorization code has been revoked.');
    if (usedCodes.has(payload.jti)) {
      throw oauthError(400, 'invalid_grant', 'The authorization code has already been used.');
    }
    return payload;
  }

  function tokenEndpoint(form: URLSearchParams): Record<string, unknown> {
    stats.tokenRequests += 1;
    checkClient(form);
    const grantType = form.get('grant_type');
    if (grantType === 'authorization_code') {
      const payload = liveCode(form.get('code'));
      if (payload.client_id !== form.get('client_id')) {
        throw oauthError(400, 'invalid_grant', 'The authorization code was issued to another client.');
      }
      const redirectUri = form.get('redirect_uri');
      if (redirectUri === null) throw oauthError(400, 'invalid_request', 'redirect_uri is required.');
      if (redirectUri !== payload.redirect_uri) {
        throw oauthError(400, 'invalid_grant', 'redirect_uri does not match the one used at /authorize.');
      }
      const verifier = form.get('code_verifier');
      if (verifier === null || verifier === '') throw oauthError(400, 'invalid_request', 'code_verifier is required.');
      if (!verifierMatches(verifier, payload.code_challenge)) {
        throw oauthError(400, 'invalid_grant', 'The PKCE code_verifier does not match the code_challenge.');
      }
      remember(usedCodes, payload.jti, payload.exp);
      stats.codeGrants += 1;
      return issueTokens(payload.sub, payload.scope, newId(), 1);
    }
    if (grantType === 'refresh_token') {
      const payload = liveRefresh(form.get('refresh_token'));
      stats.refreshGrants += 1;
      return issueTokens(payload.sub, payload.scope, payload.gid, payload.gen + 1);
    }
    if (grantType === null || grantType === '') throw oauthError(400, 'invalid_request', 'grant_type is required.');
    throw oauthError(400, 'unsupported_grant_type', 'Use authorization_code or refresh_token.');
  }

  /** RFC 7009: 200 whether or not the token was valid, so it reveals nothing. */
  function revokeEndpoint(form: URLSearchParams): void {
    checkClient(form);
    const token = form.get('token');
    if (token === null || token === '') throw oauthError(400, 'invalid_request', 'token is required.');
    stats.revocations += 1;
    const access = verifyAccessToken(token);
    if (access) {
      remember(revokedAccess, access.jti, access.exp);
      return;
    }
    const refresh = readRefreshToken(token);
    if (refresh) remember(revokedGrants, refresh.gid, refresh.exp);
  }

  function authenticate(req: IncomingMessage): { user: DemoUser; claims: AccessClaims } {
    const header = req.headers.authorization ?? '';
    const m = /^Bearer\s+(\S+)$/i.exec(header);
    const unauthorized = (description: string, withError = true): HttpError =>
      oauthError(401, 'invalid_token', description, {
        'www-authenticate': withError
          ? `Bearer realm="tokentray-demo", error="invalid_token", error_description="${description}"`
          : 'Bearer realm="tokentray-demo"',
      });
    if (!m) throw unauthorized('An access token is required.', false);
    const claims = verifyAccessToken(m[1]!);
    if (!claims) throw unauthorized('The access token is not one this server issued.');
    if (claims.exp <= nowSeconds()) throw unauthorized('The access token has expired.');
    if (claims.iat < revokedBefore || revokedAccess.has(claims.jti)) {
      throw unauthorized('The access token has been revoked.');
    }
    const user = findDemoUser(claims.sub);
    if (!user) throw unauthorized('The demo user no longer exists.');
    if (!claims.scope.split(' ').includes('tasks:read')) {
      throw new HttpError(
        403,
        { error: 'insufficient_scope', error_description: 'The tasks:read scope is required.' },
        { 'www-authenticate': 'Bearer realm="tokentray-demo", error="insufficient_scope", scope="tasks:read"' },
      );
    }
    return { user, claims };
  }

  function positiveInt(raw: string | null, name: string, fallback: number): number {
    if (raw === null || raw === '') return fallback;
    if (!/^\d{1,7}$/.test(raw) || Number(raw) < 1) {
      throw oauthError(400, 'invalid_request', `${name} must be a whole number from 1.`);
    }
    return Number(raw);
  }

  function api(req: IncomingMessage, url: URL): unknown {
    stats.apiRequests += 1;
    const { user } = authenticate(req);
    switch (url.pathname) {
      case '/api/me':
        return { id: user.id, name: user.name, email: user.email };
      case '/api/workspaces':
        return [{ id: user.workspace.id, name: user.workspace.name }];
      case '/api/tasks': {
        const page = positiveInt(url.searchParams.get('page'), 'page', 1);
        const perPage = Math.min(MAX_PER_PAGE, positiveInt(url.searchParams.get('per_page'), 'per_page', MAX_PER_PAGE));
        return demoTaskPage(user, page, perPage, taskCount, baseUrl, clock.now());
      }
      default:
        throw new HttpError(404, { error: 'not_found', error_description: 'There is no such API endpoint.' });
    }
  }

  function redirectWith(target: string, params: Record<string, string | null>): string {
    const url = new URL(target);
    for (const [k, v] of Object.entries(params)) if (v !== null) url.searchParams.set(k, v);
    return url.toString();
  }

  function authorize(url: URL, res: ServerResponse): void {
    const q = url.searchParams;
    const clientId = q.get('client_id');
    const redirectUri = q.get('redirect_uri');
    // RFC 6749 §4.1.2.1: with a bad client or redirect URI, tell the user, never redirect.
    if (clientId !== DEMO_CLIENT_ID) {
      return sendPage(
        res,
        400,
        errorPage('Unknown app', `This demo server only knows the client "${DEMO_CLIENT_ID}".`),
      );
    }
    if (redirectUri === null || !isAllowedRedirectUri(redirectUri)) {
      return sendPage(
        res,
        400,
        errorPage(
          'Redirect address not allowed',
          'The demo server only returns to http://127.0.0.1, http://localhost or tokentray:// addresses.',
        ),
      );
    }
    const state = q.get('state');
    const fail = (error: string, description: string): void =>
      redirect(res, redirectWith(redirectUri, { error, error_description: description, state }));
    if (q.get('response_type') !== 'code') return fail('unsupported_response_type', 'Only response_type=code.');
    const challenge = q.get('code_challenge');
    if (challenge === null || q.get('code_challenge_method') !== 'S256') {
      return fail('invalid_request', 'PKCE is required: code_challenge with code_challenge_method=S256.');
    }
    if (!/^[A-Za-z0-9_-]{43}$/.test(challenge)) return fail('invalid_request', 'code_challenge is malformed.');
    const requested = (q.get('scope') ?? DEMO_SCOPE).split(' ').filter(Boolean);
    if (requested.some((s) => !(DEMO_SCOPES as readonly string[]).includes(s))) {
      return fail('invalid_scope', `The demo knows the scopes ${DEMO_SCOPE}.`);
    }
    const scopes = requested.length > 0 ? requested : [...DEMO_SCOPES];
    const consent: ConsentRequest = {
      client_id: clientId,
      redirect_uri: redirectUri,
      state,
      code_challenge: challenge,
      scope: scopes.join(' '),
      exp: nowSeconds() + CONSENT_TTL_SECONDS,
    };
    const target = new URL(redirectUri);
    sendPage(
      res,
      200,
      consentPage({
        request: sealOpaque(CONSENT_PREFIX, 'consent', consent),
        scopes,
        users: DEMO_USERS,
        returnTo: target.protocol === 'http:' ? target.host : `${target.protocol}//`,
      }),
    );
  }

  function decision(form: URLSearchParams, res: ServerResponse): void {
    const request = readConsentRequest(form.get('request') ?? '');
    if (!request || request.exp <= nowSeconds() || !isAllowedRedirectUri(request.redirect_uri)) {
      return sendPage(
        res,
        400,
        errorPage('This sign-in page has expired', 'Go back to Tokentray and start connecting the demo again.'),
      );
    }
    const choice = form.get('decision');
    if (choice === 'deny') {
      return redirect(
        res,
        redirectWith(request.redirect_uri, {
          error: 'access_denied',
          error_description: 'The user denied access.',
          state: request.state,
        }),
      );
    }
    if (choice !== 'allow') {
      return sendPage(res, 400, errorPage('Choose Allow or Deny', 'Go back and press one of the two buttons.'));
    }
    const user = findDemoUser(form.get('user') ?? '') ?? DEMO_USERS[0]!;
    const iat = issuedAt();
    const code: CodePayload = {
      sub: user.id,
      client_id: request.client_id,
      redirect_uri: request.redirect_uri,
      code_challenge: request.code_challenge,
      scope: request.scope,
      iat,
      exp: iat + CODE_TTL_SECONDS,
      jti: newId(),
    };
    redirect(
      res,
      redirectWith(request.redirect_uri, { code: sealOpaque(CODE_PREFIX, 'code', code), state: request.state }),
    );
  }

  function taskDetail(url: URL, res: ServerResponse): void {
    const id = decodeURIComponent(url.pathname.slice('/tasks/'.length));
    for (const user of DEMO_USERS) {
      const index = demoTaskIndex(user, id);
      if (index !== null && index < taskCount) {
        return sendPage(res, 200, taskPage(demoTask(user, index, baseUrl, clock.now())));
      }
    }
    sendPage(res, 404, errorPage('No such task', 'The demo workspace has no task with this id.'));
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', baseUrl);
    const method = req.method ?? 'GET';
    const path = url.pathname;
    const only = (allowed: string): void => {
      if (method !== allowed) {
        throw new HttpError(
          405,
          { error: 'method_not_allowed', error_description: `Use ${allowed}.` },
          { allow: allowed },
        );
      }
    };
    if (path === '/') {
      only('GET');
      return sendPage(res, 200, landingPage());
    }
    if (path === '/authorize') {
      only('GET');
      return authorize(url, res);
    }
    if (path === '/authorize/decision') {
      only('POST');
      return decision(await readForm(req), res);
    }
    if (path === '/token') {
      only('POST');
      return sendJson(res, 200, tokenEndpoint(await readForm(req)), NO_STORE);
    }
    if (path === '/revoke') {
      only('POST');
      revokeEndpoint(await readForm(req));
      res.writeHead(200, { ...NO_STORE, 'content-length': '0' });
      res.end();
      return;
    }
    if (path.startsWith('/api/')) {
      only('GET');
      return sendJson(res, 200, api(req, url), { 'cache-control': 'no-store' });
    }
    if (path.startsWith('/tasks/')) {
      only('GET');
      return taskDetail(url, res);
    }
    throw new HttpError(404, { error: 'not_found', error_description: 'There is nothing here.' });
  }

  let apiDown = false;
  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      // A page on some other site that rebinds its DNS name to 127.0.0.1 must not reach the demo.
      const host = req.headers.host ?? '';
      if (host !== `127.0.0.1:${port}` && host !== `localhost:${port}`) {
        throw new HttpError(421, { error: 'misdirected_request', error_description: 'Unexpected Host header.' });
      }
      if (apiDown && (req.url ?? '').startsWith('/api/')) {
        throw new HttpError(503, { error: 'temporarily_unavailable', error_description: 'The demo API is down.' });
      }
      await route(req, res);
    } catch (error) {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (error instanceof HttpError) {
        sendJson(res, error.status, error.body, { ...NO_STORE, ...error.headers });
      } else {
        sendJson(res, 500, { error: 'server_error', error_description: 'The demo server hit an unexpected error.' });
      }
    }
  }

  const server: Server = createServer((req, res) => void handle(req, res));
  server.keepAliveTimeout = 2_000;
  if (options.unref) {
    server.unref();
    server.on('connection', (socket) => socket.unref());
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  port = (server.address() as AddressInfo).port;
  baseUrl = `http://127.0.0.1:${port}`;

  return {
    url: baseUrl,
    stats,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
    revokeAll: () => {
      // Everything issued up to the end of this second; see issuedAt().
      revokedBefore = nowSeconds() + 1;
    },
    approve: (authorizeUrl, opts) => approveOverHttp(authorizeUrl, opts ?? {}),
    setApiOutage: (down) => {
      apiDown = down;
    },
  };
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(text)),
    'x-content-type-options': 'nosniff',
    ...headers,
  });
  res.end(text);
}

function sendPage(res: ServerResponse, status: number, html: string): void {
  res.writeHead(status, { ...PAGE_HEADERS, 'content-length': String(Buffer.byteLength(html)) });
  res.end(html);
}

function redirect(res: ServerResponse, location: string): void {
  res.writeHead(302, {
    location,
    'referrer-policy': 'no-referrer',
    'cache-control': 'no-store',
    'content-length': '0',
  });
  res.end();
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw oauthError(413, 'invalid_request', 'The request body is too large.');
    chunks.push(chunk);
  }
  if (type !== 'application/x-www-form-urlencoded') {
    throw oauthError(400, 'invalid_request', 'Send the parameters as application/x-www-form-urlencoded.');
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

/**
 * The browser's part of the consent: load the page, submit the chosen form, return where it redirects.
 * Exported for the Electron smoke test, which plays the browser for an app running in another process.
 */
export async function approveOverHttp(authorizeUrl: string, opts: { user?: string; deny?: boolean }): Promise<string> {
  const page = await fetch(authorizeUrl, { redirect: 'manual' });
  const early = page.headers.get('location');
  if (early) {
    await page.body?.cancel();
    return new URL(early, authorizeUrl).toString();
  }
  const html = await page.text();
  if (page.status !== 200) throw new Error(`the demo consent page answered HTTP ${page.status}`);
  const request = /<input type="hidden" name="request" value="([^"]*)"/.exec(html)?.[1];
  if (!request) throw new Error('the demo consent page has no consent form');
  const form = new URLSearchParams({ request, decision: opts.deny ? 'deny' : 'allow' });
  if (opts.user) form.set('user', opts.user);
  const res = await fetch(new URL('/authorize/decision', authorizeUrl), {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: form.toString(),
  });
  await res.body?.cancel();
  const location = res.headers.get('location');
  if (!location) throw new Error(`the demo consent decision answered HTTP ${res.status} without a redirect`);
  return location;
}

let singleton: Promise<DemoServerHandle> | null = null;

/**
 * The demo server of this process, started on first use with the options from
 * the environment. It does not keep the process alive on its own, so a CLI
 * command that touched it still exits when its work is done.
 */
export function ensureDemoServer(): Promise<DemoServerHandle> {
  if (!singleton) {
    const starting = startDemoServer({ ...demoOptionsFromEnv(), unref: true });
    singleton = starting;
    starting.catch(() => {
      if (singleton === starting) singleton = null;
    });
  }
  return singleton;
}

export async function closeDemoServer(): Promise<void> {
  const current = singleton;
  singleton = null;
  if (current) await (await current).close();
}
