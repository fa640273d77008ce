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
 */
import { addPkceChallenge } from '../oauth/standard';
import { z } from 'zod';
import { isLoopbackHostname } from '../../shared/endpoint-url';
import type { Task, Workspace } from '../../shared/models';
import { TokentrayError, safeDetail } from '../errors';
import type { HttpClient, HttpResponse } from '../http/client';
import type {
  AccountContext,
  Grant,
  HttpRequestSpec,
  Identity,
  ProviderContext,
  ProviderDefinition,
  StoredTokens,
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

function form(ctx: ProviderContext, fields: Record<string, string>): HttpRequestSpec {
  const body = new URLSearchParams(fields);
  body.set('client_id', ctx.config.clientId);
  if (ctx.clientSecret !== null) body.set('client_secret', ctx.clientSecret);
  body.set('redirect_uri', ctx.redirectUri);
  return {
    method: 'POST',
    url: ctx.endpoints.tokenUrl,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: body.toString(),
  };
}

// The legacy `type=` parameters are what Launchpad has accepted longest; the standard ones are newer.
function buildTokenRequest(ctx: ProviderContext, grant: Grant): HttpRequestSpec {
  return grant.kind === 'authorization_code'
    ? form(ctx, {
        type: 'web_server',
        code: grant.code,
        ...(grant.codeVerifier ? { code_verifier: grant.codeVerifier } : {}),
      })
    : form(ctx, { type: 'refresh', refresh_token: grant.refreshToken });
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

function classifyTokenError(status: number, body: unknown): TokenErrorClassification {
  const o = body && typeof body === 'object' ? (body as Record<string, unknown>) : {};
  const error = typeof o['error'] === 'string' ? o['error'] : typeof body === 'string' ? body : '';
  const detail = safeDetail(o['error_description'] ?? error);
  if (status === 429) return { kind: 'rate_limited', detail };
  if (status >= 500) return { kind: 'unavailable', detail };
  if (DEAD_GRANT.has(error)) return { kind: 'reconnect', detail: detail || error };
  if (error === 'invalid_client' || error === 'unauthorized_client' || status === 401) {
    return { kind: 'client_config', detail: detail || error || `HTTP ${status}` };
  }
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

function get(http: HttpClient, ctx: AccountContext, url: string): Promise<HttpResponse> {
  return http.api({
    method: 'GET',
    url,
    headers: { authorization: basecamp.authorizationHeader(ctx.tokens) },
    providerName: NAME,
    rateKey: basecamp.apiPacing!(ctx).rateKey,
    requestsPerSecond: basecamp.requestsPerSecond,
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

async function* pages<T>(
  http: HttpClient,
  ctx: AccountContext,
  firstUrl: string,
  schema: z.ZodType<T[]>,
  what: string,
): AsyncGenerator<T[]> {
  const origin = new URL(firstUrl).origin;
  let url: string | null = firstUrl;
  const seen = new Set<string>();
  // A server that keeps linking to pages it already served would otherwise loop forever.
  for (let guard = 0; url !== null && !seen.has(url) && guard < PAGE_GUARD; guard += 1) {
    seen.add(url);
    const res = await get(http, ctx, url);
    yield parsed(schema, res, what);
    url = nextLink(res.headers['link'], origin);
  }
}

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

/** A list's (or group's) to-dos: the open ones, then the completed ones, each paginated. */
async function* todosOf(
  http: HttpClient,
  ctx: AccountContext,
  base: string,
  todosUrl: string,
  where: { project: string; workspace: string },
): AsyncGenerator<Task[]> {
  const open = followable(todosUrl, base, 'a to-do list');
  for (const [url, done] of [
    [open, false],
    [completedVariant(open), true],
  ] as const) {
    for await (const todos of pages(http, ctx, url, todosSchema, 'a to-do list')) {
      const tasks = todos.map((t) => toTask(t, ctx, { ...where, done }));
      if (tasks.length > 0) yield tasks;
    }
  }
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
    url.searchParams.set('type', 'web_server');
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

  async *fetchTasks(http, ctx, onProgress) {
    let count = 0;
    for (const workspace of ctx.workspaces) {
      const base = apiBaseOf(ctx, workspace);
      for await (const projects of pages(http, ctx, `${base}/projects.json`, projectsSchema, 'a project list')) {
        for (const project of projects) {
          const todoset = (project.dock ?? []).find((d) => d.name === 'todoset' && d.enabled !== false);
          if (!todoset) continue;
          const where = { project: project.name, workspace: workspace.name };
          const set = parsed(
            todosetSchema,
            await get(http, ctx, followable(todoset.url, base, 'a to-do set')),
            'a to-do set',
          );
          const listsUrl = followable(set.todolists_url, base, 'a to-do list index');
          for await (const lists of pages(http, ctx, listsUrl, todolistsSchema, 'a to-do list index')) {
            for (const list of lists) {
              for await (const tasks of todosOf(http, ctx, base, list.todos_url, where)) {
                count += tasks.length;
                onProgress?.(count);
                yield tasks;
              }
              if (!list.groups_url) continue;
              const groupsUrl = followable(list.groups_url, base, 'a to-do list group index');
              for await (const groups of pages(http, ctx, groupsUrl, todolistsSchema, 'a to-do list group index')) {
                for (const group of groups) {
                  for await (const tasks of todosOf(http, ctx, base, group.todos_url, where)) {
                    count += tasks.length;
                    onProgress?.(count);
                    yield tasks;
                  }
                }
              }
            }
          }
        }
      }
    }
  },
};
