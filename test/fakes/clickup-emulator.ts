import {
  EndpointCounter,
  GrantBook,
  HttpFailure,
  RateWindow,
  approveConsent,
  changeClock,
  consentHtml,
  secretToken,
  startEmulatorServer,
  type EmulatorReply,
  type EmulatorRequest,
  type EmulatorStats,
  type Fault,
  type Grant,
  type TaskMutator,
} from './emulator-kit';

/**
 * ClickUp API v2 as Tokentray sees it: consent at /api (the user picks the
 * workspaces, "teams", to grant), POST /api/v2/oauth/token answering only
 * `{access_token}` (no expiry, no refresh token), `{err, ECODE}` errors,
 * personal tokens `pk_<user id>_<random>` sent raw, OAuth tokens with or
 * without "Bearer", per-token rate limits with X-RateLimit-* headers, and team
 * task pages of 100 with `last_page`. Closed tasks and subtasks are left out
 * unless `include_closed=true` / `subtasks=true`, as ClickUp does. Due dates
 * come with `due_date_time`: date-only ones sit at 04:00 in the setting user's
 * time zone (ClickUp FAQ). A workspace the token was not granted (or lost)
 * answers 401 "Team not authorized" OAUTH_027 for that workspace alone.
 *
 * The change feed (issue 22): Get Filtered Team Tasks (developer.clickup.com/reference/
 * getfilteredteamtasks) takes `date_updated_gt`, "Filter by date updated greater than Unix time in
 * milliseconds", and every task carries `date_updated` (ms, as a string). `mutate` changes tasks
 * as a user in ClickUp would, each change stamping `date_updated`; a deleted task is simply gone.
 */

export interface ClickupTeam {
  id: string;
  name: string;
}

export interface ClickupEmulatorOptions {
  /** The redirect URL registered for the app; /api refuses any other. */
  redirectUri: string;
  /** Tasks per team (closed ones and subtasks included). */
  taskCount?: number;
  teams?: ClickupTeam[];
  /** Per token, per window. ClickUp's free plan: 100 a minute. */
  requestsPerMinute?: number;
  /** The rate window's length; tests shorten it to stay fast. */
  rateWindowMs?: number;
  /** Whether the token response carries token_type (unverified for the real ClickUp). */
  tokenTypeInResponse?: boolean;
  /** The users' profile time zone (GET /user `timezone`); date-only dues are set at 04:00 in it. */
  userTimeZone?: string;
}

export interface ClickupEmulatorStats extends EmulatorStats {
  tokenRequests: number;
  pagesServed: number;
  /** Requests a token sent after a 429 but before the X-RateLimit-Reset it was given. */
  requestsBeforeReset: number;
  /** Token requests not sent as JSON (the FAQ: "form encoded data is not fully supported"). */
  nonJsonTokenRequests: number;
}

export interface ClickupEmulatorHandle {
  /** Scripted failures (status matrix): see emulator-kit's Fault. */
  inject(fault: Fault): void;
  clearFaults(): void;
  /** The provider revokes every access token early (password change, admin action); refresh tokens live on. */
  revokeAccessTokens(): void;
  url: string;
  clientId: string;
  clientSecret: string;
  redirectUri: string;
  teams: ClickupTeam[];
  /** Plays the user on the consent page; `teams` limits the grant to those workspaces. */
  consent(authorizeUrl: string, opts: { user: string; deny?: boolean; teams?: string[] }): Promise<string>;
  issueAuthorizationCode(opts: { user: string; teams?: string[] }): string;
  issuePersonalToken(user: string): string;
  /** The user id ClickUp would show for a login name. */
  userId(user: string): number;
  setOutage(down: boolean): void;
  revokeAll(): void;
  /** A workspace's admin takes the app's access away: its tasks answer 401 OAUTH_027, the token lives on. */
  withdrawTeam(teamId: string): void;
  readonly stats: ClickupEmulatorStats;
  /** API requests per endpoint, e.g. `GET /team/:id/task`. */
  readonly endpoints: EndpointCounter;
  /** Changes tasks behind the app's back; containers are list ids, moves stay in the task's workspace. */
  readonly mutate: TaskMutator;
  close(): Promise<void>;
}

