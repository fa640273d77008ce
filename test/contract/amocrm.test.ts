import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TokentrayError } from '../../electron/core/errors';
import { createHttpClient } from '../../electron/core/http/client';
import { amocrm, classifyAmoTokenError, kommo } from '../../electron/core/providers/amocrm';
import { amoHostRouting, startAmocrmEmulator, type EmulatorHandle } from '../fakes/amocrm-emulator';
import { freePort } from '../support/free-port';
import { makeTestCore, readAllFiles, type TestCore } from '../support/test-core';

let emu: EmulatorHandle;
let redirectUri: string;
const cores: TestCore[] = [];

beforeAll(async () => {
  redirectUri = `http://127.0.0.1:${await freePort()}/callback/amocrm`;
  // These tests use a client that does not wait between requests; the rate limit has its own test below.
  emu = await startAmocrmEmulator({ redirectUri, taskCount: 600, requestsPerSecond: 10_000 });
});
afterAll(async () => {
  await emu.close();
});
afterEach(async () => {
  emu.setOutage(false);
  for (const t of cores.splice(0)) await t.cleanup();
});

/** A core with the real keychain and the provider pointed at the emulator, as `tokentray provider set` does. */
async function setUp(
  options: { realSleep?: boolean; secret?: string; clock?: { now: () => number } } = {},
): Promise<TestCore> {
  const t = makeTestCore({
    keychain: true,
    providers: [amocrm, kommo],
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.realSleep ? { http: createHttpClient() } : {}),
  });
  cores.push(t);
  await t.core.setProvider('amocrm', {
    clientId: emu.clientId,
    clientSecret: options.secret ?? emu.clientSecret,
    redirectUri,
    authorizeUrl: `${emu.url}/oauth`,
    apiUrl: emu.url,
  });
  return t;
}

async function connectInBrowser(t: TestCore, user: string, label?: string) {
  const attempt = await t.core.startConnect('amocrm', { timeoutMs: 20_000, ...(label ? { label } : {}) });
  expect(new URL(attempt.authorizeUrl).searchParams.has('redirect_uri')).toBe(false);
  const redirected = await emu.consent(attempt.authorizeUrl, { user });
  expect(new URL(redirected).searchParams.get('referer')).toBe(emu.host);
  const page = await fetch(redirected);
  expect(page.status).toBe(200);
  expect(page.headers.get('referrer-policy')).toBe('no-referrer');
  return attempt.result;
}

async function code(err: Promise<unknown>): Promise<string> {
  try {
    await err;
  } catch (e) {
    if (e instanceof TokentrayError) return e.code;
    throw e;
  }
  throw new Error('expected the call to fail');
}

