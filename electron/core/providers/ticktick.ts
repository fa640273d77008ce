/**
 * TickTick Open API, and Dida365: the same service on Chinese hosts. One
 * factory builds both so the only difference is where they live.
 *
 * TickTick issues no refresh token: an access token lives about 171–174 days
 * and then only a new consent helps, so the account is flagged 'expiring'
 * two weeks ahead and the user reconnects with one click.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { Task, Workspace } from '../../shared/models';
import { TokentrayError } from '../errors';
import { allDayDue, calendarDayIn, timedDue, validTimeZone } from '../tasks/due-date';
import type { HttpClient, HttpResponse } from '../http/client';
import { classifyStandardTokenError, standardAuthorizeUrl } from '../oauth/standard';
import type { AccountContext, Identity, ProviderDefinition, StoredTokens, TokenErrorClassification } from './types';

const SCOPES = ['tasks:read', 'tasks:write'];
/** The open API's alias for the user's inbox, which GET /project does not list. */
const INBOX_ALIAS = 'inbox';
const FOURTEEN_DAYS_SECONDS = 14 * 24 * 3600;
/** A list count far beyond any real account: a server looping its list would otherwise keep us fetching. */
const MAX_PROJECTS = 2_000;
/** How far back completed tasks are shown ("recently completed", as the other providers' done tasks). */
const COMPLETED_WINDOW_MS = 7 * 86_400_000;

const projectSchema = z.object({
  id: z.string().min(1),
  name: z.string(),
  closed: z.boolean().nullish(),
});
const projectListSchema = z.array(projectSchema);
const wireTaskSchema = z.object({
  id: z.string().min(1),
  projectId: z.string().min(1),
  title: z.string().nullish(),
  priority: z.number().int().nullish(),
  status: z.number().int().nullish(),
  dueDate: z.string().nullish(),
  completedTime: z.string().nullish(),
  isAllDay: z.boolean().nullish(),
  timeZone: z.string().nullish(),
  modifiedTime: z.string().nullish(),
});
type WireTask = z.infer<typeof wireTaskSchema>;
const projectDataSchema = z.object({
  project: projectSchema.nullish(),
  tasks: z.array(wireTaskSchema).nullish(),
});

/** TickTick's 0/1/3/5 onto the shared 0..4 scale; TickTick has no "urgent". */
const PRIORITY_LEVEL: Record<number, number> = { 0: 0, 1: 1, 3: 2, 5: 3 };

interface Hosts {
  id: string;
  name: string;
  /** Where the web app and OAuth pages live, e.g. https://ticktick.com */
  web: string;
  api: string;
  registerUrl: string;
}

/** '2026-11-24T10:00:00+0000' (and the .000 variant) into something Date parses everywhere. */
export function parseTicktickDate(value: string): Date | null {
  const iso = value.trim().replace(/([+-]\d{2})(\d{2})$/, '$1:$2');
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? null : new Date(ms);
}

/**
 * All-day tasks are stored as midnight in the task's own zone, expressed in
 * UTC (Asia/Shanghai's 14 August is 2026-08-13T16:00:00+0000), so the day
 * must be read in that zone or it lands a day early or late.
 */
export function ticktickDue(t: Pick<WireTask, 'dueDate' | 'isAllDay' | 'timeZone'>): Task['due'] {
  if (!t.dueDate) return null;
  const instant = parseTicktickDate(t.dueDate);
  if (!instant) return null;
  const zone = validTimeZone(t.timeZone);
  // A task without a zone of its own was stored by TickTick in UTC.
  if (t.isAllDay) return allDayDue(calendarDayIn(instant, zone ?? 'UTC'), zone);
  return { ...timedDue(instant, zone ?? 'UTC'), timeZone: zone };
}

/** An instant in TickTick's wire format, `2026-03-01T00:58:20.000+0000`. */
export function ticktickDate(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '+0000');
}

function isQueryLimit(res: HttpResponse): boolean {
  if (res.status !== 500) return false;
  const text = typeof res.body === 'string' ? res.body : JSON.stringify(res.body ?? '');
  return text.includes('exceed_query_limit');
}

/**
 * TickTick's token endpoint only ever sees authorization codes, so its
 * invalid_grant means a stale or reused code, never a dead grant to reconnect.
 */
function classifyTicktickTokenError(status: number, body: unknown): TokenErrorClassification {
  const c = classifyStandardTokenError(status, body);
  return c.kind === 'reconnect' ? { kind: 'bad_code', detail: c.detail } : c;
}

function parsed<T>(schema: z.ZodType<T>, res: HttpResponse, what: string, name: string): T {
  const result = schema.safeParse(res.body);
  if (!result.success) {
    throw new TokentrayError('PROVIDER_UNAVAILABLE', `${name} sent ${what} Tokentray cannot read; try again later.`);
  }
  return result.data;
}

