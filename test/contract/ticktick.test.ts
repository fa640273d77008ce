import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpClient } from '../../electron/core/http/client';
import { dida365, ticktick, ticktickDue } from '../../electron/core/providers/ticktick';
import { taskSchema, type AccountSummary, type Task } from '../../electron/shared/models';
import { startTicktickEmulator, type TicktickEmulatorHandle } from '../fakes/ticktick-emulator';
import { createServer } from 'node:net';
import { makeTestCore, type TestCore } from '../support/test-core';

const DAY_MS = 24 * 3600 * 1000;

/**
 * A fixed redirect port below Linux's ephemeral range: TickTick only redirects to the registered
 * port, and one inside that range can be taken by any outgoing connection (ours or another test
 * process's) between two sign-ins.
 */
async function fixedRedirectPort(): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    const free = await new Promise<boolean>((resolve) => {
      const probe = createServer();
      probe.once('error', () => resolve(false));
      probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
    });
    if (free) return port;
  }
}
const PROVIDERS = [ticktick, dida365];

let emu: TicktickEmulatorHandle;
let dida: TicktickEmulatorHandle;
let t: TestCore;
let redirectUri: string;
let didaRedirectUri: string;
/** Moves the core's clock (not the emulator's) to look at the account weeks or months later. */
let offsetMs = 0;
const clock = { now: () => Date.now() + offsetMs };

beforeAll(async () => {
  redirectUri = `http://127.0.0.1:${await fixedRedirectPort()}/callback/ticktick`;
  didaRedirectUri = `http://127.0.0.1:${await fixedRedirectPort()}/callback/dida365`;
  emu = await startTicktickEmulator({ redirectUri, emptyInboxUsers: ['erin'] });
  // Characters RFC 6749's form-encoding escapes (issue 19): TickTick compares Basic undecoded.
  dida = await startTicktickEmulator({
    redirectUri: didaRedirectUri,
    name: 'Dida365',
    clientId: "dida-app_1.x!~*'()",
    clientSecret: "s3cr-et_.!~*'()+/=",
  });
  t = makeTestCore({ keychain: true, providers: PROVIDERS, clock });
});
afterAll(async () => {
  await t.cleanup();
  await emu.close();
  await dida.close();
});

async function connect(user: string, options: { label?: string; provider?: string } = {}): Promise<AccountSummary> {
  const provider = options.provider ?? 'ticktick';
  const server = provider === 'ticktick' ? emu : dida;
  const attempt = await t.core.startConnect(provider, options.label ? { label: options.label } : {});
  const landed = await server.consent(attempt.authorizeUrl, { user });
  expect((await fetch(landed)).status).toBe(200);
  return attempt.result;
}

async function account(label: string): Promise<AccountSummary> {
  const found = (await t.core.listAccounts()).find((a) => a.label === label);
  if (!found) throw new Error(`no account labelled ${label}`);
  return found;
}

const aliceLabel = (): string => `TickTick ${emu.inboxIdOf('alice').slice('inbox'.length)}`;

