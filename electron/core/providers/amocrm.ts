/**
 * amoCRM (Russia) and Kommo (international): one platform on two domains.
 *
 * What sets it apart (../shared/providers.md):
 * - Each customer account lives on its own host (`example.amocrm.ru`); the
 *   redirect names it in `referer`, and both the token endpoint and the API
 *   sit on that host. `tokentray provider set amocrm --api-url URL` replaces
 *   `https://{host}` for both (self-hosted proxies, the emulator).
 * - The authorize URL takes no redirect_uri (the registered one is used), but
 *   the token request must repeat it, on refresh too. JSON body.
 * - Refresh tokens are single-use: the refresher's cross-process lock exists
 *   for this provider above all.
 * - Token errors are problem+json without an `error` key; only a dead refresh
 *   token means "reconnect", a wrong client secret is a configuration error.
 * - 7 requests per second per integration, and bursts get the IP blocked.
 */
import { z } from 'zod';
import type { Task } from '../../shared/models';
import { TokentrayError, safeDetail } from '../errors';
import { allDayDue, calendarDayIn, clockIn, timedDue, validTimeZone } from '../tasks/due-date';
import type { HttpClient, HttpResponse, TemporaryRefusal } from '../http/client';
import { decodeJwt } from '../oauth/jwt';
import { isHostName } from '../oauth/callback';
import { addPkceChallenge, parseStandardTokenResponse } from '../oauth/standard';
import type {
  AccountContext,
  Grant,
  ProviderContext,
  ProviderDefinition,
  StoredTokens,
  TokenErrorClassification,
} from './types';

// GET /api/v4/tasks and /api/v4/users take limit "Максимум – 250" (amocrm.ru/developers/content/
// crm_platform/tasks-api, "Список задач").
const PAGE_LIMIT = 250;
/**
 * amoCRM documents 7 requests per second per integration; past it 429, then an IP block
 * (developers.kommo.com/docs/limitations, "Requests and IP block").
 */
const REQUESTS_PER_SECOND = 7;
/** How long to leave an IP block alone before trying again: amoCRM does not say, blocks last minutes. */
const BLOCK_BACKOFF_MS = 10 * 60_000;
/** A rights refusal on something this login read before: worth asking again soon, without holding off others. */
const RIGHTS_RECHECK_MS = 60_000;
/**
 * The account hosts amoCRM's redirect may name in `referer`; the client secret is posted to
 * `https://{referer}/oauth2/access_token` (developers.amocrm.ru, "OAuth 2.0: step 2, the
 * authorization code exchange"), so any other host is refused unless the user set
 * --token-url/--api-url for the provider themselves.
 */
const ACCOUNT_DOMAINS = ['amocrm.ru', 'amocrm.com', 'kommo.com'];

/** True for `example.amocrm.ru`-style hosts under one of amoCRM's/Kommo's own domains (no port). */
export function isAmoAccountHost(host: string): boolean {
  const h = host.toLowerCase();
  if (!isHostName(h) || h.includes(':')) return false;
  return ACCOUNT_DOMAINS.some((d) => h.endsWith(`.${d}`));
}

/**
 * amoCRM's documented refusal of a right: problem+json whose detail reads "Insufficient rights
 * to call this method" (developers.amocrm.ru, "Users API", GET /api/v4/users: 403 "Не хватает
 * прав для вызова данного метода", Content-Type application/problem+json).
 */
const RIGHTS_REFUSAL = /insufficient rights|не хватает прав|недостаточно прав/i;
/**
 * Code 113: "Access to this account is prohibited from your IP address", which amoCRM also
 * answers when the account limits API access to an allow-list of IP addresses
 * (amocrm.com/developers/content/api/errors, "Responses during authorization": 113, 403).
 */
const IP_REFUSAL = /\b113\b|ip address|ip-адрес|your ip|вашего ip|\bip\b/i;
/**
 * "Account blocked for repeatedly exceeding the requests-per-second limit" (developers.kommo.com/
 * docs/limitations, "Requests and IP block": past 7 requests per second 429, then a 403 block).
 */
const BURST_BLOCK = /block|заблокир|exceed|превыш|too many/i;

