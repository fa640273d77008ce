/**
 * Basecamp (the Basecamp 4 API, signed in through 37signals Launchpad).
 *
 * One OAuth grant belongs to a Launchpad identity and can reach several
 * Basecamp accounts; each becomes a workspace of one Tokentray account.
 * `apiUrl` is the Launchpad base (authorization.json lives there); the API
 * base of every Basecamp account is the `href` Launchpad lists for it, kept in
 * Identity.extra as `href:<account id>`.
 *
 * Tasks: Basecamp has no "all my to-dos" list that covers completed ones, so
 * the provider walks projects.json → the project's enabled `todoset` dock
 * entry (its `url`) → the to-do set's `todolists_url` → each list's
 * `todos_url`, and each list's `groups_url` → each group's `todos_url`, once
 * for open and once with `completed=true`. It follows the URLs the API hands
 * out (bc3-api README, "The dock: project tools" — each entry's `url` — and
 * "Pagination": "please don't build the URLs yourself") and only on the
 * account's own origin, so the token never goes elsewhere. Every list is
 * paginated with RFC 5988 `Link: rel="next"`.
 *
 * Partial access (bc3-api README, "Handling errors / 404 Not Found"): an inactive account answers
 * every request 404 with `Reason: Account Inactive`, and a deleted item, or one this login may not
 * see, answers 404. Neither is a lost grant, so neither ends the fetch: the account (workspace),
 * project or list is skipped and named (onSkip), the rest is listed, the account stays ok. Accounts
 * that authorization.json flags `expired` (basecamp/basecamp-sdk, oauth/authorization-document.ts:
 * "Whether the account subscription has expired") are skipped without a request.
 *
 * Incremental sync (issue 22): Basecamp has no "changed since" filter; its README, "Using HTTP
 * caching", says clients "must use HTTP freshness headers": store each answer's `ETag` /
 * `Last-Modified` and send them back as `If-None-Match` / `If-Modified-Since`; an unchanged
 * resource answers "304 Not Modified [...] with no body". The full walk keeps every page's
 * validators (tasks/page-validators.ts) and `syncTasks` walks the same way with them: a 304 page
 * is the stored page (its to-dos stay as the base has them, its Link leads on as before), a 200
 * page's to-dos replace theirs, and a to-do that a page listed last time and no page lists now was
 * deleted, trashed or moved out of reach. Before that, the sync asks each Basecamp account for its
 * latest-changed to-dos (sections/recordings.md, "Get recordings", sorted by `updated_at`) with
 * that page's validators: a 304 there means no to-do of the account changed, and a 200 is read down
 * to the first change older than the cursor, those to-dos being the changes; either way none of
 * the account's list pages is asked for (feedChanges). The walk by pages with validators is for an
 * account without that feed or with too many changes. An unchanged grant is one authorization.json
 * call and a 304 per Basecamp account.
 */
import { addPkceChallenge } from '../oauth/standard';
import { z } from 'zod';
import { isLoopbackHostname } from '../../shared/endpoint-url';
import type { SkippedSource, Task, Workspace } from '../../shared/models';
import { TokentrayError, safeDetail } from '../errors';
import type { HttpClient, HttpResponse } from '../http/client';
import { PageMemos, validatorHeaders, type PageMemo } from '../tasks/page-validators';
import type {
  AccountContext,
  Grant,
  HttpRequestSpec,
  Identity,
  ProviderContext,
  ProviderDefinition,
  StoredTokens,
  TaskSyncResult,
  TokenErrorClassification,
  TokenResponse,
} from './types';

const NAME = 'Basecamp';
const LAUNCHPAD = 'https://launchpad.37signals.com';
/** Launchpad's documented access-token lifetime (two weeks). */
const DOCUMENTED_TTL_SECONDS = 1_209_600;
/** The products whose accounts speak the Basecamp 4 API ('bc3' is Basecamp 3/4, 'bc4' reserved for later). */
const BASECAMP_PRODUCTS = new Set(['bc3', 'bc4']);
const PAGE_GUARD = 10_000;

const authorizationSchema = z.object({
  expires_at: z.string().nullish(),
  identity: z.object({
    id: z.union([z.number(), z.string()]),
    first_name: z.string().nullish(),
    last_name: z.string().nullish(),
    email_address: z.string().nullish(),
  }),
  accounts: z.array(
    z.object({
      product: z.string(),
      id: z.union([z.number(), z.string()]),
      name: z.string(),
      href: z.string(),
      app_href: z.string().nullish(),
      // basecamp/basecamp-sdk oauth/authorization-document.ts: "Whether the account subscription has expired."
      expired: z.boolean().nullish(),
    }),
  ),
});

