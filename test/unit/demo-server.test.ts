import { createHash, randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  closeDemoServer,
  demoOptionsFromEnv,
  ensureDemoServer,
  startDemoServer,
  type DemoServerHandle,
} from '../../electron/core/demo/demo-server';
import { isAllowedRedirectUri } from '../../electron/core/demo/demo-consent';
import { decodeJwt } from '../../electron/core/oauth/jwt';
import { approveDemoConsent, revokeAtDemo } from '../support/demo-browser';

const REDIRECT = 'http://127.0.0.1:45123/callback/demo';

function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

function authorizeUrl(
  base: string,
  params: { challenge: string; state?: string; redirectUri?: string; extra?: Record<string, string> },
): string {
  const url = new URL(`${base}/authorize`);
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('client_id', 'tokentray-demo');
  url.searchParams.set('redirect_uri', params.redirectUri ?? REDIRECT);
  url.searchParams.set('state', params.state ?? 'st-1');
  url.searchParams.set('code_challenge', params.challenge);
  url.searchParams.set('code_challenge_method', 'S256');
  for (const [k, v] of Object.entries(params.extra ?? {})) url.searchParams.set(k, v);
  return url.toString();
}

async function post(
  url: string,
  form: Record<string, string>,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString(),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

interface Tokens {
  access_token: string;
  refresh_token: string;
  expires_in: number;
  token_type: string;
  scope: string;
}

/** Consent as the user would, then exchange the code with the verifier. */
async function connect(
  server: DemoServerHandle,
  tokenServer: DemoServerHandle = server,
  user?: string,
): Promise<Tokens> {
  const { verifier, challenge } = pkce();
  const landed = new URL(await approveDemoConsent(authorizeUrl(server.url, { challenge }), user ? { user } : {}));
  const res = await post(`${tokenServer.url}/token`, {
    grant_type: 'authorization_code',
    client_id: 'tokentray-demo',
    code: landed.searchParams.get('code')!,
    redirect_uri: REDIRECT,
    code_verifier: verifier,
  });
  expect(res.status).toBe(200);
  return res.body as unknown as Tokens;
}

async function api(server: DemoServerHandle, path: string, token: string | null): Promise<Response> {
  return fetch(`${server.url}/api${path}`, token ? { headers: { authorization: `Bearer ${token}` } } : {});
}

function refresh(server: DemoServerHandle, refreshToken: string) {
  return post(`${server.url}/token`, {
    grant_type: 'refresh_token',
    client_id: 'tokentray-demo',
    refresh_token: refreshToken,
  });
}

let server: DemoServerHandle;
beforeAll(async () => {
  server = await startDemoServer();
});
afterAll(async () => {
  await server.close();
});

describe('what the demo provider ships', () => {
  it('offers a demo-mode user its address and nothing to steer it: no revoke-all, outage or consent-clicking hooks', () => {
    expect(Object.keys(server).sort()).toEqual(['close', 'stats', 'url']);
  });
});

describe('demo authorization server: consent and code', () => {
  it('shows a script-free consent page that redirects back with a code and the state', async () => {
    const { challenge } = pkce();
    const url = authorizeUrl(server.url, { challenge, state: 'state-abc' });
    const page = await fetch(url);
    expect(page.status).toBe(200);
    expect(page.headers.get('referrer-policy')).toBe('no-referrer');
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).not.toContain('script-src');
    const html = await page.text();
    expect(html).toContain('Tokentray demo — allow access to the demo workspace?');
    expect(html).toMatch(/<button[^>]*>Allow<\/button>/);
    expect(html).toMatch(/<button[^>]*>Deny<\/button>/);
    expect(html).not.toContain('<script');
    expect(html).toContain('<form id="allow" method="post" action="/authorize/decision">');

    const landed = new URL(await approveDemoConsent(url));
    expect(`${landed.origin}${landed.pathname}`).toBe(REDIRECT);
    expect(landed.searchParams.get('state')).toBe('state-abc');
    expect(landed.searchParams.get('code')).toMatch(/^demo_code\./);
  });

  it('redirects Deny as error=access_denied with the state', async () => {
    const landed = new URL(
      await approveDemoConsent(authorizeUrl(server.url, { challenge: pkce().challenge }), { deny: true }),
    );
    expect(landed.searchParams.get('error')).toBe('access_denied');
    expect(landed.searchParams.get('state')).toBe('st-1');
    expect(landed.searchParams.has('code')).toBe(false);
  });

  it('exchanges the code with the right PKCE verifier for a Bearer JWT and a refresh token', async () => {
    const before = server.stats.tokenRequests;
    const tokens = await connect(server);
    expect(tokens).toMatchObject({ token_type: 'Bearer', expires_in: 900, scope: 'tasks:read tasks:write' });
    expect(tokens.refresh_token).toMatch(/^demo_rt\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    const jwt = decodeJwt(tokens.access_token)!;
    expect(jwt.header).toMatchObject({ alg: 'HS256' });
    expect(jwt.claims).toMatchObject({ iss: 'tokentray-demo', sub: 'demo-user', scope: 'tasks:read tasks:write' });
    expect((jwt.claims['exp'] as number) - (jwt.claims['iat'] as number)).toBe(900);
    expect(typeof jwt.claims['jti']).toBe('string');
    expect(server.stats.tokenRequests).toBe(before + 1);
    const me = await api(server, '/me', tokens.access_token);
    expect(await me.json()).toEqual({ id: 'demo-user', name: 'Demo User', email: 'demo@tokentray.dev' });
  });

  it('lets the user pick the second demo login on the consent page', async () => {
    const tokens = await connect(server, server, 'demo-colleague');
    const me = (await (await api(server, '/me', tokens.access_token)).json()) as { id: string };
    expect(me.id).toBe('demo-colleague');
    const workspaces = (await (await api(server, '/workspaces', tokens.access_token)).json()) as unknown[];
    expect(workspaces).toEqual([{ id: 'ws-demo-team', name: 'Demo team workspace' }]);
  });

  it('answers invalid_grant to a wrong verifier, a reused code and a different redirect_uri', async () => {
    const { verifier, challenge } = pkce();
    const code = new URL(await approveDemoConsent(authorizeUrl(server.url, { challenge }))).searchParams.get('code')!;
    const base = { grant_type: 'authorization_code', client_id: 'tokentray-demo', code, redirect_uri: REDIRECT };
    const wrong = await post(`${server.url}/token`, { ...base, code_verifier: pkce().verifier });
    expect(wrong).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    const otherRedirect = await post(`${server.url}/token`, {
      ...base,
      redirect_uri: 'http://127.0.0.1:1/callback/demo',
      code_verifier: verifier,
    });
    expect(otherRedirect).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    const missing = await post(`${server.url}/token`, base);
    expect(missing).toMatchObject({ status: 400, body: { error: 'invalid_request' } });
    expect((await post(`${server.url}/token`, { ...base, code_verifier: verifier })).status).toBe(200);
    const reused = await post(`${server.url}/token`, { ...base, code_verifier: verifier });
    expect(reused).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
  });

  it('refuses redirect URIs that would leave this machine, without redirecting to them', async () => {
    const { challenge } = pkce();
    for (const redirectUri of ['https://evil.example/cb', 'http://127.0.0.1.evil.example/cb', 'http://10.0.0.1/cb']) {
      const res = await fetch(authorizeUrl(server.url, { challenge, redirectUri }), { redirect: 'manual' });
      expect(res.status).toBe(400);
      expect(res.headers.get('location')).toBeNull();
      expect(await res.text()).toContain('Redirect address not allowed');
    }
    expect(isAllowedRedirectUri('http://localhost:8080/callback/demo')).toBe(true);
    expect(isAllowedRedirectUri('http://127.0.0.1/callback/demo')).toBe(true);
    const deepLink = await approveDemoConsent(
      authorizeUrl(server.url, { challenge, redirectUri: 'tokentray://callback/demo' }),
    );
    expect(deepLink).toMatch(/^tokentray:\/\/callback\/demo\?code=demo_code\.[^&]+&state=st-1$/);
  });

  it('sends PKCE-less and unknown-scope requests back with an OAuth error', async () => {
    const url = new URL(authorizeUrl(server.url, { challenge: pkce().challenge }));
    url.searchParams.delete('code_challenge');
    const noPkce = new URL(await approveDemoConsent(url.toString()));
    expect(noPkce.searchParams.get('error')).toBe('invalid_request');
    expect(noPkce.searchParams.get('state')).toBe('st-1');
    const badScope = new URL(
      await approveDemoConsent(authorizeUrl(server.url, { challenge: pkce().challenge, extra: { scope: 'admin' } })),
    );
    expect(badScope.searchParams.get('error')).toBe('invalid_scope');
  });

  it('refuses a consent form whose signed request was edited', async () => {
    const html = await (await fetch(authorizeUrl(server.url, { challenge: pkce().challenge }))).text();
    const request = /name="request" value="([^"]+)"/.exec(html)![1]!;
    const [prefix, payload, sig] = request.split('.');
    const edited = JSON.parse(Buffer.from(payload!, 'base64url').toString()) as Record<string, unknown>;
    edited['redirect_uri'] = 'http://127.0.0.1:9/steal';
    const forged = `${prefix}.${Buffer.from(JSON.stringify(edited)).toString('base64url')}.${sig}`;
    const res = await fetch(`${server.url}/authorize/decision`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ request: forged, decision: 'allow' }).toString(),
    });
    expect(res.status).toBe(400);
    expect(res.headers.get('location')).toBeNull();
  });
});