function minutes(ms: number): string {
  const m = Math.max(1, Math.ceil(ms / 60_000));
  return `${m} minute${m === 1 ? '' : 's'}`;
}

/** The text and numeric code of an amoCRM error body, whatever its generation (v4 problem+json, v2 response.error). */
function refusalText(body: unknown): { text: string; json: boolean } {
  if (!body || typeof body !== 'object') return { text: typeof body === 'string' ? body : '', json: false };
  const o = body as Record<string, unknown>;
  const inner = o['response'] && typeof o['response'] === 'object' ? (o['response'] as Record<string, unknown>) : {};
  const parts = [
    o['hint'],
    o['title'],
    o['detail'],
    o['error'],
    o['error_code'],
    o['code'],
    inner['error'],
    inner['error_code'],
  ];
  return { text: parts.filter((p) => typeof p === 'string' || typeof p === 'number').join(' '), json: true };
}

/**
 * What a 403 from amoCRM's API means. Only the documented "insufficient rights" problem+json
 * is a refusal (FORBIDDEN) — and not even that on an endpoint this login has read before, where
 * it is a passing state, not a right the user never had. Everything else is temporary: amoCRM's
 * IP block (code 113, also an allow-list), the block after too many requests, or an HTML or empty
 * 403 from the edge in front of the API. Temporary refusals keep the account `ok` and serve the
 * saved task list.
 */
export function classifyAmo403(
  res: HttpResponse,
  o: { name: string; what: string; readBefore: boolean },
): TemporaryRefusal | null {
  const { text, json } = refusalText(res.body);
  const detail = safeDetail(text, 100);
  const wait = BLOCK_BACKOFF_MS;
  if (json && BURST_BLOCK.test(text)) {
    return {
      waitMs: wait,
      holdOff: true,
      message: `${o.name} has blocked API requests for a while after too many requests per second${detail ? ` (${detail})` : ''}; the account is fine, try again in ${minutes(wait)}.`,
    };
  }
  if (json && IP_REFUSAL.test(text)) {
    return {
      waitMs: wait,
      holdOff: true,
      message: `${o.name} refused requests from this computer's IP address (code 113: blocked for now, or not on the account's allow-list of IP addresses); the account is fine, try again in ${minutes(wait)} or ask the account's administrator to allow this address.`,
    };
  }
  if (json && RIGHTS_REFUSAL.test(text)) {
    if (!o.readBefore) return null;
    return {
      waitMs: RIGHTS_RECHECK_MS,
      holdOff: false,
      message: `${o.name} refused ${o.what}, which this login has read before (${detail}); the account is fine, try again in ${minutes(RIGHTS_RECHECK_MS)}, and if it lasts ask the account's administrator whether your rights changed.`,
    };
  }
  const said =
    typeof res.body === 'string' && res.body.trim()
      ? 'an HTML page'
      : json
        ? `"${detail || 'no reason'}"`
        : 'an empty answer';
  return {
    waitMs: wait,
    holdOff: true,
    message: `${o.name} answered ${o.what} with 403 and ${said} instead of its rights error, which is how a block of this computer's address looks; the account is fine, try again in ${minutes(wait)}.`,
  };
}

const accountSchema = z.object({
  id: z.number().int(),
  name: z.string(),
  subdomain: z.string(),
  current_user_id: z.number().int(),
  // GET /api/v4/account?with=datetime_settings (developers.amocrm.ru, "Account parameters":
  // _embedded.datetime_settings.timezone, e.g. "Europe/Moscow"; the official PHP library's
  // AccountModel/DateTimeSettings read the same keys).
  _embedded: z.object({ datetime_settings: z.object({ timezone: z.string().nullish() }).nullish() }).nullish(),
});

const userPageSchema = z.object({
  _embedded: z.object({ users: z.array(z.object({ id: z.number().int(), name: z.string() })) }),
  _links: z.object({ next: z.object({ href: z.string() }).optional() }).optional(),
});

const taskPageSchema = z.object({
  _embedded: z.object({
    tasks: z.array(
      z.object({
        id: z.number().int(),
        text: z.string(),
        complete_till: z.number().int().nullable(),
        is_completed: z.boolean(),
        responsible_user_id: z.number().int().nullable(),
        entity_type: z.string().nullable(),
        entity_id: z.number().int().nullable(),
        task_type_id: z.number().int().nullable().optional(),
        updated_at: z.number().int().nullable(),
      }),
    ),
  }),
  _links: z.object({ next: z.object({ href: z.string() }).optional() }).optional(),
});

