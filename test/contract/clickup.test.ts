import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpClient, type HttpClient } from '../../electron/core/http/client';
import { clickup, clickupDateOnlyDay, clickupDue, clickupPace } from '../../electron/core/providers/clickup';
import { calendarDayIn } from '../../electron/core/tasks/due-date';
import type { ProviderContext, StoredTokens } from '../../electron/core/providers/types';
import { taskSchema, type AccountSummary, type Task } from '../../electron/shared/models';
import { clickupDateOnly, startClickupEmulator, type ClickupEmulatorHandle } from '../fakes/clickup-emulator';
import { freePort } from '../support/free-port';
import { makeTestCore, readAllFiles, type TestCore } from '../support/test-core';
import { providerContext } from '../support/provider-context';

const TASKS_PER_TEAM = 250;

let emu: ClickupEmulatorHandle;
let t: TestCore;
let redirectUri: string;

async function configure(core: TestCore['core'], e: ClickupEmulatorHandle): Promise<void> {
  await core.setProvider('clickup', {
    clientId: e.clientId,
    clientSecret: e.clientSecret,
    redirectUri: e.redirectUri,
    authorizeUrl: `${e.url}/api`,
    tokenUrl: `${e.url}/api/v2/oauth/token`,
    apiUrl: `${e.url}/api/v2`,
  });
}

async function connect(user: string, opts: { label?: string; teams?: string[] } = {}): Promise<AccountSummary> {
  const attempt = await t.core.startConnect('clickup', opts.label ? { label: opts.label } : {});
  expect(attempt.redirectUri).toBe(redirectUri);
  const redirected = await emu.consent(attempt.authorizeUrl, { user, ...(opts.teams ? { teams: opts.teams } : {}) });
  const page = await fetch(redirected);
  expect(page.status).toBe(200);
  return attempt.result;
}

async function accountByLabel(label: string): Promise<AccountSummary> {
  const found = (await t.core.listAccounts()).find((a) => a.label === label);
  if (!found) throw new Error(`no account labelled ${label}`);
  return found;
}

beforeAll(async () => {
  redirectUri = `http://127.0.0.1:${await freePort()}/callback/clickup`;
  emu = await startClickupEmulator({ redirectUri, taskCount: TASKS_PER_TEAM });
  t = makeTestCore({ keychain: true, providers: [clickup] });
  await configure(t.core, emu);
});
afterAll(async () => {
  await t.cleanup();
  await emu.close();
});

describe('clickup provider definition', () => {
  const ctx: ProviderContext = providerContext({
    provider: 'clickup',
    clientId: 'cid',
    clientSecret: 'sec',
    endpoints: { ...clickup.defaults, issuer: null },
    redirectUri: clickup.defaultRedirectUri,
  });
  const tokens = (accessToken: string, personal: boolean): StoredTokens => ({
    accessToken,
    refreshToken: null,
    tokenType: null,
    expiresAt: null,
    issuedAt: 0,
    host: null,
    personal,
  });

  it('asks for consent without PKCE and sends client id, secret and code as JSON', () => {
    const url = new URL(clickup.buildAuthorizeUrl(ctx, { state: 'st', codeChallenge: null }));
    expect(`${url.origin}${url.pathname}`).toBe('https://app.clickup.com/api');
    expect(Object.fromEntries(url.searchParams)).toEqual({
      client_id: 'cid',
      redirect_uri: 'http://127.0.0.1:8977/callback/clickup',
      state: 'st',
    });
    const spec = clickup.buildTokenRequest!(ctx, {
      kind: 'authorization_code',
      code: 'c1',
      codeVerifier: null,
      host: null,
    });
    expect(spec.url).toBe('https://api.clickup.com/api/v2/oauth/token');
    // ClickUp FAQ: "always use the content type application/json; form encoded data is not fully supported".
    expect(spec.headers['content-type']).toBe('application/json');
    expect(JSON.parse(spec.body ?? '')).toEqual({
      client_id: 'cid',
      client_secret: 'sec',
      code: 'c1',
    });
  });

  it('reads a token answer with or without token_type, and never expects expiry or refresh', () => {
    expect(clickup.parseTokenResponse!({ access_token: 'a' })).toMatchObject({
      accessToken: 'a',
      refreshToken: null,
      expiresInSeconds: null,
      tokenType: null,
    });
    expect(clickup.parseTokenResponse!({ access_token: 'a', token_type: 'Bearer' }).tokenType).toBe('Bearer');
    expect(() => clickup.parseTokenResponse!({ err: 'x' })).toThrow(
      expect.objectContaining({ code: 'PROVIDER_UNAVAILABLE' }),
    );
  });

  it('sends personal tokens raw and OAuth tokens as Bearer', () => {
    expect(clickup.authorizationHeader(tokens('pk_1_ABC', false))).toBe('pk_1_ABC');
    expect(clickup.authorizationHeader(tokens('whatever', true))).toBe('whatever');
    expect(clickup.authorizationHeader(tokens('123_abc', false))).toBe('Bearer 123_abc');
  });

  it('classifies token endpoint errors', () => {
    const kind = (status: number, err: string) => clickup.classifyTokenError(status, { err, ECODE: 'OAUTH_0' }).kind;
    expect(kind(400, 'Code not found or already used')).toBe('bad_code');
    expect(kind(401, 'Client secret invalid')).toBe('client_config');
    expect(kind(401, 'Client not found')).toBe('client_config');
    expect(kind(429, 'Rate limit reached')).toBe('rate_limited');
    expect(kind(503, 'Service unavailable')).toBe('unavailable');
  });
});

