import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpClient } from '../../electron/core/http/client';
import { basecamp, nextLink } from '../../electron/core/providers/basecamp';
import { taskSchema, type AccountSummary } from '../../electron/shared/models';
import {
  startBasecampEmulator,
  type BasecampEmulatorHandle,
  type BasecampEmulatorOptions,
} from '../fakes/basecamp-emulator';
import { freePort } from '../support/free-port';
import { makeTestCore, type TestCore } from '../support/test-core';

const TWO_WEEKS_MS = 1_209_600_000;
// The shared tests run with the client's sleeps stubbed out, so the real 50/10 s ceiling would trip on them.
const ROOMY = { limit: 100_000, windowMs: 10_000 };

interface Setup {
  emu: BasecampEmulatorHandle;
  t: TestCore;
}

async function setUp(
  options: BasecampEmulatorOptions = {},
  http?: ReturnType<typeof createHttpClient>,
): Promise<Setup> {
  const redirectUri = `http://127.0.0.1:${await freePort()}/callback`;
  const emu = await startBasecampEmulator({ rateLimit: ROOMY, ...options, redirectUri });
  const t = makeTestCore({ keychain: true, providers: [basecamp], ...(http ? { http } : {}) });
  await t.core.setProvider('basecamp', {
    clientId: emu.clientId,
    clientSecret: emu.clientSecret,
    redirectUri,
    authorizeUrl: `${emu.url}/authorization/new`,
    tokenUrl: `${emu.url}/authorization/token`,
    apiUrl: emu.url,
  });
  return { emu, t };
}

async function tearDown(s: Setup | undefined): Promise<void> {
  if (!s) return;
  await s.t.cleanup();
  await s.emu.close();
}

/** Runs the loopback sign-in: the app listens on the registered port, the "browser" approves as `user`. */
async function connect(s: Setup, user: string): Promise<AccountSummary> {
  const attempt = await s.t.core.startConnect('basecamp');
  expect(attempt.redirectUri).toBe(s.emu.redirectUri);
  const landed = await s.emu.consent(attempt.authorizeUrl, { user });
  expect((await fetch(landed)).status).toBe(200);
  return attempt.result;
}