describe('amoCRM against its emulator and the real keychain', () => {
  it('connects through the loopback redirect, using the referer host, and lists the account', async () => {
    const t = await setUp();
    const account = await connectInBrowser(t, 'alice', 'work-amo');
    expect(account).toMatchObject({ provider: 'amocrm', label: 'work-amo', status: 'ok' });
    expect(account.workspaces).toEqual([{ id: '31337001', name: 'Example Trading', url: `https://${emu.host}` }]);
    const inspection = await t.core.inspect(account.id);
    expect(inspection.jwt?.claims['account_id']).toBe(31337001);
    expect(inspection.hasRefreshToken).toBe(true);
    expect(inspection.secondsLeft).toBeGreaterThan(86_000);
  });

  it('one login connected twice is one account; another login is a second one', async () => {
    const t = await setUp();
    const first = await connectInBrowser(t, 'alice');
    const again = await connectInBrowser(t, 'alice');
    expect(again.id).toBe(first.id);
    const bob = await t.core.completeConnectWithCode('amocrm', emu.issueAuthorizationCode({ user: 'bob' }), {
      host: emu.host,
    });
    expect(bob.id).not.toBe(first.id);
    // Bob is not an administrator: the user list is closed to him, so the account's name labels him.
    expect(bob.label).toBe('Example Trading');
    expect((await t.core.listAccounts()).map((a) => a.id).sort()).toEqual([first.id, bob.id].sort());
  });

  it('completes from the pasted redirected URL and rejects a second use of its code with the hint', async () => {
    const t = await setUp();
    const attempt = await t.core.startConnect('amocrm', { listen: false });
    attempt.result.catch(() => undefined);
    const landed = await emu.consent(attempt.authorizeUrl, { user: 'carol' });
    const account = await t.core.completeConnectWithUrl('amocrm', landed);
    expect(account.label).toBe('Example Trading');
    const reused = new URL(landed).searchParams.get('code')!;
    const err = t.core.completeConnectWithCode('amocrm', reused, { host: emu.host });
    await expect(err).rejects.toThrow(/Authorization code has been revoked/);
    expect(await code(t.core.completeConnectWithCode('amocrm', reused, { host: emu.host }))).toBe('AUTH_CODE_INVALID');
    expect(await t.core.listAccounts()).toHaveLength(1);
  });

  it('a bare code needs the account host, and says so', async () => {
    const t = await setUp();
    await expect(
      t.core.completeConnectWithCode('amocrm', emu.issueAuthorizationCode({ user: 'alice' })),
    ).rejects.toThrow(/--host/);
    expect(await t.core.listAccounts()).toEqual([]);
  });

  it('accepts a long-lived token after one identity call and refuses a revoked one without storing it', async () => {
    const t = await setUp();
    const good = emu.issueLongLivedToken({ user: 'bob', ttlSeconds: 365 * 86_400 });
    const account = await t.core.connectWithToken('amocrm', good, { label: 'bob-long' });
    expect(account.status).toBe('ok');
    expect(await t.core.getAccessToken(account.id)).toBe(good);
    const inspection = await t.core.inspect(account.id);
    expect(inspection.hasRefreshToken).toBe(false);
    const bad = emu.issueLongLivedToken({ user: 'alice', ttlSeconds: 3600 });
    emu.revokeAll();
    expect(await code(t.core.connectWithToken('amocrm', bad))).toBe('TOKEN_INVALID');
    expect((await t.core.listAccounts()).map((a) => a.label)).toEqual(['bob-long']);
  });

  it('100 concurrent token requests on an expired token spend the single-use refresh token once', async () => {
    const t = await setUp();
    const account = await connectInBrowser(t, 'alice');
    const { meta, secret } = await t.core.repo.load(account.id);
    await t.core.repo.saveTokens(meta, { ...secret, tokens: { ...secret.tokens, expiresAt: Date.now() - 1000 } });
    const before = { grants: emu.stats.refreshGrants, reuse: emu.stats.refreshTokenReuse };
    // Mixed --min-valid values: the service cannot merge these calls, the refresher's single flight must.
    const tokens = await Promise.all(
      Array.from({ length: 100 }, (_, i) => t.core.getAccessToken(account.id, { minValidSeconds: i % 7 })),
    );
    expect(new Set(tokens).size).toBe(1);
    expect(tokens[0]).not.toBe(secret.tokens.accessToken);
    expect(emu.stats.refreshGrants - before.grants).toBe(1);
    expect(emu.stats.refreshTokenReuse - before.reuse).toBe(0);
    // The rotated refresh token was stored: the next refresh works too.
    const refreshed = await t.core.refresh(account.id);
    expect(refreshed.status).toBe('ok');
    expect(emu.stats.refreshTokenReuse - before.reuse).toBe(0);
  });

  it('a wrong client secret is a configuration error, not a dead account', async () => {
    const good = await setUp();
    const account = await connectInBrowser(good, 'alice');
    await good.core.setProvider('amocrm', {
      clientId: emu.clientId,
      clientSecret: 'not-the-secret',
      redirectUri,
      authorizeUrl: `${emu.url}/oauth`,
      apiUrl: emu.url,
      // `tokentray provider set`: the secret may change for a provider in use, its endpoints may not.
      whenInUse: 'keep-endpoints',
    });
    expect(await code(good.core.refresh(account.id))).toBe('PROVIDER_CONFIG_INVALID');
    const listed = await good.core.listAccounts();
    expect(listed.find((a) => a.id === account.id)?.status).not.toBe('reconnect');
    // The stored tokens are untouched: the still-valid access token keeps working.
    const { secret } = await good.core.repo.load(account.id);
    expect(await good.core.getAccessToken(account.id)).toBe(secret.tokens.accessToken);
  });

  it('serves the cached tasks with their age during an outage, and a revoked grant asks for reconnect', async () => {
    // The core's clock (not the emulator's) moves on, so the cached list's age is known.
    let laterMs = 0;
    const t = await setUp({ clock: { now: () => Date.now() + laterMs } });
    const account = await connectInBrowser(t, 'alice');
    const live = await t.core.tasks(account.id);
    expect(live.offline).toBe(false);
    expect(live.tasks).toHaveLength(600);
    const sample = live.tasks.find((x) => x.id === '90000004')!;
    expect(sample).toMatchObject({
      title: 'Перезвонить по поводу счёта #5',
      status: 'done',
      project: 'leads #20000004',
      workspace: 'Example Trading',
      url: `https://${emu.host}/leads/detail/20000004`,
    });
    expect(sample.assignees).toHaveLength(1);
    expect(sample.due?.dateTime).toMatch(/^\d{4}-\d\d-\d\dT/);
    const cache = await readAllFiles(t.home);
    const { secret } = await t.core.repo.load(account.id);
    expect(cache).not.toContain(secret.tokens.accessToken);
    expect(cache).not.toContain(secret.tokens.refreshToken!);

    emu.setOutage(true);
    laterMs = 10 * 60_000;
    const offline = await t.core.tasks(account.id);
    expect(offline.offline).toBe(true);
    expect(offline.error?.code).toBe('PROVIDER_UNAVAILABLE');
    expect(offline.tasks).toHaveLength(600);
    // "10 minutes old", give or take the seconds this test itself takes.
    expect(offline.ageSeconds).toBeGreaterThanOrEqual(600);
    expect(offline.ageSeconds).toBeLessThan(660);
    emu.setOutage(false);

    emu.revokeAll();
    expect(await code(t.core.tasks(account.id))).toBe('RECONNECT_REQUIRED');
    expect(await code(t.core.refresh(account.id))).toBe('RECONNECT_REQUIRED');
    const after = await t.core.listAccounts();
    expect(after.find((a) => a.id === account.id)?.status).toBe('reconnect');
    // The account is kept for reconnecting, and its cached tasks are still there offline.
    expect((await t.core.tasks(account.id, { offline: true })).tasks).toHaveLength(600);
  });
});