describe('clickup against the emulator and the real keychain', () => {
  it('connects through the loopback redirect: no expiry, workspaces are the granted teams', async () => {
    const account = await connect('alice');
    expect(account).toMatchObject({
      provider: 'clickup',
      label: 'Alice',
      status: 'ok',
      expiresAt: null,
      canRefresh: false,
    });
    expect(account.workspaces).toEqual(
      emu.teams.map((team) => ({ id: team.id, name: team.name, url: `https://app.clickup.com/${team.id}` })),
    );
    expect(await t.core.listAccounts()).toHaveLength(1);
  });

  it('connecting the same login again keeps one account; a login granting one team sees one workspace', async () => {
    await connect('alice');
    expect(await t.core.listAccounts()).toHaveLength(1);
    const bob = await connect('bob', { teams: [emu.teams[1]!.id] });
    expect(bob.workspaces.map((w) => w.name)).toEqual([emu.teams[1]!.name]);
    expect(await t.core.listAccounts()).toHaveLength(2);
  });

  it('reports a denied consent as ACCESS_DENIED and stores nothing', async () => {
    const attempt = await t.core.startConnect('clickup');
    const failed = attempt.result.catch((error: unknown) => error);
    const redirected = await emu.consent(attempt.authorizeUrl, { user: 'carol', deny: true });
    await fetch(redirected);
    expect(await failed).toMatchObject({ code: 'ACCESS_DENIED' });
    expect(await t.core.listAccounts()).toHaveLength(2);
  });

  it('finishes a sign-in from the pasted redirected URL', async () => {
    const attempt = await t.core.startConnect('clickup', { listen: false, label: 'pasted' });
    expect(attempt.redirectUri).toBeNull();
    expect(new URL(attempt.authorizeUrl).searchParams.get('redirect_uri')).toBe(redirectUri);
    const landed = await emu.consent(attempt.authorizeUrl, { user: 'carol' });
    attempt.cancel();
    const account = await t.core.completeConnectWithUrl('clickup', landed);
    expect(account).toMatchObject({ label: 'pasted', status: 'ok', expiresAt: null });
    // The code is single-use at ClickUp and the pending sign-in is single-use here.
    await expect(t.core.completeConnectWithUrl('clickup', landed)).rejects.toBeInstanceOf(Error);
  });

  it('accepts a personal token after an identity check and rejects a bad one without storing it', async () => {
    const before = (await t.core.listAccounts()).length;
    await expect(t.core.connectWithToken('clickup', 'pk_81000001_NOTAREALTOKEN')).rejects.toMatchObject({
      code: 'TOKEN_INVALID',
    });
    expect(await t.core.listAccounts()).toHaveLength(before);
    const account = await t.core.connectWithToken('clickup', emu.issuePersonalToken('dave'), { label: 'dave-pk' });
    expect(account).toMatchObject({ label: 'dave-pk', status: 'ok', expiresAt: null, canRefresh: false });
    expect((await t.core.inspect(account.id)).tokenKind).toBe('personal');
    expect((await t.core.tasks(account.id)).tasks).toHaveLength(TASKS_PER_TEAM * emu.teams.length);
  });

  it('fetches every task of every team across pages, closed ones and subtasks included, mapped', async () => {
    const alice = await accountByLabel('Alice');
    const pagesBefore = emu.stats.pagesServed;
    const list = await t.core.tasks(alice.id);
    expect(list).toMatchObject({ offline: false, error: null });
    expect(list.tasks).toHaveLength(TASKS_PER_TEAM * emu.teams.length);
    expect(emu.stats.pagesServed - pagesBefore).toBe(Math.ceil(TASKS_PER_TEAM / 100) * emu.teams.length);
    expect(new Set(list.tasks.map((x) => x.id)).size).toBe(list.tasks.length);
    for (const task of list.tasks) expect(taskSchema.parse(task)).toEqual(task);

    const acme = list.tasks.filter((x) => x.workspace === 'Acme Corp');
    const nth = (i: number): Task => acme.find((x) => x.title === `Acme Corp task ${i + 1}`)!;
    expect(nth(0)).toMatchObject({
      provider: 'clickup',
      accountId: alice.id,
      status: 'open',
      priority: { level: 4, original: 'urgent' },
      // A date-only due (due_date_time false): the day, no invented time.
      due: { date: '2026-01-05', dateTime: null, timeZone: null },
      project: 'List 1',
      assignees: ['Alice', 'Dave'],
      updatedAt: '2026-01-05T00:00:00.000Z',
    });
    expect(nth(0).url).toMatch(/^https:\/\/app\.clickup\.com\/t\/86/);
    // A timed due keeps its instant and is grouped by the user's own day.
    expect(nth(1)).toMatchObject({
      priority: { level: 3, original: 'high' },
      due: { date: calendarDayIn(new Date('2026-01-06T13:00:00Z'), null), dateTime: '2026-01-06T13:00:00.000Z' },
    });
    expect(emu.stats.nonJsonTokenRequests).toBe(0);
    expect(emu.stats.tokenRequests).toBeGreaterThan(0);
    expect(nth(2)).toMatchObject({ priority: { level: 2 }, due: null });
    expect(nth(3)).toMatchObject({ status: 'done', priority: { level: 1, original: 'low' } });
    expect(nth(4)).toMatchObject({ status: 'done', priority: { level: 0, original: null } });

    const bob = await accountByLabel('Bob');
    const bobs = await t.core.tasks(bob.id);
    expect(bobs.tasks).toHaveLength(TASKS_PER_TEAM);
    expect(new Set(bobs.tasks.map((x) => x.workspace))).toEqual(new Set([emu.teams[1]!.name]));
  });

  it('has nothing to refresh: the same token comes back and the token endpoint is never called', async () => {
    const alice = await accountByLabel('Alice');
    const before = emu.stats.tokenRequests;
    const first = await t.core.getAccessToken(alice.id);
    const second = await t.core.getAccessToken(alice.id, { minValidSeconds: 86_400 * 365 });
    expect(second).toBe(first);
    await expect(t.core.refresh(alice.id)).rejects.toBeInstanceOf(Error);
    expect(emu.stats.tokenRequests).toBe(before);
    expect(emu.stats.refreshGrants).toBe(0);
    expect((await accountByLabel('Alice')).status).toBe('ok');
    // Neither the token nor the client secret lands in a file.
    const files = await readAllFiles(t.home);
    expect(files).not.toContain(first);
    expect(files).not.toContain(emu.clientSecret);
  });

  it('serves the cached tasks while ClickUp is down', async () => {
    const alice = await accountByLabel('Alice');
    emu.setOutage(true);
    try {
      const list = await t.core.tasks(alice.id);
      expect(list.offline).toBe(true);
      expect(list.error?.code).toBe('PROVIDER_UNAVAILABLE');
      expect(list.tasks).toHaveLength(TASKS_PER_TEAM * emu.teams.length);
    } finally {
      emu.setOutage(false);
    }
    expect((await t.core.tasks(alice.id)).offline).toBe(false);
  });

  it('after the user removes the app, tasks and refresh ask for a reconnect', async () => {
    const alice = await accountByLabel('Alice');
    emu.revokeAll();
    await expect(t.core.tasks(alice.id)).rejects.toMatchObject({ code: 'RECONNECT_REQUIRED' });
    expect((await accountByLabel('Alice')).status).toBe('reconnect');
    await expect(t.core.refresh(alice.id)).rejects.toMatchObject({ code: 'RECONNECT_REQUIRED' });
    await expect(t.core.getAccessToken(alice.id)).rejects.toMatchObject({ code: 'RECONNECT_REQUIRED' });
    const dave = await accountByLabel('dave-pk');
    await expect(t.core.tasks(dave.id)).rejects.toMatchObject({ code: 'RECONNECT_REQUIRED' });
    expect((await accountByLabel('dave-pk')).status).toBe('reconnect');
  });
});