describe('Basecamp provider against the Launchpad + Basecamp 4 emulator', () => {
  let s: Setup;
  let jason: AccountSummary;
  beforeAll(async () => {
    s = await setUp({
      projectsPerAccount: 3,
      listsPerProject: 2,
      openTodosPerList: 7,
      completedTodosPerList: 3,
      pageSize: 2,
    });
  });
  afterAll(() => tearDown(s));

  it('connects through the loopback flow: one grant, one account, one workspace per Basecamp 4 account', async () => {
    const attempt = await s.t.core.startConnect('basecamp');
    const url = new URL(attempt.authorizeUrl);
    // bc3-api sections/authentication.md: the standard parameters, not the legacy type=web_server.
    expect(Object.fromEntries(url.searchParams)).toMatchObject({
      response_type: 'code',
      client_id: s.emu.clientId,
      redirect_uri: s.emu.redirectUri,
    });
    expect(url.searchParams.get('state')).toBeTruthy();
    expect(url.searchParams.has('type')).toBe(false);
    // RFC 9700 §2.1.1: PKCE goes to every server; Launchpad (and its emulator) ignore what they do not know.
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    attempt.cancel();
    await attempt.result.catch(() => undefined);

    jason = await connect(s, 'jason');
    expect(jason).toMatchObject({ provider: 'basecamp', label: 'Jason Fried', status: 'ok', canRefresh: true });
    // The Basecamp 2 account on the same login is not a Basecamp 4 workspace.
    expect(jason.workspaces).toEqual([
      { id: '99999991', name: 'Honcho Design', url: 'https://3.basecamp.com/99999991' },
      { id: '99999992', name: 'Fried Family', url: 'https://3.basecamp.com/99999992' },
    ]);
    expect(Date.parse(jason.expiresAt!) - Date.now()).toBeGreaterThan(TWO_WEEKS_MS - 60_000);
    // Token requests use grant_type, never the legacy type= ("still accepted but not recommended").
    expect(s.emu.stats.authorizationCodeGrants).toBeGreaterThan(0);
    expect(s.emu.stats.legacyTokenRequests).toBe(0);
  });

  it('keeps one account when the same login connects again', async () => {
    const again = await connect(s, 'jason');
    expect(again.id).toBe(jason.id);
    expect((await s.t.core.listAccounts()).filter((a) => a.provider === 'basecamp')).toHaveLength(1);
  });

  it('finishes a sign-in from the pasted redirected URL', async () => {
    const attempt = await s.t.core.startConnect('basecamp', { listen: false, label: 'Nicole at Honcho' });
    expect(attempt.redirectUri).toBeNull();
    const landed = await s.emu.consent(attempt.authorizeUrl, { user: 'nicole' });
    attempt.cancel();
    const nicole = await s.t.core.completeConnectWithUrl('basecamp', landed);
    expect(nicole).toMatchObject({ label: 'Nicole at Honcho', status: 'ok' });
    expect(nicole.workspaces.map((w) => w.name)).toEqual(['Honcho Design']);
    expect(await s.t.core.listAccounts()).toHaveLength(2);
  });

  it('walks projects, to-do sets, lists, list groups and open and completed to-dos across both accounts and every page', async () => {
    const before = s.emu.stats.apiRequests;
    const list = await s.t.core.tasks(jason.id);
    const expected = s.emu.todosOf('jason');
    // 2 accounts × 3 projects × (2 lists × 10 to-dos + a "Phase 2" group of 3 in the first list).
    expect(expected).toHaveLength(138);
    expect(list.tasks.filter((t) => t.title.includes('/ Phase 2 /'))).toHaveLength(18);
    expect(list).toMatchObject({ offline: false, error: null });
    expect(list.tasks).toHaveLength(expected.length);
    expect(new Set(list.tasks.map((t) => t.id))).toEqual(new Set(expected.map((t) => String(t.id))));
    for (const task of list.tasks) expect(taskSchema.parse(task)).toEqual(task);
    // Pagination really happened: 2 items a page over projects (4 incl. the one without to-dos) and to-dos.
    // authorization.json once (which accounts are expired); per project: the to-do set, its list index,
    // per list 4 + 2 pages of to-dos and a group index, and the group's 1 + 1 pages; per account
    // the latest-changed to-dos page whose validators the next sync sends.
    expect(s.emu.stats.apiRequests - before).toBe(1 + 2 * (1 + 2 + 3 * (1 + 1 + 2 * (4 + 2 + 1) + 2)));
    expect(list.skipped).toEqual([]);

    const wire = expected.find((t) => t.completed && t.due_on && t.assignees.length > 0)!;
    expect(list.tasks.find((t) => t.id === String(wire.id))).toEqual({
      id: String(wire.id),
      accountId: jason.id,
      provider: 'basecamp',
      title: wire.title,
      status: 'done',
      due: { date: wire.due_on, dateTime: null, timeZone: null },
      priority: { level: 0, original: null },
      project: wire.projectName,
      workspace: wire.accountName,
      assignees: ['Jason Fried'],
      url: wire.app_url,
      updatedAt: wire.updated_at,
    });
    // 3 completed per list, plus 1 in each project's group.
    expect(list.tasks.filter((t) => t.status === 'done')).toHaveLength(42);
    expect(new Set(list.tasks.map((t) => t.workspace))).toEqual(new Set(['Honcho Design', 'Fried Family']));
  });

  it('sends a User-Agent on every call: a request without one gets 400, the provider never does', async () => {
    const res = await request(`${s.emu.url}/authorization.json`, { headers: { authorization: 'Bearer x' } });
    await res.body.text();
    expect(res.statusCode).toBe(400);
    expect(s.emu.stats.missingUserAgent).toBe(1);
    await s.t.core.refresh(jason.id);
    await s.t.core.tasks(jason.id);
    expect(s.emu.stats.missingUserAgent).toBe(1);
  });

  it('serves the cached tasks, marked offline, while Basecamp is down', async () => {
    s.emu.setOutage(true);
    try {
      const list = await s.t.core.tasks(jason.id);
      expect(list.offline).toBe(true);
      expect(list.error?.code).toBe('PROVIDER_UNAVAILABLE');
      expect(list.tasks).toHaveLength(138);
      expect((await s.t.core.listAccounts()).find((a) => a.id === jason.id)?.status).toBe('ok');
    } finally {
      s.emu.setOutage(false);
    }
  });

  it('asks for a reconnect once the user removes the app at Launchpad (the refresh answers 401)', async () => {
    const nicole = (await s.t.core.listAccounts()).find((a) => a.id !== jason.id)!;
    s.emu.revokeAll();
    await expect(s.t.core.tasks(jason.id)).rejects.toMatchObject({ code: 'RECONNECT_REQUIRED' });
    await expect(s.t.core.refresh(nicole.id)).rejects.toMatchObject({ code: 'RECONNECT_REQUIRED' });
    const accounts = await s.t.core.listAccounts();
    expect(accounts.map((a) => a.status)).toEqual(['reconnect', 'reconnect']);
    // The sentence says to reconnect, not to fix the client secret.
    expect(accounts.map((a) => a.statusDetail)).toEqual([
      expect.stringMatching(/reconnect|connect/i),
      expect.stringMatching(/reconnect|connect/i),
    ]);
  });
});