// bc3-api sections/projects.md: each dock entry carries `url` (the tool's API resource).
const projectsSchema = z.array(
  z.object({
    id: z.union([z.number(), z.string()]),
    name: z.string(),
    dock: z
      .array(
        z.object({
          id: z.union([z.number(), z.string()]),
          name: z.string(),
          enabled: z.boolean().optional(),
          url: z.string().nullish(),
        }),
      )
      .nullish(),
  }),
);

// bc3-api sections/todosets.md: "Get to-do set" → `todolists_url`.
const todosetSchema = z.object({ id: z.union([z.number(), z.string()]), todolists_url: z.string() });

// bc3-api sections/todolists.md and todolist_groups.md: lists carry `todos_url` and `groups_url`;
// groups are Todolists too (with `todos_url`, no `groups_url`).
const todolistsSchema = z.array(
  z.object({
    id: z.union([z.number(), z.string()]),
    title: z.string().nullish(),
    name: z.string().nullish(),
    todos_url: z.string(),
    groups_url: z.string().nullish(),
  }),
);

const todosSchema = z.array(
  z.object({
    id: z.union([z.number(), z.string()]),
    title: z.string().nullish(),
    content: z.string().nullish(),
    completed: z.boolean().nullish(),
    due_on: z.string().nullish(),
    app_url: z.string().nullish(),
    updated_at: z.string().nullish(),
    assignees: z.array(z.object({ name: z.string() })).nullish(),
  }),
);
type WireTodo = z.infer<typeof todosSchema>[number];

function parsed<T>(schema: z.ZodType<T>, res: HttpResponse, what: string): T {
  const result = schema.safeParse(res.body);
  if (!result.success) {
    throw new TokentrayError('PROVIDER_UNAVAILABLE', `Basecamp sent ${what} Tokentray cannot read; try again later.`);
  }
  return result.data;
}

/**
 * The token request with the standard parameters (bc3-api sections/authentication.md, "Exchange
 * the code for an access token" and "Refreshing access tokens"): the legacy `type=web_server` /
 * `type=refresh` are "still accepted but not recommended", and a refresh lists no `redirect_uri`.
 */
function buildTokenRequest(ctx: ProviderContext, grant: Grant): HttpRequestSpec {
  const body =
    grant.kind === 'authorization_code'
      ? new URLSearchParams({
          grant_type: 'authorization_code',
          code: grant.code,
          redirect_uri: ctx.redirectUri,
          ...(grant.codeVerifier ? { code_verifier: grant.codeVerifier } : {}),
        })
      : new URLSearchParams({ grant_type: 'refresh_token', refresh_token: grant.refreshToken });
  body.set('client_id', ctx.config.clientId);
  if (ctx.clientSecret !== null) body.set('client_secret', ctx.clientSecret);
  return {
    method: 'POST',
    url: ctx.endpoints.tokenUrl,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: body.toString(),
  };
}

function parseTokenResponse(body: unknown): TokenResponse {
  const o = body && typeof body === 'object' ? (body as Record<string, unknown>) : null;
  const accessToken = o && typeof o['access_token'] === 'string' ? o['access_token'] : '';
  if (!o || accessToken === '') {
    throw new TokentrayError(
      'PROVIDER_UNAVAILABLE',
      'Basecamp answered the token request without an access token; try again later.',
    );
  }
  const rawExpires = o['expires_in'];
  const expiresIn =
    typeof rawExpires === 'number' ? rawExpires : typeof rawExpires === 'string' ? Number(rawExpires) : NaN;
  const refresh = o['refresh_token'];
  const tokenType = o['token_type'];
  return {
    accessToken,
    // Older Launchpad refresh answers carry no refresh token; the refresher then keeps the one it has.
    refreshToken: typeof refresh === 'string' && refresh !== '' ? refresh : null,
    // Without expires_in, completeTokenResponse reads expires_at from authorization.json.
    expiresInSeconds: Number.isFinite(expiresIn) && expiresIn > 0 ? expiresIn : null,
    expiresAt: null,
    scopes: null,
    tokenType: typeof tokenType === 'string' ? tokenType : 'Bearer',
  };
}

/** Grant-is-dead answers: RFC 6749's invalid_grant and Launchpad's own wording for an ended authorization. */
const DEAD_GRANT = new Set(['invalid_grant', 'authorization_expired', 'authorization_revoked', 'invalid_token']);

/**
 * A 401 from the token endpoint is a grant that is gone, whatever its body: the official SDK
 * (basecamp/basecamp-sdk, typescript/src/oauth/exchange.ts) reads `status === 401 || error ===
 * "invalid_grant"` as "auth_required" ("the authorization code or refresh token may be invalid or
 * expired"). Only an explicit `invalid_client` / `unauthorized_client` is the app's configuration.
 */