const ENTITY_PATHS: Record<string, string> = {
  leads: 'leads/detail',
  contacts: 'contacts/detail',
  companies: 'companies/detail',
  customers: 'customers/detail',
};

function parsed<T>(schema: z.ZodType<T>, res: HttpResponse, name: string, what: string): T {
  const result = schema.safeParse(res.body);
  if (!result.success) {
    throw new TokentrayError('PROVIDER_UNAVAILABLE', `${name} sent ${what} Tokentray cannot read; try again later.`);
  }
  return result.data;
}

/**
 * The host the account lives on: the one the redirect named, the user gave with --host, or
 * amoCRM named for the token (locateAmoAccount).
 * Never the token's `api_domain`: that is amoCRM's shared API server (api-a/api-b.amocrm.ru),
 * which the official PHP library (amocrm/amocrm-api-php, AmoCRMOAuth::getSharedApiDomain) uses
 * only for shared methods such as looking up an account's subdomain, not the account's API.
 */
function accountHost(tokens: StoredTokens, name: string): string {
  if (tokens.host) return tokens.host;
  throw new TokentrayError(
    'USAGE',
    `Tokentray could not find out which ${name} account this token belongs to (${name} did not say when asked); give the account's address with --host example.${name === 'Kommo' ? 'kommo.com' : 'amocrm.ru'}.`,
  );
}

const subdomainSchema = z.object({ subdomain: z.string(), domain: z.string() });

/**
 * Where an account lives after its subdomain changed, as the official PHP library finds it
 * (amocrm/amocrm-api-php, AmoCRMOAuth::getAccessTokenByRefreshToken: on a 401 or 404 refresh it
 * calls getAccountDomainByRefreshToken, `GET https://{api_domain}/oauth2/account/current/subdomain`
 * with an `X-Refresh-Token` header, answered `{ id, subdomain, domain, top_level_domain }`, then
 * retries the refresh on `domain`). `api_domain` is a claim of access tokens issued since
 * 21.08.2024. Only amoCRM's own hosts are asked or believed; with --api-url/--token-url set the
 * account host plays no part, so nothing is looked up.
 */
async function relocateAmoAccount(
  http: HttpClient,
  ctx: ProviderContext,
  grant: Extract<Grant, { kind: 'refresh_token' }>,
  refused: HttpResponse,
): Promise<string | null> {
  if (refused.status !== 401 && refused.status !== 404) return null;
  if (ctx.config.apiUrl || ctx.config.tokenUrl || !grant.accessToken) return null;
  const apiDomain = decodeJwt(grant.accessToken)?.claims['api_domain'];
  if (typeof apiDomain !== 'string' || !isAmoAccountHost(apiDomain)) return null;
  const res = await http.send({
    method: 'GET',
    url: `https://${apiDomain}/oauth2/account/current/subdomain`,
    headers: { 'x-refresh-token': grant.refreshToken },
    timeoutMs: 20_000,
  });
  if (res.status !== 200) return null;
  const found = subdomainSchema.safeParse(res.body);
  if (!found.success) return null;
  const domain = found.data.domain.toLowerCase();
  return isAmoAccountHost(domain) ? domain : null;
}

/**
 * Which account a token without an address belongs to, as the official PHP library asks
 * (amocrm/amocrm-api-php, README "Работа в случае смены субдомена аккаунта" and
 * AmoCRMOAuth::getAccountDomain: `GET https://www.amocrm.ru/oauth2/account/subdomain` with
 * `Authorization: Bearer {access_token}`, answered `{ id, subdomain, domain, top_level_domain }`,
 * `domain` the full address). Kommo answers the same at www.kommo.com. Only an amoCRM or Kommo
 * account address is believed; with --api-url/--token-url set no address is needed or asked for.
 */
