import { createHash } from 'node:crypto';
import {
  approveConsent,
  changeClock,
  consentHtml,
  EndpointCounter,
  GrantBook,
  HttpFailure,
  RateWindow,
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
 * One 127.0.0.1 server playing both 37signals Launchpad (consent, token
 * endpoint, authorization.json) and the Basecamp 4 API (`/{account_id}/…`),
 * with the quirks Tokentray must survive: standard (`response_type=code`,
 * `grant_type=…`) and legacy `type=web_server|refresh` token requests, long-lived
 * reusable refresh tokens, refresh answers with or without `refresh_token` and
 * `expires_in`, one grant reaching several Basecamp accounts, inactive and expired
 * accounts, lists hidden from a login, Link/X-Total-Count pagination, 400 for any
 * request without a User-Agent, and a per-IP rate limit answered with 429 + Retry-After.
 *
 * HTTP caching (bc3-api README, "Using HTTP caching": "Most API responses will include an `ETag`
 * or `Last-Modified` header. [...] submit them back to us as `If-None-Match` and
 * `If-Modified-Since`, respectively. If the resource hasn't changed since your last request, you'll
 * get a `304 Not Modified` response with no body"): every API GET answered 200 carries a weak
 * ETag over what it sends (body and Link/X-Total-Count, so page 2 of a list is its own resource)
 * and the Last-Modified of the moment that answer last changed; a matching `If-None-Match` (or,
 * without one, an `If-Modified-Since` no earlier than Last-Modified, RFC 9110 §13.2.2) answers 304
 * with no body. `mutate` changes to-dos as a user in Basecamp would (sections/todos.md: create,
 * update, complete, uncomplete, reposition with `parent_id`, trash), each stamping `updated_at`,
 * so the pages that list the to-do change their ETag.
 */

export interface BasecampEmulatorOptions {
  clientId?: string;
  clientSecret?: string;
  /** The one redirect URI registered for the Launchpad app. */
  redirectUri?: string;
  accessTokenTtlSeconds?: number;
  /** Older Launchpad refresh answers: no refresh_token (the old one stays valid). */
  omitRefreshTokenOnRefresh?: boolean;
  /** Token answers without expires_in (expiry only via authorization.json's expires_at). */
  omitExpiresIn?: boolean;
  /** Requests per window per IP on authorization.json and the API (Basecamp: 50 per 10 s). */
  rateLimit?: { limit: number; windowMs: number };
  projectsPerAccount?: number;
  listsPerProject?: number;
  openTodosPerList?: number;
  completedTodosPerList?: number;
  /** Items per page on every paginated index. */
  pageSize?: number;
}

export interface BasecampStats extends EmulatorStats {
  /** Token requests that used the legacy `type=` parameter. */
  legacyTokenRequests: number;
  /** Requests refused with 400 for lacking a User-Agent. */
  missingUserAgent: number;
  /** Refresh requests that carried a redirect_uri (the docs list none on refresh). */
  refreshesWithRedirectUri: number;
  /** API GETs answered 304 Not Modified. */
  notModified: number;
  /** API GETs that sent If-None-Match or If-Modified-Since. */
  conditionalRequests: number;
}

/** A to-do list the emulator hid from every login (its to-dos answer 404), and what went with it. */
export interface HiddenList {
  accountName: string;
  projectName: string;
  listName: string;
  todoIds: number[];
}

export interface BasecampWireTodo {
  id: number;
  title: string;
  content: string;
  completed: boolean;
  due_on: string | null;
  app_url: string;
  updated_at: string;
  assignees: Array<{ id: number; name: string; email_address: string }>;
  accountName: string;
  projectName: string;
}

export interface BasecampEmulatorHandle {
  /** Scripted failures (status matrix): see emulator-kit's Fault. */
  inject(fault: Fault): void;
  clearFaults(): void;
  /** The provider revokes every access token early (password change, admin action); refresh tokens live on. */
  revokeAccessTokens(): void;
  url: string;
  clientId: string;
  clientSecret: string;
  redirectUri: string;
  stats: BasecampStats;
  consent(authorizeUrl: string, opts: { user: string; deny?: boolean }): Promise<string>;
  issueAuthorizationCode(opts: { user: string }): string;
  setOutage(down: boolean): void;
  revokeAll(): void;
  expireAccessTokens(): void;
  /** Every to-do a login can reach in its Basecamp accounts (open and completed). */
  todosOf(user: string): BasecampWireTodo[];
  /** The Basecamp account ids a login belongs to (Basecamp products only). */
  accountsOf(user: string): Array<{ id: number; name: string }>;
  /** An expired trial or a suspended account: every API request to it answers 404 `Reason: Account Inactive`. */
  setAccountInactive(accountId: number, inactive: boolean): void;
  /** authorization.json flags the account `expired: true` (its API answers as an inactive account's does). */
  setAccountExpired(accountId: number, expired: boolean): void;
  /** The list stays in its to-do set's index, but its to-dos answer 404 (deleted, or access taken away). */
  hideList(accountId: number, projectIndex: number, listIndex: number): HiddenList;
  /** API requests per endpoint, e.g. `GET /buckets/:id/todolists/:id/todos.json`, and how many were 304. */
  readonly endpoints: EndpointCounter;
  /**
   * Changes to-dos behind the app's back; containers are to-do list (and group) ids. A to-do moves to
   * any list of its Basecamp account (Reposition's `parent_id` within a project, the app's Move
   * across projects).
   */
  readonly mutate: TaskMutator;
  close(): Promise<void>;
}

interface Person {
  id: number;
  first: string;
  last: string;
  email: string;
  accounts: Array<{ id: number; name: string; product: string }>;
}

const PEOPLE: Record<string, Person> = {
  jason: {
    id: 9_999_999,
    first: 'Jason',
    last: 'Fried',
    email: 'jason@honchodesign.example',
    accounts: [
      { id: 99_999_991, name: 'Honcho Design', product: 'bc3' },
      { id: 99_999_992, name: 'Fried Family', product: 'bc3' },
      // A Basecamp 2 account on the same login: not the Basecamp 4 API, so not a workspace.
      { id: 88_888_881, name: 'Old Honcho (Basecamp 2)', product: 'bcx' },
    ],
  },
  nicole: {
    id: 7_777_777,
    first: 'Nicole',
    last: 'Katz',
    email: 'nicole@honchodesign.example',
    accounts: [{ id: 99_999_991, name: 'Honcho Design', product: 'bc3' }],
  },
};

interface Project {
  id: number;
  accountId: number;
  name: string;
  todosetId: number;
  todosetEnabled: boolean;
  lists: Array<{ id: number; name: string; todos: BasecampWireTodo[]; groups: TodoGroup[] }>;
}

/** A to-do list group: a list inside a list, with its own to-dos (bc3-api, sections/todolist_groups.md). */
interface TodoGroup {
  id: number;
  name: string;
  todos: BasecampWireTodo[];
}

function buildProjects(o: Required<Omit<BasecampEmulatorOptions, 'rateLimit'>>): Map<number, Project[]> {
  const byAccount = new Map<number, Project[]>();
  let next = 1_000;
  const accounts = new Map<number, string>();
  for (const p of Object.values(PEOPLE))
    for (const a of p.accounts) if (a.product === 'bc3') accounts.set(a.id, a.name);
  for (const [accountId, accountName] of accounts) {
    const projects: Project[] = [];
    for (let p = 0; p < o.projectsPerAccount; p += 1) {
      const projectId = (next += 1);
      const projectName = `${accountName} project ${p + 1}`;
      const lists: Project['lists'] = [];
      for (let l = 0; l < o.listsPerProject; l += 1) {
        const listId = (next += 1);
        const todos: BasecampWireTodo[] = [];
        const total = o.openTodosPerList + o.completedTodosPerList;
        for (let t = 0; t < total; t += 1) {
          const id = (next += 1);
          const title = `${projectName} / list ${l + 1} / to-do ${t + 1}`;
          todos.push({
            id,
            title,
            content: title,
            completed: t >= o.openTodosPerList,
            due_on: t % 3 === 0 ? `2026-0${(t % 9) + 1}-1${t % 10}` : null,
            app_url: `https://3.basecamp.com/${accountId}/buckets/${projectId}/todos/${id}`,
            updated_at: new Date(Date.UTC(2026, 0, 1, 0, 0, t)).toISOString(),
            assignees:
              t % 2 === 1
                ? [{ id: PEOPLE['jason']!.id, name: 'Jason Fried', email_address: PEOPLE['jason']!.email }]
                : [],
            accountName,
            projectName,
          });
        }
        // The first list of every project holds a group ("Phase 2") with open and completed to-dos.
        const groups: TodoGroup[] = [];
        if (l === 0) {
          const groupId = (next += 1);
          const groupTodos: BasecampWireTodo[] = [];
          for (let t = 0; t < 3; t += 1) {
            const id = (next += 1);
            const title = `${projectName} / list ${l + 1} / Phase 2 / to-do ${t + 1}`;
            groupTodos.push({
              id,
              title,
              content: title,
              completed: t === 2,
              due_on: null,
              app_url: `https://3.basecamp.com/${accountId}/buckets/${projectId}/todos/${id}`,
              updated_at: new Date(Date.UTC(2026, 0, 2, 0, 0, t)).toISOString(),
              assignees: [],
              accountName,
              projectName,
            });
          }
          groups.push({ id: groupId, name: 'Phase 2', todos: groupTodos });
        }
        lists.push({ id: listId, name: `List ${l + 1}`, todos, groups });
      }
      projects.push({
        id: projectId,
        accountId,
        name: projectName,
        todosetId: (next += 1),
        todosetEnabled: true,
        lists,
      });
    }
    // A project whose To-dos tool is switched off: it must be skipped, not fetched.
    projects.push({
      id: (next += 1),
      accountId,
      name: `${accountName} docs`,
      todosetId: (next += 1),
      todosetEnabled: false,
      lists: [],
    });
    byAccount.set(accountId, projects);
  }
  return byAccount;
}

export async function startBasecampEmulator(options: BasecampEmulatorOptions = {}): Promise<BasecampEmulatorHandle> {
  const clientId = options.clientId ?? 'bc-client-id';
  const clientSecret = options.clientSecret ?? secretToken('bc_secret_');
  const redirectUri = options.redirectUri ?? 'http://127.0.0.1:8976/callback';
  const ttl = options.accessTokenTtlSeconds ?? 1_209_600;
  const pageSize = options.pageSize ?? 15;
  const rate = options.rateLimit ?? { limit: 50, windowMs: 10_000 };
  const grants = new GrantBook({ singleUseRefresh: false });
  const stats = grants.stats as BasecampStats;
  stats.legacyTokenRequests = 0;
  stats.missingUserAgent = 0;
  stats.refreshesWithRedirectUri = 0;
  stats.notModified = 0;
  stats.conditionalRequests = 0;
  const endpoints = new EndpointCounter();
  const clock = changeClock();
  /** Per URL (path and query) the last answer's ETag and when it last changed (ms, whole seconds). */
  const validators = new Map<string, { etag: string; lastModified: number }>();
  const inactive = new Set<number>();
  const expired = new Set<number>();
  const hiddenLists = new Set<number>();
  const window = new RateWindow(rate.limit, rate.windowMs);
  const accessExpiry = new Map<string, number>();
  const projects = buildProjects({
    clientId,
    clientSecret,
    redirectUri,
    accessTokenTtlSeconds: ttl,
    omitRefreshTokenOnRefresh: options.omitRefreshTokenOnRefresh ?? false,
    omitExpiresIn: options.omitExpiresIn ?? false,
    projectsPerAccount: options.projectsPerAccount ?? 3,
    listsPerProject: options.listsPerProject ?? 2,
    openTodosPerList: options.openTodosPerList ?? 7,
    completedTodosPerList: options.completedTodosPerList ?? 3,
    pageSize,
  });
  let outage = false;
  let base = '';

  function person(user: string): Person {
    const p = PEOPLE[user];
    if (!p) throw new HttpFailure(400, { error: 'unknown_user', error_description: `no such emulator user: ${user}` });
    return p;
  }

  function mintTokens(grant: Grant): { access: string; refresh: string } {
    const access = secretToken('BAhbB0kiAbB7', 48);
    grants.addAccessToken(access, grant, ttl);
    accessExpiry.set(access, Date.now() + ttl * 1000);
    const refresh = secretToken('BAhbB0kiAbR7', 48);
    grants.addRefreshToken(refresh, grant);
    return { access, refresh };
  }

  function tokenBody(access: string, refresh: string | null): Record<string, unknown> {
    const body: Record<string, unknown> = { access_token: access, token_type: 'Bearer' };
    if (!options.omitExpiresIn) body['expires_in'] = ttl;
    if (refresh !== null) body['refresh_token'] = refresh;
    return body;
  }

  function authorizePage(req: EmulatorRequest): EmulatorReply {
    const q = req.url.searchParams;
    const legacy = q.get('type') === 'web_server';
    if (!legacy && q.get('response_type') !== 'code')
      throw new HttpFailure(400, { error: 'unsupported_response_type' });
    if (q.get('client_id') !== clientId) throw new HttpFailure(400, { error: 'invalid_client' });
    if (q.get('redirect_uri') !== redirectUri) {
      throw new HttpFailure(400, { error: 'invalid_request', error_description: 'redirect_uri does not match' });
    }
    const target = new URL(redirectUri);
    const state = q.get('state');
    if (state !== null) target.searchParams.set('state', state);
    const deny = q.get('deny_as');
    if (deny) {
      target.searchParams.set('error', 'access_denied');
      return { status: 302, location: target.toString() };
    }
    const user = q.get('approve_as');
    if (!user) return { status: 200, html: consentHtml('Basecamp', Object.keys(PEOPLE), req.url) };
    person(user);
    target.searchParams.set('code', grants.issueCode({ user, extra: {} }, redirectUri));
    return { status: 302, location: target.toString() };
  }

  function tokenEndpoint(req: EmulatorRequest): EmulatorReply {
    const f = req.fields;
    if (f['type'] !== undefined) stats.legacyTokenRequests += 1;
    const kind =
      f['type'] === 'web_server' || f['grant_type'] === 'authorization_code'
        ? 'code'
        : f['type'] === 'refresh' || f['grant_type'] === 'refresh_token'
          ? 'refresh'
          : null;
    if (kind === null) throw new HttpFailure(400, { error: 'unsupported_grant_type' });
    if (kind === 'refresh' && f['redirect_uri'] !== undefined) stats.refreshesWithRedirectUri += 1;
    if (f['client_id'] !== clientId || f['client_secret'] !== clientSecret) {
      throw new HttpFailure(401, { error: 'invalid_client', error_description: 'Unknown client or wrong secret.' });
    }
    if (f['redirect_uri'] !== undefined && f['redirect_uri'] !== redirectUri) {
      throw new HttpFailure(400, { error: 'invalid_grant', error_description: 'redirect_uri does not match.' });
    }
    if (kind === 'code') {
      const redeemed = grants.redeemCode(f['code'] ?? '');
      if (!redeemed.ok) {
        throw new HttpFailure(400, {
          error: 'invalid_grant',
          error_description: 'The verification code is invalid, expired or already used.',
        });
      }
      const { access, refresh } = mintTokens(redeemed.grant);
      return { status: 200, json: tokenBody(access, refresh) };
    }
    const presented = f['refresh_token'] ?? '';
    const used = grants.useRefreshToken(presented);
    if (!used.ok) {
      // A refresh token whose authorization the user removed answers 401: the official SDK
      // (basecamp/basecamp-sdk, typescript/src/oauth/exchange.ts) reads any 401 from the token
      // endpoint as "auth_required". Launchpad's body for it is not documented; this one names no
      // RFC 6749 code, so only the status can tell the client that the grant is gone.
      throw new HttpFailure(401, { error: 'Your authorization has been revoked.' });
    }
    // Refresh tokens are long-lived and reusable: the same one comes back (or none at all).
    const access = secretToken('BAhbB0kiAbB7', 48);
    grants.addAccessToken(access, used.grant, ttl);
    accessExpiry.set(access, Date.now() + ttl * 1000);
    return { status: 200, json: tokenBody(access, options.omitRefreshTokenOnRefresh ? null : presented) };
  }

  // bc3-api sections/authentication.md: an expired or revoked access token is answered 401; the
  // client refreshes (Launchpad `type=refresh`) and tries again.
  function authenticate(req: EmulatorRequest): { grant: Grant; token: string } {
    const auth = grants.authenticate(req.bearer);
    if (!auth.ok) {
      const error =
        auth.reason === 'expired'
          ? 'OAuth token expired (old age). Refresh your token or acquire a new one.'
          : 'OAuth token is missing, invalid or revoked.';
      throw new HttpFailure(401, { error });
    }
    return { grant: auth.grant, token: req.bearer! };
  }

  // bc3-api README, "Handling errors / Rate limiting": 429 with Retry-After (seconds); the first
  // limit met is about 50 requests per 10 seconds per IP.
  function limit(): void {
    stats.apiRequests += 1;
    const wait = window.hit();
    stats.peakRequestsPerSecond = window.peakPerSecond;
    if (wait !== null) {
      stats.rateLimited += 1;
      throw new HttpFailure(429, { error: 'Too Many Requests' }, { 'retry-after': String(wait) });
    }
  }

  function authorizationJson(req: EmulatorRequest): EmulatorReply {
    const { grant, token } = authenticate(req);
    const p = person(grant.user);
    return {
      status: 200,
      json: {
        expires_at: new Date(accessExpiry.get(token) ?? Date.now()).toISOString(),
        identity: { id: p.id, first_name: p.first, last_name: p.last, email_address: p.email },
        accounts: p.accounts.map((a) => ({
          product: a.product,
          id: a.id,
          name: a.name,
          // basecamp/basecamp-sdk oauth/authorization-document.ts: `expired`, "Whether the account
          // subscription has expired" (sent only when true).
          ...(expired.has(a.id) ? { expired: true } : {}),
          href: a.product === 'bc3' ? `${base}/${a.id}` : `${base}/bcx/${a.id}/api/v1`,
          app_href: a.product === 'bc3' ? `https://3.basecamp.com/${a.id}` : `https://basecamp.com/${a.id}`,
        })),
      },
    };
  }

  function page<T>(req: EmulatorRequest, items: T[], render: (item: T) => unknown): EmulatorReply {
    const n = Math.max(1, Number(req.url.searchParams.get('page') ?? '1') || 1);
    const slice = items.slice((n - 1) * pageSize, n * pageSize);
    const headers: Record<string, string> = { 'x-total-count': String(items.length) };
    if (n * pageSize < items.length) {
      const next = new URL(`${base}${req.url.pathname}${req.url.search}`);
      next.searchParams.set('page', String(n + 1));
      headers['link'] = `<${next.toString()}>; rel="next"`;
    }
    return { status: 200, json: slice.map(render), headers };
  }

  function renderTodo(t: BasecampWireTodo, project: Project, list: { id: number; name: string }): unknown {
    return {
      id: t.id,
      status: 'active',
      visible_to_clients: false,
      created_at: t.updated_at,
      updated_at: t.updated_at,
      title: t.title,
      inherits_status: true,
      type: 'Todo',
      url: `${base}/${project.accountId}/buckets/${project.id}/todos/${t.id}.json`,
      app_url: t.app_url,
      parent: { id: list.id, title: list.name, type: 'Todolist' },
      bucket: { id: project.id, name: project.name, type: 'Project' },
      creator: { id: PEOPLE['jason']!.id, name: 'Jason Fried' },
      description: '',
      completed: t.completed,
      content: t.content,
      starts_on: null,
      due_on: t.due_on,
      assignees: t.assignees,
      completion_subscribers: [],
      comments_count: 0,
    };
  }

  // bc3-api README, "Handling errors / 404 Not Found": an item that is deleted or that this login
  // may not see (another account's, an unknown project) is 404, never 403.
  function api(req: EmulatorRequest): EmulatorReply {
    const m = /^\/(\d+)(\/.*)$/.exec(req.url.pathname);
    if (!m) throw new HttpFailure(404, { status: 404, error: 'Not Found' });
    const { grant } = authenticate(req);
    const accountId = Number(m[1]);
    const own = person(grant.user).accounts.some((a) => a.id === accountId && a.product === 'bc3');
    const list = projects.get(accountId);
    if (!own || !list) throw new HttpFailure(404, { status: 404, error: 'Not Found' });
    // bc3-api README, "404 Not Found": "Inactive account. 404 Not Found response with a `Reason:
    // Account Inactive` header. Due to an expired trial or account suspension. All API requests to
    // an inactive account will fail."
    if (inactive.has(accountId) || expired.has(accountId)) {
      throw new HttpFailure(404, { status: 404, error: 'Not Found' }, { reason: 'Account Inactive' });
    }
    const path = m[2]!;
    if (path === '/projects.json') {
      return page(req, list, (p) => ({
        id: p.id,
        status: 'active',
        name: p.name,
        description: '',
        purpose: 'topic',
        app_url: `https://3.basecamp.com/${accountId}/projects/${p.id}`,
        dock: [
          { id: p.id + 500_000, title: 'Message Board', name: 'message_board', enabled: true, position: 1 },
          {
            id: p.todosetId,
            title: 'To-dos',
            name: 'todoset',
            enabled: p.todosetEnabled,
            position: p.todosetEnabled ? 2 : null,
            url: `${base}/${accountId}/buckets/${p.id}/todosets/${p.todosetId}.json`,
          },
        ],
      }));
    }
    // bc3-api sections/todosets.md: the dock entry's `url` leads here; `todolists_url` leads on.
    const todoset = /^\/buckets\/(\d+)\/todosets\/(\d+)\.json$/.exec(path);
    if (todoset) {
      const project = list.find((p) => p.id === Number(todoset[1]) && p.todosetId === Number(todoset[2]));
      if (!project || !project.todosetEnabled) throw new HttpFailure(404, { status: 404, error: 'Not Found' });
      return {
        status: 200,
        json: {
          id: project.todosetId,
          status: 'active',
          type: 'Todoset',
          title: 'To-dos',
          name: 'To-dos',
          url: `${base}/${accountId}/buckets/${project.id}/todosets/${project.todosetId}.json`,
          app_url: `https://3.basecamp.com/${accountId}/buckets/${project.id}/todosets/${project.todosetId}`,
          bucket: { id: project.id, name: project.name, type: 'Project' },
          todolists_count: project.lists.length,
          todolists_url: `${base}/${accountId}/buckets/${project.id}/todosets/${project.todosetId}/todolists.json`,
        },
      };
    }
    const renderList = (
      project: Project,
      l: { id: number; name: string; todos: BasecampWireTodo[] },
      group: boolean,
    ): unknown => ({
      id: l.id,
      status: 'active',
      type: 'Todolist',
      title: l.name,
      name: l.name,
      completed: false,
      // sections/todolists.md: a list shows its completed ratio, so completing a to-do changes the index page too.
      completed_ratio: `${l.todos.filter((t) => t.completed).length}/${l.todos.length}`,
      url: `${base}/${accountId}/buckets/${project.id}/todolists/${l.id}.json`,
      app_url: `https://3.basecamp.com/${accountId}/buckets/${project.id}/todolists/${l.id}`,
      bucket: { id: project.id, name: project.name, type: 'Project' },
      todos_url: `${base}/${accountId}/buckets/${project.id}/todolists/${l.id}/todos.json`,
      // Top-level lists expose groups_url; groups expose group_position_url instead.
      ...(group
        ? { group_position_url: `${base}/${accountId}/buckets/${project.id}/todolists/groups/${l.id}/position.json` }
        : { groups_url: `${base}/${accountId}/buckets/${project.id}/todolists/${l.id}/groups.json` }),
    });
    const groups = /^\/buckets\/(\d+)\/todolists\/(\d+)\/groups\.json$/.exec(path);
    if (groups) {
      const project = list.find((p) => p.id === Number(groups[1]));
      const todolist = project?.lists.find((l) => l.id === Number(groups[2]));
      if (!project || !todolist) throw new HttpFailure(404, { status: 404, error: 'Not Found' });
      return page(req, todolist.groups, (g) => renderList(project, g, true));
    }
    const lists = /^\/buckets\/(\d+)\/todosets\/(\d+)\/todolists\.json$/.exec(path);
    if (lists) {
      const project = list.find((p) => p.id === Number(lists[1]) && p.todosetId === Number(lists[2]));
      if (!project || !project.todosetEnabled) throw new HttpFailure(404, { status: 404, error: 'Not Found' });
      return page(req, project.lists, (l) => renderList(project, l, false));
    }
    // bc3-api sections/recordings.md, "Get recordings": `GET /projects/recordings.json?type=Todo` lists
    // the account's recordings of one type across "all active projects visible to the current
    // user", `sort` by `created_at` (default) or `updated_at`, `direction` desc (default) or asc.
    if (path === '/projects/recordings.json') {
      if (req.url.searchParams.get('type') !== 'Todo') {
        throw new HttpFailure(400, { status: 400, error: 'type must be one of the recording types' });
      }
      const sortBy = req.url.searchParams.get('sort') === 'updated_at' ? 'updated_at' : 'created_at';
      const asc = req.url.searchParams.get('direction') === 'asc';
      const found = places().filter((p) => p.accountId === accountId && !hiddenLists.has(p.list.id));
      const rows = found.flatMap((p) => p.list.todos.map((t) => ({ t, p })));
      // The emulator keeps no creation time apart from updated_at; ids grow with creation.
      const key = (r: { t: BasecampWireTodo }): string =>
        sortBy === 'updated_at'
          ? `${r.t.updated_at}|${String(r.t.id).padStart(12, '0')}`
          : String(r.t.id).padStart(12, '0');
      rows.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0) * (asc ? 1 : -1));
      return page(req, rows, (r) => renderTodo(r.t, r.p.project, r.p.list));
    }
    const todos = /^\/buckets\/(\d+)\/todolists\/(\d+)\/todos\.json$/.exec(path);
    if (todos) {
      const project = list.find((p) => p.id === Number(todos[1]));
      const todolist = project?.lists.flatMap((l) => [l, ...l.groups]).find((l) => l.id === Number(todos[2]));
      if (!project || !todolist) throw new HttpFailure(404, { status: 404, error: 'Not Found' });
      // bc3-api README, "404 Not Found": "Inaccessible items. 404 Not Found response. Due to a
      // deleted item or insufficient permissions."
      if (hiddenLists.has(todolist.id)) throw new HttpFailure(404, { status: 404, error: 'Not Found' });
      const completed = req.url.searchParams.get('completed') === 'true';
      const items = todolist.todos.filter((t) => t.completed === completed);
      return page(req, items, (t) => renderTodo(t, project, todolist));
    }
    throw new HttpFailure(404, { status: 404, error: 'Not Found' });
  }

  /**
   * bc3-api README, "Using HTTP caching": an answer's validators, and 304 with no body when the
   * client's copy is current. If-None-Match wins over If-Modified-Since (RFC 9110 §13.2.2); ETags
   * compare weakly (§8.8.3.2), as Rails' weak ETags do.
   */
  function cached(req: EmulatorRequest, reply: EmulatorReply): EmulatorReply {
    if (reply.status !== 200 || !('json' in reply)) return reply;
    const headers = reply.headers ?? {};
    const key = `${req.url.pathname}${req.url.search}`;
    const digest = createHash('sha256')
      .update(JSON.stringify(reply.json))
      .update(`\n${headers['link'] ?? ''}\n${headers['x-total-count'] ?? ''}`)
      .digest('hex')
      .slice(0, 32);
    const etag = `W/"${digest}"`;
    let known = validators.get(key);
    if (known?.etag !== etag) {
      // A change never shares its Last-Modified second with the answer before it, so
      // If-Modified-Since alone still sees it.
      const second = Math.floor(clock() / 1000) * 1000;
      known = { etag, lastModified: Math.max(second, (known?.lastModified ?? 0) + 1000) };
      validators.set(key, known);
    }
    const lastModified = new Date(known.lastModified).toUTCString();
    const ifNoneMatch = req.headers['if-none-match'];
    const ifModifiedSince = req.headers['if-modified-since'];
    if (ifNoneMatch !== undefined || ifModifiedSince !== undefined) stats.conditionalRequests += 1;
    const weak = (tag: string): string => tag.trim().replace(/^W\//, '');
    const fresh =
      ifNoneMatch !== undefined
        ? ifNoneMatch.split(',').some((tag) => tag.trim() === '*' || weak(tag) === weak(etag))
        : ifModifiedSince !== undefined && Date.parse(ifModifiedSince) >= known.lastModified;
    if (fresh) {
      stats.notModified += 1;
      endpoints.hit('304');
      return { status: 304, headers: { etag, 'last-modified': lastModified } };
    }
    return { ...reply, headers: { ...headers, etag, 'last-modified': lastModified, 'cache-control': 'private' } };
  }

  interface Place {
    accountId: number;
    project: Project;
    list: { id: number; name: string; todos: BasecampWireTodo[] };
  }

  function places(): Place[] {
    const out: Place[] = [];
    for (const [accountId, ps] of projects)
      for (const project of ps)
        for (const l of project.lists) for (const list of [l, ...l.groups]) out.push({ accountId, project, list });
    return out;
  }

  function placeOfList(listId: string): Place {
    const place = places().find((p) => String(p.list.id) === listId);
    if (!place) throw new Error(`no Basecamp to-do list ${listId}`);
    return place;
  }

  function locate(id: string): Place & { todo: BasecampWireTodo } {
    for (const place of places()) {
      const todo = place.list.todos.find((t) => String(t.id) === id);
      if (todo) return { ...place, todo };
    }
    throw new Error(`no Basecamp to-do ${id}`);
  }

  const stamp = (todo: BasecampWireTodo): void => {
    todo.updated_at = new Date(clock()).toISOString();
  };
  let nextTodoId = 5_000_000;

  const mutate: TaskMutator = {
    taskIds: () => places().flatMap((p) => p.list.todos.map((t) => String(t.id))),
    containers: () => places().map((p) => String(p.list.id)),
    create(container, fields) {
      const { accountId, project, list } = placeOfList(container);
      const id = (nextTodoId += 1);
      const todo: BasecampWireTodo = {
        id,
        title: fields.title,
        content: fields.title,
        completed: false,
        due_on: fields.due ?? null,
        app_url: `https://3.basecamp.com/${accountId}/buckets/${project.id}/todos/${id}`,
        updated_at: '',
        assignees: [],
        accountName: project.name.replace(/ project \d+$/, ''),
        projectName: project.name,
      };
      stamp(todo);
      list.todos.push(todo);
      return String(id);
    },
    update(id, fields) {
      const { todo } = locate(id);
      if (fields.title !== undefined) {
        todo.title = fields.title;
        todo.content = fields.title;
      }
      if (fields.due !== undefined) todo.due_on = fields.due;
      stamp(todo);
    },
    complete(id) {
      const { todo } = locate(id);
      todo.completed = true;
      stamp(todo);
    },
    reopen(id) {
      const { todo } = locate(id);
      todo.completed = false;
      stamp(todo);
    },
    delete(id) {
      // Trashed to-dos leave every active listing (sections/todos.md: only `status=trashed` lists them).
      const { list, todo } = locate(id);
      list.todos.splice(list.todos.indexOf(todo), 1);
    },
    destinations(id) {
      const { accountId } = locate(id);
      return places()
        .filter((p) => p.accountId === accountId)
        .map((p) => String(p.list.id));
    },
    move(id, container) {
      const from = locate(id);
      const to = placeOfList(container);
      if (to.accountId !== from.accountId) throw new Error('Basecamp moves a to-do only within its account');
      from.list.todos.splice(from.list.todos.indexOf(from.todo), 1);
      from.todo.projectName = to.project.name;
      from.todo.app_url = `https://3.basecamp.com/${to.accountId}/buckets/${to.project.id}/todos/${from.todo.id}`;
      stamp(from.todo);
      to.list.todos.push(from.todo);
    },
  };

  const server = await startEmulatorServer((req) => {
    stats.requests += 1;
    const ua = req.headers['user-agent'];
    if (typeof ua !== 'string' || ua.trim() === '') {
      stats.missingUserAgent += 1;
      throw new HttpFailure(400, {
        error: 'Please include a User-Agent header naming your app and a contact, e.g. "MyApp (you@example.com)".',
      });
    }
    if (outage) throw new HttpFailure(503, { error: 'Basecamp is temporarily unavailable.' });
    const path = req.url.pathname;
    if (req.method === 'GET' && path === '/authorization/new') return authorizePage(req);
    if (req.method === 'POST' && path === '/authorization/token') return tokenEndpoint(req);
    limit();
    if (req.method === 'GET' && path === '/authorization.json') return authorizationJson(req);
    if (req.method === 'GET') {
      endpoints.hit(`GET ${path.replace(/^\/\d+\//, '/').replace(/\/\d+(?=[/.])/g, '/:id')}`);
      return cached(req, api(req));
    }
    throw new HttpFailure(404, { status: 404, error: 'Not Found' });
  });
  base = server.url;

  return {
    url: server.url,
    clientId,
    clientSecret,
    redirectUri,
    stats,
    consent: (authorizeUrl, opts) => approveConsent(authorizeUrl, opts),
    issueAuthorizationCode: ({ user }) => grants.issueCode({ user, extra: {} }, redirectUri),
    setOutage: (down) => {
      outage = down;
    },
    revokeAll: () => grants.revokeAll(),
    expireAccessTokens: () => grants.expireAccessTokens(),
    todosOf: (user) =>
      person(user)
        .accounts.flatMap((a) => projects.get(a.id) ?? [])
        .flatMap((p) => p.lists.flatMap((l) => [...l.todos, ...l.groups.flatMap((g) => g.todos)])),
    accountsOf: (user) =>
      person(user)
        .accounts.filter((a) => a.product === 'bc3')
        .map((a) => ({ id: a.id, name: a.name })),
    setAccountInactive: (accountId, on) => {
      if (on) inactive.add(accountId);
      else inactive.delete(accountId);
    },
    setAccountExpired: (accountId, on) => {
      if (on) expired.add(accountId);
      else expired.delete(accountId);
    },
    hideList: (accountId, projectIndex, listIndex) => {
      const project = projects.get(accountId)?.[projectIndex];
      const hidden = project?.lists[listIndex];
      if (!project || !hidden) throw new Error(`no list ${listIndex} in project ${projectIndex} of ${accountId}`);
      hiddenLists.add(hidden.id);
      return {
        accountName: project.name.replace(/ project \d+$/, ''),
        projectName: project.name,
        listName: hidden.name,
        todoIds: hidden.todos.map((t) => t.id),
      };
    },
    endpoints,
    mutate,
    inject: (fault) => server.inject(fault),
    clearFaults: () => server.clearFaults(),
    revokeAccessTokens: () => grants.revokeAccessTokens(),
    close: () => server.close(),
  };
}