function classifyTokenError(status: number, body: unknown): TokenErrorClassification {
  const o = body && typeof body === 'object' ? (body as Record<string, unknown>) : {};
  const error = typeof o['error'] === 'string' ? o['error'] : typeof body === 'string' ? body : '';
  const detail = safeDetail(o['error_description'] ?? error);
  if (status === 429) return { kind: 'rate_limited', detail };
  if (status >= 500) return { kind: 'unavailable', detail };
  if (error === 'invalid_client' || error === 'unauthorized_client') {
    return { kind: 'client_config', detail: detail || error };
  }
  if (status === 401 || DEAD_GRANT.has(error))
    return { kind: 'reconnect', detail: detail || error || `HTTP ${status}` };
  return { kind: 'bad_code', detail: detail || `HTTP ${status}` };
}

/** The bearer token only ever goes to HTTPS hosts (or the loopback emulator), never to a plain-HTTP one. */
function safeApiBase(href: string): string | null {
  let url: URL;
  try {
    url = new URL(href);
  } catch {
    return null;
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackHostname(url.hostname))) return null;
  return url.toString().replace(/\/+$/, '');
}

/**
 * A URL the API handed out, accepted only on the account's own origin: the bearer token goes with
 * it, and a link elsewhere (a bug or a hostile answer) must not take the token along.
 */
function followable(url: string | null | undefined, base: string, what: string): string {
  let target: URL;
  try {
    target = new URL(url ?? '');
  } catch {
    throw new TokentrayError('PROVIDER_UNAVAILABLE', `Basecamp sent ${what} without a usable URL; try again later.`);
  }
  if (target.origin !== new URL(base).origin) {
    throw new TokentrayError(
      'PROVIDER_UNAVAILABLE',
      `Basecamp pointed ${what} at ${safeDetail(target.host, 80)}, outside the account's API; Tokentray did not follow it.`,
    );
  }
  return target.toString();
}

/** `completed=true` added to a handed-out to-do URL (bc3-api sections/todos.md, "Get to-dos"). */
function completedVariant(url: string): string {
  const u = new URL(url);
  u.searchParams.set('completed', 'true');
  return u.toString();
}

/** An inactive Basecamp account: every request to it answers 404 with `Reason: Account Inactive`. */
class AccountInactiveError extends TokentrayError {
  constructor() {
    super('NOT_FOUND', 'This Basecamp account is inactive (an expired trial or a suspended account).');
  }
}

// bc3-api README, "Handling errors / 404 Not Found": "Inactive account. 404 Not Found response with a
// `Reason: Account Inactive` header. Due to an expired trial or account suspension."
function inactiveAccount(res: HttpResponse): TokentrayError | null {
  return res.status === 404 && /account inactive/i.test(res.headers['reason'] ?? '')
    ? new AccountInactiveError()
    : null;
}

function isNotFound(error: unknown): boolean {
  return error instanceof TokentrayError && error.code === 'NOT_FOUND' && !(error instanceof AccountInactiveError);
}

/** `what` names the resource in the error message the user sees ("the to-do list “Launch” in “Website”"). */
function get(
  http: HttpClient,
  ctx: AccountContext,
  url: string,
  what?: string,
  validators: Record<string, string> = {},
): Promise<HttpResponse> {
  return http.api({
    method: 'GET',
    url,
    headers: { ...validators, authorization: basecamp.authorizationHeader(ctx.tokens) },
    // A request with validators takes 304 Not Modified as an answer (bc3-api README, "Using HTTP caching").
    conditional: Object.keys(validators).length > 0,
    providerName: NAME,
    ...(what === undefined ? {} : { what }),
    rateKey: basecamp.apiPacing!(ctx).rateKey,
    requestsPerSecond: basecamp.requestsPerSecond,
    refusal: inactiveAccount,
  });
}

/** The rel="next" target of an RFC 5988 Link header, if it stays on the same origin. */
export function nextLink(header: string | undefined, origin: string): string | null {
  if (!header) return null;
  for (const part of header.split(',')) {
    const m = /<([^>]+)>\s*;(.*)$/.exec(part.trim());
    if (!m || !/rel="?next"?/i.test(m[2]!)) continue;
    try {
      const next = new URL(m[1]!, origin);
      return next.origin === origin ? next.toString() : null;
    } catch {
      return null;
    }
  }
  return null;
}

/**
 * How a walk reads pages: a full walk reads every page whole and records its validators; an
 * incremental sync sends the recorded ones back (`conditional`). `present` gathers the ids of the
 * to-dos on the pages of every list read whole this time, answered 200 or 304.
 */
interface Walk {
  memos: PageMemos;
  conditional: boolean;
  present: Set<string>;
}

/** A recorded page that no longer reads as what it recorded: the sync gives up and the engine walks. */
class StaleMemoError extends Error {}

type PageRead<T> = { fresh: true; body: T } | { fresh: false; data: unknown };

/**
 * A paginated resource page by page (RFC 5988 Link rel="next", on the first page's origin only).
 * A page answered 304 is its memo: what was recorded of it and the page that followed. The memos
 * read go to `kept`; the caller keeps them once the whole resource was read.
 */