describe('amoCRM as most of its users see it', () => {
  it('a sales manager (not an administrator) connects and lists tasks; assignees read "you" and "user N"', async () => {
    const t = await setUp();
    const account = await t.core.completeConnectWithCode('amocrm', emu.issueAuthorizationCode({ user: 'bob' }), {
      host: emu.host,
      label: 'bob-amo',
    });
    expect(account).toMatchObject({ label: 'bob-amo', status: 'ok' });
    const list = await t.core.tasks(account.id);
    expect(list.tasks).toHaveLength(600);
    const assignees = new Set(list.tasks.flatMap((x) => x.assignees));
    // Bob is user 7002; the other two are shown by number because only administrators may list names.
    expect([...assignees].sort()).toEqual(['user 7001', 'user 7003', 'you']);
    expect((await t.core.listAccounts())[0]?.status).toBe('ok');
  });

  it('an access token revoked early recovers with exactly one refresh and the account stays ok', async () => {
    const t = await setUp();
    const account = await connectInBrowser(t, 'alice');
    const before = (await t.core.repo.load(account.id)).secret.tokens;
    const grants = emu.stats.refreshGrants;
    emu.revokeAccessTokens();
    const list = await t.core.tasks(account.id);
    expect(list.offline).toBe(false);
    expect(list.tasks).toHaveLength(600);
    expect(emu.stats.refreshGrants - grants).toBe(1);
    expect(emu.stats.refreshTokenReuse).toBe(0);
    const after = (await t.core.repo.load(account.id)).secret.tokens;
    expect(after.accessToken).not.toBe(before.accessToken);
    expect(after.refreshToken).not.toBe(before.refreshToken);
    expect((await t.core.listAccounts())[0]?.status).toBe('ok');
  });

  it('a rejection of a token someone already replaced uses the new one without a refresh; concurrent rejections refresh once', async () => {
    const t = await setUp();
    const account = await connectInBrowser(t, 'alice');
    const old = (await t.core.repo.load(account.id)).secret.tokens.accessToken;
    await t.core.refresh(account.id);
    const current = (await t.core.repo.load(account.id)).secret.tokens.accessToken;
    const grants = emu.stats.refreshGrants;
    // Another process refreshed between our request and its 401: its token is handed out, no call made.
    expect((await t.core.refresher.refreshAfterRejection(account.id, old)).accessToken).toBe(current);
    expect(emu.stats.refreshGrants).toBe(grants);
    // Ten requests rejected at once share one refresh.
    const results = await Promise.all(
      Array.from({ length: 10 }, () => t.core.refresher.refreshAfterRejection(account.id, current)),
    );
    expect(new Set(results.map((r) => r.accessToken)).size).toBe(1);
    expect(results[0]!.accessToken).not.toBe(current);
    expect(emu.stats.refreshGrants - grants).toBe(1);
    expect(emu.stats.refreshTokenReuse).toBe(0);
  });

  it('an IP block after a burst is "unavailable, try later": the account stays connected', async () => {
    const t = await setUp();
    const account = await connectInBrowser(t, 'alice');
    await t.core.tasks(account.id);
    emu.inject({
      path: /^\/api\/v4\//,
      status: 403,
      json: {
        title: 'Forbidden',
        type: 'https://httpstatus.es/403',
        status: 403,
        detail: 'Account is blocked for repeatedly exceeding the request limit from this IP',
      },
      headers: { 'content-type': 'application/problem+json' },
      times: 100,
    });
    const grants = emu.stats.refreshGrants;
    const list = await t.core.tasks(account.id);
    emu.clearFaults();
    // The cached list is served with the error, which says to wait minutes, not to reconnect.
    expect(list.offline).toBe(true);
    expect(list.error?.code).toBe('PROVIDER_UNAVAILABLE');
    expect(list.error?.message).toMatch(/blocked API requests for a while after too many requests per second.*minutes/);
    expect(list.error?.retryAfterSeconds).toBeGreaterThanOrEqual(60);
    expect(emu.stats.refreshGrants - grants).toBe(0);
    expect((await t.core.listAccounts())[0]?.status).toBe('ok');
    // Asking again right away sends nothing (more requests would prolong the block) and says when.
    const sent = emu.stats.requests;
    const again = await t.core.tasks(account.id);
    expect(again.error?.message).toMatch(/hold off.*nothing was sent, try again in 10 minutes/);
    expect(emu.stats.requests).toBe(sent);
    expect((await t.core.listAccounts())[0]?.status).toBe('ok');
  });

  it('the client secret goes only to amoCRM/Kommo hosts unless the endpoints were set explicitly', async () => {
    const t = makeTestCore({ keychain: false, providers: [amocrm, kommo] });
    cores.push(t);
    await t.core.setProvider('amocrm', { clientId: emu.clientId, clientSecret: emu.clientSecret, redirectUri });
    const sent = emu.stats.requests;
    for (const host of ['evil.example.com', 'amocrm.ru.evil.com', '127.0.0.1:9', 'xamocrm.ru']) {
      const err = t.core.completeConnectWithCode('amocrm', emu.issueAuthorizationCode({ user: 'alice' }), { host });
      await expect(err).rejects.toThrow(/not an amoCRM or Kommo account address/);
    }
    expect(emu.stats.requests).toBe(sent);
    expect(await t.core.listAccounts()).toEqual([]);
  });
});