function makeTicktick(hosts: Hosts): ProviderDefinition {
  const get = (http: HttpClient, ctx: AccountContext, path: string): Promise<HttpResponse> =>
    http.api({
      method: 'GET',
      url: `${provider.apiBase(ctx, ctx.tokens)}${path}`,
      headers: { authorization: provider.authorizationHeader(ctx.tokens) },
      providerName: hosts.name,
      ...provider.apiPacing!(ctx),
      requestsPerSecond: provider.requestsPerSecond,
    });

  /**
   * Tasks completed in the last week. `GET /project/{id}/data` returns undone tasks only; the
   * Open API documents completed ones separately (developer.dida365.com/docs#/openapi, "List
   * Completed Tasks": `POST /open/v1/task/completed`, a JSON object of optional filters —
   * `projectIds`, and `startDate`/`endDate` as inclusive bounds on `completedTime` — answered
   * with a Task array). Without projectIds it covers every list, the inbox included.
   */
  const completedTasks = async (http: HttpClient, ctx: AccountContext): Promise<WireTask[]> => {
    const now = Date.now();
    const res = await http.api({
      method: 'POST',
      url: `${provider.apiBase(ctx, ctx.tokens)}/task/completed`,
      headers: { authorization: provider.authorizationHeader(ctx.tokens), 'content-type': 'application/json' },
      body: JSON.stringify({ startDate: ticktickDate(now - COMPLETED_WINDOW_MS), endDate: ticktickDate(now) }),
      providerName: hosts.name,
      what: 'completed tasks',
      ...provider.apiPacing!(ctx),
      requestsPerSecond: provider.requestsPerSecond,
    });
    return parsed(z.array(wireTaskSchema), res, 'completed tasks', hosts.name);
  };

  const projectData = async (http: HttpClient, ctx: AccountContext, projectId: string) =>
    parsed(
      projectDataSchema,
      await get(http, ctx, `/project/${encodeURIComponent(projectId)}/data`),
      'a list',
      hosts.name,
    );

  const toTask = (t: WireTask, ctx: AccountContext, projectName: string | null): Task => {
    const original = t.priority ?? 0;
    return {
      id: t.id,
      accountId: ctx.accountId,
      provider: hosts.id,
      title: t.title ?? '',
      status: t.status === 2 ? 'done' : 'open',
      due: ticktickDue(t),
      priority: { level: PRIORITY_LEVEL[original] ?? 0, original },
      project: projectName,
      workspace: ctx.workspaces[0]?.name ?? null,
      assignees: [],
      url: `${hosts.web}/webapp/#p/${encodeURIComponent(t.projectId)}/tasks/${encodeURIComponent(t.id)}`,
      updatedAt: t.modifiedTime ? (parseTicktickDate(t.modifiedTime)?.toISOString() ?? null) : null,
    };
  };

  const provider: ProviderDefinition = {
    id: hosts.id,
    name: hosts.name,
    kind: 'builtin',
    defaults: {
      authorizeUrl: `${hosts.web}/oauth/authorize`,
      tokenUrl: `${hosts.web}/oauth/token`,
      apiUrl: `${hosts.api}/open/v1`,
      revokeUrl: null,
      issuer: null,
    },
    registerUrl: hosts.registerUrl,
    // The developer center compares the redirect exactly, port included.
    defaultRedirectUri: `http://127.0.0.1:8978/callback/${hosts.id}`,
    ephemeralPortAllowed: false,
    methods: ['loopback', 'paste'],
    // RFC 9700 §2.1.1: always sent (oauth4webapi adds code_verifier at the token endpoint).
    pkce: true,
    scopes: SCOPES,
    refresh: 'none',
    warnBeforeExpirySeconds: FOURTEEN_DAYS_SECONDS,
    needsHost: false,
    personalTokenHint: null,
    // Users report about 100 requests a minute and 300 per five minutes. 1.5/s stays under the
    // per-minute ceiling (90/min) and a full fetch of a normal account (tens of lists) finishes
    // well inside the five-minute budget; when it is hit anyway, the 500 is retried after a pause.
    requestsPerSecond: 1.5,

    buildAuthorizeUrl(ctx, p) {
      return standardAuthorizeUrl(ctx, p, SCOPES).toString();
    },
    // TickTick wants the scope again on the token request and the client in HTTP Basic.
    // TickTick's token endpoint (a legacy Spring Security OAuth server) compares HTTP Basic
    // credentials undecoded ("Full authentication is required to access this resource" otherwise);
    // the seed's TickTick library (../shared/seeds, OAuth2.get_access_token) sends the raw
    // `client_id:client_secret`, so Tokentray does too, whatever characters they hold.
    standardTokenEndpoint: { clientAuth: 'client_secret_basic', scope: SCOPES.join(' '), basicEncoding: 'raw' },
    classifyTokenError: classifyTicktickTokenError,
    authorizationHeader: (tokens: StoredTokens) => `Bearer ${tokens.accessToken}`,
    apiBase: (ctx) => ctx.endpoints.apiUrl.replace(/\/+$/, ''),

    // TickTick signals its (undocumented) query limit as a 500, not a 429.
    apiPacing: (ctx) => ({ rateKey: `${hosts.id}:${ctx.accountId}`, isRateLimited: isQueryLimit }),

    /**
     * The open API has no user endpoint. The inbox is a hidden per-user list
     * whose real id is `inbox<user number>`; it shows as the inbox's project id
     * (or on each of its tasks). That is the user's own id in all but name, so
     * it is the subject. An empty inbox reveals nothing; then the oldest list's
     * id (object ids grow with creation time) stands in: stable until that list
     * is deleted, unlike a hash of all lists, which changes with every new list.
     */
    async identify(http, ctx): Promise<Identity> {
      const inbox = await projectData(http, ctx, INBOX_ALIAS);
      const inboxId =
        (inbox.project?.id.startsWith(INBOX_ALIAS) ? inbox.project.id : null) ??
        inbox.tasks?.find((t) => t.projectId.startsWith(INBOX_ALIAS))?.projectId ??
        null;
      let subject: string;
      let shown: string;
      if (inboxId !== null) {
        subject = inboxId;
        shown = inboxId.slice(INBOX_ALIAS.length) || inboxId;
      } else {
        const projects = parsed(projectListSchema, await get(http, ctx, '/project'), 'its lists', hosts.name);
        const oldest = projects.map((p) => p.id).sort()[0];
        if (oldest === undefined) {
          throw new TokentrayError(
            'PROVIDER_UNAVAILABLE',
            `${hosts.name} shows no inbox task and no list, so Tokentray cannot tell which account this is; add one task to the inbox and connect again.`,
          );
        }
        subject = `list:${oldest}`;
        shown = createHash('sha256').update(oldest).digest('hex').slice(0, 8);
      }
      const label = `${hosts.name} ${shown}`;
      const workspaces: Workspace[] = [{ id: subject, name: hosts.name, url: `${hosts.web}/webapp/` }];
      return { subject, label, workspaces, extra: {} };
    },

    /**
     * No change feed (issue 22), so no `syncTasks`: every refresh reads each list again. The Open API
     * (developer.ticktick.com/docs#/openapi, "Project": "Get User Project" GET /project and "Get
     * Project With Data" GET /project/{projectId}/data; "Task": get, create, update, complete,
     * delete; Dida365 adds "List Completed Tasks" by completion date) takes no "modified since"
     * parameter and answers no ETag or Last-Modified to send back, and the `etag` a project carries is
     * the project's own, not its tasks'. The per-project reads stay: one request per list.
     */
    async *fetchTasks(http, ctx, onProgress) {
      const projects = parsed(projectListSchema, await get(http, ctx, '/project'), 'its lists', hosts.name)
        .filter((p) => !p.closed)
        .slice(0, MAX_PROJECTS);
      const lists: Array<{ id: string; name: string }> = [{ id: INBOX_ALIAS, name: 'Inbox' }, ...projects];
      let count = 0;
      const seen = new Set<string>();
      for (const list of lists) {
        const data = await projectData(http, ctx, list.id);
        const tasks = (data.tasks ?? []).map((t) => toTask(t, ctx, list.name));
        for (const t of tasks) seen.add(t.id);
        count += tasks.length;
        onProgress?.(count);
        if (tasks.length > 0) yield tasks;
      }
      const names = new Map(projects.map((p) => [p.id, p.name]));
      const done = (await completedTasks(http, ctx))
        .filter((t) => !seen.has(t.id))
        // Whatever the status field says, this endpoint lists completed tasks only.
        .map((t) => ({
          ...toTask(t, ctx, names.get(t.projectId) ?? (t.projectId.startsWith(INBOX_ALIAS) ? 'Inbox' : null)),
          status: 'done' as const,
        }));
      count += done.length;
      onProgress?.(count);
      if (done.length > 0) yield done;
    },
  };
  return provider;
}

export const ticktick = makeTicktick({
  id: 'ticktick',
  name: 'TickTick',
  web: 'https://ticktick.com',
  api: 'https://api.ticktick.com',
  registerUrl: 'https://developer.ticktick.com/manage',
});

export const dida365 = makeTicktick({
  id: 'dida365',
  name: 'Dida365',
  web: 'https://dida365.com',
  api: 'https://api.dida365.com',
  registerUrl: 'https://developer.dida365.com/manage',
});
