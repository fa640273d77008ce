/**
 * ClickUp (API v2). A confidential client (PKCE sent anyway, RFC 9700 §2.1.1) without refresh:
 * the token endpoint answers with only `access_token`, which never expires and
 * dies when the user removes the app. Personal tokens (`pk_…`) are the
 * fallback for when ClickUp stops accepting plain-http loopback redirects.
 */
import { addPkceChallenge } from '../oauth/standard';
import { z } from 'zod';
import type { Task, Workspace } from '../../shared/models';
import { TokentrayError, safeDetail } from '../errors';
import type { HttpClient, HttpResponse } from '../http/client';
import type {
  AccountContext,
  Identity,
  ProviderDefinition,
  StoredTokens,
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

function toTask(t: ClickupTask, ctx: AccountContext, workspace: string): Task {
  const due = fromEpochMs(t.due_date);
  const updated = fromEpochMs(t.date_updated);
  return {
    id: t.id,
    accountId: ctx.accountId,
    provider: clickup.id,
    title: t.name,
    status: statusOf(t.status),
    // ClickUp has no time zone on a due date; the UTC calendar day is the only unambiguous one.
    due: due ? { date: due.toISOString().slice(0, 10), dateTime: due.toISOString(), timeZone: null } : null,
    priority: priorityOf(t.priority),
    project: t.list?.name ?? null,
    workspace,
    assignees: (t.assignees ?? []).map((a) => a.username || a.email || '').filter((name) => name !== ''),
    url: t.url ?? null,
    updatedAt: updated ? updated.toISOString() : null,
  };
}

function get(http: HttpClient, ctx: AccountContext, path: string): Promise<HttpResponse> {
  return http.api({
    method: 'GET',
    url: `${clickup.apiBase(ctx, ctx.tokens)}${path}`,
    headers: { authorization: clickup.authorizationHeader(ctx.tokens) },
    providerName: NAME,
    // ClickUp counts requests per token, so one account is one budget.
    rateKey: `${clickup.id}:${ctx.accountId}`,
    requestsPerSecond: clickup.requestsPerSecond,
  });
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
  // The quota is per minute (100 on the free plan, up to 10,000 on Enterprise). Pacing every account
  // at the free plan's 1.6/s would make big plans wait a minute for 10,000 tasks, so requests are
  // spaced gently and the quota itself is left to ClickUp: its 429 carries X-RateLimit-Reset, which
  // the HTTP client waits for before the next request.
  requestsPerSecond: 4,

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
    // ClickUp takes the three values in the query or the form; the form keeps the secret out of access logs.
    const form = new URLSearchParams({
      client_id: ctx.config.clientId,
      client_secret: ctx.clientSecret,
      code: grant.code,
      ...(grant.codeVerifier ? { code_verifier: grant.codeVerifier } : {}),
    });
    return {
      method: 'POST',
      url: ctx.endpoints.tokenUrl,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form.toString(),
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
    const { user } = parsed(userSchema, await get(http, ctx, '/user'), 'a profile');
    const { teams } = parsed(teamsSchema, await get(http, ctx, '/team'), 'a workspace list');
    const workspaces: Workspace[] = teams.map((t) => ({
      id: String(t.id),
      name: t.name,
      url: `https://app.clickup.com/${String(t.id)}`,
    }));
    const subject = String(user.id);
    return { subject, label: user.username || user.email || subject, workspaces, extra: {} };
  },

  async *fetchTasks(http, ctx, onProgress) {
    let count = 0;
    for (const team of ctx.workspaces) {
      for (let page = 0; page < MAX_PAGES; page += 1) {
        const query = `page=${page}&include_closed=true&subtasks=true`;
        const res = await get(http, ctx, `/team/${encodeURIComponent(team.id)}/task?${query}`);
        const body = parsed(taskPageSchema, res, 'a task list');
        const tasks = body.tasks.map((t) => toTask(t, ctx, team.name));
        count += tasks.length;
        onProgress?.(count);
        if (tasks.length > 0) yield tasks;
        if (body.last_page === true || tasks.length < PAGE_SIZE) break;
      }
    }
  },
};
