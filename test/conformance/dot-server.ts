// Django OAuth Toolkit 1.7 (Debian's `python3-django-oauth-toolkit`, which .ci/run installs) as an
// authorization server for the conformance matrix: a tiny Django project written into a temp dir
// (sqlite3, OIDC on with a generated RSA key, rotating refresh tokens, PKCE required), served by
// `manage.py runserver` on a free 127.0.0.1 port behind the same counting proxy as Glewlwyd, so
// the tests can count refresh-token presentations and stage an outage.
import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../support/free-port';
import { countingProxy, listen } from './glewlwyd-server';

/** Debian's interpreter: the Django packages live in its dist-packages, not in a pyenv's. */
export const PYTHON = '/usr/bin/python3';
const DOT_PACKAGE = '/usr/lib/python3/dist-packages/oauth2_provider';

/**
 * Whether DOT can run here. Missing on a CI machine (TOKENTRAY_REQUIRE_SERVERS=1) is a set-up
 * error and throws; elsewhere the caller skips with the reason this returns.
 */
export function dotMissing(): string | null {
  const missing = [PYTHON, DOT_PACKAGE].filter((p) => !existsSync(p));
  if (missing.length === 0) return null;
  const reason = `Django OAuth Toolkit not installed (${missing.join(', ')} missing): install the Debian package python3-django-oauth-toolkit, as .ci/run does`;
  if (process.env['TOKENTRAY_REQUIRE_SERVERS'] === '1') throw new Error(reason);
  return reason;
}

export interface DotServer {
  /** DOT's issuer: the discovery URL without `/.well-known/openid-configuration/` (settings.py, oidc_issuer). */
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** DOT 1.7 compares redirect URIs exactly (models.py, redirect_to_uri_allowed), so the client registers this one. */
  redirectUri: string;
  userinfoUrl: string;
  stats: { refreshGrants: number };
  spentReplays: number;
  /** Signs `login` in through Django's login form, approves the consent form, returns the redirect. */
  signIn(authorizeUrl: string, login: string): Promise<string>;
  /** Revokes `refreshToken` through DOT's RFC 7009 endpoint, /o/revoke_token/, as the client. */
  revokeAtServer(refreshToken: string): Promise<void>;
  /** Whether DOT's database holds `refreshToken` unrevoked. */
  refreshTokenIsLive(refreshToken: string): Promise<boolean>;
  pause(): Promise<void>;
  resume(): Promise<void>;
  close(): Promise<void>;
}

export interface DotOptions {
  clientId: string;
  clientSecret: string;
  users: string[];
}

const USER_PASSWORD = 'conformance-password-0123';

function settingsFile(dir: string): string {
  // Setting names from oauth2_provider/settings.py (DEFAULTS). The scopes are the ones Tokentray's
  // generic provider asks for; DOT refuses a scope it does not list.
  return `import os
BASE = ${JSON.stringify(dir)}
SECRET_KEY = "tokentray-conformance-not-a-secret-0123456789abcdef"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1"]
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.staticfiles",
    "oauth2_provider",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]
ROOT_URLCONF = "urls"
STATIC_URL = "/static/"
TEMPLATES = [{
    "BACKEND": "django.template.backends.django.DjangoTemplates",
    "DIRS": [os.path.join(BASE, "templates")],
    "APP_DIRS": True,
    "OPTIONS": {"context_processors": [
        "django.template.context_processors.request",
        "django.contrib.auth.context_processors.auth",
    ]},
}]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": os.path.join(BASE, "dot.sqlite3")}}
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
USE_TZ = True
LOGIN_URL = "/accounts/login/"
with open(os.path.join(BASE, "oidc.key")) as f:
    OIDC_KEY = f.read()
OAUTH2_PROVIDER = {
    "OIDC_ENABLED": True,
    "OIDC_RSA_PRIVATE_KEY": OIDC_KEY,
    "ROTATE_REFRESH_TOKEN": True,
    "PKCE_REQUIRED": True,
    "SCOPES": {
        "openid": "OpenID Connect",
        "profile": "Profile",
        "email": "Email",
        "offline_access": "Offline access",
    },
    "DEFAULT_SCOPES": ["openid"],
}
`;
}

const URLS = `from django.contrib.auth import views as auth_views
from django.urls import include, path

urlpatterns = [
    path("o/", include("oauth2_provider.urls", namespace="oauth2_provider")),
    path("accounts/login/", auth_views.LoginView.as_view()),
]
`;