const DEFAULT_TEAMS: ClickupTeam[] = [
  { id: '9010001', name: 'Acme Corp' },
  { id: '9010002', name: 'Side Projects' },
];

const STATUSES = [
  { status: 'to do', color: '#d3d3d3', type: 'open', orderindex: 0 },
  { status: 'in progress', color: '#4194f6', type: 'custom', orderindex: 1 },
  { status: 'review', color: '#a875ff', type: 'custom', orderindex: 2 },
  { status: 'complete', color: '#6bc950', type: 'done', orderindex: 3 },
  { status: 'Closed', color: '#6bc950', type: 'closed', orderindex: 4 },
];

const PRIORITIES = [
  { id: '1', priority: 'urgent', color: '#f50000', orderindex: '1' },
  { id: '2', priority: 'high', color: '#ffcc00', orderindex: '2' },
  { id: '3', priority: 'normal', color: '#6fddff', orderindex: '3' },
  { id: '4', priority: 'low', color: '#d8d8d8', orderindex: '4' },
];

const MEMBERS = ['alice', 'bob', 'carol', 'dave'];
const PAGE_SIZE = 100;
/** 2026-01-05T00:00:00Z: generated dates hang off a fixed day so tests can predict them. */
const BASE_MS = Date.UTC(2026, 0, 5);