describe('Basecamp accounts and lists this login may not read (bc3-api README, "404 Not Found")', () => {
  let s: Setup;
  let account: AccountSummary;
  const HONCHO = 99_999_991;
  const FAMILY = 99_999_992;
  beforeAll(async () => {
    s = await setUp({ projectsPerAccount: 2, listsPerProject: 2, openTodosPerList: 3, completedTodosPerList: 1 });
    account = await connect(s, 'jason');
  });
  afterAll(() => tearDown(s));

  const idsOf = (tasks: Array<{ id: string }>): Set<string> => new Set(tasks.map((t) => t.id));
  const todosIn = (accountName: string): string[] =>
    s.emu
      .todosOf('jason')
      .filter((t) => t.accountName === accountName)
      .map((t) => String(t.id));

  it('skips an inactive account (404 with Reason: Account Inactive), names it, and lists the other one', async () => {
    s.emu.setAccountInactive(FAMILY, true);
    try {
      const list = await s.t.core.tasks(account.id);
      expect(list).toMatchObject({ offline: false, error: null });
      expect(idsOf(list.tasks)).toEqual(new Set(todosIn('Honcho Design')));
      expect(list.skipped).toEqual([
        {
          kind: 'workspace',
          workspace: 'Fried Family',
          name: 'Fried Family',
          reason: 'inactive',
          message: expect.stringContaining('“Fried Family” is inactive') as unknown,
        },
      ]);
      expect((await s.t.core.listAccounts())[0]).toMatchObject({ status: 'ok', statusDetail: null });
    } finally {
      s.emu.setAccountInactive(FAMILY, false);
    }
  });

  it('skips an account authorization.json flags expired without calling it', async () => {
    s.emu.setAccountExpired(HONCHO, true);
    try {
      const list = await s.t.core.tasks(account.id);
      expect(idsOf(list.tasks)).toEqual(new Set(todosIn('Fried Family')));
      expect(list.skipped).toEqual([
        expect.objectContaining({ kind: 'workspace', name: 'Honcho Design', reason: 'expired' }),
      ]);
      expect((await s.t.core.listAccounts())[0]?.status).toBe('ok');
    } finally {
      s.emu.setAccountExpired(HONCHO, false);
    }
  });

  it('skips a to-do list that answers 404 (deleted or hidden), names it, and keeps every other to-do', async () => {
    const hidden = s.emu.hideList(HONCHO, 1, 1);
    const list = await s.t.core.tasks(account.id);
    expect(list).toMatchObject({ offline: false, error: null });
    const expected = s.emu
      .todosOf('jason')
      .map((t) => String(t.id))
      .filter((id) => !hidden.todoIds.includes(Number(id)));
    expect(idsOf(list.tasks)).toEqual(new Set(expected));
    expect(hidden.todoIds.length).toBeGreaterThan(0);
    expect(list.skipped).toEqual([
      {
        kind: 'list',
        workspace: 'Honcho Design',
        name: `${hidden.projectName} / ${hidden.listName}`,
        reason: 'not_found',
        message: expect.stringContaining(`“${hidden.listName}” in “${hidden.projectName}”`) as unknown,
      },
    ]);
    expect((await s.t.core.listAccounts())[0]?.status).toBe('ok');
  });

  it('names the resource that failed in the error, not "[redacted]"', async () => {
    s.emu.inject({ path: /\/todolists\/\d+\/todos\.json$/, status: 403, json: { error: 'Forbidden' }, times: 1 });
    // Read whole: an incremental sync of the unchanged account would not ask for a list at all.
    const error = await s.t.core.tasks(account.id, { full: true }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: 'FORBIDDEN', message: expect.stringMatching(/the to-do list “List \d”/) });
    expect((error as Error).message).not.toContain('[redacted]');
  });
});