async function locateAmoAccount(
  http: HttpClient,
  ctx: ProviderContext,
  tokens: StoredTokens,
  site: string,
): Promise<string | null> {
  if (ctx.config.apiUrl || ctx.config.tokenUrl) return null;
  const res = await http.send({
    method: 'GET',
    url: `https://www.${site}/oauth2/account/subdomain`,
    headers: { authorization: `Bearer ${tokens.accessToken}`, accept: 'application/json' },
    timeoutMs: 20_000,
  });
  if (res.status !== 200) return null;
  const found = subdomainSchema.safeParse(res.body);
  if (!found.success) return null;
  const domain = found.data.domain.toLowerCase();
  return isAmoAccountHost(domain) ? domain : null;
}

function baseFor(ctx: ProviderContext, host: string | null): string {
  if (ctx.config.apiUrl) return ctx.config.apiUrl.replace(/\/+$/, '');
  if (!host) {
    throw new TokentrayError(
      'USAGE',
      'Tokentray needs the account address to reach amoCRM/Kommo; paste the whole redirected URL or add --host.',
    );
  }
  if (!isAmoAccountHost(host)) {
    // The redirect (or a pasted URL) chose this host; the client secret and tokens would go there.
    throw new TokentrayError(
      'CALLBACK_INVALID',
      `"${safeDetail(host, 80)}" is not an amoCRM or Kommo account address (…amocrm.ru, …amocrm.com, …kommo.com); Tokentray sends nothing there. For a self-hosted proxy, set it with \`tokentray provider set ${ctx.config.provider} --api-url URL\`.`,
    );
  }
  return `https://${host}`;
}

function problemText(body: unknown): { hint: string; title: string; type: string } {
  const o = body && typeof body === 'object' ? (body as Record<string, unknown>) : {};
  const text = (key: string): string => (typeof o[key] === 'string' ? o[key] : '');
  return { hint: text('hint') || text('detail'), title: text('title'), type: text('type') };
}

/**
 * Decided by status and hint, never by the title's wording alone: titles come
 * in the account's language. The title is only consulted to tell a client
 * error from a dead grant, and in both languages the product ships with.
 */
export function classifyAmoTokenError(status: number, body: unknown): TokenErrorClassification {
  const { hint, title } = problemText(body);
  const detail = safeDetail(hint || title || `HTTP ${status}`);
  if (status === 429) return { kind: 'rate_limited', detail };
  if (status >= 500) return { kind: 'unavailable', detail };
  // A 403 is a blocked IP, never a lost grant (developers.amocrm.ru, "API errors": 403 for an
  // IP that is not allowed or an account blocked after too many requests per second).
  if (status === 403) return { kind: 'unavailable', detail };
  if (/client/i.test(hint) || /клиент|client/i.test(title)) return { kind: 'client_config', detail };
  if (/refresh token|token has (been )?(revoked|expired)|token is (revoked|expired)/i.test(hint)) {
    return { kind: 'reconnect', detail };
  }
  if (/authorization code|\bcode\b/i.test(hint)) return { kind: 'bad_code', detail };
  // A 401 that is not about the client is amoCRM's invalid_grant.
  if (status === 401) return { kind: 'reconnect', detail };
  return { kind: 'bad_code', detail };
}

/**
 * `complete_till` is a Unix time; its day is the day in the account's time zone. A task due at
 * 23:59 there is an all-day task: "if the time is 23:59, the interface shows 'All day' instead of a
 * time" (developers.amocrm.ru, "Tasks", complete_till: «Если указано время 23:59, то в интерфейсах
 * системы вместо времени будет отображаться "Весь день"»).
 */
export function amoDue(completeTill: number | null, zone: string | null): Task['due'] {
  if (completeTill === null || completeTill <= 0) return null;
  const instant = new Date(completeTill * 1000);
  const { hour, minute } = clockIn(instant, zone);
  if (hour === 23 && minute === 59) return allDayDue(calendarDayIn(instant, zone), zone);
  return timedDue(instant, zone);
}

const UPDATED_KEY = 'amo:updated_at';
const LOOK_KEY = 'amo:look';

interface Look {
  me: number;
  zone: string | null;
  users: Array<[number, string]>;
}

const lookSchema = z.object({
  me: z.number().int(),
  zone: z.string().nullable(),
  users: z.array(z.tuple([z.number().int(), z.string()])),
});