describe('amoCRM rate limit', () => {
  let big: EmulatorHandle;
  let bigRedirect: string;
  beforeAll(async () => {
    bigRedirect = `http://127.0.0.1:${await freePort()}/callback/amocrm`;
    big = await startAmocrmEmulator({ redirectUri: bigRedirect, taskCount: 5_000 });
  });
  afterAll(async () => {
    await big.close();
  });

  it('fetches 5,000 tasks without ever exceeding 7 requests per second', async () => {
    const t = makeTestCore({ keychain: true, providers: [amocrm], http: createHttpClient() });
    cores.push(t);
    await t.core.setProvider('amocrm', {
      clientId: big.clientId,
      clientSecret: big.clientSecret,
      redirectUri: bigRedirect,
      authorizeUrl: `${big.url}/oauth`,
      apiUrl: big.url,
    });
    const account = await t.core.completeConnectWithCode('amocrm', big.issueAuthorizationCode({ user: 'alice' }), {
      host: big.host,
    });
    const list = await t.core.tasks(account.id);
    expect(list.tasks).toHaveLength(5_000);
    expect(new Set(list.tasks.map((x) => x.id)).size).toBe(5_000);
    expect(big.stats.pagesServed).toBe(20);
    expect(big.stats.rateLimited).toBe(0);
    expect(big.stats.peakRequestsPerSecond).toBeGreaterThan(1);
    expect(big.stats.peakRequestsPerSecond).toBeLessThanOrEqual(7);
  });
});