async function* memoPages<T>(
  http: HttpClient,
  ctx: AccountContext,
  firstUrl: string,
  schema: z.ZodType<T>,
  what: string,
  walk: Walk,
  tag: string,
  dataOf: (body: T) => unknown,
  kept: Array<[string, PageMemo]>,
): AsyncGenerator<PageRead<T>> {
  const origin = new URL(firstUrl).origin;
  let url: string | null = firstUrl;
  const seen = new Set<string>();
  // A server that keeps linking to pages it already served would otherwise loop forever.
  for (let guard = 0; url !== null && !seen.has(url) && guard < PAGE_GUARD; guard += 1) {
    seen.add(url);
    const memo: PageMemo | null = walk.conditional ? walk.memos.previousOf(url, tag) : null;
    const res = await get(http, ctx, url, what, validatorHeaders(memo));
    if (res.status === 304) {
      if (memo === null) {
        throw new TokentrayError(
          'PROVIDER_UNAVAILABLE',
          `Basecamp answered “not modified” for ${what} without being asked; try again later.`,
        );
      }
      kept.push([url, memo]);
      yield { fresh: false, data: memo.data };
      url = memo.next !== null && new URL(memo.next).origin === origin ? memo.next : null;
      continue;
    }
    const body = parsed(schema, res, what);
    const next = nextLink(res.headers['link'], origin);
    kept.push([
      url,
      {
        etag: res.headers['etag'] ?? null,
        lastModified: res.headers['last-modified'] ?? null,
        next,
        tag,
        data: dataOf(body),
      },
    ]);
    yield { fresh: true, body };
    url = next;
  }
}

/**
 * An index (projects, a to-do set, its lists, a list's groups): the fields the walk goes on by are
 * recorded with each page, so a 304 page is read from its memo.
 */
async function* indexPages<T>(
  http: HttpClient,
  ctx: AccountContext,
  firstUrl: string,
  schema: z.ZodType<T>,
  what: string,
  walk: Walk,
  keepOf: (body: T) => unknown,
): AsyncGenerator<T> {
  const kept: Array<[string, PageMemo]> = [];
  for await (const read of memoPages(http, ctx, firstUrl, schema, what, walk, 'index', keepOf, kept)) {
    if (read.fresh) {
      yield read.body;
      continue;
    }
    const restored = schema.safeParse(read.data);
    if (!restored.success) throw new StaleMemoError();
    yield restored.data;
  }
  for (const [url, memo] of kept) walk.memos.keep(url, memo);
}

const idListSchema = z.array(z.string());
const TODOS_TAG = 'todos:';

function toTask(t: WireTodo, ctx: AccountContext, where: { project: string; workspace: string; done: boolean }): Task {
  const title = (t.title ?? t.content ?? '').trim();
  return {
    id: String(t.id),
    accountId: ctx.accountId,
    provider: basecamp.id,
    title: title || '(untitled to-do)',
    status: (t.completed ?? where.done) ? 'done' : 'open',
    due: t.due_on ? { date: t.due_on, dateTime: null, timeZone: null } : null,
    // Basecamp to-dos have no priority.
    priority: { level: 0, original: null },
    project: where.project,
    workspace: where.workspace,
    assignees: (t.assignees ?? []).map((a) => a.name),
    url: t.app_url ?? null,
    updatedAt: t.updated_at ?? null,
  };
}

interface Where {
  project: string;
  workspace: string;
}

/**
 * A list's (or group's) to-dos: the open ones, then the completed ones, each paginated, gathered
 * before they are handed on, so a list that answers 404 halfway is skipped whole, not half shown.
 * Returns the to-dos of the pages answered 200 (every page on a full walk); a 304 page's to-dos
 * stay as the base holds them. Its pages' memos and to-do ids count only once the list was read whole.
 */
async function todosOf(
  http: HttpClient,
  ctx: AccountContext,
  base: string,
  todosUrl: string,
  where: Where & { list: string },
  walk: Walk,
): Promise<Task[]> {
  const what = `the to-do list “${where.list}” in “${where.project}”`;
  const open = followable(todosUrl, base, what);
  const tasks: Task[] = [];
  const ids: string[] = [];
  const kept: Array<[string, PageMemo]> = [];
  for (const [url, done] of [
    [open, false],
    [completedVariant(open), true],
  ] as const) {
    // A page read for another project name or account must be read again: its to-dos carry them.
    const tag = `${TODOS_TAG}${JSON.stringify([where.workspace, where.project, done])}`;
    const idsOf = (todos: WireTodo[]): string[] => todos.map((t) => String(t.id));
    for await (const read of memoPages(http, ctx, url, todosSchema, what, walk, tag, idsOf, kept)) {
      if (read.fresh) {
        for (const t of read.body) tasks.push(toTask(t, ctx, { ...where, done }));
        ids.push(...idsOf(read.body));
        continue;
      }
      const stored = idListSchema.safeParse(read.data);
      if (!stored.success) throw new StaleMemoError();
      ids.push(...stored.data);
    }
  }
  for (const [url, memo] of kept) walk.memos.keep(url, memo);
  for (const id of ids) walk.present.add(id);
  return tasks;
}