function readLook(text: string | undefined): Look | null {
  if (text === undefined) return null;
  try {
    const parsed = lookSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/**
 * The `filter[updated_at][from]` (unix seconds, inclusive) for the next sync: the newest `updated_at`
 * seen, but no later than the server's clock (its `Date` header, less a second) when the pages began,
 * so a task changed while later pages were read is asked for again; never earlier than where this
 * read started. Inclusive, so the tasks of that last second come again: the same tasks, harmless.
 */
class ChangeCursor {
  private newest: number;
  private startedAt: number | null = null;

  constructor(private readonly from: number) {
    this.newest = from;
  }

  started(res: HttpResponse): void {
    if (this.startedAt !== null) return;
    const date = Date.parse(res.headers['date'] ?? '');
    this.startedAt = Number.isFinite(date) ? Math.floor(date / 1000) - 1 : Number.POSITIVE_INFINITY;
  }

  saw(tasks: ReadonlyArray<{ updated_at: number | null }>): void {
    for (const t of tasks) if (t.updated_at !== null && t.updated_at > this.newest) this.newest = t.updated_at;
  }

  next(): string {
    return String(Math.max(this.from, Math.min(this.newest, this.startedAt ?? Number.POSITIVE_INFINITY)));
  }
}

function makeAmo(id: 'amocrm' | 'kommo', name: string, site: string, port: number): ProviderDefinition {
  /** `readBefore`: this login has read `path` successfully before, so a rights 403 there is passing. */
  const get = (
    http: HttpClient,
    ctx: AccountContext,
    path: string,
    what: string,
    readBefore = false,
    headers: Record<string, string> = {},
  ): Promise<HttpResponse> =>
    http.api({
      method: 'GET',
      url: `${def.apiBase(ctx, ctx.tokens)}${path}`,
      headers: { ...headers, authorization: def.authorizationHeader(ctx.tokens) },
      providerName: name,
      what,
      temporaryRefusal: (res) => classifyAmo403(res, { name, what, readBefore }),
      rateKey: def.apiPacing!(ctx).rateKey,
      requestsPerSecond: REQUESTS_PER_SECOND,
      conditional: headers['if-modified-since'] !== undefined,
    });

  /**
   * Names of the account's users, or an empty map for a user who may not list them:
   * `GET /api/v4/users` (developers.kommo.com/reference/users-and-roles, "Users and
   * roles") is for account administrators only, others get 403 "Insufficient rights to
   * call this method" (../shared/providers.md, "Roles matter"), and most people who
   * connect amoCRM are sales managers, not administrators.
   */
  async function userNames(http: HttpClient, ctx: AccountContext): Promise<Map<number, string>> {
    const names = new Map<number, string>();
    for (let page = 1; page < 1000; page += 1) {
      let res: HttpResponse;
      try {
        res = await get(http, ctx, `/api/v4/users?limit=${PAGE_LIMIT}&page=${page}`, 'the list of users');
      } catch (error) {
        if (error instanceof TokentrayError && error.code === 'FORBIDDEN') return names;
        throw error;
      }
      if (res.status === 204) break;
      const body = parsed(userPageSchema, res, name, 'a user list');
      for (const u of body._embedded.users) names.set(u.id, u.name);
      if (!body._links?.next) break;
    }
    return names;
  }

  const accountOf = async (
    http: HttpClient,
    ctx: AccountContext,
    readBefore: boolean,
  ): Promise<z.infer<typeof accountSchema>> =>
    parsed(
      accountSchema,
      await get(http, ctx, '/api/v4/account?with=datetime_settings', 'the account details', readBefore),
      name,
      'account details',
    );

  /** What turns an amoCRM task into a Tokentray one besides the task: the account's zone and user names. */
  async function lookOf(http: HttpClient, ctx: AccountContext): Promise<Look> {
    const users = await userNames(http, ctx);
    // Every walk asks for the account once: its time zone decides each task's day, and the
    // account may change it. Connecting read this endpoint, so a rights 403 on it is passing.
    const account = await accountOf(http, ctx, true);
    return {
      me: account.current_user_id,
      zone: validTimeZone(account._embedded?.datetime_settings?.timezone),
      users: [...users.entries()],
    };
  }

  /** The account's tasks a page at a time: all of them, or those updated at or after `since` (unix seconds). */
  async function* taskPages(
    http: HttpClient,
    ctx: AccountContext,
    look: Look,
    since: number | null,
    cursor: ChangeCursor,
  ): AsyncIterable<Task[]> {
    const users = new Map(look.users);
    const assignee = (userId: number): string => users.get(userId) ?? (userId === look.me ? 'you' : `user ${userId}`);
    // The tokens' host follows the account when its subdomain changes; extra keeps the first one.
    const host = ctx.tokens.host ?? ctx.extra['host'] ?? site;
    const workspace = ctx.workspaces[0]?.name ?? null;
    const filter = since === null ? '' : `&filter[updated_at][from]=${since}`;
    const conditional: Record<string, string> =
      since === null ? {} : { 'if-modified-since': new Date(since * 1000).toUTCString() };
    // `_links.next` names the account's public host; paging by number keeps --api-url overrides working.
    for (let page = 1; page < 100_000; page += 1) {
      const res = await get(
        http,
        ctx,
        `/api/v4/tasks?limit=${PAGE_LIMIT}&page=${page}${filter}`,
        'tasks',
        ctx.tasksReadBefore === true,
        conditional,
      );
      cursor.started(res);
      if (res.status === 204 || res.status === 304) break;
      const body = parsed(taskPageSchema, res, name, 'a task list');
      cursor.saw(body._embedded.tasks);
      yield body._embedded.tasks.map((t): Task => ({
        id: String(t.id),
        accountId: ctx.accountId,
        provider: id,
        title: t.text,
        status: t.is_completed ? 'done' : 'open',
        due: amoDue(t.complete_till, look.zone),
        // amoCRM tasks have no priority.
        priority: { level: 0, original: null },
        project: t.entity_type ? `${t.entity_type} #${t.entity_id ?? ''}` : null,
        workspace,
        assignees: t.responsible_user_id === null ? [] : [assignee(t.responsible_user_id)],
        url:
          t.entity_type && t.entity_id && ENTITY_PATHS[t.entity_type]
            ? `https://${host}/${ENTITY_PATHS[t.entity_type]}/${t.entity_id}`
            : `https://${host}/todo/line/`,
        updatedAt: t.updated_at ? new Date(t.updated_at * 1000).toISOString() : null,
      }));
      if (!body._links?.next || body._embedded.tasks.length < PAGE_LIMIT) break;
    }
  }

  const def: ProviderDefinition = {
    id,
    name,
    kind: 'builtin',
    defaults: {
      authorizeUrl: `https://www.${site}/oauth`,
      // The real token endpoint is on the account's host; see buildTokenRequest.
      tokenUrl: `https://{host}/oauth2/access_token`,
      apiUrl: `https://{host}`,
      revokeUrl: null,
      issuer: null,
    },
    registerUrl: `https://www.${site}/`,
    defaultRedirectUri: `http://127.0.0.1:${port}/callback/${id}`,
    ephemeralPortAllowed: false,
    methods: ['loopback', 'paste', 'token'],
    // RFC 9700 §2.1.1: always sent; a server without PKCE ignores the parameters.
    pkce: true,
    scopes: [],
    refresh: 'rotating',
    warnBeforeExpirySeconds: 14 * 86_400,
    needsHost: true,
    hostExample: `example.${site}`,
    personalTokenHint: `A long-lived token from the private integration's settings in ${name} (Keys and access).`,
    requestsPerSecond: REQUESTS_PER_SECOND,

    buildAuthorizeUrl(ctx, p) {
      const url = new URL(ctx.endpoints.authorizeUrl);
      url.searchParams.set('client_id', ctx.config.clientId);
      url.searchParams.set('state', p.state);
      // The whole page redirects (not a popup), so the loopback listener sees the code.
      url.searchParams.set('mode', 'post_message');
      return addPkceChallenge(url, p.codeChallenge).toString();
    },

    buildTokenRequest(ctx, grant) {
      const tokenUrl = ctx.config.tokenUrl ? ctx.config.tokenUrl : `${baseFor(ctx, grant.host)}/oauth2/access_token`;
      const body: Record<string, string> = {
        client_id: ctx.config.clientId,
        client_secret: ctx.clientSecret ?? '',
        // Required on refresh too, byte for byte the registered one.
        redirect_uri: ctx.redirectUri,
      };
      if (grant.kind === 'authorization_code') {
        body['grant_type'] = 'authorization_code';
        body['code'] = grant.code;
        if (grant.codeVerifier) body['code_verifier'] = grant.codeVerifier;
      } else {
        body['grant_type'] = 'refresh_token';
        body['refresh_token'] = grant.refreshToken;
      }
      return {
        method: 'POST',
        url: tokenUrl,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      };
    },

    parseTokenResponse: parseStandardTokenResponse,
    classifyTokenError: classifyAmoTokenError,
    relocateAccount: relocateAmoAccount,
    locateAccount: (http, ctx, tokens) => locateAmoAccount(http, ctx, tokens, site),
    authorizationHeader: (tokens) => `Bearer ${tokens.accessToken}`,
    apiBase: (ctx, tokens) => baseFor(ctx, ctx.config.apiUrl ? null : accountHost(tokens, name)),

    // The ceiling is per integration, so every account of one integration shares the slot.
    apiPacing: (ctx) => ({ rateKey: `${id}:${ctx.config.clientId || ctx.accountId}` }),

    async identify(http, ctx) {
      // `/api/v4/account` answers every user, administrator or not (developers.amocrm.ru,
      // "Account parameters": id, name, subdomain, current_user_id, country, currency, …).
      const account = await accountOf(http, ctx, false);
      const users = await userNames(http, ctx);
      const host = ctx.tokens.host ?? `${account.subdomain}.${site}`;
      const user = users.get(account.current_user_id);
      return {
        // One login can reach several accounts and one account has many users: both make the login.
        subject: `${account.id}:${account.current_user_id}`,
        label: user ? `${user} (${account.name})` : account.name,
        workspaces: [{ id: String(account.id), name: account.name, url: `https://${host}` }],
        extra: { host, currentUserId: String(account.current_user_id) },
      };
    },

    async *fetchTasks(http, ctx, onProgress, _onSkip, onCursor) {
      const look = await lookOf(http, ctx);
      const cursor = new ChangeCursor(0);
      let count = 0;
      for await (const tasks of taskPages(http, ctx, look, null, cursor)) {
        count += tasks.length;
        onProgress?.(count);
        if (tasks.length > 0) yield tasks;
      }
      onCursor?.(LOOK_KEY, JSON.stringify(look));
      onCursor?.(UPDATED_KEY, cursor.next());
    },

    /**
     * Tasks changed since the last sync: `GET /api/v4/tasks?filter[updated_at][from]=<unix>`
     * (developers.kommo.com/reference/tasks-list and developers.amocrm.ru "Tasks API", GET
     * /api/v4/tasks: filter[updated_at] "can take an array filter[updated_at][from]=…") with
     * `If-Modified-Since`, which Kommo's limitations page recommends instead of "uncontrolled
     * iteration through all data" (developers.kommo.com/docs/limitations). Nothing changed is 204
     * (an empty list, as every amoCRM list answers) or 304 Not Modified. A completed task comes as
     * an update with `is_completed` true. The list names no deleted task: the engine's daily full
     * walk does (task-sync.ts). The account's time zone and user names the walk read are kept with
     * the cursor and read again by the next walk: an incremental sync asks for the tasks alone.
     */
    async syncTasks(http, ctx, base) {
      const incomplete = { upserts: [], deletes: [], cursors: {}, complete: false };
      const since = Number(base.cursors[UPDATED_KEY]);
      const look = readLook(base.cursors[LOOK_KEY]);
      if (!Number.isInteger(since) || since < 0 || look === null) return incomplete;
      const cursor = new ChangeCursor(since);
      const upserts: Task[] = [];
      for await (const tasks of taskPages(http, ctx, look, since, cursor)) upserts.push(...tasks);
      return {
        upserts,
        deletes: [],
        cursors: { [LOOK_KEY]: base.cursors[LOOK_KEY]!, [UPDATED_KEY]: cursor.next() },
        complete: true,
      };
    },
  };
  return def;
}

export const amocrm = makeAmo('amocrm', 'amoCRM', 'amocrm.ru', 8181);
export const kommo = makeAmo('kommo', 'Kommo', 'kommo.com', 8181);