describe('amoCRM token errors are read by status and hint, in any language', () => {
  it.each([
    [401, { hint: 'Token has been revoked', title: 'Некорректный запрос' }, 'reconnect'],
    [401, { hint: 'Token has expired', title: 'Invalid request' }, 'reconnect'],
    [401, { hint: 'Cannot decrypt the refresh token', title: 'Solicitud incorrecta' }, 'reconnect'],
    [401, { hint: 'Client authentication failed', title: 'Некорректный клиент' }, 'client_config'],
    [401, { title: 'Invalid client' }, 'client_config'],
    [400, { hint: 'Authorization code has expired', title: 'Некорректный запрос' }, 'bad_code'],
    [400, { hint: 'Cannot decrypt the authorization code' }, 'bad_code'],
    [429, {}, 'rate_limited'],
    [502, 'Bad gateway', 'unavailable'],
  ] as const)('HTTP %i %j → %s', (status, body, kind) => {
    const c = classifyAmoTokenError(status, body);
    expect(c.kind).toBe(kind);
  });
});

describe('amoCRM 403s: only the documented rights refusal is FORBIDDEN', () => {
  const RIGHTS = {
    title: 'Forbidden',
    type: 'https://httpstatus.es/403',
    status: 403,
    detail: 'Insufficient rights to call this method',
  };
  const problemJson = { 'content-type': 'application/problem+json' };

  it.each([
    [
      'an HTML page from the edge',
      { raw: '<html><body><h1>403 Forbidden</h1></body></html>', headers: { 'content-type': 'text/html' } },
    ],
    ['an empty answer', { raw: '' }],
    ['a JSON body that is not the rights error', { json: { title: 'Forbidden', status: 403 }, headers: problemJson }],
  ])('a 403 with %s is temporary (exit 4) on a first read and the account stays ok', async (_what, answer) => {
    const t = await setUp();
    const account = await connectInBrowser(t, 'alice');
    emu.inject({ path: /^\/api\/v4\/tasks$/, status: 403, times: 100, ...answer });
    let first: unknown;
    try {
      await t.core.tasks(account.id);
    } catch (error) {
      first = error;
    }
    emu.clearFaults();
    expect(first).toBeInstanceOf(TokentrayError);
    expect((first as TokentrayError).code).toBe('PROVIDER_UNAVAILABLE');
    expect((first as TokentrayError).message).toMatch(/403.*block of this computer's address.*try again in 10 minutes/);
    expect((await t.core.listAccounts())[0]?.status).toBe('ok');
  });

  it('a 403 with an HTML page after a good read serves the saved tasks with the offline badge', async () => {
    const t = await setUp();
    const account = await connectInBrowser(t, 'alice');
    expect((await t.core.tasks(account.id)).tasks).toHaveLength(600);
    emu.inject({ path: /^\/api\/v4\/tasks$/, status: 403, raw: '<html>Forbidden</html>', times: 100 });
    const list = await t.core.tasks(account.id);
    emu.clearFaults();
    expect(list.offline).toBe(true);
    expect(list.tasks).toHaveLength(600);
    expect(list.error?.code).toBe('PROVIDER_UNAVAILABLE');
    expect((await t.core.listAccounts())[0]?.status).toBe('ok');
  });

  it('code 113 names the IP address and the allow-list, not an administrator granting access', async () => {
    const t = await setUp();
    const account = await connectInBrowser(t, 'alice');
    emu.setIpAllowList(true);
    let error: unknown;
    try {
      await t.core.tasks(account.id);
    } catch (e) {
      error = e;
    } finally {
      emu.setIpAllowList(false);
    }
    expect((error as TokentrayError).code).toBe('PROVIDER_UNAVAILABLE');
    expect((error as TokentrayError).message).toMatch(/IP address \(code 113.*allow-list/);
    expect((error as TokentrayError).message).not.toMatch(/ask an administrator for access/);
    expect((await t.core.listAccounts())[0]?.status).toBe('ok');
  });

  it('the rights refusal is FORBIDDEN on a first read, and passing on tasks this login read before', async () => {
    const t = await setUp();
    const account = await connectInBrowser(t, 'alice');
    emu.inject({ path: /^\/api\/v4\/tasks$/, status: 403, json: RIGHTS, headers: problemJson, times: 1 });
    expect(await code(t.core.tasks(account.id))).toBe('FORBIDDEN');
    emu.clearFaults();
    expect((await t.core.tasks(account.id)).offline).toBe(false);
    emu.inject({ path: /^\/api\/v4\/tasks$/, status: 403, json: RIGHTS, headers: problemJson, times: 100 });
    const list = await t.core.tasks(account.id);
    emu.clearFaults();
    expect(list.offline).toBe(true);
    expect(list.tasks).toHaveLength(600);
    expect(list.error?.code).toBe('PROVIDER_UNAVAILABLE');
    expect(list.error?.message).toMatch(/refused tasks, which this login has read before/);
    expect((await t.core.listAccounts())[0]?.status).toBe('ok');
  });
});

describe('amoCRM due dates', () => {
  it("groups each task by its day in the account's time zone and shows 23:59 as all day", async () => {
    const t = await setUp();
    const account = await connectInBrowser(t, 'bob');
    const list = await t.core.tasks(account.id);
    // The emulator's account is on Europe/Moscow, UTC+3 all year: its day is the UTC day of the instant + 3 h.
    const moscowDay = (ms: number): string => new Date(ms + 3 * 3_600_000).toISOString().slice(0, 10);
    const allDay = list.tasks.filter((x) => x.due?.dateTime === null);
    const timed = list.tasks.filter((x) => x.due?.dateTime);
    // Every fifth task of the emulator is due "all day".
    expect(allDay).toHaveLength(120);
    expect(timed).toHaveLength(480);
    for (const task of timed) {
      expect(task.due!.date).toBe(moscowDay(Date.parse(task.due!.dateTime!)));
      expect(task.due!.timeZone).toBe('Europe/Moscow');
    }
    // An all-day task's day is the Moscow day of its 23:59, which in UTC is 20:59 the same day.
    const sample = allDay.find((x) => x.id === '90000002')!;
    expect(sample.due).toEqual({ date: sample.due!.date, dateTime: null, timeZone: 'Europe/Moscow' });
    expect(sample.due!.date).toMatch(/^\d{4}-\d\d-\d\d$/);
  });

  it('reads the day in the time zone the account uses, east of Moscow too', async () => {
    const far = await startAmocrmEmulator({
      redirectUri,
      taskCount: 50,
      requestsPerSecond: 10_000,
      timeZone: 'Asia/Vladivostok',
    });
    try {
      const t = makeTestCore({ keychain: false, providers: [amocrm] });
      cores.push(t);
      await t.core.setProvider('amocrm', {
        clientId: far.clientId,
        clientSecret: far.clientSecret,
        redirectUri,
        authorizeUrl: `${far.url}/oauth`,
        apiUrl: far.url,
      });
      const account = await t.core.completeConnectWithCode('amocrm', far.issueAuthorizationCode({ user: 'alice' }), {
        host: far.host,
      });
      const list = await t.core.tasks(account.id);
      // Vladivostok is UTC+10 all year.
      for (const task of list.tasks.filter((x) => x.due?.dateTime)) {
        expect(task.due!.date).toBe(
          new Date(Date.parse(task.due!.dateTime!) + 10 * 3_600_000).toISOString().slice(0, 10),
        );
      }
      expect(list.tasks.filter((x) => x.due?.dateTime === null)).toHaveLength(10);
    } finally {
      await far.close();
    }
  });
});

describe("amoCRM's account host is the account's, never the token's api_domain", () => {
  let moving: EmulatorHandle;
  beforeAll(async () => {
    moving = await startAmocrmEmulator({ redirectUri, taskCount: 30, requestsPerSecond: 10_000 });
  });
  afterAll(async () => {
    await moving.close();
  });

  /** No --api-url: requests go to the real account address, which the test routes to the emulator. */
  async function realHosts(): Promise<TestCore> {
    const t = makeTestCore({
      keychain: false,
      providers: [amocrm],
      http: amoHostRouting(createHttpClient({ sleep: async () => undefined }), moving.url),
    });
    cores.push(t);
    await t.core.setProvider('amocrm', {
      clientId: moving.clientId,
      clientSecret: moving.clientSecret,
      redirectUri,
      authorizeUrl: `${moving.url}/oauth`,
    });
    return t;
  }

  it('a pasted token without --host is located as the official library does (www.amocrm.ru/oauth2/account/subdomain)', async () => {
    const t = await realHosts();
    const token = moving.issueLongLivedToken({ user: 'alice', ttlSeconds: 90 * 86_400 });
    const lookups = moving.stats.subdomainLookups;
    const account = await t.core.connectWithToken('amocrm', token);
    expect(account.status).toBe('ok');
    expect(moving.stats.subdomainLookups - lookups).toBe(1);
    expect((await t.core.repo.load(account.id)).secret.tokens.host).toBe(moving.host);
    expect((await t.core.tasks(account.id)).tasks).toHaveLength(30);
  });

  it('a token amoCRM cannot place is refused, asking for the address, and nothing is stored', async () => {
    const t = await realHosts();
    const error = await t.core.connectWithToken('amocrm', 'not-a-token-amocrm-knows').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TokentrayError);
    expect((error as TokentrayError).code).toBe('USAGE');
    expect((error as TokentrayError).message).toMatch(/--host example\.amocrm\.ru/);
    expect(await t.core.listAccounts()).toHaveLength(0);
    // With the address it is the token itself that is refused.
    const withHost = await t.core
      .connectWithToken('amocrm', 'not-a-token-amocrm-knows', { host: moving.host })
      .catch((e: unknown) => e);
    expect((withHost as TokentrayError).code).not.toBe('USAGE');
  });

  it('after the subdomain changes, the new address is looked up with the refresh token and the account keeps working', async () => {
    const t = await realHosts();
    const account = await t.core.completeConnectWithCode('amocrm', moving.issueAuthorizationCode({ user: 'alice' }), {
      host: moving.host,
    });
    expect((await t.core.tasks(account.id)).tasks).toHaveLength(30);
    const grants = moving.stats.refreshGrants;
    moving.renameAccount('renamed.amocrm.ru');
    const list = await t.core.tasks(account.id);
    expect(list.offline).toBe(false);
    expect(list.tasks).toHaveLength(30);
    expect(moving.stats.refreshGrants - grants).toBe(1);
    expect(moving.stats.refreshTokenReuse).toBe(0);
    expect((await t.core.repo.load(account.id)).secret.tokens.host).toBe('renamed.amocrm.ru');
    expect((await t.core.listAccounts())[0]?.status).toBe('ok');
    // Later fetches go straight to the new address, and links point there.
    const again = await t.core.tasks(account.id);
    expect(moving.stats.refreshGrants - grants).toBe(1);
    expect(again.tasks.every((x) => x.url?.startsWith('https://renamed.amocrm.ru/'))).toBe(true);
  });
});