function listName(list: {
  id: string | number;
  title?: string | null | undefined;
  name?: string | null | undefined;
}): string {
  return safeDetail(list.title ?? list.name ?? '', 80) || `#${String(list.id)}`;
}

function skippedList(where: Where, list: string, kind: 'project' | 'list'): SkippedSource {
  const message =
    kind === 'project'
      ? `Basecamp no longer shows the to-dos of “${where.project}” (${where.workspace}) to this login: deleted or hidden, so they are skipped.`
      : `Basecamp no longer shows the to-do list “${list}” in “${where.project}” (${where.workspace}) to this login: deleted or hidden, so it is skipped.`;
  return {
    kind,
    workspace: where.workspace,
    name: kind === 'project' ? where.project : `${where.project} / ${list}`,
    reason: 'not_found',
    message,
  };
}

function skippedWorkspace(workspace: Workspace, reason: 'inactive' | 'expired' | 'not_found'): SkippedSource {
  const name = workspace.name;
  const message =
    reason === 'inactive'
      ? `The Basecamp account “${name}” is inactive (an expired trial or a suspended account); its to-dos are skipped until it is active again.`
      : reason === 'expired'
        ? `The Basecamp account “${name}” has expired; its to-dos are skipped until its subscription is renewed.`
        : `This login no longer reaches the Basecamp account “${name}”; its to-dos are skipped.`;
  return { kind: 'workspace', workspace: name, name, reason, message };
}

/**
 * One Basecamp account's to-dos, list by list. A project or list that answers 404 (deleted, or
 * hidden from this login) is reported and skipped; an inactive account's 404 ends this account
 * only (the caller skips it).
 */
async function* workspaceTasks(
  http: HttpClient,
  ctx: AccountContext,
  base: string,
  workspace: Workspace,
  onSkip: (skipped: SkippedSource) => void,
  walk: Walk,
): AsyncGenerator<Task[]> {
  const projectsWhat = `the project list of “${workspace.name}”`;
  const keepProjects = (projects: z.infer<typeof projectsSchema>): unknown =>
    projects.map((p) => ({ id: p.id, name: p.name, dock: (p.dock ?? []).filter((d) => d.name === 'todoset') }));
  const keepLists = (lists: z.infer<typeof todolistsSchema>): unknown =>
    lists.map((l) => ({ id: l.id, title: l.title, name: l.name, todos_url: l.todos_url, groups_url: l.groups_url }));
  const projectPages = indexPages(http, ctx, `${base}/projects.json`, projectsSchema, projectsWhat, walk, keepProjects);
  for await (const projects of projectPages) {
    for (const project of projects) {
      const todoset = (project.dock ?? []).find((d) => d.name === 'todoset' && d.enabled !== false);
      if (!todoset) continue;
      const where = { project: project.name, workspace: workspace.name };
      const setWhat = `the to-dos of “${project.name}”`;
      const lists: z.infer<typeof todolistsSchema> = [];
      try {
        const setUrl = followable(todoset.url, base, setWhat);
        const keepSet = (set: z.infer<typeof todosetSchema>): unknown => ({
          id: set.id,
          todolists_url: set.todolists_url,
        });
        let listsUrl: string | null = null;
        for await (const set of indexPages(http, ctx, setUrl, todosetSchema, setWhat, walk, keepSet)) {
          listsUrl = followable(set.todolists_url, base, setWhat);
        }
        if (listsUrl === null) continue;
        for await (const page of indexPages(http, ctx, listsUrl, todolistsSchema, setWhat, walk, keepLists)) {
          lists.push(...page);
        }
      } catch (error) {
        if (!isNotFound(error)) throw error;
        onSkip(skippedList(where, '', 'project'));
        continue;
      }
      for (const list of lists) {
        const name = listName(list);
        try {
          const tasks = await todosOf(http, ctx, base, list.todos_url, { ...where, list: name }, walk);
          if (tasks.length > 0) yield tasks;
        } catch (error) {
          if (!isNotFound(error)) throw error;
          onSkip(skippedList(where, name, 'list'));
          continue;
        }
        if (!list.groups_url) continue;
        const groupsWhat = `the groups of the to-do list “${name}” in “${project.name}”`;
        const groups: z.infer<typeof todolistsSchema> = [];
        try {
          const groupsUrl = followable(list.groups_url, base, groupsWhat);
          for await (const page of indexPages(http, ctx, groupsUrl, todolistsSchema, groupsWhat, walk, keepLists)) {
            groups.push(...page);
          }
        } catch (error) {
          if (!isNotFound(error)) throw error;
          onSkip(skippedList(where, name, 'list'));
          continue;
        }
        for (const group of groups) {
          const groupName = `${name} / ${listName(group)}`;
          try {
            const tasks = await todosOf(http, ctx, base, group.todos_url, { ...where, list: groupName }, walk);
            if (tasks.length > 0) yield tasks;
          } catch (error) {
            if (!isNotFound(error)) throw error;
            onSkip(skippedList(where, groupName, 'list'));
          }
        }
      }
    }
  }
}