describe('clickup workspaces the token may not read', () => {
  it('skips a workspace answering "Team not authorized" (OAUTH_027), names it, lists the rest, stays ok', async () => {
    const own = await startClickupEmulator({ redirectUri: 'http://127.0.0.1:8977/callback/clickup', taskCount: 120 });
    const core = makeTestCore({ keychain: false, providers: [clickup] });
    try {
      await configure(core.core, own);
      const account = await core.core.connectWithToken('clickup', own.issuePersonalToken('alice'));
      const [kept, lost] = own.teams as [(typeof own.teams)[0], (typeof own.teams)[0]];
      own.withdrawTeam(lost.id);
      const list = await core.core.tasks(account.id);
      expect(list).toMatchObject({ offline: false, error: null });
      expect(list.tasks).toHaveLength(120);
      expect(new Set(list.tasks.map((x) => x.workspace))).toEqual(new Set([kept.name]));
      expect(list.skipped).toEqual([
        {
          kind: 'workspace',
          workspace: lost.name,
          name: lost.name,
          reason: 'not_authorized',
          message: expect.stringContaining(`“${lost.name}” (OAUTH_027, "Team not authorized")`) as unknown,
        },
      ]);
      expect((await core.core.listAccounts())[0]).toMatchObject({ status: 'ok', statusDetail: null });
    } finally {
      await core.cleanup();
      await own.close();
    }
  });
});

