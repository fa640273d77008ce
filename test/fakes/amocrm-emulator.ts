import { randomUUID } from 'node:crypto';
import type { HttpClient, HttpRequest } from '../../electron/core/http/client';
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
 * amoCRM as ../shared/providers.md describes it: consent redirect with `code`,
 * `state` and `referer`, a JSON token endpoint that wants `redirect_uri` on
 * refresh too, JWT access tokens with `account_id`/`base_domain`/`api_domain`,
 * single-use refresh tokens (a reuse is recorded and answered 401 "Token has
 * been revoked"), problem+json errors without an `error` key, HAL task pages
 * with `_links.next` and 204 for an empty page, and 7 requests per second
 * (429 past it, 403 "IP blocked" after sustained abuse).
 *
 * The change feed (issue 22): GET /api/v4/tasks takes `filter[updated_at][from]` and
 * `filter[updated_at][to]` (Unix seconds, inclusive) and `filter[is_completed]`
 * (developers.kommo.com/reference/tasks-list; developers.amocrm.ru "Задачи", «Список задач»:
 * filter[updated_at] «можно передать массив вида filter[updated_at][from]=…&filter[updated_at][to]=…»),
 * and every task carries `updated_at` and `is_completed`. An empty list is 204 No Content, as every
 * amoCRM list answers. Kommo's limitations page (developers.kommo.com/docs/limitations) recommends
 * the `If-Modified-Since` header over "uncontrolled iteration through all data" without spelling
 * out the answer: here, when no task of the asked list changed after that date, the answer is 304
 * Not Modified with no body (RFC 9110 §15.4.5); otherwise the list as asked. A client must take
 * both 204 and 304 as "nothing changed". `mutate` changes tasks as a user in amoCRM would, each
 * stamping `updated_at`; a deleted task is simply gone.
 */

export interface AmocrmEmulatorOptions {
  /** The redirect URI registered for the integration. */
  redirectUri: string;
  accessTokenTtlSeconds?: number;
  /** Tasks in the account. */
  taskCount?: number;
  host?: string;
  requestsPerSecond?: number;
  /** 429 answers in a row before the emulator blocks the client with 403, like the real IP block. */
  blockAfterRateLimited?: number;
  /** The account's time zone (Settings → General), answered in `datetime_settings`; Europe/Moscow by default. */
  timeZone?: string;
}

export interface EmulatorHandle {
  /** Scripted failures (status matrix): see emulator-kit's Fault. */
  inject(fault: Fault): void;
  clearFaults(): void;
  /** The provider revokes every access token early (password change, admin action); refresh tokens live on. */
  revokeAccessTokens(): void;
  url: string;
  clientId: string;
  clientSecret: string;
  host: string;
  stats: EmulatorStats & { pagesServed: number; blocked: boolean; subdomainLookups: number };
  /** The account's time zone. */
  timeZone: string;
  /** The account limits API access to an allow-list of IP addresses that does not hold 127.0.0.1. */
  setIpAllowList(on: boolean): void;
  /**
   * The account's subdomain changes (Settings → General → account address). From then on a
   * request that names the old host in `x-emulated-host` is answered as for an account that does
   * not exist; tests route `https://{host}` to the emulator with that header (amoHostRouting).
   */
  renameAccount(newHost: string): void;
  /** Tasks created (POST /api/v4/tasks) or edited (PATCH /api/v4/tasks/{id}) through the API, by id. */
  written: Map<number, Record<string, unknown>>;
  /** API requests per endpoint (`GET /api/v4/tasks`), and `304` / `204` for the answers without a body. */
  readonly endpoints: EndpointCounter;
  /** Changes tasks behind the app's back; containers are responsible user ids (a task moves to another user). */
  readonly mutate: TaskMutator;
  /** Plays the user at the consent screen; returns the URL the browser is sent to. */
  consent(authorizeUrl: string, opts: { user: string; deny?: boolean }): Promise<string>;
  /** The code the integration's settings page shows (valid 20 minutes). */
  issueAuthorizationCode(opts: { user: string }): string;
  /** A long-lived token from a private integration's settings. */
  issueLongLivedToken(opts: { user: string; ttlSeconds: number }): string;
  setOutage(down: boolean): void;
  revokeAll(): void;
  expireAccessTokens(): void;
  /** Every access and refresh token this emulator issued, rotated-out ones included. */
  issuedTokens(): readonly string[];
  /**
   * Runs while a token request is being answered: `before` ahead of the grant (nothing spent
   * yet), `after` once the refresh token is spent and the answer is ready but not sent. Tests
   * stop or kill the requesting process there.
   */
  setTokenHooks(hooks: TokenHooks): void;
  /** Runs before an API request is answered (its path given): tests act while a client waits for it. */
  setApiHook(hook: ((path: string) => Promise<void> | void) | null): void;
  close(): Promise<void>;
}

export interface TokenHooks {
  before?: (grantType: string) => Promise<void> | void;
  after?: (grantType: string) => Promise<void> | void;
}

/** The amoCRM account id every emulated login belongs to (the `account_id` claim of its access tokens). */
export const ACCOUNT_ID = 31_337_001;
/**
 * Alice administers the account; Bob and Carol are sales managers, as most people who
 * connect amoCRM are. Only administrators may list users (developers.kommo.com/reference/
 * users-and-roles, "Users and roles"; ../shared/providers.md, "Roles matter").
 */
const USERS: Record<string, { id: number; name: string; admin: boolean }> = {
  alice: { id: 7_001, name: 'Alice Ivanova', admin: true },
  bob: { id: 7_002, name: 'Bob Smirnov', admin: false },
  carol: { id: 7_003, name: 'Carol Petrova', admin: false },
};
const ENTITY_TYPES = ['leads', 'contacts', 'companies', null] as const;
const TEXTS = [
  'Call back about the invoice',
  'Send the contract draft',
  'Prepare a quote for 40 seats',
  'Follow up after the demo',
  'Перезвонить по поводу счёта',
  'Отправить коммерческое предложение',
  'Check payment status',
  'Schedule onboarding call',
];

function b64url(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** amoCRM access tokens are JWTs; the signature is opaque to clients, so a random one is faithful enough. */
function amoJwt(claims: Record<string, unknown>): string {
  return `${b64url({ typ: 'JWT', alg: 'RS256' })}.${b64url(claims)}.${secretToken('', 32)}`;
}

function problem(status: number, title: string, hint: string): HttpFailure {
  return new HttpFailure(
    status,
    { hint, title, type: 'https://developers.amocrm.ru/v3/errors/OAuthProblemJson', status, detail: hint },
    { 'content-type': 'application/problem+json' },
  );
}

/** Seconds east of UTC of a time zone at an instant. */
function zoneOffsetSeconds(zone: string, atSeconds: number): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: zone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(new Date(atSeconds * 1000));
  const n = (t: string): number => Number(parts.find((p) => p.type === t)?.value ?? 0);
  return (Date.UTC(n('year'), n('month') - 1, n('day'), n('hour'), n('minute'), n('second')) / 1000 - atSeconds) | 0;
}

/** 23:59 of the account-local day `atSeconds` falls on, as a Unix time. */
export function endOfDayIn(zone: string, atSeconds: number): number {
  const offset = zoneOffsetSeconds(zone, atSeconds);
  const localDayStart = Math.floor((atSeconds + offset) / 86_400) * 86_400;
  return localDayStart + 23 * 3600 + 59 * 60 - offset;
}

/** The shared API server amoCRM names in the `api_domain` claim of its access tokens. */
export const SHARED_API_DOMAIN = 'api-b.amocrm.ru';

export async function startAmocrmEmulator(options: AmocrmEmulatorOptions): Promise<EmulatorHandle> {
  const clientId = randomUUID();
  const clientSecret = secretToken('amo_secret_', 32);
  let host = options.host ?? 'example.amocrm.ru';
  const ttl = options.accessTokenTtlSeconds ?? 86_400;
  const taskCount = options.taskCount ?? 120;
  const book = new GrantBook({ singleUseRefresh: true, codeTtlSeconds: 1200 });
  const rate = new RateWindow(options.requestsPerSecond ?? 7, 1000);
  const blockAfter = options.blockAfterRateLimited ?? 30;
  let outage = false;
  let limitedInARow = 0;
  const extraStats = { pagesServed: 0, blocked: false, subdomainLookups: 0 };
  const written = new Map<number, Record<string, unknown>>();
  const parseJson = (text: string): unknown => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return null;
    }
  };
  const now = Math.floor(Date.now() / 1000);
  const timeZone = options.timeZone ?? 'Europe/Moscow';
  const endpoints = new EndpointCounter();
  const clock = changeClock();
  /** Generated tasks changed (an object) or deleted (null) since the start, by index. */
  const changed = new Map<number, Record<string, unknown> | null>();
  /** Tasks created through `mutate`, after the generated ones (ids go on from theirs). */
  const createdTasks: Array<Record<string, unknown> | null> = [];
  /** Refs of the tasks that exist, in id order: a generated index, or -(k + 1) for createdTasks[k]; null after a change. */
  let liveRefs: number[] | null = null;
  let ipAllowList = false;

  const userOf = (name: string): { id: number; name: string; admin: boolean } => {
    const user = USERS[name];
    if (!user) throw new Error(`the amoCRM emulator has no user "${name}"`);
    return user;
  };

  function mintTokens(grant: Grant): { access: string; refresh: string } {
    const user = userOf(grant.user);
    const iat = Math.floor(Date.now() / 1000);
    const access = amoJwt({
      aud: clientId,
      jti: randomUUID(),
      iat,
      nbf: iat,
      exp: iat + ttl,
      sub: String(user.id),
      account_id: ACCOUNT_ID,
      base_domain: host.split('.').slice(1).join('.'),
      api_domain: SHARED_API_DOMAIN,
      scopes: ['crm', 'notifications'],
    });
    const refresh = secretToken('def50200', 48);
    book.addAccessToken(access, grant, ttl);
    book.addRefreshToken(refresh, grant);
    return { access, refresh };
  }

  function checkClient(fields: Record<string, string>): void {
    if (fields['client_id'] !== clientId || fields['client_secret'] !== clientSecret) {
      throw problem(401, 'Некорректный клиент', 'Client authentication failed');
    }
    if (fields['redirect_uri'] !== options.redirectUri) {
      throw problem(
        400,
        'Некорректный запрос',
        'The redirect URI does not match the one registered for the integration',
      );
    }
  }

  let hooks: TokenHooks = {};
  let apiHook: ((path: string) => Promise<void> | void) | null = null;

  async function token(req: EmulatorRequest): Promise<EmulatorReply> {
    await hooks.before?.(req.fields['grant_type'] ?? '');
    const reply = grantTokens(req);
    await hooks.after?.(req.fields['grant_type'] ?? '');
    return reply;
  }

  function grantTokens(req: EmulatorRequest): EmulatorReply {
    if (!String(req.headers['content-type'] ?? '').includes('application/json')) {
      throw problem(400, 'Некорректный запрос', 'The request body must be JSON');
    }
    checkClient(req.fields);
    const grantType = req.fields['grant_type'];
    let grant: Grant;
    if (grantType === 'authorization_code') {
      const result = book.redeemCode(req.fields['code'] ?? '');
      if (!result.ok) {
        const hint = {
          unknown: 'Cannot decrypt the authorization code',
          expired: 'Authorization code has expired',
          used: 'Authorization code has been revoked',
        }[result.reason];
        throw problem(400, 'Некорректный запрос', hint);
      }
      grant = result.grant;
    } else if (grantType === 'refresh_token') {
      const result = book.useRefreshToken(req.fields['refresh_token'] ?? '');
      if (!result.ok) {
        throw problem(
          401,
          'Некорректный запрос',
          result.reason === 'unknown' ? 'Cannot decrypt the refresh token' : 'Token has been revoked',
        );
      }
      grant = result.grant;
    } else {
      throw problem(
        400,
        'Некорректный запрос',
        'The authorization grant type is not supported by the authorization server',
      );
    }
    const { access, refresh } = mintTokens(grant);
    return {
      status: 200,
      json: { token_type: 'Bearer', expires_in: ttl, access_token: access, refresh_token: refresh },
    };
  }

  function authorize(req: EmulatorRequest): EmulatorReply {
    const q = req.url.searchParams;
    if (q.get('client_id') !== clientId) {
      return { status: 400, html: '<h1>Integration not found</h1>' };
    }
    const state = q.get('state') ?? '';
    const target = new URL(options.redirectUri);
    const approve = q.get('approve_as');
    const deny = q.get('deny_as');
    if (deny) {
      target.searchParams.set('error', 'access_denied');
      target.searchParams.set('state', state);
      return { status: 302, location: target.toString() };
    }
    if (!approve) return { status: 200, html: consentHtml('amoCRM', Object.keys(USERS), req.url) };
    userOf(approve);
    target.searchParams.set('code', book.issueCode({ user: approve, extra: { host } }));
    target.searchParams.set('state', state);
    target.searchParams.set('referer', host);
    target.searchParams.set('platform', '1');
    target.searchParams.set('client_id', clientId);
    return { status: 302, location: target.toString() };
  }

  function rateGate(): void {
    // developers.amocrm.ru, "API errors": 403 when the account is blocked for repeatedly exceeding
    // the requests-per-second limit (and code 113, access from this IP prohibited).
    if (extraStats.blocked) {
      throw new HttpFailure(
        403,
        {
          title: 'Forbidden',
          type: 'https://httpstatus.es/403',
          status: 403,
          detail: 'Account is blocked for repeatedly exceeding the request limit from this IP',
        },
        { 'content-type': 'application/problem+json' },
      );
    }
    const wait = rate.hit();
    book.stats.peakRequestsPerSecond = rate.peakPerSecond;
    if (wait === null) {
      limitedInARow = 0;
      return;
    }
    book.stats.rateLimited += 1;
    limitedInARow += 1;
    if (limitedInARow >= blockAfter) extraStats.blocked = true;
    throw new HttpFailure(429, { title: 'Too Many Requests', status: 429 }, { 'retry-after': String(wait) });
  }

  function taskAt(i: number): Record<string, unknown> {
    const users = Object.values(USERS);
    const entity = ENTITY_TYPES[i % ENTITY_TYPES.length]!;
    return {
      id: 90_000_000 + i,
      created_by: users[i % users.length]!.id,
      updated_by: users[(i + 1) % users.length]!.id,
      created_at: now - 86_400 * 30 + i,
      updated_at: now - (i % 5000) * 60,
      responsible_user_id: users[(i * 7) % users.length]!.id,
      group_id: 0,
      entity_id: entity ? 20_000_000 + (i % 400) : null,
      entity_type: entity,
      duration: 0,
      is_completed: i % 4 === 0,
      task_type_id: (i % 3) + 1,
      text: `${TEXTS[i % TEXTS.length]!} #${i + 1}`,
      result: [],
      // developers.amocrm.ru, "Tasks", complete_till: a Unix time; 23:59 in the account's time zone
      // is shown as "All day" («Весь день»). Every fifth task is such an all-day task.
      complete_till:
        i % 5 === 2
          ? endOfDayIn(timeZone, now + (i % 60) * 86_400 - 20 * 86_400)
          : now + (i % 60) * 86_400 - 20 * 86_400,
      account_id: ACCOUNT_ID,
      _links: { self: { href: `https://${host}/api/v4/tasks/${90_000_000 + i}` } },
    };
  }

  const GENERATED_FIRST_ID = 90_000_000;

  function refs(): number[] {
    if (liveRefs === null) {
      const out: number[] = [];
      for (let i = 0; i < taskCount; i += 1) if (changed.get(i) !== null) out.push(i);
      createdTasks.forEach((t, k) => {
        if (t !== null) out.push(-(k + 1));
      });
      liveRefs = out;
    }
    return liveRefs;
  }

  function taskOf(ref: number): Record<string, unknown> {
    if (ref < 0) return createdTasks[-ref - 1]!;
    return changed.get(ref) ?? taskAt(ref);
  }

  /** updated_at and is_completed without building the task: a 100,000-task filter stays cheap. */
  function facts(ref: number): { updatedAt: number; completed: boolean } {
    if (ref >= 0 && !changed.has(ref)) return { updatedAt: now - (ref % 5000) * 60, completed: ref % 4 === 0 };
    const t = taskOf(ref);
    return { updatedAt: Number(t['updated_at']), completed: t['is_completed'] === true };
  }

  function refOfId(id: string): number {
    const n = Number(id) - GENERATED_FIRST_ID;
    const ref = n < taskCount ? n : -(n - taskCount + 1);
    const exists = ref >= 0 ? ref < taskCount && changed.get(ref) !== null : createdTasks[-ref - 1] != null;
    if (!Number.isInteger(n) || n < 0 || !exists) throw new Error(`no amoCRM task ${id}`);
    return ref;
  }

  function change(id: string, fields: Record<string, unknown>): void {
    const ref = refOfId(id);
    const next = { ...taskOf(ref), ...fields, updated_at: Math.floor(clock() / 1000) };
    if (ref >= 0) changed.set(ref, next);
    else createdTasks[-ref - 1] = next;
  }

  /** A day as amoCRM's all-day due: 23:59 of that day in the account's time zone. */
  const dueOf = (day: string): number => endOfDayIn(timeZone, Date.parse(`${day}T12:00:00Z`) / 1000);

  const mutate: TaskMutator = {
    taskIds: () => refs().map((ref) => String(taskOf(ref)['id'])),
    containers: () => Object.values(USERS).map((u) => String(u.id)),
    create(container, fields) {
      const at = Math.floor(clock() / 1000);
      const id = GENERATED_FIRST_ID + taskCount + createdTasks.length;
      createdTasks.push({
        id,
        created_by: USERS['alice']!.id,
        updated_by: USERS['alice']!.id,
        created_at: at,
        updated_at: at,
        responsible_user_id: Number(container),
        group_id: 0,
        entity_id: null,
        entity_type: null,
        duration: 0,
        is_completed: false,
        task_type_id: 1,
        text: fields.title,
        result: [],
        complete_till: fields.due ? dueOf(fields.due) : null,
        account_id: ACCOUNT_ID,
        _links: { self: { href: `https://${host}/api/v4/tasks/${id}` } },
      });
      liveRefs = null;
      return String(id);
    },
    update(id, fields) {
      change(id, {
        ...(fields.title !== undefined ? { text: fields.title } : {}),
        ...(fields.due !== undefined ? { complete_till: fields.due === null ? null : dueOf(fields.due) } : {}),
      });
    },
    complete: (id) => change(id, { is_completed: true, result: { text: 'Done' } }),
    reopen: (id) => change(id, { is_completed: false, result: [] }),
    delete(id) {
      const ref = refOfId(id);
      if (ref >= 0) changed.set(ref, null);
      else createdTasks[-ref - 1] = null;
      liveRefs = null;
    },
    destinations(id) {
      const current = String(taskOf(refOfId(id))['responsible_user_id']);
      return Object.values(USERS)
        .map((u) => String(u.id))
        .filter((u) => u !== current);
    },
    move: (id, container) => change(id, { responsible_user_id: Number(container) }),
  };

  /**
   * GET /api/v4/tasks with its `filter[updated_at]`, `filter[is_completed]` and `If-Modified-Since`
   * (see the header comment for where each is documented).
   */
  function taskList(req: EmulatorRequest, page: number, limit: number): EmulatorReply {
    const q = req.url.searchParams;
    const bound = (name: string): number | null => {
      const text = q.get(name);
      if (text === null) return null;
      const value = Number(text);
      if (!Number.isInteger(value)) {
        throw new HttpFailure(400, { title: 'Bad Request', status: 400, detail: `${name} must be a Unix time` });
      }
      return value;
    };
    const from = bound('filter[updated_at][from]');
    const to = bound('filter[updated_at][to]');
    const completedText = q.get('filter[is_completed]');
    const completed = completedText === null ? null : completedText === '1' || completedText === 'true';
    const imsText = req.headers['if-modified-since'];
    const ims = imsText === undefined ? null : Math.floor(Date.parse(imsText) / 1000);
    const pristine = changed.size === 0 && createdTasks.length === 0;
    if (pristine && from === null && to === null && completed === null && ims === null) {
      const start = (page - 1) * limit;
      if (start >= taskCount) {
        endpoints.hit('204');
        return { status: 204 };
      }
      const tasks = [];
      for (let i = start; i < Math.min(taskCount, start + limit); i += 1) tasks.push(taskAt(i));
      return listPage(page, limit, tasks, start + limit < taskCount);
    }
    const matching = refs().filter((ref) => {
      const f = facts(ref);
      return (
        (from === null || f.updatedAt >= from) &&
        (to === null || f.updatedAt <= to) &&
        (completed === null || f.completed === completed)
      );
    });
    if (ims !== null && Number.isFinite(ims) && !matching.some((ref) => facts(ref).updatedAt > ims)) {
      endpoints.hit('304');
      return { status: 304 };
    }
    const start = (page - 1) * limit;
    if (start >= matching.length) {
      endpoints.hit('204');
      return { status: 204 };
    }
    const tasks = matching.slice(start, start + limit).map(taskOf);
    return listPage(page, limit, tasks, start + limit < matching.length);
  }

  function listPage(page: number, limit: number, tasks: unknown[], more: boolean): EmulatorReply {
    extraStats.pagesServed += 1;
    const self = `https://${host}/api/v4/tasks?page=${page}&limit=${limit}`;
    return {
      status: 200,
      headers: { 'content-type': 'application/hal+json' },
      json: {
        _page: page,
        _links: more
          ? { self: { href: self }, next: { href: `https://${host}/api/v4/tasks?page=${page + 1}&limit=${limit}` } }
          : { self: { href: self } },
        _embedded: { tasks },
      },
    };
  }

  function api(req: EmulatorRequest): EmulatorReply {
    book.stats.apiRequests += 1;
    endpoints.hit(`${req.method} ${req.url.pathname.replace(/\/\d+$/, '/:id')}`);
    if (ipAllowList) {
      // amocrm.com/developers/content/api/errors, "Responses during authorization": code 113, 403,
      // "Access to this account is prohibited from your IP address", when the account's security
      // settings filter API access by an allow-list ("whitelist") of IP addresses.
      throw new HttpFailure(
        403,
        {
          title: 'Forbidden',
          type: 'https://httpstatus.es/403',
          status: 403,
          detail: 'Access to this account is prohibited from your IP address',
          error_code: 113,
        },
        { 'content-type': 'application/problem+json' },
      );
    }
    rateGate();
    const auth = book.authenticate(req.bearer);
    if (!auth.ok) {
      // A missing, expired or revoked access token (developers.amocrm.ru, "OAuth 2.0"; API errors are
      // problem+json like the token endpoint's).
      throw new HttpFailure(
        401,
        { title: 'Unauthorized', type: 'https://httpstatus.es/401', status: 401, detail: 'Unauthorized' },
        { 'content-type': 'application/problem+json' },
      );
    }
    const user = userOf(auth.grant.user);
    const path = req.url.pathname;
    const page = Math.max(1, Number(req.url.searchParams.get('page') ?? '1') || 1);
    const limit = Math.min(250, Math.max(1, Number(req.url.searchParams.get('limit') ?? '50') || 50));
    if (path === '/api/v4/account') {
      return {
        status: 200,
        json: {
          // developers.amocrm.ru / developers.kommo.com, "Account parameters" (GET /api/v4/account):
          // answered for every user, administrator or not.
          id: ACCOUNT_ID,
          name: 'Example Trading',
          subdomain: host.split('.')[0],
          created_at: now - 400 * 86_400,
          created_by: USERS['alice']!.id,
          updated_at: now - 86_400,
          updated_by: USERS['alice']!.id,
          current_user_id: user.id,
          country: 'RU',
          currency: 'RUB',
          customers_mode: 'disabled',
          is_unsorted_on: true,
          is_loss_reason_enabled: true,
          is_helpbot_enabled: false,
          is_technical_account: false,
          contact_name_display_order: 1,
          // "Account parameters", with=datetime_settings: the account's date and time settings.
          ...(req.url.searchParams.get('with')?.split(',').includes('datetime_settings')
            ? {
                _embedded: {
                  datetime_settings: {
                    date_pattern: 'd.m.Y H:i',
                    short_date_pattern: 'd.m.Y',
                    short_time_pattern: 'H:i',
                    date_format: 'd.m.Y',
                    time_format: 'H:i:s',
                    timezone: timeZone,
                    timezone_offset: (() => {
                      const off = zoneOffsetSeconds(timeZone, now);
                      const abs = Math.abs(off);
                      return `${off < 0 ? '-' : '+'}${String(Math.floor(abs / 3600)).padStart(2, '0')}:${String(Math.floor((abs % 3600) / 60)).padStart(2, '0')}`;
                    })(),
                  },
                },
              }
            : {}),
          _links: { self: { href: `https://${host}/api/v4/account` } },
        },
      };
    }
    if (path === '/api/v4/users') {
      if (!user.admin) {
        throw new HttpFailure(
          403,
          {
            title: 'Forbidden',
            type: 'https://httpstatus.es/403',
            status: 403,
            detail: 'Insufficient rights to call this method',
          },
          { 'content-type': 'application/problem+json' },
        );
      }
      const all = Object.values(USERS);
      const slice = all.slice((page - 1) * limit, page * limit);
      if (slice.length === 0) return { status: 204 };
      const more = page * limit < all.length;
      return {
        status: 200,
        json: {
          _total_items: all.length,
          _page: page,
          _links: more ? { next: { href: `https://${host}/api/v4/users?page=${page + 1}&limit=${limit}` } } : {},
          _embedded: {
            users: slice.map((u) => ({
              id: u.id,
              name: u.name,
              email: `${u.name.split(' ')[0]!.toLowerCase()}@example.com`,
            })),
          },
        },
      };
    }
    // amoCRM API v4, "Tasks": POST /api/v4/tasks takes an array of tasks (text and complete_till
    // required) and answers their new ids under _embedded.tasks with request_id; PATCH
    // /api/v4/tasks/{id} takes one object and answers { id, updated_at }.
    if (path === '/api/v4/tasks' && req.method === 'POST') {
      const items = parseJson(req.text);
      if (
        !Array.isArray(items) ||
        items.some((t) => !t || typeof t !== 'object' || !('text' in t) || !('complete_till' in t))
      )
        throw new HttpFailure(400, {
          title: 'Bad Request',
          status: 400,
          detail: 'Request validation failed',
          'validation-errors': [],
        });
      const created = (items as Array<Record<string, unknown>>).map((t, i) => {
        const id = 95_000_000 + written.size;
        written.set(id, { ...t, id });
        return {
          id,
          request_id: String(t['request_id'] ?? i),
          _links: { self: { href: `https://${host}/api/v4/tasks/${id}` } },
        };
      });
      return {
        status: 200,
        json: { _links: { self: { href: `https://${host}/api/v4/tasks` } }, _embedded: { tasks: created } },
      };
    }
    const one = /^\/api\/v4\/tasks\/(\d+)$/.exec(path);
    if (one && req.method === 'PATCH') {
      const id = Number(one[1]);
      const patch = parseJson(req.text);
      if (!patch || typeof patch !== 'object' || Array.isArray(patch))
        throw new HttpFailure(400, { title: 'Bad Request', status: 400, detail: 'Request validation failed' });
      written.set(id, { ...(written.get(id) ?? {}), ...(patch as Record<string, unknown>), id });
      return {
        status: 200,
        json: {
          id,
          updated_at: Math.floor(Date.now() / 1000),
          _links: { self: { href: `https://${host}/api/v4/tasks/${id}` } },
        },
      };
    }
    if (path === '/api/v4/tasks' && req.method === 'GET') return taskList(req, page, limit);
    throw new HttpFailure(404, { title: 'Not Found', status: 404 });
  }

  /**
   * The shared API server (amocrm/amocrm-api-php, AmoCRMOAuth::getAccountDomainByRefreshToken and
   * examples/get_account_subdomain.php): `GET https://{api_domain}/oauth2/account/current/subdomain`
   * with `X-Refresh-Token: {refresh_token}` answers the account's current address as
   * `{ id, subdomain, domain, top_level_domain }`; the refresh token is not spent.
   */
  function sharedApi(req: EmulatorRequest): EmulatorReply {
    if (req.url.pathname !== '/oauth2/account/current/subdomain' || req.method !== 'GET') {
      throw new HttpFailure(404, { title: 'Not Found', status: 404 });
    }
    const refreshToken = req.headers['x-refresh-token'];
    if (typeof refreshToken !== 'string' || book.peekRefreshToken(refreshToken) === null) {
      throw problem(401, 'Unauthorized', 'Refresh token is invalid');
    }
    const [subdomain, ...rest] = host.split('.');
    return {
      status: 200,
      json: { id: ACCOUNT_ID, subdomain, domain: host, top_level_domain: rest[rest.length - 1] ?? 'ru' },
    };
  }

  /**
   * The OAuth site (amocrm/amocrm-api-php, README "Работа в случае смены субдомена аккаунта",
   * AmoCRMOAuth::getAccountDomain): `GET https://www.amocrm.ru/oauth2/account/subdomain` (Kommo:
   * www.kommo.com) with `Authorization: Bearer {access_token}` answers the token's account as
   * `{ id, subdomain, domain, top_level_domain }`; an unknown token is a 401 problem+json.
   */
  function oauthSite(req: EmulatorRequest): EmulatorReply {
    if (req.url.pathname !== '/oauth2/account/subdomain' || req.method !== 'GET') {
      throw new HttpFailure(404, { title: 'Not Found', status: 404 });
    }
    if (!book.authenticate(req.bearer).ok) {
      throw new HttpFailure(
        401,
        { title: 'Unauthorized', type: 'https://httpstatus.es/401', status: 401, detail: 'Unauthorized' },
        { 'content-type': 'application/problem+json' },
      );
    }
    extraStats.subdomainLookups += 1;
    const [subdomain, ...rest] = host.split('.');
    return {
      status: 200,
      json: { id: ACCOUNT_ID, subdomain, domain: host, top_level_domain: rest[rest.length - 1] ?? 'ru' },
    };
  }

  const server = await startEmulatorServer((req) => {
    book.stats.requests += 1;
    if (outage) throw new HttpFailure(503, { title: 'Service Unavailable', status: 503 });
    const asked = req.headers['x-emulated-host'];
    if (typeof asked === 'string') {
      if (asked === SHARED_API_DOMAIN) return sharedApi(req);
      if (asked === 'www.amocrm.ru' || asked === 'www.kommo.com') return oauthSite(req);
      if (asked !== host) {
        // amocrm.com/developers/content/api/errors, "Responses during authorization": code 101,
        // 401, "a request to a non-existent account (subdomain)" — what the old address answers.
        throw new HttpFailure(
          401,
          {
            title: 'Unauthorized',
            type: 'https://httpstatus.es/401',
            status: 401,
            detail: 'Account not found',
            error_code: 101,
          },
          { 'content-type': 'application/problem+json' },
        );
      }
    }
    if (req.url.pathname === '/oauth') return authorize(req);
    if (req.url.pathname === '/oauth2/access_token' && req.method === 'POST') return token(req);
    if (req.url.pathname.startsWith('/api/v4/')) {
      const hook = apiHook;
      return hook ? Promise.resolve(hook(req.url.pathname)).then(() => api(req)) : api(req);
    }
    throw new HttpFailure(404, { title: 'Not Found', status: 404 });
  });

  const stats = new Proxy(book.stats, {
    get: (target, key: string) =>
      key in extraStats ? extraStats[key as keyof typeof extraStats] : target[key as keyof EmulatorStats],
  }) as EmulatorHandle['stats'];

  return {
    url: server.url,
    clientId,
    clientSecret,
    get host() {
      return host;
    },
    renameAccount: (newHost) => {
      host = newHost;
    },
    stats,
    timeZone,
    setIpAllowList: (on) => {
      ipAllowList = on;
    },
    written,
    endpoints,
    mutate,
    consent: approveConsent,
    issueAuthorizationCode: ({ user }) => {
      userOf(user);
      return book.issueCode({ user, extra: { host } });
    },
    issueLongLivedToken: ({ user, ttlSeconds }) => {
      userOf(user);
      const iat = Math.floor(Date.now() / 1000);
      const token = amoJwt({
        aud: clientId,
        jti: randomUUID(),
        iat,
        nbf: iat,
        exp: iat + ttlSeconds,
        sub: String(USERS[user]!.id),
        account_id: ACCOUNT_ID,
        base_domain: 'amocrm.ru',
        api_domain: SHARED_API_DOMAIN,
        scopes: ['crm'],
      });
      book.addAccessToken(token, { user, extra: { host } }, ttlSeconds);
      return token;
    },
    setOutage: (down) => {
      outage = down;
    },
    revokeAll: () => book.revokeAll(),
    expireAccessTokens: () => book.expireAccessTokens(),
    issuedTokens: () => book.issued,
    setTokenHooks: (next) => {
      hooks = next;
    },
    setApiHook: (next) => {
      apiHook = next;
    },
    inject: (fault) => server.inject(fault),
    clearFaults: () => server.clearFaults(),
    revokeAccessTokens: () => book.revokeAccessTokens(),
    close: () => server.close(),
  };
}

/**
 * An HttpClient that sends amoCRM's real addresses (`https://example.amocrm.ru/…`,
 * `https://api-b.amocrm.ru/…`) to the emulator, naming the host it was meant for in
 * `x-emulated-host`: tests of the account host itself (a changed subdomain) run without the
 * --api-url override that makes the host irrelevant.
 */
export function amoHostRouting(http: HttpClient, emulatorUrl: string): HttpClient {
  const route = <R extends HttpRequest>(req: R): R => {
    const url = new URL(req.url);
    if (url.protocol !== 'https:' || !/\.(amocrm\.ru|amocrm\.com|kommo\.com)$/.test(url.hostname)) return req;
    return {
      ...req,
      url: `${emulatorUrl}${url.pathname}${url.search}`,
      headers: { ...(req.headers ?? {}), 'x-emulated-host': url.hostname },
    };
  };
  return { send: (req) => http.send(route(req)), api: (req) => http.api(route(req)) };
}
