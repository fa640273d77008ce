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
import type { HttpClient, HttpResponse } from '../http/client';
import { decodeJwt } from '../oauth/jwt';
import { isHostName } from '../oauth/callback';
import { addPkceChallenge, parseStandardTokenResponse } from '../oauth/standard';
import type {
  AccountContext,
  ProviderContext,
  ProviderDefinition,
  StoredTokens,
  TokenErrorClassification,
} from './types';

const PAGE_LIMIT = 250;
/**
 * amoCRM documents 7 requests per second per integration; past it 429, then an IP block
 * (developers.kommo.com/docs/limitations, "Requests and IP block").
 */
const REQUESTS_PER_SECOND = 7;
/** How long to leave an IP block alone before trying again: amoCRM does not say, blocks last minutes. */
const BLOCK_BACKOFF_MS = 10 * 60_000;
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
 * A 403 that is amoCRM's temporary IP block rather than a missing right. The errors
 * reference (developers.amocrm.ru, "API errors": code 113 / 403 "access from your IP is
 * prohibited", and 403 "account blocked for repeatedly exceeding the requests-per-second
 * limit") words both as a block; a missing right reads "Insufficient rights".
 */
export function amoBlockedForMs(res: HttpResponse): number | null {
  const { hint, title } = problemText(res.body);
  return /block|заблокир|\bip\b/i.test(`${hint} ${title}`) ? BLOCK_BACKOFF_MS : null;
}

const accountSchema = z.object({
  id: z.number().int(),
  name: z.string(),
  subdomain: z.string(),
  current_user_id: z.number().int(),
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
type AmoTask = z.infer<typeof taskPageSchema>['_embedded']['tasks'][number];

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

/** The host the account lives on: the one the redirect named, else the token's own `api_domain`. */
function accountHost(tokens: StoredTokens, name: string): string {
  if (tokens.host) return tokens.host;
  const claims = decodeJwt(tokens.accessToken)?.claims ?? {};
  const apiDomain = claims['api_domain'];
  if (typeof apiDomain === 'string' && isHostName(apiDomain)) return apiDomain;
  throw new TokentrayError(
    'USAGE',
    `Tokentray does not know which ${name} account this token belongs to; connect again with --host example.${name === 'Kommo' ? 'kommo.com' : 'amocrm.ru'}.`,
  );
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

function dueOf(t: AmoTask): Task['due'] {
  if (t.complete_till === null || t.complete_till <= 0) return null;
  const iso = new Date(t.complete_till * 1000).toISOString();
  return { date: iso.slice(0, 10), dateTime: iso, timeZone: null };
}

function makeAmo(id: 'amocrm' | 'kommo', name: string, site: string, port: number): ProviderDefinition {
  const get = (http: HttpClient, ctx: AccountContext, path: string, what: string): Promise<HttpResponse> =>
    http.api({
      method: 'GET',
      url: `${def.apiBase(ctx, ctx.tokens)}${path}`,
      headers: { authorization: def.authorizationHeader(ctx.tokens) },
      providerName: name,
      what,
      blockedForMs: amoBlockedForMs,
      rateKey: def.apiPacing!(ctx).rateKey,
      requestsPerSecond: REQUESTS_PER_SECOND,
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

  const accountOf = async (http: HttpClient, ctx: AccountContext): Promise<z.infer<typeof accountSchema>> =>
    parsed(accountSchema, await get(http, ctx, '/api/v4/account', 'the account details'), name, 'account details');

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
    authorizationHeader: (tokens) => `Bearer ${tokens.accessToken}`,
    apiBase: (ctx, tokens) => baseFor(ctx, ctx.config.apiUrl ? null : accountHost(tokens, name)),

    // The ceiling is per integration, so every account of one integration shares the slot.
    apiPacing: (ctx) => ({ rateKey: `${id}:${ctx.config.clientId || ctx.accountId}` }),

    async identify(http, ctx) {
      // `/api/v4/account` answers every user, administrator or not (developers.amocrm.ru,
      // "Account parameters": id, name, subdomain, current_user_id, country, currency, …).
      const account = await accountOf(http, ctx);
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

    async *fetchTasks(http, ctx, onProgress) {
      const users = await userNames(http, ctx);
      // Accounts connected before the user id was kept ask once more; it is one cheap call.
      const me = Number(ctx.extra['currentUserId'] ?? (await accountOf(http, ctx)).current_user_id);
      const assignee = (userId: number): string => users.get(userId) ?? (userId === me ? 'you' : `user ${userId}`);
      const host = ctx.extra['host'] ?? ctx.tokens.host ?? site;
      const workspace = ctx.workspaces[0]?.name ?? null;
      let count = 0;
      // `_links.next` names the account's public host; paging by number keeps --api-url overrides working.
      for (let page = 1; page < 100_000; page += 1) {
        const res = await get(http, ctx, `/api/v4/tasks?limit=${PAGE_LIMIT}&page=${page}`, 'tasks');
        if (res.status === 204) break;
        const body = parsed(taskPageSchema, res, name, 'a task list');
        const tasks = body._embedded.tasks.map((t): Task => ({
          id: String(t.id),
          accountId: ctx.accountId,
          provider: id,
          title: t.text,
          status: t.is_completed ? 'done' : 'open',
          due: dueOf(t),
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
        count += tasks.length;
        onProgress?.(count);
        if (tasks.length > 0) yield tasks;
        if (!body._links?.next || tasks.length < PAGE_LIMIT) break;
      }
    },
  };
  return def;
}

export const amocrm = makeAmo('amocrm', 'amoCRM', 'amocrm.ru', 8181);
export const kommo = makeAmo('kommo', 'Kommo', 'kommo.com', 8181);