describe('Basecamp access tokens that die before their time', () => {
  let s: Setup;
  beforeAll(async () => {
    s = await setUp({ projectsPerAccount: 1, listsPerProject: 1 });
  });
  afterAll(() => tearDown(s));

  it('a 401 "token expired" on a token we thought valid costs one refresh, then the fetch goes on', async () => {
    const account = await connect(s, 'jason');
    const grants = s.emu.stats.refreshGrants;
    s.emu.expireAccessTokens();
    const list = await s.t.core.tasks(account.id);
    expect(list).toMatchObject({ offline: false, error: null });
    expect(list.tasks).toHaveLength(s.emu.todosOf('jason').length);
    expect(s.emu.stats.refreshGrants - grants).toBe(1);
    expect((await s.t.core.listAccounts())[0]?.status).toBe('ok');
  });
});

describe('Basecamp token answers without refresh_token or expires_in', () => {
  let s: Setup;
  beforeAll(async () => {
    s = await setUp({
      omitRefreshTokenOnRefresh: true,
      omitExpiresIn: true,
      // Not the documented two weeks: the expiry must come from authorization.json, not a guess.
      accessTokenTtlSeconds: 10 * 86_400,
      projectsPerAccount: 1,
      listsPerProject: 1,
    });
  });
  afterAll(() => tearDown(s));

  it('reads the expiry from authorization.json when expires_in is missing', async () => {
    const account = await connect(s, 'jason');
    const left = Date.parse(account.expiresAt!) - Date.now();
    expect(left).toBeGreaterThan(10 * 86_400_000 - 60_000);
    expect(left).toBeLessThanOrEqual(10 * 86_400_000);
  });

  it('keeps the stored refresh token when a refresh answer has none, and it keeps working', async () => {
    const [account] = await s.t.core.listAccounts();
    const first = await s.t.core.refresh(account!.id);
    expect(first.status).toBe('ok');
    expect((await s.t.core.inspect(account!.id)).hasRefreshToken).toBe(true);
    const second = await s.t.core.refresh(account!.id);
    expect(second).toMatchObject({ status: 'ok' });
    expect(second.fingerprint).not.toBe(first.fingerprint);
    expect(s.emu.stats.refreshGrants).toBe(2);
    expect(s.emu.stats.refreshesWithRedirectUri).toBe(0);
    expect(s.emu.stats.legacyTokenRequests).toBe(0);
    expect((await s.t.core.tasks(account!.id)).tasks).toHaveLength(s.emu.todosOf('jason').length);
  });

  it('uses refreshed access tokens after the old one expired', async () => {
    const [account] = await s.t.core.listAccounts();
    s.emu.expireAccessTokens();
    await s.t.core.refresh(account!.id);
    expect((await s.t.core.tasks(account!.id)).offline).toBe(false);
  });
});

