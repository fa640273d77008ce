import { createHash } from 'node:crypto';
import {
  GrantBook,
  HttpFailure,
  RateWindow,
  approveConsent,
  basicCredentials,
  changeClock,
  consentHtml,
  EndpointCounter,
  secretToken,
  startEmulatorServer,
  type EmulatorReply,
  type EmulatorRequest,
  type EmulatorStats,
  type Fault,
  type TaskMutator,
} from './emulator-kit';

/**
 * TickTick's Open API as users meet it (Dida365 is the same service on other
 * hosts, so one emulator serves both): authorization code with HTTP Basic
 * client auth, a ~174-day access token and no refresh token, lists and their
 * undone tasks, the hidden per-user inbox reachable as project `inbox`, completed
 * tasks only through `POST /open/v1/task/completed`, and the undocumented query
 * limit answered as a 500 with `exceed_query_limit`.
 *
 * No change feed (issue 22): the Open API (developer.ticktick.com/docs#/openapi) lists "Get User
 * Project", "Get Project With Data" and, on Dida365, "List Completed Tasks" by completion date; none
 * takes a "modified since" or answers a validator, so a refresh reads every list again. `mutateFor`
 * changes a user's tasks as the app would, stamping `modifiedTime`.
 */

export interface TicktickEmulatorOptions {
  clientId?: string;
  clientSecret?: string;
  /** Registered redirect URIs; the authorize endpoint refuses any other. */
  redirectUri?: string | string[];
  /** Seen in the wild: 14.7–15.0 million seconds. */
  accessTokenTtlSeconds?: number;
  /** Users report about 100 requests per minute; tests shorten the window. */
  rateLimit?: { limit: number; windowMs: number };
  /** How a limited request is answered: TickTick's 500 (default) or a plain 429 with Retry-After. */
  rateLimitStyle?: '500' | '429';
  /** Extra generated tasks in the "Reading list" list, to make fetches longer. */
  extraTasks?: number;
  /** Users whose inbox is empty (identity must fall back to their lists). */
  emptyInboxUsers?: string[];
  /** The service name on the consent page. */
  name?: string;
}

export interface TicktickStats extends EmulatorStats {
  /** Every request to /oauth/token, whatever its outcome. */
  tokenRequests: number;
}

export interface TicktickEmulatorHandle {
  /** Scripted failures (status matrix): see emulator-kit's Fault. */
  inject(fault: Fault): void;
  clearFaults(): void;
  /** The provider revokes every access token early (password change, admin action); refresh tokens live on. */
  revokeAccessTokens(): void;
  url: string;
  clientId: string;
  clientSecret: string;
  authorizeUrl: string;
  tokenUrl: string;
  apiUrl: string;
  /** Plays the user at the consent screen; returns where the browser is redirected. */
  consent(authorizeUrl: string, opts: { user: string; deny?: boolean }): Promise<string>;
  /** A code as if the user had consented with the first registered redirect URI. */
  issueAuthorizationCode(opts: { user: string; redirectUri?: string }): string;
  /** The inbox's real project id for a user (`inbox<number>`). */
  inboxIdOf(user: string): string;
  setOutage(down: boolean): void;
  /** Changes the query limit from now on: a fresh window, and the peak rate is measured afresh. */
  setRateLimit(limit: { limit: number; windowMs: number }): void;
  revokeAll(): void;
  expireAccessTokens(): void;
  readonly stats: TicktickStats;
  /** The bodies of every `POST /open/v1/task/completed`, in order. */
  readonly completedQueries: Array<{ startDate: unknown; endDate: unknown; projectIds: unknown[] | null }>;
  /** API requests per endpoint, e.g. `GET /project/:id/data`. */
  readonly endpoints: EndpointCounter;
  /** Changes one user's tasks behind the app's back; containers are project ids (the inbox's real id included). */
  mutateFor(user: string): TaskMutator;
  close(): Promise<void>;
}

interface WireTask {
  id: string;
  projectId: string;
  title: string;
  content: string;
  priority: number;
  status: number;
  completedTime?: string;
  dueDate?: string;
  startDate?: string;
  isAllDay: boolean;
  timeZone: string;
  sortOrder: number;
  modifiedTime: string;
  tags: string[];
  items: unknown[];
  kind: 'TEXT';
}

interface Project {
  id: string;
  name: string;
  color: string;
  sortOrder: number;
  closed: boolean;
  viewMode: 'list' | 'kanban';
  permission: 'write';
  kind: 'TASK';
}

