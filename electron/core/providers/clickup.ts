/**
 * ClickUp (API v2). A confidential client (PKCE sent anyway, RFC 9700 §2.1.1) without refresh:
 * the token endpoint answers with only `access_token`, which never expires and
 * dies when the user removes the app. Personal tokens (`pk_…`) are the
 * fallback for when ClickUp stops accepting plain-http loopback redirects.
 *
 * One token reaches the workspaces ("teams") the user picked at consent. A workspace the token
 * may not read answers "Team not authorized" (developer.clickup.com/docs/common_errors: OAUTH_023,
 * OAUTH_026, OAUTH_027, OAUTH_029 to OAUTH_045): that workspace is skipped and named, the others are
 * listed, and the account stays connected. Only "Token not found" (OAUTH_019, OAUTH_021, OAUTH_025,
 * OAUTH_077) and a missing header (OAUTH_017) are about the token itself.
 */
import { addPkceChallenge } from '../oauth/standard';
import { z } from 'zod';
import type { SkippedSource, Task, Workspace } from '../../shared/models';
import { TokentrayError, safeDetail } from '../errors';
import { allDayDue, calendarDayIn, clockIn, timedDue, validTimeZone } from '../tasks/due-date';
import { authorizationDigest, type HttpClient, type HttpResponse } from '../http/client';
import type {
  AccountContext,
  Identity,
  ProviderDefinition,
  StoredTokens,
  TaskSyncResult,
  TokenErrorClassification,
  TokenResponse,
} from './types';

const NAME = 'ClickUp';
const PAGE_SIZE = 100;
/** 10,000 pages is a million tasks in one workspace: past that the server is looping. */
const MAX_PAGES = 10_000;

const userSchema = z.object({
  user: z.object({
    id: z.union([z.number(), z.string().min(1)]),
    username: z.string().nullish(),
    email: z.string().nullish(),
    /** The IANA zone of the user's ClickUp profile (Get Authorized User). */
    timezone: z.string().nullish(),
  }),
});

const teamsSchema = z.object({
  teams: z.array(z.object({ id: z.union([z.string().min(1), z.number()]), name: z.string() })),
});

const prioritySchema = z
  .object({ id: z.union([z.string(), z.number()]).nullish(), priority: z.string().nullish() })
  .nullish();

const taskSchema = z.object({
  id: z.string().min(1),
  name: z.string(),
  status: z.object({ status: z.string(), type: z.string().nullish() }).nullish(),
  priority: prioritySchema,
  due_date: z.union([z.string(), z.number()]).nullish(),
  /** Whether `due_date` carries a time; false is a date only (ClickUp FAQ, "due dates"). */
  due_date_time: z.boolean().nullish(),
  url: z.string().nullish(),
  assignees: z.array(z.object({ username: z.string().nullish(), email: z.string().nullish() })).nullish(),
  list: z.object({ id: z.union([z.string(), z.number()]).nullish(), name: z.string().nullish() }).nullish(),
  date_updated: z.union([z.string(), z.number()]).nullish(),
});
type ClickupTask = z.infer<typeof taskSchema>;

const taskPageSchema = z.object({ tasks: z.array(taskSchema), last_page: z.boolean().nullish() });

const tokenSchema = z.object({ access_token: z.string().min(1), token_type: z.string().nullish() });

/** ClickUp's priority ids: 1 urgent … 4 low. Tokentray's levels: 4 urgent … 1 low. */
const LEVEL_BY_ID: Record<string, number> = { '1': 4, '2': 3, '3': 2, '4': 1 };
const LEVEL_BY_NAME: Record<string, number> = { urgent: 4, high: 3, normal: 2, low: 1 };
const DONE_TYPES = new Set(['closed', 'done']);
const DONE_NAMES = new Set(['closed', 'complete', 'completed', 'done']);

function parsed<T>(schema: z.ZodType<T>, res: HttpResponse, what: string): T {
  const result = schema.safeParse(res.body);
  if (!result.success) {
    throw new TokentrayError('PROVIDER_UNAVAILABLE', `${NAME} sent ${what} Tokentray cannot read; try again later.`);
  }
  return result.data;
}

/** ClickUp sends epoch milliseconds as strings; anything else is treated as absent. */
function fromEpochMs(value: string | number | null | undefined): Date | null {
  if (value === null || value === undefined || value === '') return null;
  const ms = Number(value);
  if (!Number.isFinite(ms)) return null;
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? null : date;
}