describe('Basecamp rate limit', () => {
  let s: Setup;
  beforeAll(async () => {
    // Real sleeps here: the client must wait out Retry-After, so the window is kept short.
    s = await setUp(
      { rateLimit: { limit: 3, windowMs: 1000 }, projectsPerAccount: 1, listsPerProject: 1, pageSize: 50 },
      createHttpClient({}),
    );
  });
  afterAll(() => tearDown(s));

  it('waits out 429 + Retry-After and still returns every task', async () => {
    const account = await connect(s, 'jason');
    const list = await s.t.core.tasks(account.id);
    expect(list.offline).toBe(false);
    expect(list.tasks).toHaveLength(s.emu.todosOf('jason').length);
    expect(s.emu.stats.rateLimited).toBeGreaterThan(0);
  });
});

describe('Basecamp wire details', () => {
  it('classifies token errors: dead grant or any other 401 → reconnect, bad client → config, 5xx/429 transient', () => {
    const c = basecamp.classifyTokenError;
    expect(c(400, { error: 'invalid_grant' }).kind).toBe('reconnect');
    expect(c(400, { error: 'authorization_expired' }).kind).toBe('reconnect');
    // basecamp/basecamp-sdk oauth/exchange.ts: a 401 from the token endpoint is "auth_required".
    expect(c(401, { error: 'Your authorization has been revoked.' }).kind).toBe('reconnect');
    expect(c(401, '').kind).toBe('reconnect');
    expect(c(401, { error: 'invalid_client' }).kind).toBe('client_config');
    expect(c(400, { error: 'invalid_request' }).kind).toBe('bad_code');
    expect(c(503, 'down').kind).toBe('unavailable');
    expect(c(429, null).kind).toBe('rate_limited');
  });

  it('builds standard token requests: grant_type, redirect_uri on the code exchange only', () => {
    const ctx = {
      config: { clientId: 'id' } as never,
      endpoints: { tokenUrl: 'https://l.example/authorization/token' } as never,
      clientSecret: 'sec',
      redirectUri: 'http://127.0.0.1:8976/callback',
    };
    const form = (grant: Parameters<NonNullable<typeof basecamp.buildTokenRequest>>[1]) =>
      Object.fromEntries(new URLSearchParams(basecamp.buildTokenRequest!(ctx, grant).body!));
    expect(form({ kind: 'authorization_code', code: 'c', codeVerifier: null, host: null })).toEqual({
      grant_type: 'authorization_code',
      code: 'c',
      redirect_uri: 'http://127.0.0.1:8976/callback',
      client_id: 'id',
      client_secret: 'sec',
    });
    // bc3-api sections/authentication.md, "Refreshing access tokens": no redirect_uri listed.
    expect(form({ kind: 'refresh_token', refreshToken: 'r', host: null })).toEqual({
      grant_type: 'refresh_token',
      refresh_token: 'r',
      client_id: 'id',
      client_secret: 'sec',
    });
  });

  it('follows Link rel="next" only on the same origin', () => {
    const origin = 'https://3.basecampapi.com';
    expect(nextLink(`<${origin}/1/projects.json?page=2>; rel="next"`, origin)).toBe(`${origin}/1/projects.json?page=2`);
    expect(nextLink('<https://evil.example/x>; rel="next"', origin)).toBeNull();
    expect(nextLink(undefined, origin)).toBeNull();
  });
});