interface UserData {
  inboxId: string;
  projects: Project[];
  /** Undone tasks by project: all `GET /project/{id}/data` returns. */
  tasks: Map<string, WireTask[]>;
  /** Completed tasks (status 2, with completedTime), answered only by `POST /task/completed`. */
  completed: WireTask[];
}

/** TickTick's wire format for instants: `2026-03-01T00:58:20.000+0000`. */
function wireDate(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '+0000');
}

function parseWireDate(value: unknown): number | null {
  if (typeof value !== 'string') return null;
  const ms = Date.parse(value.trim().replace(/([+-]\d{2})(\d{2})$/, '$1:$2'));
  return Number.isNaN(ms) ? null : ms;
}

function hex(seed: string, length: number): string {
  return createHash('sha1').update(seed).digest('hex').slice(0, length);
}

function userNumber(user: string): string {
  return String(100_000_000 + (parseInt(hex(`user:${user}`, 8), 16) % 900_000_000));
}

function task(user: string, projectId: string, n: number, fields: Partial<WireTask> & { title: string }): WireTask {
  return {
    id: hex(`${user}:${projectId}:${n}`, 24),
    projectId,
    content: '',
    priority: 0,
    status: 0,
    isAllDay: false,
    timeZone: 'Europe/Berlin',
    sortOrder: -1_099_511_627_776 * (n + 1),
    modifiedTime: '2026-05-02T08:15:00.000+0000',
    tags: [],
    items: [],
    kind: 'TEXT',
    ...fields,
  };
}

function buildUser(user: string, options: TicktickEmulatorOptions): UserData {
  const inboxId = `inbox${userNumber(user)}`;
  // Object ids start with a creation-time prefix; the fixed prefixes keep "Work" the oldest list.
  const project = (name: string, order: number, viewMode: Project['viewMode'] = 'list'): Project => ({
    id: `6${order}${hex(`${user}:${name}`, 22)}`,
    name,
    color: '#4772FA',
    sortOrder: order * 1_099_511_627_776,
    closed: false,
    viewMode,
    permission: 'write',
    kind: 'TASK',
  });
  const work = project('Work', 1, 'kanban');
  const home = project('Home', 2);
  const reading = project('Reading list', 3);
  const tasks = new Map<string, WireTask[]>();
  tasks.set(
    inboxId,
    options.emptyInboxUsers?.includes(user)
      ? []
      : [
          task(user, inboxId, 0, { title: 'Call the dentist' }),
          // All-day tasks are midnight in their own zone, written in UTC: this is 14 August in Shanghai.
          task(user, inboxId, 1, {
            title: 'Renew passport',
            priority: 5,
            dueDate: '2026-08-13T16:00:00.000+0000',
            startDate: '2026-08-13T16:00:00.000+0000',
            isAllDay: true,
            timeZone: 'Asia/Shanghai',
          }),
        ],
  );
  tasks.set(work.id, [
    task(user, work.id, 0, {
      title: 'Quarterly report',
      priority: 3,
      dueDate: '2026-11-24T10:00:00+0000',
      startDate: '2026-11-24T09:00:00+0000',
      timeZone: 'Europe/Berlin',
      content: 'Numbers from finance first',
    }),
    task(user, work.id, 1, { title: 'Review pull requests', priority: 1 }),
    task(user, work.id, 2, {
      title: 'Team offsite',
      priority: 5,
      dueDate: '2026-12-01T23:30:00+0000',
      timeZone: 'America/New_York',
    }),
  ]);
  tasks.set(home.id, [
    // Midnight of 10 March in Los Angeles (daylight time has begun): 07:00 UTC.
    task(user, home.id, 0, {
      title: 'Pay rent',
      priority: 3,
      dueDate: '2026-03-10T07:00:00.000+0000',
      isAllDay: true,
      timeZone: 'America/Los_Angeles',
    }),
    task(user, home.id, 1, { title: 'Fix the bike', priority: 0 }),
  ]);
  tasks.set(
    reading.id,
    Array.from({ length: options.extraTasks ?? 4 }, (_, i) =>
      task(user, reading.id, i, { title: `Chapter ${i + 1}`, priority: i % 2 === 0 ? 0 : 1 }),
    ),
  );
  const now = Date.now();
  const done = (projectId: string, n: number, title: string, agoMs: number): WireTask =>
    task(user, projectId, 100 + n, { title, status: 2, completedTime: wireDate(now - agoMs) });
  const completed = [
    done(inboxId, 0, 'Book the flights', 3_600_000),
    done(work.id, 1, 'Send the invoice', 2 * 86_400_000),
    // Finished a month ago: outside the window Tokentray asks for.
    done(home.id, 2, 'Water the plants', 30 * 86_400_000),
  ];
  return { inboxId, projects: [work, home, reading], tasks, completed };
}