function priorityOf(p: z.infer<typeof prioritySchema>): Task['priority'] {
  if (!p) return { level: 0, original: null };
  const byId = p.id === null || p.id === undefined ? undefined : LEVEL_BY_ID[String(p.id)];
  const byName = p.priority ? LEVEL_BY_NAME[p.priority.toLowerCase()] : undefined;
  const original = p.priority ?? (p.id === null || p.id === undefined ? null : String(p.id));
  return { level: byId ?? byName ?? 0, original };
}

function statusOf(s: ClickupTask['status']): Task['status'] {
  if (!s) return 'open';
  if (s.type && DONE_TYPES.has(s.type.toLowerCase())) return 'done';
  return DONE_NAMES.has(s.status.toLowerCase()) ? 'done' : 'open';
}

/**
 * A date-only due (`due_date_time` false): ClickUp stores it at 04:00 in the time zone of the user
 * who set it (ClickUp FAQ; developer.clickup.com/docs/faq). Its day is that 04:00's day: in the
 * user's profile zone when the instant is 04:00 there (the user set it, or someone in the same
 * zone did), else the day 04:00 falls on in whichever zone it was set: 04:00 anywhere from UTC−10
 * (Hawaii) to UTC+13 (New Zealand in summer, Tonga) is after 15:00 the day before and at or before
 * 14:00 that day in UTC, so nine and a half hours later is on the right UTC day. Only UTC+13:45 and
 * UTC+14 fall outside, and a user there has the zone in their profile.
 */
export function clickupDateOnlyDay(instant: Date, profileZone: string | null): string {
  const zone = validTimeZone(profileZone);
  if (zone !== null) {
    const { hour, minute } = clockIn(instant, zone);
    if (hour === 4 && minute === 0) return calendarDayIn(instant, zone);
  }
  return calendarDayIn(new Date(instant.getTime() + 9.5 * 3_600_000), 'UTC');
}

/** A task's due: a day alone when `due_date_time` is false, else an instant grouped by the user's own day. */
export function clickupDue(
  t: Pick<ClickupTask, 'due_date' | 'due_date_time'>,
  profileZone: string | null,
): Task['due'] {
  const due = fromEpochMs(t.due_date);
  if (!due) return null;
  if (t.due_date_time === false) return allDayDue(clickupDateOnlyDay(due, profileZone));
  // A timed due has no zone of its own at ClickUp: it is grouped by the user's own day.
  return timedDue(due, null);
}

function toTask(t: ClickupTask, ctx: AccountContext, workspace: string): Task {
  const updated = fromEpochMs(t.date_updated);
  return {
    id: t.id,
    accountId: ctx.accountId,
    provider: clickup.id,
    title: t.name,
    status: statusOf(t.status),
    due: clickupDue(t, ctx.extra['timezone'] ?? null),
    priority: priorityOf(t.priority),
    project: t.list?.name ?? null,
    workspace,
    assignees: (t.assignees ?? []).map((a) => a.username || a.email || '').filter((name) => name !== ''),
    url: t.url ?? null,
    updatedAt: updated ? updated.toISOString() : null,
  };
}

/**
 * ClickUp's documented ceilings (developer.clickup.com/docs/rate-limits): per token, 100 requests a
 * minute on Free Forever, Unlimited and Business, 1,000 on Business Plus, 10,000 on Enterprise.
 * Every answer carries X-RateLimit-Limit, X-RateLimit-Remaining and X-RateLimit-Reset (epoch
 * seconds). Requests start at the floor and follow the headers once an answer has them.
 */
const FLOOR_PER_SECOND = 100 / 60;
/** Never slower than one request per 45 s: a slot further out than the client waits would be refused. */
const SLOWEST_PER_SECOND = 1 / 45;
/**
 * The pace the last answer allowed, per token (ClickUp counts per token), kept as a digest of the
 * token. Per process: a new process starts at the floor.
 */
const budgets = new Map<string, number>();

/** The pace the rate-limit headers allow: the plan's per-minute limit, slower when what remains must last until the reset. */
export function clickupPace(headers: Record<string, string>, nowMs: number): number | null {
  const limit = Number(headers['x-ratelimit-limit']);
  if (!Number.isFinite(limit) || limit <= 0) return null;
  let perSecond = limit / 60;
  const remaining = Number(headers['x-ratelimit-remaining']);
  const reset = Number(headers['x-ratelimit-reset']);
  if (Number.isFinite(remaining) && Number.isFinite(reset)) {
    const secondsLeft = Math.max(1, reset - nowMs / 1000);
    perSecond = Math.min(perSecond, Math.max(remaining, 1) / secondsLeft);
  }
  return Math.max(perSecond, SLOWEST_PER_SECOND);
}