const LOGIN_TEMPLATE = `<!DOCTYPE html><title>Sign in</title>
<form method="post">{% csrf_token %}{{ form.as_p }}
<input type="hidden" name="next" value="{{ next }}"><button type="submit">Sign in</button></form>
`;

/** Runs a Python snippet inside the Django project (django.setup() done), input through env. */
function djangoScript(body: string): string {
  return `import os, sys, json
sys.path.insert(0, os.getcwd())
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings")
import django
django.setup()
${body}
`;
}

function run(
  dir: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(PYTHON, args, { cwd: dir, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
    child.on('close', (code) => resolve({ code, out }));
  });
}

async function ok(dir: string, args: string[], env: Record<string, string> = {}): Promise<string> {
  const r = await run(dir, args, env);
  if (r.code !== 0) throw new Error(`python3 ${args[0]} failed (${r.code}): ${r.out.slice(-800)}`);
  return r.out;
}

async function waitUntilUp(base: string, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`DOT's runserver exited with ${child.exitCode}: ${log()}`);
    try {
      const res = await fetch(`${base}/o/.well-known/openid-configuration/`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`DOT did not answer within 30 s: ${log()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** A cookie jar for one browser session against Django. */
class Session {
  private readonly cookies = new Map<string, string>();

  async send(method: string, url: string, form?: Record<string, string>): Promise<Response> {
    const res = await fetch(url, {
      method,
      redirect: 'manual',
      headers: {
        cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '),
        ...(form === undefined ? {} : { 'content-type': 'application/x-www-form-urlencoded' }),
      },
      ...(form === undefined ? {} : { body: new URLSearchParams(form).toString() }),
    });
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const [k, ...v] = (pair ?? '').split('=');
      if (k) this.cookies.set(k.trim(), v.join('='));
    }
    return res;
  }
}

function unescapeHtml(s: string): string {
  return s
    .replace(/&quot;/g, '"')
    .replace(/&#x27;|&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

/** The hidden inputs of a Django-rendered form, as a browser would post them. */
function hiddenInputs(html: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const [tag] of html.matchAll(/<input[^>]*type="hidden"[^>]*>/g)) {
    const name = /name="([^"]*)"/.exec(tag)?.[1];
    const value = /value="([^"]*)"/.exec(tag)?.[1] ?? '';
    if (name !== undefined) fields[name] = unescapeHtml(value);
  }
  return fields;
}

export async function startDot(options: DotOptions): Promise<DotServer> {
  const dir = mkdtempSync(join(tmpdir(), 'tokentray-dot-'));
  mkdirSync(join(dir, 'templates', 'registration'), { recursive: true });
  const key = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  writeFileSync(join(dir, 'oidc.key'), key.export({ format: 'pem', type: 'pkcs1' }));
  writeFileSync(join(dir, 'settings.py'), settingsFile(dir));
  writeFileSync(join(dir, 'urls.py'), URLS);
  writeFileSync(join(dir, 'templates', 'registration', 'login.html'), LOGIN_TEMPLATE);
  writeFileSync(
    join(dir, 'manage.py'),
    `import os, sys\nos.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings")\nfrom django.core.management import execute_from_command_line\nexecute_from_command_line(sys.argv)\n`,
  );

  const djangoPort = await freePort();
  const direct = `http://127.0.0.1:${djangoPort}`;
  const stats = { refreshGrants: 0 };
  const handle = { spentReplays: 0 };
  // DOT builds every URL in discovery from the request's Host, so Tokentray (through the proxy)
  // sees the proxy's origin; the test's own probes go straight to Django.
  const proxy = countingProxy(djangoPort, '/o/token', stats, () => (handle.spentReplays += 1));
  const publicPort = await listen(proxy, 0);
  const base = `http://127.0.0.1:${publicPort}`;
  // A fixed loopback port: DOT 1.7 matches redirect_uri exactly, no RFC 8252 §7.3 any-port rule.
  const redirectUri = `http://127.0.0.1:${await freePort()}/callback/corp`;

  let child: ChildProcess | null = null;
  let log = '';
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    proxy.closeAllConnections();
    await new Promise<void>((r) => proxy.close(() => r()));
    if (child?.pid !== undefined && child.exitCode === null) {
      const exited = new Promise((r) => child!.once('exit', r));
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        // already gone
      }
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    await ok(dir, ['manage.py', 'migrate', '--noinput']);
    writeFileSync(
      join(dir, 'seed.py'),
      djangoScript(`from django.contrib.auth import get_user_model
from oauth2_provider.models import get_application_model
for name in json.loads(os.environ["DOT_USERS"]):
    get_user_model().objects.create_user(name, password=os.environ["DOT_PASSWORD"])
Application = get_application_model()
Application.objects.create(
    name="Tokentray conformance",
    client_id=os.environ["DOT_CLIENT_ID"],
    client_secret=os.environ["DOT_CLIENT_SECRET"],
    client_type=Application.CLIENT_CONFIDENTIAL,
    authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
    redirect_uris=os.environ["DOT_REDIRECT_URI"],
    algorithm=Application.RS256_ALGORITHM,
    skip_authorization=False,
)
`),
    );
    await ok(dir, ['seed.py'], {
      DOT_USERS: JSON.stringify(options.users),
      DOT_PASSWORD: USER_PASSWORD,
      DOT_CLIENT_ID: options.clientId,
      DOT_CLIENT_SECRET: options.clientSecret,
      DOT_REDIRECT_URI: redirectUri,
    });
    writeFileSync(
      join(dir, 'live.py'),
      djangoScript(`from oauth2_provider.models import get_refresh_token_model
live = get_refresh_token_model().objects.filter(token=os.environ["DOT_TOKEN"], revoked__isnull=True).exists()
print("live" if live else "dead")
`),
    );

    // Its own process group, so stopping it takes any child runserver starts with it.
    child = spawn(PYTHON, ['manage.py', 'runserver', '--noreload', `127.0.0.1:${djangoPort}`], {
      cwd: dir,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const keep = (c: Buffer): void => {
      log = (log + c.toString()).slice(-3000);
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    await waitUntilUp(direct, child, () => log);
  } catch (error) {
    await stop();
    throw error;
  }

  const sessions = new Map<string, Session>();
  const userSession = async (login: string): Promise<Session> => {
    const known = sessions.get(login);
    if (known) return known;
    const session = new Session();
    const page = await session.send('GET', `${base}/accounts/login/`);
    const fields = hiddenInputs(await page.text());
    const res = await session.send('POST', `${base}/accounts/login/`, {
      ...fields,
      username: login,
      password: USER_PASSWORD,
      next: '/o/applications/',
    });
    if (res.status !== 302) throw new Error(`Django's login form answered ${res.status}, not a redirect`);
    sessions.set(login, session);
    return session;
  };

  return {
    issuer: `${base}/o`,
    clientId: options.clientId,
    clientSecret: options.clientSecret,
    redirectUri,
    userinfoUrl: `${base}/o/userinfo/`,
    stats,
    get spentReplays() {
      return handle.spentReplays;
    },
    async signIn(authorizeUrl, login) {
      const session = await userSession(login);
      const page = await session.send('GET', authorizeUrl);
      const html = await page.text();
      if (page.status !== 200) {
        throw new Error(
          `DOT's authorize endpoint answered ${page.status} to ${page.headers.get('location') ?? html.slice(0, 300)}`,
        );
      }
      // The consent form (templates/oauth2_provider/authorize.html) posts its hidden fields and `allow`.
      const res = await session.send('POST', authorizeUrl, { ...hiddenInputs(html), allow: 'Authorize' });
      const location = res.headers.get('location');
      if (res.status !== 302 || location === null || !location.startsWith(redirectUri)) {
        throw new Error(`DOT's consent form answered ${res.status} to ${location ?? (await res.text()).slice(0, 300)}`);
      }
      return location;
    },
    async revokeAtServer(refreshToken) {
      const res = await fetch(`${direct}/o/revoke_token/`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          token: refreshToken,
          token_type_hint: 'refresh_token',
          client_id: options.clientId,
          client_secret: options.clientSecret,
        }).toString(),
      });
      if (res.status !== 200) throw new Error(`DOT's revoke_token answered ${res.status}`);
    },
    async refreshTokenIsLive(refreshToken) {
      const out = await ok(dir, ['live.py'], { DOT_TOKEN: refreshToken });
      return out.trim().endsWith('live');
    },
    async pause() {
      proxy.closeAllConnections();
      await new Promise<void>((r) => proxy.close(() => r()));
    },
    async resume() {
      await listen(proxy, publicPort);
    },
    close: stop,
  };
}
