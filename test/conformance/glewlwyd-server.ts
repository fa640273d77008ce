// Glewlwyd 2.7 (Debian's `glewlwyd`, which .ci/run installs with its service kept down) as an
// authorization server for the conformance matrix: its own config file and sqlite3 database in a
// temp dir, a free 127.0.0.1 port, set up through its admin REST API, behind a small counting
// proxy so the tests can count refresh-token presentations and stage an outage.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, inflateSync } from 'node:zlib';
import { freePort } from '../support/free-port';

export const GLEWLWYD_BIN = '/usr/bin/glewlwyd';
/** The packaged schema with Glewlwyd's default set-up: user `admin`, password `password` (docs/database/README.md). */
const SCHEMA = '/usr/share/doc/glewlwyd/database/init.sqlite3.sql.gz';
const MODULES = '/usr/lib/glewlwyd';
/** The OIDC plugin instance's name: its endpoints live under /api/<name>/ (docs/OIDC.md, "Prefix"). */
const PLUGIN = 'oidc';

/**
 * Whether Glewlwyd can run here. Missing on a CI machine (TOKENTRAY_REQUIRE_SERVERS=1) is a set-up
 * error and throws; elsewhere the caller skips with the reason this returns.
 */
export function glewlwydMissing(): string | null {
  const missing = [GLEWLWYD_BIN, SCHEMA, '/usr/bin/sqlite3'].filter((p) => !existsSync(p));
  if (missing.length === 0) return null;
  const reason = `Glewlwyd not installed (${missing.join(', ')} missing): install the Debian packages glewlwyd and sqlite3, as .ci/run does`;
  if (process.env['TOKENTRAY_REQUIRE_SERVERS'] === '1') throw new Error(reason);
  return reason;
}

export interface GlewlwydServer {
  /** The OIDC plugin's issuer, http://127.0.0.1:PORT/api/oidc (discovery at /.well-known/openid-configuration). */
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** Glewlwyd compares redirect URIs exactly (no loopback port rule), so the client registers this one. */
  redirectUri: string;
  /** Where Glewlwyd itself listens (the proxy in front forwards there). */
  upstream: string;
  userinfoUrl: string;
  /** Refresh grants Glewlwyd answered 2xx, and refresh tokens sent again after a 2xx answer replaced them. */
  stats: { refreshGrants: number };
  spentReplays: number;
  /** Signs `login` in through the REST auth API, grants the scope, follows the authorize URL to the redirect. */
  signIn(authorizeUrl: string, login: string): Promise<string>;
  /** Disables `refreshToken` as its user does on their profile page (DELETE /api/oidc/token/{hash}). */
  revokeAtServer(login: string, refreshToken: string): Promise<void>;
  /** Asks the introspection endpoint (as the client) whether Glewlwyd still takes `refreshToken`. */
  refreshTokenIsLive(refreshToken: string): Promise<boolean>;
  /** Stops answering (the proxy stops listening); `resume` listens on the same port again. */
  pause(): Promise<void>;
  resume(): Promise<void>;
  close(): Promise<void>;
}

export interface GlewlwydOptions {
  clientId: string;
  clientSecret: string;
  users: string[];
  /** The ID token (and access token) signature: an RSA or a P-256 key. */
  alg: 'RS256' | 'ES256';
  /**
   * Glewlwyd's "One-time use refresh token": `always` sends a new refresh token with every refresh
   * and disables the chain when a spent one comes back; `never` answers a refresh without one.
   */
  refreshTokenOneUse: 'always' | 'never';
  accessTokenTtlSeconds?: number;
  /**
   * The origin of a proxy someone else runs in front of Glewlwyd (Glewlwyd names it in its URLs);
   * without it, Glewlwyd gets its own counting proxy and `stats`, `spentReplays`, `pause` work.
   */
  origin?: string;
}

const USER_PASSWORD = 'conformance-password-0123';

/** A cookie jar for one browser session against Glewlwyd. */
class Session {
  private readonly cookies = new Map<string, string>();
  constructor(private readonly base: string) {}