function rateKeyOf(ctx: AccountContext): string {
  // ClickUp counts requests per token, so one account is one schedule.
  return `${clickup.id}:${ctx.accountId}`;
}

/** "Team not authorized": this workspace was not granted to the token; the token itself is fine. */
const TEAM_NOT_AUTHORIZED = new Set([
  'OAUTH_023',
  'OAUTH_026',
  'OAUTH_027',
  ...Array.from({ length: 17 }, (_, i) => `OAUTH_0${29 + i}`),
]);

class TeamNotAuthorizedError extends TokentrayError {
  constructor(readonly ecode: string) {
    super('FORBIDDEN', `${NAME} did not grant this workspace to Tokentray (${ecode}).`);
  }
}

function teamRefusal(res: HttpResponse): TokentrayError | null {
  const body = res.body && typeof res.body === 'object' ? (res.body as Record<string, unknown>) : {};
  const ecode = typeof body['ECODE'] === 'string' ? body['ECODE'] : '';
  return TEAM_NOT_AUTHORIZED.has(ecode) ? new TeamNotAuthorizedError(ecode) : null;
}

async function get(
  http: HttpClient,
  ctx: AccountContext,
  path: string,
  options: { what?: string; refusal?: (res: HttpResponse) => TokentrayError | null } = {},
): Promise<HttpResponse> {
  const rateKey = rateKeyOf(ctx);
  const budget = authorizationDigest(ctx.tokens.accessToken);
  const res = await http.api({
    method: 'GET',
    url: `${clickup.apiBase(ctx, ctx.tokens)}${path}`,
    headers: { authorization: clickup.authorizationHeader(ctx.tokens) },
    providerName: NAME,
    ...options,
    rateKey,
    requestsPerSecond: budgets.get(budget) ?? FLOOR_PER_SECOND,
  });
  const pace = clickupPace(res.headers, Date.now());
  if (pace !== null) budgets.set(budget, pace);
  return res;
}

const CURSOR_PREFIX = 'clickup:team:';
const cursorKey = (team: Workspace): string => `${CURSOR_PREFIX}${team.id}`;
const incomplete = (): TaskSyncResult => ({ upserts: [], deletes: [], cursors: {}, complete: false });

/**
 * The `date_updated_gt` to send next time for one workspace: the newest `date_updated` seen, but no
 * later than the server's clock (its `Date` header, less a second for its rounding) when the walk
 * began: a task changed while later pages were read carries a time after that and must not fall
 * behind a newer task read after it. Never earlier than the cursor the walk started from.
 */
class TeamCursor {
  private newest: number;
  private startedAt: number | null = null;

  constructor(private readonly from: number) {
    this.newest = from;
  }

  saw(res: HttpResponse, tasks: readonly ClickupTask[]): void {
    if (this.startedAt === null) {
      const date = Date.parse(res.headers['date'] ?? '');
      this.startedAt = Number.isFinite(date) ? date - 1000 : Number.POSITIVE_INFINITY;
    }
    for (const t of tasks) {
      const updated = Number(t.date_updated);
      if (Number.isFinite(updated) && updated > this.newest) this.newest = updated;
    }
  }

  next(): string {
    return String(Math.max(this.from, Math.min(this.newest, this.startedAt ?? Number.POSITIVE_INFINITY)));
  }
}

/** One workspace's tasks, a page at a time: all of them, or those updated after `since` (ms). */
async function* teamPages(
  http: HttpClient,
  ctx: AccountContext,
  team: Workspace,
  since: number | null,
  cursor: TeamCursor,
): AsyncIterable<Task[]> {
  for (let page = 0; page < MAX_PAGES; page += 1) {
    const changed = since === null ? '' : `&date_updated_gt=${since}`;
    const query = `page=${page}&include_closed=true&subtasks=true${changed}`;
    const res = await get(http, ctx, `/team/${encodeURIComponent(team.id)}/task?${query}`, {
      what: `the tasks of the workspace “${team.name}”`,
      refusal: teamRefusal,
    });
    const body = parsed(taskPageSchema, res, 'a task list');
    cursor.saw(res, body.tasks);
    yield body.tasks.map((t) => toTask(t, ctx, team.name));
    if (body.last_page === true || body.tasks.length < PAGE_SIZE) break;
  }
}