export async function startTicktickEmulator(options: TicktickEmulatorOptions = {}): Promise<TicktickEmulatorHandle> {
  const clientId = options.clientId ?? `tt_${secretToken('', 9)}`;
  const clientSecret = options.clientSecret ?? secretToken('tts_', 18);
  const redirectUris =
    options.redirectUri === undefined
      ? ['http://127.0.0.1:8978/callback/ticktick']
      : Array.isArray(options.redirectUri)
        ? options.redirectUri
        : [options.redirectUri];
  const ttl = options.accessTokenTtlSeconds ?? 15_000_000;
  const book = new GrantBook({ singleUseRefresh: false, codeTtlSeconds: 600 });
  const users = new Map<string, UserData>();
  let rate = new RateWindow(options.rateLimit?.limit ?? 100, options.rateLimit?.windowMs ?? 60_000);
  let outage = false;
  let tokenRequests = 0;
  const completedQueries: TicktickEmulatorHandle['completedQueries'] = [];
  const name = options.name ?? 'TickTick';
  const endpoints = new EndpointCounter();
  const clock = changeClock();
  let createdCount = 0;

  const dataOf = (user: string): UserData => {
    let data = users.get(user);
    if (!data) {
      data = buildUser(user, options);
      users.set(user, data);
    }
    return data;
  };

  function authorize(req: EmulatorRequest): EmulatorReply {
    const q = req.url.searchParams;
    const redirectUri = q.get('redirect_uri') ?? '';
    // Like TickTick, a bad client or redirect is shown on the consent page, never redirected.
    if (q.get('client_id') !== clientId) return { status: 400, html: '<h1>Invalid client_id</h1>' };
    if (!redirectUris.includes(redirectUri)) return { status: 400, html: '<h1>Invalid redirect_uri</h1>' };
    const target = new URL(redirectUri);
    const state = q.get('state');
    if (state !== null) target.searchParams.set('state', state);
    if (q.get('response_type') !== 'code') {
      target.searchParams.set('error', 'unsupported_response_type');
      return { status: 302, location: target.toString() };
    }
    const scopes = (q.get('scope') ?? '').split(/\s+/).filter(Boolean);
    if (!scopes.includes('tasks:read')) {
      target.searchParams.set('error', 'invalid_scope');
      return { status: 302, location: target.toString() };
    }
    const deny = q.get('deny_as');
    if (deny !== null) {
      target.searchParams.set('error', 'access_denied');
      return { status: 302, location: target.toString() };
    }
    const user = q.get('approve_as');
    if (user === null) return { status: 200, html: consentHtml(name, ['alice', 'bob'], req.url) };
    target.searchParams.set('code', book.issueCode({ user, extra: { scope: scopes.join(' ') } }, redirectUri));
    return { status: 302, location: target.toString() };
  }

  function token(req: EmulatorRequest): EmulatorReply {
    tokenRequests += 1;
    // TickTick's token endpoint is a legacy Spring Security OAuth server: it compares the Basic
    // credentials undecoded (a client id `tt-app` sent form-encoded as `tt%2Dapp` is refused) and
    // answers Spring Security's own 401 (providers.md, TickTick; the body is Spring's standard
    // OAuth2 error, unverified against TickTick itself, whose docs show none).
    const client = basicCredentials(req.authorization, 'raw');
    if (!client || client.id !== clientId || client.secret !== clientSecret) {
      return {
        status: 401,
        json: { error: 'unauthorized', error_description: 'Full authentication is required to access this resource' },
      };
    }
    const grantType = req.fields['grant_type'];
    if (grantType !== 'authorization_code') {
      return {
        status: 400,
        json: { error: 'unsupported_grant_type', error_description: `Unsupported grant type: ${grantType ?? ''}` },
      };
    }
    const redeemed = book.redeemCode(req.fields['code'] ?? '');
    if (!redeemed.ok) {
      return { status: 400, json: { error: 'invalid_grant', error_description: `Invalid authorization code` } };
    }
    if (redeemed.redirectUri !== req.fields['redirect_uri']) {
      return { status: 400, json: { error: 'invalid_grant', error_description: 'Redirect URI mismatch.' } };
    }
    const access = secretToken('', 27);
    book.addAccessToken(access, redeemed.grant, ttl);
    return {
      status: 200,
      json: {
        access_token: access,
        token_type: 'bearer',
        expires_in: ttl,
        scope: redeemed.grant.extra['scope'] || 'tasks:read tasks:write',
      },
    };
  }

  function limited(): EmulatorReply | null {
    const wait = rate.hit();
    if (wait === null) return null;
    book.stats.rateLimited += 1;
    if (options.rateLimitStyle === '429') {
      return { status: 429, json: { error: 'too_many_requests' }, headers: { 'retry-after': String(wait) } };
    }
    // Undocumented by TickTick; the body as users report it (Hantick/ticktick-home-assistant#17:
    // `{'errorId': '…', 'errorCode': 'exceed_query_limit', 'errorMessage': 'exceed_query_limit', 'data': None}`).
    return {
      status: 500,
      json: {
        errorId: `${hex(String(Date.now()), 8)}@ticktick`,
        errorCode: 'exceed_query_limit',
        errorMessage: 'exceed_query_limit',
        data: null,
      },
    };
  }

  function mutateFor(user: string): TaskMutator {
    const data = dataOf(user);
    const containers = (): string[] => [data.inboxId, ...data.projects.map((p) => p.id)];
    const locate = (id: string): { task: WireTask; list: WireTask[] } => {
      for (const list of [...data.tasks.values(), data.completed]) {
        const task = list.find((t) => t.id === id);
        if (task) return { task, list };
      }
      throw new Error(`no TickTick task ${id}`);
    };
    const undone = (projectId: string): WireTask[] => {
      let list = data.tasks.get(projectId);
      if (!list) {
        list = [];
        data.tasks.set(projectId, list);
      }
      return list;
    };
    const stamp = (task: WireTask): void => {
      task.modifiedTime = wireDate(clock());
    };
    const dueFields = (due: string | null): Partial<WireTask> =>
      due === null
        ? { dueDate: undefined, isAllDay: false }
        : { dueDate: `${due}T00:00:00.000+0000`, isAllDay: true, timeZone: 'UTC' };
    return {
      taskIds: () => [...[...data.tasks.values()].flat(), ...data.completed].map((t) => t.id),
      containers,
      create(container, fields) {
        if (!containers().includes(container)) throw new Error(`no TickTick list ${container}`);
        const created = task(user, container, 10_000 + (createdCount += 1), {
          title: fields.title,
          ...dueFields(fields.due ?? null),
        });
        stamp(created);
        undone(container).push(created);
        return created.id;
      },
      update(id, fields) {
        const { task: t } = locate(id);
        if (fields.title !== undefined) t.title = fields.title;
        if (fields.due !== undefined) Object.assign(t, dueFields(fields.due));
        stamp(t);
      },
      complete(id) {
        const { task: t, list } = locate(id);
        if (t.status === 2) return;
        list.splice(list.indexOf(t), 1);
        Object.assign(t, { status: 2, completedTime: wireDate(Date.now()) });
        stamp(t);
        data.completed.push(t);
      },
      reopen(id) {
        const { task: t, list } = locate(id);
        if (t.status !== 2) return;
        list.splice(list.indexOf(t), 1);
        t.status = 0;
        delete t.completedTime;
        stamp(t);
        undone(t.projectId).push(t);
      },
      delete(id) {
        const { task: t, list } = locate(id);
        list.splice(list.indexOf(t), 1);
      },
      destinations: (id) => containers().filter((c) => c !== locate(id).task.projectId),
      move(id, container) {
        const { task: t, list } = locate(id);
        if (!containers().includes(container)) throw new Error(`no TickTick list ${container}`);
        t.projectId = container;
        stamp(t);
        if (t.status !== 2) {
          list.splice(list.indexOf(t), 1);
          undone(container).push(t);
        }
      },
    };
  }

  function api(req: EmulatorRequest, path: string): EmulatorReply {
    book.stats.apiRequests += 1;
    endpoints.hit(`${req.method} ${path.replace(/^\/project\/[^/]+\/data$/, '/project/:id/data')}`);
    const auth = book.authenticate(req.bearer);
    if (!auth.ok) {
      // developer.ticktick.com/docs#/openapi ("Authorization") documents the bearer token but no error
      // bodies: 401 with an RFC 6750-style `{error, error_description}` body is *unverified*, and the
      // client decides by status alone.
      return { status: 401, json: { error: 'unauthorized', error_description: 'Full authentication is required' } };
    }
    const over = limited();
    if (over) return over;
    const data = dataOf(auth.grant.user);
    if (req.method === 'GET' && path === '/project') return { status: 200, json: data.projects };
    const m = /^\/project\/([^/]+)\/data$/.exec(path);
    if (req.method === 'GET' && m) {
      const asked = decodeURIComponent(m[1]!);
      // The inbox answers only to its alias: asking for its real id is a 404, as users find out.
      if (asked === 'inbox') return { status: 200, json: { tasks: data.tasks.get(data.inboxId) ?? [], columns: [] } };
      const project = data.projects.find((p) => p.id === asked);
      if (!project) return { status: 404, json: { errorCode: 'project_not_found', errorMessage: 'Project not found' } };
      return { status: 200, json: { project, tasks: data.tasks.get(project.id) ?? [], columns: [] } };
    }
    // developer.dida365.com/docs#/openapi, "List Completed Tasks": POST /open/v1/task/completed with a
    // JSON object whose fields are all optional: projectIds (list), startDate and endDate (inclusive
    // bounds on completedTime, e.g. "2026-03-01T00:58:20.000+0000"); answers a Task array.
    if (req.method === 'POST' && path === '/task/completed') {
      let body: Record<string, unknown> = {};
      try {
        const parsed = JSON.parse(req.text || '{}') as unknown;
        if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) body = parsed as Record<string, unknown>;
      } catch {
        return { status: 400, json: { errorCode: 'param_error', errorMessage: 'Invalid request body' } };
      }
      const ids = Array.isArray(body['projectIds']) ? (body['projectIds'] as unknown[]) : null;
      const from = parseWireDate(body['startDate']);
      const to = parseWireDate(body['endDate']);
      const found = data.completed.filter((t) => {
        const at = parseWireDate(t.completedTime) ?? 0;
        return (
          (ids === null || ids.includes(t.projectId)) && (from === null || at >= from) && (to === null || at <= to)
        );
      });
      completedQueries.push({ startDate: body['startDate'], endDate: body['endDate'], projectIds: ids });
      return { status: 200, json: found };
    }
    return { status: 404, json: { errorCode: 'not_found', errorMessage: 'Resource not found' } };
  }

  const server = await startEmulatorServer((req) => {
    book.stats.requests += 1;
    if (outage) throw new HttpFailure(503, { error: 'service_unavailable' });
    const path = req.url.pathname;
    if (path === '/oauth/authorize' && req.method === 'GET') return authorize(req);
    if (path === '/oauth/token' && req.method === 'POST') return token(req);
    if (path.startsWith('/open/v1/')) return api(req, path.slice('/open/v1'.length));
    return { status: 404, json: { error: 'not_found' } };
  });

  return {
    url: server.url,
    clientId,
    clientSecret,
    authorizeUrl: `${server.url}/oauth/authorize`,
    tokenUrl: `${server.url}/oauth/token`,
    apiUrl: `${server.url}/open/v1`,
    consent: (authorizeUrl, opts) => approveConsent(authorizeUrl, opts),
    issueAuthorizationCode: ({ user, redirectUri }) =>
      book.issueCode({ user, extra: { scope: 'tasks:read tasks:write' } }, redirectUri ?? redirectUris[0]!),
    inboxIdOf: (user) => dataOf(user).inboxId,
    completedQueries,
    endpoints,
    mutateFor,
    setOutage: (down) => {
      outage = down;
    },
    setRateLimit: (limit) => {
      rate = new RateWindow(limit.limit, limit.windowMs);
    },
    revokeAll: () => book.revokeAll(),
    expireAccessTokens: () => book.expireAccessTokens(),
    get stats(): TicktickStats {
      return {
        ...book.stats,
        peakRequestsPerSecond: rate.peakPerSecond,
        tokenRequests,
      };
    },
    inject: (fault) => server.inject(fault),
    clearFaults: () => server.clearFaults(),
    revokeAccessTokens: () => book.revokeAccessTokens(),
    close: () => server.close(),
  };
}