describe('TickTick and Dida365 provider definitions', () => {
  it('are one definition on two sets of hosts, with a 14-day warning and no refresh', () => {
    const shared = {
      ephemeralPortAllowed: false,
      methods: ['loopback', 'paste'],
      pkce: true,
      scopes: ['tasks:read', 'tasks:write'],
      refresh: 'none',
      warnBeforeExpirySeconds: 14 * 24 * 3600,
      needsHost: false,
    };
    expect(ticktick).toMatchObject({
      ...shared,
      id: 'ticktick',
      defaultRedirectUri: 'http://127.0.0.1:8978/callback/ticktick',
    });
    expect(dida365).toMatchObject({
      ...shared,
      id: 'dida365',
      defaultRedirectUri: 'http://127.0.0.1:8978/callback/dida365',
    });
    expect(ticktick.defaults).toMatchObject({
      authorizeUrl: 'https://ticktick.com/oauth/authorize',
      tokenUrl: 'https://ticktick.com/oauth/token',
      apiUrl: 'https://api.ticktick.com/open/v1',
    });
    expect(dida365.defaults).toMatchObject({
      authorizeUrl: 'https://dida365.com/oauth/authorize',
      tokenUrl: 'https://dida365.com/oauth/token',
      apiUrl: 'https://api.dida365.com/open/v1',
    });
    expect(ticktick.requestsPerSecond * 60).toBeLessThan(100);
  });

  it('reads all-day dates in the task zone and timed ones as instants', () => {
    expect(ticktickDue({ dueDate: '2026-08-13T16:00:00.000+0000', isAllDay: true, timeZone: 'Asia/Shanghai' })).toEqual(
      {
        date: '2026-08-14',
        dateTime: null,
        timeZone: 'Asia/Shanghai',
      },
    );
    expect(ticktickDue({ dueDate: '2026-11-24T10:00:00+0000', isAllDay: false, timeZone: 'Europe/Berlin' })).toEqual({
      date: '2026-11-24',
      dateTime: '2026-11-24T10:00:00.000Z',
      timeZone: 'Europe/Berlin',
    });
    expect(ticktickDue({ dueDate: null, isAllDay: false, timeZone: 'UTC' })).toBeNull();
    expect(ticktickDue({ dueDate: 'soon', isAllDay: false, timeZone: 'UTC' })).toBeNull();
  });
});