function skippedTeam(team: Workspace, ecode: string): SkippedSource {
  return {
    kind: 'workspace',
    workspace: team.name,
    name: team.name,
    reason: 'not_authorized',
    message: `${NAME} did not let this login's token read the workspace “${team.name}” (${ecode}, "Team not authorized"); its tasks are skipped. Connect the account again and tick the workspace to include it.`,
  };
}

function parseTokenResponse(body: unknown): TokenResponse {
  const result = tokenSchema.safeParse(body);
  if (!result.success) {
    throw new TokentrayError(
      'PROVIDER_UNAVAILABLE',
      `${NAME} answered the token request without an access token; try again later.`,
    );
  }
  // Documented: only access_token. Whether token_type comes is unverified, so both shapes are accepted.
  return {
    accessToken: result.data.access_token,
    refreshToken: null,
    expiresInSeconds: null,
    expiresAt: null,
    scopes: null,
    tokenType: result.data.token_type ?? null,
  };
}

/**
 * ClickUp answers `{err, ECODE}`. Its ECODE numbers are not documented per
 * cause, so the status and the wording decide; an authorization-code grant is
 * the only one ClickUp has, so nothing here means "reconnect".
 */
function classifyTokenError(status: number, body: unknown): TokenErrorClassification {
  const o = body && typeof body === 'object' ? (body as Record<string, unknown>) : {};
  const err = typeof o['err'] === 'string' ? o['err'] : typeof body === 'string' ? body : '';
  const ecode = typeof o['ECODE'] === 'string' ? o['ECODE'] : '';
  const detail = safeDetail([err, ecode].filter(Boolean).join(' ')) || `HTTP ${status}`;
  if (status === 429) return { kind: 'rate_limited', detail };
  if (status >= 500) return { kind: 'unavailable', detail };
  if (/client|secret|app(lication)? (not found|invalid)/i.test(err)) return { kind: 'client_config', detail };
  if (/code/i.test(err)) return { kind: 'bad_code', detail };
  if (status === 401 || status === 403) return { kind: 'client_config', detail };
  return { kind: 'bad_code', detail };
}