/** Minutes a zone is ahead of UTC at an instant. */
function zoneOffsetMinutes(ms: number, zone: string): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: zone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
  }).formatToParts(new Date(ms));
  const get = (type: string): number => Number(parts.find((p) => p.type === type)?.value ?? 0);
  return Math.round((Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute')) - ms) / 60_000);
}

/**
 * ClickUp FAQ (developer.clickup.com/docs/faq, due dates): a due date without a time is stored as
 * 04:00 in the time zone of the user who set it, with `due_date_time: false`.
 */
export function clickupDateOnly(dayUtcMidnightMs: number, zone: string): number {
  const four = dayUtcMidnightMs + 4 * 3_600_000;
  return four - zoneOffsetMinutes(four, zone) * 60_000;
}

type WireTask = Record<string, unknown> & { id: string; parent: string | null; status: { type: string } };

function member(name: string, id: number): Record<string, unknown> {
  return {
    id,
    username: name.charAt(0).toUpperCase() + name.slice(1),
    color: '#7b68ee',
    initials: name.slice(0, 2).toUpperCase(),
    email: `${name}@example.com`,
    profilePicture: null,
  };
}

function error(status: number, err: string, ecode: string, headers: Record<string, string> = {}): HttpFailure {
  return new HttpFailure(status, { err, ECODE: ecode }, headers);
}

export async function startClickupEmulator(options: ClickupEmulatorOptions): Promise<ClickupEmulatorHandle> {
  const clientId = 'CLICKUPEMUCLIENT0000000000000001';
  const clientSecret = secretToken('', 32);
  const taskCount = options.taskCount ?? 250;
  const teams = options.teams ?? DEFAULT_TEAMS;
  const limit = options.requestsPerMinute ?? 100;
  const windowMs = options.rateWindowMs ?? 60_000;
  const book = new GrantBook({ singleUseRefresh: false, codeTtlSeconds: 600 });
  const extra = { tokenRequests: 0, pagesServed: 0, requestsBeforeReset: 0, nonJsonTokenRequests: 0 };
  const userTimeZone = options.userTimeZone ?? 'Europe/Berlin';
  const withdrawn = new Set<string>();
  const userIds = new Map<string, number>();
  const windows = new Map<string, RateWindow>();
  const resetAnnounced = new Map<string, number>();
  const allTraffic = new RateWindow(Number.MAX_SAFE_INTEGER, 1000);
  const taskCache = new Map<string, WireTask[]>();
  const endpoints = new EndpointCounter();
  const clock = changeClock();
  let created = 0;
  let outage = false;

  function userId(user: string): number {
    let id = userIds.get(user);
    if (id === undefined) {
      id = 81_000_001 + userIds.size;
      userIds.set(user, id);
    }
    return id;
  }

  function grantedTeams(grant: Grant): ClickupTeam[] {
    const ids = (grant.extra['teams'] ?? '').split(',').filter(Boolean);
    return teams.filter((t) => ids.includes(t.id));
  }

  function grantFor(user: string, teamIds?: string[]): Grant {
    const ids = teamIds ?? teams.map((t) => t.id);
    return { user, extra: { teams: ids.join(',') } };
  }

  function tasksOf(team: ClickupTeam, teamIndex: number): WireTask[] {
    const cached = taskCache.get(team.id);
    if (cached) return cached;
    const out: WireTask[] = [];
    for (let i = 0; i < taskCount; i += 1) {
      const id = `86${teamIndex.toString(36)}${i.toString(36).padStart(6, '0')}`;
      const status = STATUSES[i % STATUSES.length]!;
      const assigned = MEMBERS.filter((_, k) => (i + k) % 3 === 0).slice(0, 2);
      const listNo = i % 4;
      out.push({
        id,
        custom_id: null,
        name: `${team.name} task ${i + 1}`,
        text_content: '',
        description: '',
        status,
        orderindex: `${i}.00000000000000000000000000000000`,
        date_created: String(BASE_MS - 86_400_000 * 30 + i * 60_000),
        date_updated: String(BASE_MS + i * 60_000),
        date_closed: status.type === 'closed' || status.type === 'done' ? String(BASE_MS + i * 60_000) : null,
        archived: false,
        creator: member('alice', userId('alice')),
        assignees: assigned.map((name) => member(name, userId(name))),
        watchers: [],
        checklists: [],
        tags: [],
        // Every tenth task is a subtask of the one before it.
        parent: i % 10 === 9 ? (out[i - 1]?.id ?? null) : null,
        priority: i % 5 === 4 ? null : PRIORITIES[i % 5]!,
        // Odd tasks are due at 13:00 UTC; even ones on a day without a time.
        due_date:
          i % 3 === 2
            ? null
            : String(
                i % 2 === 1
                  ? BASE_MS + (i % 30) * 86_400_000 + 13 * 3_600_000
                  : clickupDateOnly(BASE_MS + (i % 30) * 86_400_000, userTimeZone),
              ),
        due_date_time: i % 3 === 2 ? false : i % 2 === 1,
        start_date: null,
        time_estimate: null,
        time_spent: 0,
        custom_fields: [],
        list: { id: `90${teamIndex}${listNo}`, name: `List ${listNo + 1}`, access: true },
        folder: { id: `80${teamIndex}`, name: 'hidden', hidden: true, access: true },
        space: { id: `70${teamIndex}` },
        url: `https://app.clickup.com/t/${id}`,
        team_id: team.id,
      });
    }
    taskCache.set(team.id, out);
    return out;
  }

  function authorize(req: EmulatorRequest): EmulatorReply {
    const q = req.url.searchParams;
    if (q.get('client_id') !== clientId) throw error(400, 'Client not found', 'OAUTH_010');
    const redirectUri = q.get('redirect_uri');
    if (redirectUri !== options.redirectUri) throw error(400, 'Redirect uri not passed or does not match', 'OAUTH_011');
    const state = q.get('state');
    if (!state) throw error(400, 'state is required', 'OAUTH_012');
    const deny = q.get('deny_as');
    const approve = q.get('approve_as');
    const target = new URL(redirectUri);
    if (deny) {
      target.searchParams.set('error', 'access_denied');
      target.searchParams.set('error_description', 'The user did not authorize the app');
      target.searchParams.set('state', state);
      return { status: 302, location: target.toString() };
    }
    if (!approve) return { status: 200, html: consentHtml('ClickUp', MEMBERS, req.url) };
    const picked = q.get('teams')?.split(',').filter(Boolean);
    target.searchParams.set('code', book.issueCode(grantFor(approve, picked), redirectUri));
    target.searchParams.set('state', state);
    return { status: 302, location: target.toString() };
  }

  function token(req: EmulatorRequest): EmulatorReply {
    extra.tokenRequests += 1;
    if (!String(req.headers['content-type'] ?? '').includes('application/json')) extra.nonJsonTokenRequests += 1;
    const { client_id: id, client_secret: secret, code } = req.fields;
    if (!id || !secret || !code) throw error(400, 'Client_id, client_secret and code are required', 'OAUTH_001');
    if (id !== clientId) throw error(401, 'Client not found', 'OAUTH_010');
    if (secret !== clientSecret) throw error(401, 'Client secret invalid', 'OAUTH_014');
    const redeemed = book.redeemCode(code);
    if (!redeemed.ok) throw error(400, 'Code not found or already used', 'OAUTH_015');
    const accessToken = `${userId(redeemed.grant.user)}_${secretToken('', 24)}`;
    book.addAccessToken(accessToken, redeemed.grant, null);
    return {
      status: 200,
      json: options.tokenTypeInResponse
        ? { access_token: accessToken, token_type: 'Bearer' }
        : { access_token: accessToken },
    };
  }

  /** ClickUp counts per token; the headers come on every API answer. */
  function rateLimit(tokenValue: string): Record<string, string> {
    let window = windows.get(tokenValue);
    if (!window) {
      window = new RateWindow(limit, windowMs);
      windows.set(tokenValue, window);
    }
    const announced = resetAnnounced.get(tokenValue);
    if (announced !== undefined && Date.now() < announced) extra.requestsBeforeReset += 1;
    const waitSeconds = window.hit();
    // developer.clickup.com/docs/rate-limits: X-RateLimit-Limit is requests per minute, Reset an epoch
    // second. A test's shortened window is announced as the per-minute rate it amounts to.
    const headers = {
      'x-ratelimit-limit': String(Math.round((limit * 60_000) / windowMs)),
      'x-ratelimit-remaining': String(window.remaining()),
      'x-ratelimit-reset': String(window.resetAtEpochSeconds()),
    };
    if (waitSeconds !== null) {
      book.stats.rateLimited += 1;
      resetAnnounced.set(tokenValue, window.resetAtEpochSeconds() * 1000);
      throw error(429, 'Rate limit reached', 'APP_002', headers);
    }
    return headers;
  }

  // developer.clickup.com/docs/common_errors: "Authorization Header Required" OAUTH_017, "Token not
  // found" OAUTH_019/021/025/077 (revoked by the user), "Team not authorized" OAUTH_023/026/027/029–045;
  // every error is JSON `{ err, ECODE }` with a non-200 status.
  function authenticate(req: EmulatorRequest): { grant: Grant; token: string } {
    if (!req.bearer) throw error(401, 'Authorization header required', 'OAUTH_017');
    const result = book.authenticate(req.bearer);
    if (!result.ok) throw error(401, 'Token invalid', 'OAUTH_025');
    return { grant: result.grant, token: req.bearer };
  }

  function api(req: EmulatorRequest, path: string): EmulatorReply {
    book.stats.apiRequests += 1;
    endpoints.hit(`${req.method} ${path.replace(/^\/team\/[^/]+\//, '/team/:id/')}`);
    allTraffic.hit();
    book.stats.peakRequestsPerSecond = allTraffic.peakPerSecond;
    const { grant, token: tokenValue } = authenticate(req);
    const headers = rateLimit(tokenValue);
    if (req.method !== 'GET') throw error(404, 'Route not found', 'APP_001', headers);
    if (path === '/user') {
      const u = member(grant.user, userId(grant.user));
      return {
        status: 200,
        json: { user: { ...u, week_start_day: 1, global_font_support: true, timezone: userTimeZone } },
        headers,
      };
    }
    if (path === '/team') {
      const granted = grantedTeams(grant).map((t) => ({
        id: t.id,
        name: t.name,
        color: '#7b68ee',
        avatar: null,
        members: [{ user: member(grant.user, userId(grant.user)) }],
      }));
      return { status: 200, json: { teams: granted }, headers };
    }
    const m = /^\/team\/([^/]+)\/task$/.exec(path);
    if (m) {
      const team = grantedTeams(grant).find((t) => t.id === decodeURIComponent(m[1]!));
      // developer.clickup.com/docs/common_errors, "Team not authorized": OAUTH_023, 026, 027, 029–045.
      if (!team || withdrawn.has(team.id)) throw error(401, 'Team not authorized', 'OAUTH_027', headers);
      return { status: 200, json: taskPage(req, team), headers };
    }
    throw error(404, 'Route not found', 'APP_001', headers);
  }

  function taskPage(req: EmulatorRequest, team: ClickupTeam): unknown {
    const q = req.url.searchParams;
    const page = Number(q.get('page') ?? '0');
    if (!Number.isInteger(page) || page < 0) throw error(400, 'Page must be a non-negative integer', 'ITEM_015');
    const includeClosed = q.get('include_closed') === 'true';
    const subtasks = q.get('subtasks') === 'true';
    // getfilteredteamtasks, date_updated_gt: "Filter by date updated greater than Unix time in milliseconds."
    const gtText = q.get('date_updated_gt');
    const gt = gtText === null ? null : Number(gtText);
    if (gt !== null && !Number.isFinite(gt)) throw error(400, 'date_updated_gt must be a number', 'ITEM_015');
    const all = tasksOf(team, teams.indexOf(team)).filter(
      (t) =>
        (includeClosed || t.status.type !== 'closed') &&
        (subtasks || t.parent === null) &&
        (gt === null || Number(t.date_updated) > gt),
    );
    const slice = all.slice(page * PAGE_SIZE, (page + 1) * PAGE_SIZE);
    extra.pagesServed += 1;
    return { tasks: slice, last_page: (page + 1) * PAGE_SIZE >= all.length };
  }

  /** The task with this id and the workspace array that holds it. */
  function locate(id: string): { task: WireTask; all: WireTask[]; teamIndex: number } {
    for (const [teamIndex, team] of teams.entries()) {
      const all = tasksOf(team, teamIndex);
      const task = all.find((t) => t.id === id);
      if (task) return { task, all, teamIndex };
    }
    throw new Error(`no ClickUp task ${id}`);
  }

  /** Lists are `90<team index><list no>`; the team is the digit after "90". */
  function listRef(listId: string): { teamIndex: number; listNo: number } {
    const m = /^90(\d)(\d)$/.exec(listId);
    const teamIndex = Number(m?.[1]);
    if (!m || teams[teamIndex] === undefined) throw new Error(`no ClickUp list ${listId}`);
    return { teamIndex, listNo: Number(m[2]) };
  }

  function dueFields(due: string | null): Record<string, unknown> {
    if (due === null) return { due_date: null, due_date_time: false };
    return { due_date: String(clickupDateOnly(Date.parse(`${due}T00:00:00Z`), userTimeZone)), due_date_time: false };
  }

  function touch(task: WireTask, fields: Record<string, unknown>): void {
    Object.assign(task, fields, { date_updated: String(clock()) });
  }

  const mutate: TaskMutator = {
    taskIds: () => teams.flatMap((team, i) => tasksOf(team, i).map((t) => t.id)),
    containers: () => teams.flatMap((_, i) => [0, 1, 2, 3].map((n) => `90${i}${n}`)),
    create(container, fields) {
      const { teamIndex, listNo } = listRef(container);
      const team = teams[teamIndex]!;
      const all = tasksOf(team, teamIndex);
      const id = `87${teamIndex.toString(36)}${(created += 1).toString(36).padStart(6, '0')}`;
      const at = String(clock());
      all.push({
        id,
        custom_id: null,
        name: fields.title,
        text_content: '',
        description: '',
        status: STATUSES[0]!,
        orderindex: `${all.length}.00000000000000000000000000000000`,
        date_created: at,
        date_updated: at,
        date_closed: null,
        archived: false,
        creator: member('alice', userId('alice')),
        assignees: [],
        watchers: [],
        checklists: [],
        tags: [],
        parent: null,
        priority: null,
        ...dueFields(fields.due ?? null),
        start_date: null,
        time_estimate: null,
        time_spent: 0,
        custom_fields: [],
        list: { id: container, name: `List ${listNo + 1}`, access: true },
        folder: { id: `80${teamIndex}`, name: 'hidden', hidden: true, access: true },
        space: { id: `70${teamIndex}` },
        url: `https://app.clickup.com/t/${id}`,
        team_id: team.id,
      });
      return id;
    },
    update(id, fields) {
      const { task } = locate(id);
      touch(task, {
        ...(fields.title !== undefined ? { name: fields.title } : {}),
        ...(fields.due !== undefined ? dueFields(fields.due) : {}),
      });
    },
    complete(id) {
      const { task } = locate(id);
      touch(task, { status: STATUSES[4]!, date_closed: String(Date.now()) });
    },
    reopen(id) {
      const { task } = locate(id);
      touch(task, { status: STATUSES[0]!, date_closed: null });
    },
    delete(id) {
      const { all, task } = locate(id);
      all.splice(all.indexOf(task), 1);
      // Its subtasks go with it, as in ClickUp.
      for (let i = all.length - 1; i >= 0; i -= 1) if (all[i]!.parent === id) all.splice(i, 1);
    },
    destinations(id) {
      const { teamIndex } = locate(id);
      return [0, 1, 2, 3].map((n) => `90${teamIndex}${n}`);
    },
    move(id, container) {
      const { task, teamIndex } = locate(id);
      const to = listRef(container);
      if (to.teamIndex !== teamIndex) throw new Error('ClickUp moves a task only between lists of its workspace');
      touch(task, { list: { id: container, name: `List ${to.listNo + 1}`, access: true } });
    },
  };

  const server = await startEmulatorServer((req) => {
    book.stats.requests += 1;
    if (outage) throw new HttpFailure(503, { err: 'Service unavailable', ECODE: 'APP_503' });
    const path = req.url.pathname;
    if (path === '/api' && req.method === 'GET') return authorize(req);
    if (path === '/api/v2/oauth/token' && req.method === 'POST') return token(req);
    if (path.startsWith('/api/v2/')) return api(req, path.slice('/api/v2'.length));
    throw error(404, 'Route not found', 'APP_001');
  });

  return {
    url: server.url,
    clientId,
    clientSecret,
    redirectUri: options.redirectUri,
    teams,
    consent(authorizeUrl, opts) {
      const url = new URL(authorizeUrl);
      if (opts.teams) url.searchParams.set('teams', opts.teams.join(','));
      return approveConsent(url.toString(), { user: opts.user, deny: opts.deny });
    },
    issueAuthorizationCode: (opts) => book.issueCode(grantFor(opts.user, opts.teams), options.redirectUri),
    issuePersonalToken(user) {
      const value = `pk_${userId(user)}_${secretToken('', 24).replace(/[-_]/g, 'X').toUpperCase()}`;
      book.addAccessToken(value, grantFor(user), null);
      return value;
    },
    userId,
    setOutage(down) {
      outage = down;
    },
    revokeAll: () => book.revokeAll(),
    withdrawTeam: (teamId) => {
      withdrawn.add(teamId);
    },
    get stats(): ClickupEmulatorStats {
      return { ...book.stats, ...extra };
    },
    endpoints,
    mutate,
    inject: (fault) => server.inject(fault),
    clearFaults: () => server.clearFaults(),
    revokeAccessTokens: () => book.revokeAccessTokens(),
    close: () => server.close(),
  };
}