/** What authorization.json says about each Basecamp account now: gone from the grant, expired, or fine. */
async function accountStates(http: HttpClient, ctx: AccountContext): Promise<Map<string, 'expired' | 'ok'>> {
  const url = `${basecamp.apiBase(ctx, ctx.tokens)}/authorization.json`;
  const auth = parsed(authorizationSchema, await get(http, ctx, url, 'the authorization details'), 'an authorization');
  return new Map(auth.accounts.map((a) => [String(a.id), a.expired === true ? 'expired' : 'ok']));
}

function apiBaseOf(ctx: AccountContext, workspace: Workspace): string {
  const href = ctx.extra[`href:${workspace.id}`];
  const base = href ? safeApiBase(href) : null;
  if (!base) {
    throw new TokentrayError(
      'RECONNECT_REQUIRED',
      `Tokentray does not know where the Basecamp account "${workspace.name}" lives; reconnect the account.`,
    );
  }
  return base;
}

const FEED_TAG = 'feed';
const CHANGED_TAG = `${TODOS_TAG}changed`;
/** Past this many pages of changes, the account is walked page by page with its validators instead. */
const FEED_PAGE_LIMIT = 20;

// bc3-api sections/recordings.md: a recording of type Todo is a to-do with its `bucket` (the project).
const feedSchema = z.array(
  todosSchema.element.extend({ bucket: z.object({ name: z.string() }).passthrough().nullish() }),
);
const feedMemoSchema = z.object({ since: z.number() });

/**
 * What changed in one Basecamp account since the last walk or sync, by its change feed: bc3-api
 * sections/recordings.md, "Get recordings", `GET /projects/recordings.json?type=Todo&sort=updated_at`
 * lists the account's to-dos across "all active projects visible to the current user", the latest
 * change first. Its first page is asked with its stored validators:
 * - 304: no to-do was created, edited, completed, reopened or moved; every page of the account is as
 *   the base has it (their memos carry over and their to-dos stay, without a request).
 * - 200: the pages are read until one reaches a to-do updated before the cursor; those to-dos are
 *   the changes (whole, as the walk maps them), the account's page memos carry over.
 * A full walk reads the first page before the lists and sets the cursor to its newest change, never
 * later than the server's Date then, so a change made while it walks shows at the next sync. A
 * trashed to-do, or one whose list is hidden, leaves no trace here: the engine's daily full walk
 * drops it. An account without the endpoint, or with more changes than FEED_PAGE_LIMIT pages, is
 * walked page by page with every page's validators ("walk").
 */
async function feedChanges(
  http: HttpClient,
  ctx: AccountContext,
  base: string,
  workspace: Workspace,
  walk: Walk,
): Promise<{ kind: 'changes'; tasks: Task[] } | { kind: 'walk' }> {
  const url = `${base}/projects/recordings.json?type=Todo&sort=updated_at&direction=desc`;
  const what = `the latest to-dos of “${workspace.name}”`;
  const memo = walk.conditional ? walk.memos.previousOf(url, FEED_TAG) : null;
  const stored = feedMemoSchema.safeParse(memo?.data);
  const since = stored.success ? stored.data.since : null;
  let res: HttpResponse;
  try {
    res = await get(http, ctx, url, what, since === null ? {} : validatorHeaders(memo));
  } catch (error) {
    if (isNotFound(error)) return { kind: 'walk' };
    throw error;
  }
  const carry = (): void => {
    for (const carried of walk.memos.carryOver(`${base}/`)) {
      if (!carried.tag.startsWith(TODOS_TAG)) continue;
      const ids = idListSchema.safeParse(carried.data);
      if (!ids.success) throw new StaleMemoError();
      for (const id of ids.data) walk.present.add(id);
    }
  };
  if (res.status === 304) {
    if (memo === null || since === null) throw new StaleMemoError();
    carry();
    return { kind: 'changes', tasks: [] };
  }
  const date = Date.parse(res.headers['date'] ?? '');
  const ceiling = Number.isFinite(date) ? date - 1000 : Number.POSITIVE_INFINITY;
  let newest = since ?? 0;
  const tasks: Task[] = [];
  let page: HttpResponse | null = res;
  const origin = new URL(url).origin;
  for (let n = 0; page !== null; n += 1) {
    const todos = parsed(feedSchema, page, what);
    let older = false;
    for (const t of todos) {
      const at = Date.parse(t.updated_at ?? '');
      if (!Number.isFinite(at)) continue;
      newest = Math.max(newest, at);
      if (since !== null && at < since) {
        older = true;
        continue;
      }
      const project = t.bucket?.name ?? '';
      tasks.push(toTask(t, ctx, { project, workspace: workspace.name, done: t.completed === true }));
    }
    // A full walk needs only the first page's validators and newest change.
    if (since === null || older) break;
    const next = nextLink(page.headers['link'], origin);
    if (next === null) break;
    if (n + 1 >= FEED_PAGE_LIMIT) {
      walk.memos.keep(url, feedMemo(res, Math.max(since, Math.min(newest, ceiling))));
      return { kind: 'walk' };
    }
    page = await get(http, ctx, next, what);
  }
  walk.memos.keep(url, feedMemo(res, Math.max(since ?? 0, Math.min(newest, ceiling))));
  if (since === null) return { kind: 'walk' };
  carry();
  // carryOver brought the old feed memo back; the new one wins.
  walk.memos.keep(url, feedMemo(res, Math.max(since, Math.min(newest, ceiling))));
  // The to-dos the feed brought are on no recorded page yet: they are kept as a page of their own,
  // so a later walk by pages that does not find them drops them, as it drops a page's to-dos.
  const changedKey = `${base}/#changed`;
  const earlier = walk.memos.previousOf(changedKey, CHANGED_TAG);
  const earlierIds = idListSchema.safeParse(earlier?.data);
  const changedIds = new Set([...(earlierIds.success ? earlierIds.data : []), ...tasks.map((t) => t.id)]);
  walk.memos.keep(changedKey, { etag: null, lastModified: null, next: null, tag: CHANGED_TAG, data: [...changedIds] });
  for (const id of changedIds) walk.present.add(id);
  return { kind: 'changes', tasks };
}