describe('TickTick against its emulator', () => {
  it('is set up with the emulator URLs and the registered fixed-port redirect', async () => {
    const summary = await t.core.setProvider('ticktick', {
      clientId: emu.clientId,
      clientSecret: emu.clientSecret,
      redirectUri,
      authorizeUrl: emu.authorizeUrl,
      tokenUrl: emu.tokenUrl,
      apiUrl: emu.apiUrl,
    });
    expect(summary).toMatchObject({ id: 'ticktick', configured: true, redirectUri });
  });

  it('connects through the loopback redirect; the ~174-day token is stored with no refresh token', async () => {
    const attempt = await t.core.startConnect('ticktick');
    expect(attempt.redirectUri).toBe(redirectUri);
    const params = Object.fromEntries(new URL(attempt.authorizeUrl).searchParams);
    expect(params).toMatchObject({ response_type: 'code', scope: 'tasks:read tasks:write', client_id: emu.clientId });
    // RFC 9700 §2.1.1: PKCE goes to every server; one without PKCE ignores the parameters.
    expect(params['code_challenge_method']).toBe('S256');
    const landed = await emu.consent(attempt.authorizeUrl, { user: 'alice' });
    expect((await fetch(landed)).status).toBe(200);
    const alice = await attempt.result;
    expect(alice).toMatchObject({ provider: 'ticktick', label: aliceLabel(), status: 'ok', canRefresh: false });
    expect(alice.scopes).toEqual(['tasks:read', 'tasks:write']);
    const left = Date.parse(alice.expiresAt!) - Date.now();
    expect(left).toBeGreaterThan(171 * DAY_MS);
    expect(left).toBeLessThan(175 * DAY_MS);
    expect(await t.core.listAccounts()).toMatchObject([{ id: alice.id, status: 'ok' }]);
    const inspection = await t.core.inspect(alice.id);
    expect(inspection).toMatchObject({ hasRefreshToken: false, canRefresh: false, tokenKind: 'opaque' });
  });

  it('warns 14 days ahead: 10 days before expiry the account is "expiring" and inspect says when', async () => {
    const alice = await account(aliceLabel());
    const expiresAt = Date.parse(alice.expiresAt!);
    offsetMs = expiresAt - 10 * DAY_MS - Date.now();
    try {
      const listed = await account(aliceLabel());
      expect(listed.status).toBe('expiring');
      expect(listed.statusDetail).toMatch(/10 days.*reconnect/);
      const inspection = await t.core.inspect(alice.id);
      expect(inspection.status).toBe('expiring');
      expect(Date.parse(inspection.refreshDueAt!)).toBe(expiresAt - 14 * DAY_MS);
      offsetMs = expiresAt - 15 * DAY_MS - Date.now();
      expect((await account(aliceLabel())).status).toBe('ok');
    } finally {
      offsetMs = 0;
    }
  });

  it('never calls the token endpoint to refresh; an expired token needs a reconnect and the account stays', async () => {
    const alice = await account(aliceLabel());
    const before = emu.stats.tokenRequests;
    const token = await t.core.getAccessToken(alice.id, { minValidSeconds: 3600 });
    expect(token.length).toBeGreaterThan(10);
    await expect(t.core.refresh(alice.id)).rejects.toMatchObject({ code: 'RECONNECT_REQUIRED' });
    offsetMs = Date.parse(alice.expiresAt!) - Date.now() + 60_000;
    try {
      await expect(t.core.getAccessToken(alice.id)).rejects.toMatchObject({ code: 'RECONNECT_REQUIRED' });
      await expect(t.core.refresh(alice.id)).rejects.toMatchObject({ code: 'RECONNECT_REQUIRED' });
      const listed = await account(aliceLabel());
      expect(listed.status).toBe('expired');
      expect(listed.statusDetail).toContain('reconnect');
    } finally {
      offsetMs = 0;
    }
    expect(emu.stats.tokenRequests).toBe(before);
    expect(emu.stats.refreshGrants).toBe(0);
    expect((await account(aliceLabel())).status).toBe('ok');
  });

  it('connecting the same login again updates one account; another login adds one; --label sticks', async () => {
    await connect('alice');
    expect(await t.core.listAccounts()).toHaveLength(1);
    const bob = await connect('bob', { label: 'Bob at work' });
    expect(bob.label).toBe('Bob at work');
    expect(await t.core.listAccounts()).toHaveLength(2);
  });

  it('finishes a paste-flow sign-in from the pasted URL, and from a bare code', async () => {
    const attempt = await t.core.startConnect('ticktick', { listen: false, label: 'Carol pasted' });
    expect(attempt.redirectUri).toBeNull();
    expect(new URL(attempt.authorizeUrl).searchParams.get('redirect_uri')).toBe(redirectUri);
    const landed = await emu.consent(attempt.authorizeUrl, { user: 'carol' });
    attempt.cancel();
    const carol = await t.core.completeConnectWithUrl('ticktick', landed);
    expect(carol).toMatchObject({ provider: 'ticktick', label: 'Carol pasted', status: 'ok' });
    const dave = await t.core.completeConnectWithCode('ticktick', emu.issueAuthorizationCode({ user: 'dave' }));
    expect(dave).toMatchObject({ label: `TickTick ${emu.inboxIdOf('dave').slice(5)}`, status: 'ok' });
    await expect(t.core.completeConnectWithCode('ticktick', 'not-a-real-code')).rejects.toMatchObject({
      code: 'AUTH_CODE_INVALID',
    });
  });

  it('identifies a login with an empty inbox by its oldest list, stably', async () => {
    const first = await t.core.completeConnectWithCode('ticktick', emu.issueAuthorizationCode({ user: 'erin' }));
    const again = await t.core.completeConnectWithCode('ticktick', emu.issueAuthorizationCode({ user: 'erin' }));
    expect(again.id).toBe(first.id);
    expect(first.label).toMatch(/^TickTick [0-9a-f]{8}$/);
    await t.core.disconnect(first.id);
  });

  it('fetches tasks across the lists and the inbox, mapped onto the shared model', async () => {
    const alice = await account(aliceLabel());
    const requestsBefore = emu.stats.apiRequests;
    const list = await t.core.tasks(alice.id);
    expect(list.offline).toBe(false);
    const tasks = list.tasks;
    // The undone tasks of the inbox and three lists, and the two completed in the last week.
    expect(tasks).toHaveLength(2 + 3 + 2 + 4 + 2);
    for (const task of tasks) expect(taskSchema.parse(task)).toEqual(task);
    const byTitle = new Map<string, Task>(tasks.map((x) => [x.title, x]));
    expect(new Set(tasks.map((x) => x.project))).toEqual(new Set(['Inbox', 'Work', 'Home', 'Reading list']));
    expect(byTitle.get('Call the dentist')).toMatchObject({ priority: { level: 0, original: 0 }, due: null });
    expect(byTitle.get('Review pull requests')?.priority).toEqual({ level: 1, original: 1 });
    expect(byTitle.get('Quarterly report')).toMatchObject({
      status: 'open',
      priority: { level: 2, original: 3 },
      due: { date: '2026-11-24', dateTime: '2026-11-24T10:00:00.000Z', timeZone: 'Europe/Berlin' },
      workspace: 'TickTick',
    });
    const passport = byTitle.get('Renew passport')!;
    expect(passport).toMatchObject({
      project: 'Inbox',
      priority: { level: 3, original: 5 },
      due: { date: '2026-08-14', dateTime: null, timeZone: 'Asia/Shanghai' },
    });
    expect(passport.url).toBe(`https://ticktick.com/webapp/#p/${emu.inboxIdOf('alice')}/tasks/${passport.id}`);
    expect(byTitle.get('Pay rent')?.due).toEqual({
      date: '2026-03-10',
      dateTime: null,
      timeZone: 'America/Los_Angeles',
    });
    // 23:30 UTC on 1 December is still the evening of 1 December in New York.
    expect(byTitle.get('Team offsite')?.due?.date).toBe('2026-12-01');
    // Completed tasks come only from POST /task/completed and show as done in their list; one
    // finished a month ago is outside the week asked for.
    expect(byTitle.get('Book the flights')).toMatchObject({ status: 'done', project: 'Inbox' });
    expect(byTitle.get('Send the invoice')).toMatchObject({ status: 'done', project: 'Work' });
    expect(byTitle.has('Water the plants')).toBe(false);
    const query = emu.completedQueries.at(-1)!;
    expect(query.projectIds).toBeNull();
    const span =
      Date.parse(String(query.endDate).replace('+0000', 'Z')) -
      Date.parse(String(query.startDate).replace('+0000', 'Z'));
    expect(span).toBe(7 * 86_400_000);
    expect(String(query.startDate)).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$/);
    // One request for the lists, one per list (the inbox and three projects), one for the completed
    // tasks: no per-task calls to eat into TickTick's rate limit.
    expect(emu.stats.apiRequests - requestsBefore).toBe(1 + 4 + 1);
  });

  it('treats the 500 "exceed_query_limit" as a rate limit: backs off and completes the fetch', async () => {
    // A client that really sleeps, on the same home and keychain: this is the pacing a user gets.
    const paced = makeTestCore({
      keychain: true,
      service: t.service,
      home: t.home,
      providers: PROVIDERS,
      http: createHttpClient({ sleep: (ms) => new Promise((r) => setTimeout(r, ms)) }),
    });
    try {
      const alice = await account(aliceLabel());
      // Stricter than the client's pacing, so some requests are bound to hit the limit.
      emu.setRateLimit({ limit: 2, windowMs: 2_000 });
      const limitedBefore = emu.stats.rateLimited;
      const list = await paced.core.tasks(alice.id);
      expect(list.offline).toBe(false);
      expect(list.tasks).toHaveLength(13);
      expect(emu.stats.rateLimited).toBeGreaterThan(limitedBefore);
      expect(emu.stats.peakRequestsPerSecond).toBeLessThanOrEqual(Math.ceil(ticktick.requestsPerSecond) + 1);
    } finally {
      emu.setRateLimit({ limit: 100, windowMs: 60_000 });
      await paced.core.close();
    }
  });

  it('reports RATE_LIMITED when the limit persists, serving the cached list meanwhile', async () => {
    const alice = await account(aliceLabel());
    const bob = await account('Bob at work');
    emu.setRateLimit({ limit: 1, windowMs: 60_000 });
    try {
      const list = await t.core.tasks(alice.id);
      expect(list).toMatchObject({ offline: true, error: { code: 'RATE_LIMITED' } });
      expect(list.tasks).toHaveLength(13);
      // Bob has never fetched, so there is nothing to fall back on.
      await expect(t.core.tasks(bob.id)).rejects.toMatchObject({ code: 'RATE_LIMITED' });
      expect((await account('Bob at work')).status).toBe('ok');
    } finally {
      emu.setRateLimit({ limit: 100, windowMs: 60_000 });
    }
  });

  it('serves the cached tasks with PROVIDER_UNAVAILABLE during an outage', async () => {
    const alice = await account(aliceLabel());
    emu.setOutage(true);
    try {
      const list = await t.core.tasks(alice.id);
      expect(list).toMatchObject({ offline: true, error: { code: 'PROVIDER_UNAVAILABLE' } });
      expect(list.tasks).toHaveLength(13);
      expect(list.ageSeconds).not.toBeNull();
    } finally {
      emu.setOutage(false);
    }
    expect((await t.core.tasks(alice.id)).offline).toBe(false);
  });

  it('rejects a wrong client secret as a configuration error and refresh grants as unsupported', async () => {
    const form = (grant: Record<string, string>) => new URLSearchParams(grant).toString();
    const basic = (secret: string) => `Basic ${Buffer.from(`${emu.clientId}:${secret}`).toString('base64')}`;
    const post = (secret: string, body: string) =>
      fetch(emu.tokenUrl, {
        method: 'POST',
        headers: { authorization: basic(secret), 'content-type': 'application/x-www-form-urlencoded' },
        body,
      });
    const wrong = await post('nope', form({ grant_type: 'authorization_code', code: 'x', redirect_uri: redirectUri }));
    expect(wrong.status).toBe(401);
    expect(ticktick.classifyTokenError(401, await wrong.json()).kind).toBe('client_config');
    const refresh = await post(emu.clientSecret, form({ grant_type: 'refresh_token', refresh_token: 'x' }));
    expect(refresh.status).toBe(400);
    expect(await refresh.json()).toMatchObject({ error: 'unsupported_grant_type' });
  });

  it('marks the account "reconnect" when the user removes the app, and keeps it', async () => {
    const alice = await account(aliceLabel());
    emu.revokeAll();
    const list = await t.core.tasks(alice.id).catch((error: unknown) => error);
    expect(list).toMatchObject({ code: 'RECONNECT_REQUIRED' });
    const listed = await account(aliceLabel());
    expect(listed.status).toBe('reconnect');
    expect((await t.core.inspect(alice.id)).refreshHistory[0]).toMatchObject({ code: 'RECONNECT_REQUIRED' });
    // One new consent brings it back.
    expect((await connect('alice')).status).toBe('ok');
  });
});