describe("clickup due dates (ClickUp FAQ: a date without a time is stored at 04:00 in the setter's zone)", () => {
  it('shows the calendar day of a date-only due east of UTC, where the UTC day is the day before', async () => {
    const own = await startClickupEmulator({
      redirectUri: 'http://127.0.0.1:8977/callback/clickup',
      taskCount: 4,
      teams: [{ id: '5', name: 'Tokyo office' }],
      userTimeZone: 'Asia/Tokyo',
    });
    const core = makeTestCore({ keychain: false, providers: [clickup] });
    try {
      await configure(core.core, own);
      const account = await core.core.connectWithToken('clickup', own.issuePersonalToken('alice'));
      const first = (await core.core.tasks(account.id)).tasks.find((x) => x.title === 'Tokyo office task 1');
      // 04:00 in Tokyo on 5 January is 19:00 UTC on the 4th.
      expect(first?.due).toEqual({ date: '2026-01-05', dateTime: null, timeZone: null });
    } finally {
      await core.cleanup();
      await own.close();
    }
  });

  it('finds the day whichever zone from UTC−10 to UTC+13 set it, and uses the profile zone first', () => {
    const jan5 = Date.UTC(2026, 0, 5);
    for (const zone of [
      'Pacific/Honolulu',
      'America/Los_Angeles',
      'UTC',
      'Europe/Berlin',
      'Asia/Tokyo',
      'Pacific/Auckland',
    ]) {
      expect(clickupDateOnlyDay(new Date(clickupDateOnly(jan5, zone)), null)).toBe('2026-01-05');
      expect(clickupDateOnlyDay(new Date(clickupDateOnly(jan5, zone)), zone)).toBe('2026-01-05');
    }
    // UTC−11 and UTC+14 are past the rule's reach; the user's own profile zone still places them.
    expect(clickupDateOnlyDay(new Date(clickupDateOnly(jan5, 'Pacific/Kiritimati')), 'Pacific/Kiritimati')).toBe(
      '2026-01-05',
    );
    expect(clickupDateOnlyDay(new Date(clickupDateOnly(jan5, 'Pacific/Pago_Pago')), 'Pacific/Pago_Pago')).toBe(
      '2026-01-05',
    );
  });

  it('groups a timed due by the local day, not the UTC day', () => {
    const zone = process.env['TZ'];
    process.env['TZ'] = 'Asia/Yekaterinburg';
    try {
      // 21:30 UTC on 4 January is 02:30 on the 5th in Yekaterinburg (UTC+5).
      const due = clickupDue({ due_date: String(Date.UTC(2026, 0, 4, 21, 30)), due_date_time: true }, null);
      expect(due).toEqual({ date: '2026-01-05', dateTime: '2026-01-04T21:30:00.000Z', timeZone: null });
    } finally {
      if (zone === undefined) delete process.env['TZ'];
      else process.env['TZ'] = zone;
    }
  });
});