function feedMemo(res: HttpResponse, since: number): PageMemo {
  return {
    etag: res.headers['etag'] ?? null,
    lastModified: res.headers['last-modified'] ?? null,
    next: null,
    tag: FEED_TAG,
    data: { since },
  };
}

/** Every Basecamp account of the grant, walked as `walk` says; expired, gone and inactive ones skipped. */
async function* accountTasks(
  http: HttpClient,
  ctx: AccountContext,
  walk: Walk,
  skip: (skipped: SkippedSource) => void,
): AsyncGenerator<Task[]> {
  // One cheap call says which accounts are expired or gone before any of them is walked.
  const states = await accountStates(http, ctx);
  for (const workspace of ctx.workspaces) {
    const state = states.get(workspace.id);
    if (state !== 'ok') {
      skip(skippedWorkspace(workspace, state === 'expired' ? 'expired' : 'not_found'));
      continue;
    }
    const base = apiBaseOf(ctx, workspace);
    try {
      const feed = await feedChanges(http, ctx, base, workspace, walk);
      if (feed.kind === 'changes') {
        if (feed.tasks.length > 0) yield feed.tasks;
        continue;
      }
      for await (const tasks of workspaceTasks(http, ctx, base, workspace, skip, walk)) yield tasks;
    } catch (error) {
      if (error instanceof AccountInactiveError) skip(skippedWorkspace(workspace, 'inactive'));
      else if (isNotFound(error)) skip(skippedWorkspace(workspace, 'not_found'));
      else throw error;
    }
  }
}