describe('Dida365 against a second emulator with its own hosts', () => {
  it('connects and lists tasks with Dida365 links, separately from TickTick', async () => {
    await t.core.setProvider('dida365', {
      clientId: dida.clientId,
      clientSecret: dida.clientSecret,
      redirectUri: didaRedirectUri,
      authorizeUrl: dida.authorizeUrl,
      tokenUrl: dida.tokenUrl,
      apiUrl: dida.apiUrl,
    });
    const before = emu.stats.requests;
    const alice = await connect('alice', { provider: 'dida365' });
    expect(alice).toMatchObject({ provider: 'dida365', providerName: 'Dida365', status: 'ok', canRefresh: false });
    expect(alice.label).toBe(`Dida365 ${dida.inboxIdOf('alice').slice(5)}`);
    const list = await t.core.tasks(alice.id);
    expect(list.tasks).toHaveLength(13);
    for (const task of list.tasks) {
      expect(task.provider).toBe('dida365');
      expect(task.url?.startsWith('https://dida365.com/webapp/#p/')).toBe(true);
    }
    expect(emu.stats.requests).toBe(before);
    const ticktickAlice = (await t.core.listAccounts()).filter(
      (a) => a.provider === 'ticktick' && a.label === aliceLabel(),
    );
    expect(ticktickAlice).toHaveLength(1);
  });
});