describe('clickup pacing (developer.clickup.com/docs/rate-limits)', () => {
  it('reads the plan from X-RateLimit-Limit and slows down when what remains must last until the reset', () => {
    const now = Date.UTC(2026, 0, 5, 12, 0, 0);
    const reset = String(now / 1000 + 60);
    expect(
      clickupPace({ 'x-ratelimit-limit': '1000', 'x-ratelimit-remaining': '999', 'x-ratelimit-reset': reset }, now),
    ).toBeCloseTo(1000 / 60, 1);
    expect(
      clickupPace({ 'x-ratelimit-limit': '100', 'x-ratelimit-remaining': '10', 'x-ratelimit-reset': reset }, now),
    ).toBeCloseTo(10 / 60);
    expect(clickupPace({}, now)).toBeNull();
  });

  it('starts at the documented floor (100 a minute) and follows the first answer that says more', async () => {
    const own = await startClickupEmulator({
      redirectUri: 'http://127.0.0.1:8977/callback/clickup',
      taskCount: 450,
      teams: [{ id: '8', name: 'Business Plus' }],
      requestsPerMinute: 1000,
    });
    const paces: number[] = [];
    const base = createHttpClient({ sleep: async () => undefined });
    const recording: HttpClient = {
      send: (req) => base.send(req),
      api: (req) => {
        paces.push(req.requestsPerSecond ?? 0);
        return base.api(req);
      },
    };
    const core = makeTestCore({ keychain: false, providers: [clickup], http: recording });
    try {
      await configure(core.core, own);
      const account = await core.core.connectWithToken('clickup', own.issuePersonalToken('grace'));
      expect((await core.core.tasks(account.id)).tasks).toHaveLength(450);
      expect(paces[0]).toBeCloseTo(100 / 60);
      expect(paces.length).toBeGreaterThan(5);
      for (const pace of paces.slice(1)) expect(pace).toBeGreaterThan(10);
    } finally {
      await core.cleanup();
      await own.close();
    }
  });
});

describe('clickup rate limits and volume', () => {
  it(
    'paces by the X-RateLimit-* headers, so a tiny plan is never exceeded, and fetches everything',
    { timeout: 30_000 },
    async () => {
      const limited = await startClickupEmulator({
        redirectUri: 'http://127.0.0.1:8977/callback/clickup',
        taskCount: 500,
        teams: [{ id: '42', name: 'Tiny plan' }],
        requestsPerMinute: 3,
        rateWindowMs: 1500,
      });
      // Real sleeps here: the point is that no request goes out before the announced reset.
      const own = makeTestCore({ keychain: true, providers: [clickup], http: createHttpClient() });
      try {
        await configure(own.core, limited);
        const account = await own.core.connectWithToken('clickup', limited.issuePersonalToken('erin'));
        const list = await own.core.tasks(account.id);
        expect(list).toMatchObject({ offline: false, error: null });
        expect(list.tasks).toHaveLength(500);
        // 3 requests per 1.5 s: the headers say so from the first answer, and Tokentray keeps to it.
        expect(limited.stats.apiRequests).toBeGreaterThan(3);
        expect(limited.stats.rateLimited).toBe(0);
        expect(limited.stats.requestsBeforeReset).toBe(0);
      } finally {
        await own.cleanup();
        await limited.close();
      }
    },
  );

  it('returns 10,000 normalized tasks from one account', { timeout: 30_000 }, async () => {
    const big = await startClickupEmulator({
      redirectUri: 'http://127.0.0.1:8977/callback/clickup',
      taskCount: 10_000,
      teams: [{ id: '7', name: 'Enterprise' }],
      requestsPerMinute: 100_000,
    });
    const own = makeTestCore({ keychain: true, providers: [clickup] });
    try {
      await configure(own.core, big);
      const account = await own.core.connectWithToken('clickup', big.issuePersonalToken('frank'));
      const list = await own.core.tasks(account.id);
      expect(list.tasks).toHaveLength(10_000);
      expect(big.stats.pagesServed).toBe(100);
      expect(new Set(list.tasks.map((x) => x.id)).size).toBe(10_000);
      expect(list.tasks.filter((x) => x.status === 'done')).toHaveLength(4_000);
      for (const task of list.tasks) expect(taskSchema.safeParse(task).success).toBe(true);
    } finally {
      await own.cleanup();
      await big.close();
    }
  });
});