export const basecamp: ProviderDefinition = {
  id: 'basecamp',
  name: NAME,
  kind: 'builtin',
  defaults: {
    authorizeUrl: `${LAUNCHPAD}/authorization/new`,
    tokenUrl: `${LAUNCHPAD}/authorization/token`,
    apiUrl: LAUNCHPAD,
    // Launchpad documents no revocation endpoint; users remove the app at launchpad.37signals.com.
    revokeUrl: null,
    issuer: null,
  },
  registerUrl: `${LAUNCHPAD}/integrations`,
  // What 37signals' own command-line tool registers; one redirect URI per Launchpad app.
  defaultRedirectUri: 'http://127.0.0.1:8976/callback',
  ephemeralPortAllowed: false,
  methods: ['loopback', 'paste'],
  // RFC 9700 §2.1.1: always sent; a server without PKCE ignores the parameters.
  pkce: true,
  scopes: [],
  refresh: 'reusable',
  warnBeforeExpirySeconds: 86_400,
  needsHost: false,
  personalTokenHint: null,
  // About 50 requests per 10 seconds per IP.
  requestsPerSecond: 5,
  // Basecamp answers 400 without a User-Agent naming the app and a contact (bc3-api README, "Identifying your
  // application"); the HTTP client sends USER_AGENT on every request, token requests included.

  buildAuthorizeUrl(ctx, p) {
    const url = new URL(ctx.endpoints.authorizeUrl);
    // bc3-api sections/authentication.md, "Redirect the user to Launchpad": response_type=code
    // (the legacy type=web_server is "still accepted but not recommended").
    url.searchParams.set('response_type', 'code');
    url.searchParams.set('client_id', ctx.config.clientId);
    url.searchParams.set('redirect_uri', ctx.redirectUri);
    url.searchParams.set('state', p.state);
    return addPkceChallenge(url, p.codeChallenge).toString();
  },
  buildTokenRequest,
  parseTokenResponse,

  /**
   * A token answer without `expires_in` (older Launchpad answers) leaves the expiry to
   * authorization.json's `expires_at` (bc3-api sections/authentication.md, "Get authorization").
   * Only if that cannot be read either is the documented two weeks assumed, so the token is
   * refreshed before it dies rather than treated as everlasting.
   */
  async completeTokenResponse(http, ctx, response) {
    if (response.expiresInSeconds !== null || response.expiresAt !== null) return response;
    try {
      const res = await http.api({
        method: 'GET',
        url: `${ctx.endpoints.apiUrl.replace(/\/+$/, '')}/authorization.json`,
        headers: { authorization: `Bearer ${response.accessToken}` },
        providerName: NAME,
        what: 'the authorization details',
        rateKey: basecamp.id,
        requestsPerSecond: basecamp.requestsPerSecond,
      });
      const at = Date.parse(parsed(authorizationSchema, res, 'an authorization').expires_at ?? '');
      if (Number.isFinite(at)) return { ...response, expiresAt: at };
    } catch {
      // The tokens are good; only their expiry is unknown. Fall through to the documented lifetime.
    }
    return { ...response, expiresInSeconds: DOCUMENTED_TTL_SECONDS };
  },
  classifyTokenError,
  authorizationHeader: (tokens: StoredTokens) => `Bearer ${tokens.accessToken}`,
  apiBase: (ctx) => ctx.endpoints.apiUrl.replace(/\/+$/, ''),

  // Basecamp limits per IP, so every Basecamp account on this machine shares one budget.
  apiPacing: () => ({ rateKey: basecamp.id }),

  async identify(http: HttpClient, ctx: AccountContext): Promise<Identity> {
    const url = `${basecamp.apiBase(ctx, ctx.tokens)}/authorization.json`;
    const auth = parsed(authorizationSchema, await get(http, ctx, url), 'an authorization');
    const workspaces: Workspace[] = [];
    const extra: Record<string, string> = {};
    for (const a of auth.accounts) {
      const base = safeApiBase(a.href);
      if (!BASECAMP_PRODUCTS.has(a.product) || base === null) continue;
      const id = String(a.id);
      workspaces.push({ id, name: a.name, url: a.app_href ?? null });
      extra[`href:${id}`] = base;
    }
    if (workspaces.length === 0) {
      throw new TokentrayError(
        'USAGE',
        'This Basecamp login has no Basecamp 4 account; sign in with a login that belongs to one.',
      );
    }
    const who = auth.identity;
    const name = [who.first_name, who.last_name].filter(Boolean).join(' ').trim();
    return { subject: String(who.id), label: name || who.email_address || String(who.id), workspaces, extra };
  },

  async *fetchTasks(http, ctx, onProgress, onSkip, onCursor) {
    let count = 0;
    const walk: Walk = { memos: new PageMemos(), conditional: false, present: new Set() };
    for await (const tasks of accountTasks(http, ctx, walk, onSkip ?? (() => undefined))) {
      count += tasks.length;
      onProgress?.(count);
      yield tasks;
    }
    for (const [key, value] of Object.entries(walk.memos.cursors())) onCursor?.(key, value);
  },

  /**
   * The walk again with every page's validators (bc3-api README, "Using HTTP caching"): 304 pages
   * cost no body and change nothing; the to-dos of 200 pages are the upserts; a to-do some page
   * listed last time and none lists now is gone (trashed, deleted, moved out of reach, or its list
   * or account skipped, as a full walk would leave it out).
   */
  async syncTasks(http, ctx, base, onSkip): Promise<TaskSyncResult> {
    const walk: Walk = { memos: new PageMemos(base.cursors), conditional: true, present: new Set() };
    const upserts: Task[] = [];
    try {
      for await (const tasks of accountTasks(http, ctx, walk, onSkip ?? (() => undefined))) upserts.push(...tasks);
    } catch (error) {
      if (error instanceof StaleMemoError) return { upserts: [], deletes: [], cursors: {}, complete: false };
      throw error;
    }
    const deletes = new Set<string>();
    for (const memo of walk.memos.previousMemos()) {
      if (!memo.tag.startsWith(TODOS_TAG)) continue;
      const ids = idListSchema.safeParse(memo.data);
      if (!ids.success) continue;
      for (const id of ids.data) if (!walk.present.has(id)) deletes.add(id);
    }
    return { upserts, deletes: [...deletes], cursors: walk.memos.cursors(), complete: true };
  },
};