  async send(method: string, path: string, json?: unknown): Promise<Response> {
    const url = path.startsWith('http') ? path : `${this.base}${path}`;
    const res = await fetch(url, {
      method,
      redirect: 'manual',
      headers: {
        cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '),
        ...(json === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(json === undefined ? {} : { body: JSON.stringify(json) }),
    });
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const [k, ...v] = (pair ?? '').split('=');
      if (k) this.cookies.set(k.trim(), v.join('='));
    }
    return res;
  }

  /** Sends and fails with Glewlwyd's own answer when the status is not 2xx. */
  async ok(method: string, path: string, json?: unknown): Promise<Response> {
    const res = await this.send(method, path, json);
    if (res.status < 200 || res.status > 299) {
      throw new Error(`Glewlwyd ${method} ${path} answered ${res.status}: ${(await res.text()).slice(0, 300)}`);
    }
    return res;
  }
}

/** Waits until Glewlwyd answers on its port, or fails with what it logged. */
async function waitUntilUp(base: string, child: ChildProcess, logFile: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) {
      throw new Error(`Glewlwyd exited with ${child.exitCode}: ${readLog(logFile)}`);
    }
    try {
      const res = await fetch(`${base}/config/`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`Glewlwyd did not answer within 30 s: ${readLog(logFile)}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

function readLog(file: string): string {
  try {
    return readFileSync(file, 'utf8').slice(-1500);
  } catch {
    return '(no log)';
  }
}

function configFile(port: number, externalUrl: string, dir: string): string {
  // The keys Glewlwyd 2.7 reads (src/glewlwyd.c); cookie_secure=0 because the tests speak plain http.
  // No use_secure_connection line: 2.7 reads any value of it as "on" and then wants a certificate.
  return `port=${port}
bind_address="127.0.0.1"
external_url="${externalUrl}"
login_url="login.html"
api_prefix="api"
static_files_path="/usr/share/glewlwyd/webapp/"
allow_origin="*"
log_mode="file"
log_level="WARNING"
log_file="${dir}/glewlwyd.log"
cookie_secure=0
cookie_same_site="empty"
session_expiration=3600
session_key="GLEWLWYD2_SESSION_ID"
admin_session_authentication="cookie"
profile_session_authentication="cookie"
allow_multiple_user_per_session=false
login_api_enabled=true
admin_scope="g_admin"
profile_scope="g_profile"
user_module_path="${MODULES}/user"
user_middleware_module_path="${MODULES}/user_middleware"
client_module_path="${MODULES}/client"
user_auth_scheme_module_path="${MODULES}/scheme"
plugin_module_path="${MODULES}/plugin"
hash_algorithm="SHA256"
database = { type = "sqlite3"; path = "${dir}/glewlwyd.db"; };
`;
}

/** A token answer's refresh_token, if it carries one (decoded as Glewlwyd compressed it). */
function issuedRefreshToken(body: Buffer, encoding: string | undefined): string | null {
  try {
    const raw = encoding === 'gzip' ? gunzipSync(body) : encoding === 'deflate' ? inflateSync(body) : body;
    const json = JSON.parse(raw.toString('utf8')) as { refresh_token?: unknown };
    return typeof json.refresh_token === 'string' ? json.refresh_token : null;
  } catch {
    return null;
  }
}

/**
 * A forwarding proxy in front of Glewlwyd that reads each refresh grant on the token endpoint:
 * counts the 2xx answers, and any refresh token presented again after a 2xx answer replaced it
 * with a new one (a spent token; a server that keeps the refresh token spends none).
 */
export function countingProxy(
  target: number,
  tokenPath: string,
  stats: { refreshGrants: number },
  onReplay: () => void,
): Server {
  const spent = new Set<string>();
  return createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const path = (req.url ?? '/').split('?')[0]!.replace(/\/+$/, '');
      let presented: string | null = null;
      if (req.method === 'POST' && path === tokenPath) {
        const form = new URLSearchParams(body.toString('utf8'));
        if (form.get('grant_type') === 'refresh_token') presented = form.get('refresh_token');
      }
      if (presented !== null && spent.has(presented)) onReplay();
      const upstream = httpRequest(
        { host: '127.0.0.1', port: target, method: req.method, path: req.url, headers: req.headers },
        (answer: IncomingMessage) => {
          const status = answer.statusCode ?? 502;
          const answered: Buffer[] = [];
          answer.on('data', (c: Buffer) => answered.push(c));
          answer.on('end', () => {
            const raw = Buffer.concat(answered);
            if (presented !== null && status >= 200 && status < 300) {
              stats.refreshGrants += 1;
              const issued = issuedRefreshToken(raw, answer.headers['content-encoding']);
              if (issued !== null && issued !== presented) spent.add(presented);
            }
            res.writeHead(status, answer.headers);
            res.end(raw);
          });
        },
      );
      upstream.on('error', () => {
        if (!res.headersSent) res.writeHead(502);
        res.end();
      });
      upstream.end(body);
    });
  });
}

export function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

/** Glewlwyd's hash of a token as its refresh-token list names it: `{SHA256}` and unpadded base64url. */
function tokenHash(token: string): string {
  return `{SHA256}${createHash('sha256').update(token).digest('base64url')}`;
}

export async function startGlewlwyd(options: GlewlwydOptions): Promise<GlewlwydServer> {
  const dir = mkdtempSync(join(tmpdir(), 'tokentray-glewlwyd-'));
  const logFile = join(dir, 'glewlwyd.log');
  writeFileSync(join(dir, 'glewlwyd.db.sql'), gunzipSync(readFileSync(SCHEMA)));
  const sqlite = spawn('/usr/bin/sqlite3', [join(dir, 'glewlwyd.db'), `.read ${join(dir, 'glewlwyd.db.sql')}`], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let sqliteErr = '';
  sqlite.stderr!.on('data', (c: Buffer) => (sqliteErr += c.toString()));
  const sqliteCode = await new Promise<number | null>((r) => sqlite.on('close', r));
  if (sqliteCode !== 0) throw new Error(`sqlite3 could not create Glewlwyd's database: ${sqliteErr.slice(0, 300)}`);

  const glewlwydPort = await freePort();
  // The test's own calls (set-up, sign-in API, probes) go straight to Glewlwyd; Tokentray's go
  // through the proxy, whose origin Glewlwyd names in its URLs (external_url).
  const direct = `http://127.0.0.1:${glewlwydPort}`;
  const stats = { refreshGrants: 0 };
  const handle = { spentReplays: 0 };
  const proxy =
    options.origin === undefined
      ? countingProxy(glewlwydPort, `/api/${PLUGIN}/token`, stats, () => (handle.spentReplays += 1))
      : null;
  const publicPort = proxy ? await listen(proxy, 0) : 0;
  const base = options.origin ?? `http://127.0.0.1:${publicPort}`;
  const issuer = `${base}/api/${PLUGIN}`;
  writeFileSync(join(dir, 'glewlwyd.conf'), configFile(glewlwydPort, base, dir));

  const child = spawn(GLEWLWYD_BIN, ['-c', join(dir, 'glewlwyd.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
  // Config errors go to stderr before the log file opens.
  child.stderr!.on('data', (c: Buffer) => writeFileSync(logFile, c, { flag: 'a' }));
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    if (proxy) {
      proxy.closeAllConnections();
      await new Promise<void>((r) => proxy.close(() => r()));
    }
    child.kill('SIGTERM');
    if (child.exitCode === null) await new Promise((r) => child.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitUntilUp(direct, child, logFile);
    const admin = new Session(direct);
    await admin.ok('POST', '/api/auth/', { username: 'admin', password: 'password' });

    // A fixed loopback port: Glewlwyd matches redirect_uri by exact string (protocol_oidc.c,
    // check_client_valid_without_secret), so the RFC 8252 §7.3 any-port rule does not apply.
    const redirectUri = `http://127.0.0.1:${await freePort()}/callback/corp`;
    const key =
      options.alg === 'ES256'
        ? generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey
        : generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const jwk = { ...key.export({ format: 'jwk' }), kid: `glewlwyd-${options.alg}`, alg: options.alg, use: 'sig' };
    // Plugin parameters as docs/OIDC.md names them (and protocol_oidc.c checks them).
    await admin.ok('POST', '/api/mod/plugin/', {
      module: 'oidc',
      name: PLUGIN,
      display_name: 'OpenID Connect',
      enabled: true,
      parameters: {
        iss: issuer,
        'jwks-private': JSON.stringify({ keys: [jwk] }),
        'default-kid': jwk.kid,
        'jwt-type': options.alg === 'ES256' ? 'ecdsa' : 'rsa',
        'jwt-key-size': '256',
        'access-token-duration': options.accessTokenTtlSeconds ?? 3600,
        'refresh-token-duration': 1209600,
        'code-duration': 600,
        'refresh-token-rolling': true,
        'refresh-token-one-use': options.refreshTokenOneUse,
        'allow-non-oidc': false,
        'auth-type-code-enabled': true,
        'auth-type-token-enabled': false,
        'auth-type-none-enabled': false,
        'auth-type-password-enabled': false,
        'auth-type-client-enabled': false,
        'auth-type-refresh-enabled': true,
        'auth-type-device-enabled': false,
        'auth-type-code-revoke-replayed': true,
        'subject-type': 'public',
        'pkce-allowed': true,
        'pkce-method-plain-allowed': false,
        'introspection-revocation-allowed': true,
        'introspection-revocation-allow-target-client': true,
        'allowed-scope': ['openid'],
      },
    });
    await admin.ok('POST', '/api/client/', {
      client_id: options.clientId,
      client_secret: options.clientSecret,
      name: 'Tokentray conformance',
      confidential: true,
      enabled: true,
      redirect_uri: [redirectUri],
      // client_credentials: Glewlwyd lets a client revoke and introspect its own tokens only with it.
      authorization_type: ['code', 'refresh_token', 'client_credentials'],
      token_endpoint_auth_method: ['client_secret_basic', 'client_secret_post'],
      scope: [],
    });
    for (const username of options.users) {
      await admin.ok('POST', '/api/user/', {
        username,
        password: USER_PASSWORD,
        name: username,
        email: `${username}@example.test`,
        enabled: true,
        scope: ['openid', 'g_profile'],
      });
    }

    const sessions = new Map<string, Session>();
    const userSession = async (login: string): Promise<Session> => {
      const known = sessions.get(login);
      if (known) return known;
      const session = new Session(direct);
      await session.ok('POST', '/api/auth/', { username: login, password: USER_PASSWORD });
      sessions.set(login, session);
      return session;
    };

    return {
      issuer,
      clientId: options.clientId,
      clientSecret: options.clientSecret,
      redirectUri,
      upstream: direct,
      userinfoUrl: `${issuer}/userinfo`,
      stats,
      get spentReplays() {
        return handle.spentReplays;
      },
      async signIn(authorizeUrl, login) {
        const session = await userSession(login);
        const scope = new URL(authorizeUrl).searchParams.get('scope') ?? 'openid';
        // The consent a user gives on Glewlwyd's grant page (API.md, "Update granted scope").
        await session.ok('PUT', `/api/auth/grant/${encodeURIComponent(options.clientId)}`, {
          scope: scope.split(' ').join(','),
        });
        // Glewlwyd first sends every browser to its login page with the request as callback_url;
        // once the user is signed in and has granted, the page goes back there with g_continue
        // (protocol_oidc.c, "Check if the query parameter 'g_continue' exists").
        const first = await session.send('GET', authorizeUrl);
        const loginPage = first.headers.get('location');
        const callback = loginPage === null ? null : new URL(loginPage, base).searchParams.get('callback_url');
        if (first.status !== 302 || callback === null) {
          throw new Error(
            `Glewlwyd's authorize endpoint answered ${first.status}: ${(await first.text()).slice(0, 300)}`,
          );
        }
        const res = await session.send('GET', `${callback}&g_continue`);
        const location = res.headers.get('location');
        if (res.status !== 302 || location === null || !location.startsWith(redirectUri)) {
          throw new Error(
            `Glewlwyd's authorize endpoint answered ${res.status} to ${location ?? (await res.text()).slice(0, 300)}`,
          );
        }
        return location;
      },
      async revokeAtServer(login, refreshToken) {
        const session = await userSession(login);
        const list = (await (await session.ok('GET', `/api/${PLUGIN}/token`)).json()) as { token_hash: string }[];
        const hash = tokenHash(refreshToken);
        const entry = list.find((t) => t.token_hash === hash);
        if (!entry) throw new Error(`the refresh token is not among ${login}'s ${list.length} on Glewlwyd`);
        await session.ok('DELETE', `/api/${PLUGIN}/token/${encodeURIComponent(entry.token_hash)}`);
      },
      async refreshTokenIsLive(refreshToken) {
        const res = await fetch(`${direct}/api/${PLUGIN}/introspect`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({
            token: refreshToken,
            token_type_hint: 'refresh_token',
            client_id: options.clientId,
            client_secret: options.clientSecret,
          }).toString(),
        });
        if (res.status !== 200) throw new Error(`Glewlwyd's introspection answered ${res.status}`);
        return ((await res.json()) as { active?: unknown }).active === true;
      },
      async pause() {
        if (!proxy) throw new Error('pause() needs startGlewlwyd without `origin` (its own proxy)');
        proxy.closeAllConnections();
        await new Promise<void>((r) => proxy.close(() => r()));
      },
      async resume() {
        if (proxy) await listen(proxy, publicPort);
      },
      close: stop,
    };
  } catch (error) {
    const log = readLog(logFile);
    await stop();
    throw error instanceof Error ? new Error(`${error.message}\nGlewlwyd log: ${log}`) : error;
  }
}