export const clickup: ProviderDefinition = {
  id: 'clickup',
  name: NAME,
  kind: 'builtin',
  defaults: {
    authorizeUrl: 'https://app.clickup.com/api',
    tokenUrl: 'https://api.clickup.com/api/v2/oauth/token',
    apiUrl: 'https://api.clickup.com/api/v2',
    revokeUrl: null,
    issuer: null,
  },
  registerUrl: 'https://app.clickup.com/settings/integrations',
  defaultRedirectUri: 'http://127.0.0.1:8977/callback/clickup',
  // ClickUp matches the registered redirect URL, port included.
  ephemeralPortAllowed: false,
  methods: ['loopback', 'paste', 'token'],
  // RFC 9700 §2.1.1: always sent; a server without PKCE ignores the parameters.
  pkce: true,
  scopes: [],
  refresh: 'none',
  warnBeforeExpirySeconds: 0,
  needsHost: false,
  personalTokenHint: 'A personal API token (pk_…) from ClickUp: avatar → Settings → Apps → API Token.',
  // The documented floor (100 a minute); task fetches follow the X-RateLimit-* headers (clickupPace).
  requestsPerSecond: FLOOR_PER_SECOND,

  buildAuthorizeUrl(ctx, p) {
    const url = new URL(ctx.endpoints.authorizeUrl);
    url.searchParams.set('client_id', ctx.config.clientId);
    url.searchParams.set('redirect_uri', ctx.redirectUri);
    url.searchParams.set('state', p.state);
    return addPkceChallenge(url, p.codeChallenge).toString();
  },

  buildTokenRequest(ctx, grant) {
    if (grant.kind !== 'authorization_code') {
      throw new TokentrayError('RECONNECT_REQUIRED', `${NAME} issues no refresh tokens; connect the account again.`);
    }
    if (ctx.clientSecret === null) {
      throw new TokentrayError(
        'PROVIDER_NOT_CONFIGURED',
        `${NAME} needs the app's client secret; add it with \`tokentray provider set clickup\`.`,
      );
    }
    // ClickUp FAQ: "always use the content type application/json; form encoded data is not fully
    // supported". A body (not the query) keeps the secret out of access logs.
    return {
      method: 'POST',
      url: ctx.endpoints.tokenUrl,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        client_id: ctx.config.clientId,
        client_secret: ctx.clientSecret,
        code: grant.code,
        ...(grant.codeVerifier ? { code_verifier: grant.codeVerifier } : {}),
      }),
    };
  },

  parseTokenResponse,
  classifyTokenError,

  authorizationHeader(tokens: StoredTokens) {
    // Personal tokens only work raw; OAuth tokens are documented with Bearer.
    if (tokens.personal || tokens.accessToken.startsWith('pk_')) return tokens.accessToken;
    return `Bearer ${tokens.accessToken}`;
  },

  apiBase: (ctx) => ctx.endpoints.apiUrl.replace(/\/+$/, ''),

  async identify(http: HttpClient, ctx: AccountContext): Promise<Identity> {
    const { user } = parsed(userSchema, await get(http, ctx, '/user', { what: 'the profile' }), 'a profile');
    const { teams } = parsed(
      teamsSchema,
      await get(http, ctx, '/team', { what: 'the workspace list' }),
      'a workspace list',
    );
    const workspaces: Workspace[] = teams.map((t) => ({
      id: String(t.id),
      name: t.name,
      url: `https://app.clickup.com/${String(t.id)}`,
    }));
    const subject = String(user.id);
    const zone = validTimeZone(user.timezone);
    // The profile's zone tells the day of a date-only due this user set (clickupDateOnlyDay).
    const extra: Record<string, string> = zone === null ? {} : { timezone: zone };
    return { subject, label: user.username || user.email || subject, workspaces, extra };
  },

  async *fetchTasks(http, ctx, onProgress, onSkip, onCursor) {
    let count = 0;
    for (const team of ctx.workspaces) {
      try {
        const cursor = new TeamCursor(0);
        for await (const tasks of teamPages(http, ctx, team, null, cursor)) {
          count += tasks.length;
          onProgress?.(count);
          if (tasks.length > 0) yield tasks;
        }
        onCursor?.(cursorKey(team), cursor.next());
      } catch (error) {
        if (!(error instanceof TeamNotAuthorizedError)) throw error;
        onSkip?.(skippedTeam(team, error.ecode));
      }
    }
  },

  /**
   * Get Filtered Team Tasks (developer.clickup.com/reference/getfilteredteamtasks) with
   * `date_updated_gt` ("Filter by date updated greater than Unix time in milliseconds"),
   * `include_closed=true` ("Include or exclude closed tasks. By default, they are excluded"), so a
   * task closed since comes as an update whose status is done, and `subtasks=true`, as the full walk
   * asks. One request per workspace when nothing changed. The feed names no deleted task: the
   * engine's daily full walk does (task-sync.ts).
   */
  async syncTasks(http, ctx, base, onSkip) {
    const upserts: Task[] = [];
    const deletes: string[] = [];
    const cursors: Record<string, string> = {};
    const granted = new Set(ctx.workspaces.map(cursorKey));
    // A workspace granted since the walk has no cursor, one un-ticked since still has tasks here:
    // only a full walk lists the first whole and drops the second.
    if (ctx.workspaces.some((team) => base.cursors[cursorKey(team)] === undefined)) return incomplete();
    if (Object.keys(base.cursors).some((key) => key.startsWith(CURSOR_PREFIX) && !granted.has(key))) {
      return incomplete();
    }
    for (const team of ctx.workspaces) {
      const since = Number(base.cursors[cursorKey(team)]);
      if (!Number.isFinite(since)) return incomplete();
      try {
        const cursor = new TeamCursor(since);
        for await (const tasks of teamPages(http, ctx, team, since, cursor)) upserts.push(...tasks);
        cursors[cursorKey(team)] = cursor.next();
      } catch (error) {
        if (!(error instanceof TeamNotAuthorizedError)) throw error;
        onSkip?.(skippedTeam(team, error.ecode));
        // A full walk lists nothing of a refused workspace; neither may the synced list. Its cursor
        // goes too, so the sync after the workspace comes back is a full walk.
        for (const gone of await base.tasksWhere((t) => t.workspace === team.name)) deletes.push(gone.id);
      }
    }
    return { upserts, deletes, cursors, complete: true };
  },
};