describe('demo authorization server: token endpoint errors', () => {
  it('answers RFC 6749 JSON errors for bad requests and never crashes', async () => {
    const token = `${server.url}/token`;
    expect(await post(token, { grant_type: 'password', client_id: 'tokentray-demo' })).toMatchObject({
      status: 400,
      body: { error: 'unsupported_grant_type' },
    });
    expect(
      await post(token, { grant_type: 'refresh_token', client_id: 'someone-else', refresh_token: 'x' }),
    ).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
    expect(await post(token, { grant_type: 'refresh_token', refresh_token: 'x' })).toMatchObject({
      status: 400,
      body: { error: 'invalid_request' },
    });
    expect(await refresh(server, 'demo_rt.garbage.sig')).toMatchObject({
      status: 400,
      body: { error: 'invalid_grant' },
    });
    const json = await fetch(token, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"grant_type":"refresh_token"}',
    });
    expect(json.status).toBe(400);
    expect(await json.json()).toMatchObject({ error: 'invalid_request' });
    const wrongMethod = await fetch(token);
    expect(wrongMethod.status).toBe(405);
    // Still serving after all that.
    expect((await fetch(`${server.url}/`)).status).toBe(200);
  });

  it('refuses requests whose Host is not the loopback address (DNS rebinding)', async () => {
    const { request } = await import('node:http');
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(`${server.url}/api/me`, { headers: { host: 'attacker.example' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(421);
  });
});

describe('demo authorization server: refresh, revocation, expiry', () => {
  it('rotates the refresh token and the new access token works', async () => {
    const first = await connect(server);
    const grants = server.stats.refreshGrants;
    const res = await refresh(server, first.refresh_token);
    expect(res.status).toBe(200);
    const second = res.body as unknown as Tokens;
    expect(second.refresh_token).not.toBe(first.refresh_token);
    expect(second.access_token).not.toBe(first.access_token);
    expect(server.stats.refreshGrants).toBe(grants + 1);
    expect((await api(server, '/me', second.access_token)).status).toBe(200);
    const third = await refresh(server, second.refresh_token);
    expect(third.status).toBe(200);
  });

  it('a revoked login fails (401 on the API, invalid_grant on refresh) while a fresh consent works', async () => {
    const own = await startDemoServer();
    try {
      const tokens = await connect(own);
      expect((await api(own, '/tasks', tokens.access_token)).status).toBe(200);
      await revokeAtDemo(own.url, [tokens.access_token, tokens.refresh_token]);
      const me = await api(own, '/me', tokens.access_token);
      expect(me.status).toBe(401);
      expect(me.headers.get('www-authenticate')).toContain('error="invalid_token"');
      expect(await refresh(own, tokens.refresh_token)).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
      // A fresh consent right afterwards is a new grant, not caught by the revocation.
      const again = await connect(own);
      expect((await api(own, '/me', again.access_token)).status).toBe(200);
      expect((await refresh(own, again.refresh_token)).status).toBe(200);
    } finally {
      await own.close();
    }
  });

  it('revokes a refresh token or an access token through /revoke (RFC 7009), and answers 200 to unknown tokens', async () => {
    const tokens = await connect(server);
    const revoke = `${server.url}/revoke`;
    const res = await fetch(revoke, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        token: tokens.refresh_token,
        token_type_hint: 'refresh_token',
        client_id: 'tokentray-demo',
      }).toString(),
    });
    expect(res.status).toBe(200);
    expect(await refresh(server, tokens.refresh_token)).toMatchObject({
      status: 400,
      body: { error: 'invalid_grant' },
    });
    expect((await post(revoke, { token: tokens.access_token, client_id: 'tokentray-demo' })).status).toBe(200);
    expect((await api(server, '/me', tokens.access_token)).status).toBe(401);
    expect((await post(revoke, { token: 'not-a-token', client_id: 'tokentray-demo' })).status).toBe(200);
    expect((await post(revoke, { client_id: 'tokentray-demo' })).body).toMatchObject({ error: 'invalid_request' });
  });

  it('answers 401 to an expired access token, while its refresh token still works', async () => {
    let now = Date.now();
    const timed = await startDemoServer({ clock: { now: () => now }, accessTokenTtlSeconds: 120 });
    try {
      const tokens = await connect(timed);
      now += 119_000;
      expect((await api(timed, '/me', tokens.access_token)).status).toBe(200);
      now += 2_000;
      const expired = await api(timed, '/me', tokens.access_token);
      expect(expired.status).toBe(401);
      expect(await expired.json()).toMatchObject({ error: 'invalid_token' });
      const renewed = await refresh(timed, tokens.refresh_token);
      expect(renewed.status).toBe(200);
      expect((await api(timed, '/me', (renewed.body as unknown as Tokens).access_token)).status).toBe(200);
    } finally {
      await timed.close();
    }
  });

  it('refuses an expired authorization code', async () => {
    let now = Date.now();
    const timed = await startDemoServer({ clock: { now: () => now } });
    try {
      const { verifier, challenge } = pkce();
      const code = new URL(await approveDemoConsent(authorizeUrl(timed.url, { challenge }))).searchParams.get('code')!;
      now += 121_000;
      const res = await post(`${timed.url}/token`, {
        grant_type: 'authorization_code',
        client_id: 'tokentray-demo',
        code,
        redirect_uri: REDIRECT,
        code_verifier: verifier,
      });
      expect(res).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    } finally {
      await timed.close();
    }
  });

  it('rejects a token with a forged signature or alg "none"', async () => {
    const tokens = await connect(server);
    const [header, claims] = tokens.access_token.split('.');
    const edited = JSON.parse(Buffer.from(claims!, 'base64url').toString()) as Record<string, unknown>;
    edited['sub'] = 'demo-colleague';
    const forgedClaims = Buffer.from(JSON.stringify(edited)).toString('base64url');
    const forged = `${header}.${forgedClaims}.${tokens.access_token.split('.')[2]}`;
    expect((await api(server, '/me', forged)).status).toBe(401);
    const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${forgedClaims}.`;
    expect((await api(server, '/me', none)).status).toBe(401);
    expect((await api(server, '/me', null)).status).toBe(401);
  });
});

describe('demo servers in different processes', () => {
  it('accept each other’s codes, access tokens and refresh tokens', async () => {
    const other = await startDemoServer();
    try {
      expect(other.url).not.toBe(server.url);
      // Consent on one instance, code exchanged at the other (the paste flow in another CLI run).
      const tokens = await connect(server, other);
      expect((await api(server, '/me', tokens.access_token)).status).toBe(200);
      const renewed = await refresh(other, tokens.refresh_token);
      expect(renewed.status).toBe(200);
      const fresh = renewed.body as unknown as Tokens;
      expect((await api(server, '/tasks', fresh.access_token)).status).toBe(200);
      expect((await refresh(server, fresh.refresh_token)).status).toBe(200);
    } finally {
      await other.close();
    }
  });
});

describe('demo tasks API', () => {
  interface Page {
    tasks: Array<{
      id: string;
      title: string;
      status: string;
      priority: string;
      due: { date: string; datetime: string | null; timezone: string | null } | null;
      url: string;
      assignees: Array<{ name: string }>;
      project: { name: string };
      updated_at: string;
    }>;
    next_page: number | null;
  }

  it('pages through 10,000 tasks completely, 100 at a time', async () => {
    const big = await startDemoServer({ taskCount: 10_000 });
    try {
      const { access_token } = await connect(big);
      const ids = new Set<string>();
      let page: number | null = 1;
      let pages = 0;
      while (page !== null) {
        const res = await api(big, `/tasks?page=${page}&per_page=100`, access_token);
        expect(res.status).toBe(200);
        const body = (await res.json()) as Page;
        expect(body.tasks.length).toBe(100);
        for (const t of body.tasks) ids.add(t.id);
        pages += 1;
        page = body.next_page;
      }
      expect(pages).toBe(100);
      expect(ids.size).toBe(10_000);
      const beyond = (await (await api(big, '/tasks?page=101', access_token)).json()) as Page;
      expect(beyond).toEqual({ tasks: [], next_page: null });
    } finally {
      await big.close();
    }
  });

  it('serves a few hundred realistic tasks by default, the same on every request and every instance', async () => {
    const { access_token } = await connect(server);
    const all: Page['tasks'] = [];
    let page: number | null = 1;
    while (page !== null) {
      const body = (await (await api(server, `/tasks?page=${page}`, access_token)).json()) as Page;
      all.push(...body.tasks);
      page = body.next_page;
    }
    expect(all.length).toBe(300);

    const other = await startDemoServer();
    try {
      const again = (await (await api(other, '/tasks?page=2', access_token)).json()) as Page;
      expect(again.tasks.map(({ url: _url, ...t }) => t)).toEqual(all.slice(100, 200).map(({ url: _url, ...t }) => t));
    } finally {
      await other.close();
    }

    const today = new Date();
    const todayText = `${today.getFullYear()}-${String(today.getMonth() + 1).padStart(2, '0')}-${String(today.getDate()).padStart(2, '0')}`;
    const dates = all.map((t) => t.due?.date ?? null);
    expect(dates.filter((d) => d === null).length).toBeGreaterThan(20);
    expect(dates.filter((d) => d !== null && d < todayText).length).toBeGreaterThan(20);
    expect(dates.filter((d) => d === todayText).length).toBeGreaterThan(10);
    expect(dates.filter((d) => d !== null && d > todayText).length).toBeGreaterThan(50);
    const timed = all.filter((t) => t.due?.datetime);
    expect(timed.length).toBeGreaterThan(10);
    for (const t of timed) expect(t.due!.datetime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:00[+-]\d\d:\d\d$/);
    expect(new Set(all.map((t) => t.priority))).toEqual(new Set(['none', 'low', 'normal', 'high', 'urgent']));
    expect(new Set(all.map((t) => t.project.name)).size).toBeGreaterThan(4);
    expect(new Set(all.map((t) => t.title)).size).toBeGreaterThan(200);
    expect(all.some((t) => t.status === 'done')).toBe(true);
    expect(all.every((t) => t.assignees.length > 0 && t.title.length > 5 && !t.title.includes('{'))).toBe(true);
    expect(all.every((t) => Date.parse(t.updated_at) <= Date.now())).toBe(true);

    const first = all[0]!;
    expect(first.url).toBe(`${server.url}/tasks/${first.id}`);
    const detail = await fetch(first.url);
    expect(detail.status).toBe(200);
    expect(await detail.text()).toContain(first.title.replace(/'/g, '&#39;'));
  });

  it('answers 400 to a malformed page number', async () => {
    const { access_token } = await connect(server);
    const res = await api(server, '/tasks?page=zero', access_token);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: 'invalid_request' });
  });
});

describe('the per-process demo server', () => {
  const saved = { ...process.env };
  afterEach(async () => {
    await closeDemoServer();
    process.env = { ...saved };
  });

  it('reads its task count and token lifetime from the environment, ignoring nonsense', () => {
    expect(demoOptionsFromEnv({ TOKENTRAY_DEMO_TASKS: '10000', TOKENTRAY_DEMO_TTL_SECONDS: '60' })).toEqual({
      taskCount: 10_000,
      accessTokenTtlSeconds: 60,
    });
    expect(demoOptionsFromEnv({ TOKENTRAY_DEMO_TASKS: 'lots', TOKENTRAY_DEMO_TTL_SECONDS: '0' })).toEqual({});
  });

  it('is started once per process and honours TOKENTRAY_DEMO_TTL_SECONDS', async () => {
    process.env['TOKENTRAY_DEMO_TTL_SECONDS'] = '90';
    const [a, b] = await Promise.all([ensureDemoServer(), ensureDemoServer()]);
    expect(a).toBe(b);
    const tokens = await connect(a);
    expect(tokens.expires_in).toBe(90);
    await closeDemoServer();
    const c = await ensureDemoServer();
    expect(c).not.toBe(a);
    expect((await api(c, '/me', tokens.access_token)).status).toBe(200);
  });
});
