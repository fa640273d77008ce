/**
 * The built-in demo provider, served in-process by electron/core/demo/demo-server.ts
 * so a new user can try the whole flow (browser consent, loopback redirect,
 * keychain, refresh, tasks) without registering an app anywhere.
 *
 * Its base URL is only known at run time (an ephemeral port on 127.0.0.1, a
 * different one in every process), so `defaults` hold the placeholder
 * http://demo.invalid. The service replaces them: for a provider of kind
 * 'demo' it calls `ensureDemoServer()` and passes its `url` as the endpoints
 * in force (ProviderRegistry.context in providers/registry.ts):
 *   authorizeUrl `${url}/authorize`, tokenUrl `${url}/token`,
 *   apiUrl `${url}/api`, revokeUrl `${url}/revoke`, client id 'tokentray-demo'.
 * Tokens are stateless, so tokens stored by one process work against the
 * demo server of the next one.
 */
import { z } from 'zod';
import type { Task, Workspace } from '../../shared/models';
import { TokentrayError } from '../errors';
import type { HttpClient, HttpResponse } from '../http/client';
import { classifyStandardTokenError, standardAuthorizeUrl } from '../oauth/standard';
import { standardRevocation } from '../oauth/standard-grant';
import type { AccountContext, Identity, ProviderDefinition, StandardTokenEndpoint, StoredTokens } from './types';

const PLACEHOLDER = 'http://demo.invalid';
const NAME = 'Tokentray demo';
const PER_PAGE = 100;
const TOKEN_ENDPOINT: StandardTokenEndpoint = { clientAuth: 'none' };

const meSchema = z.object({ id: z.string().min(1), name: z.string(), email: z.string() });
const workspacesSchema = z.array(z.object({ id: z.string().min(1), name: z.string() }));
const prioritySchema = z.enum(['none', 'low', 'normal', 'high', 'urgent']);
const taskPageSchema = z.object({
  tasks: z.array(
    z.object({
      id: z.string().min(1),
      title: z.string(),
      status: z.enum(['open', 'done']),
      priority: prioritySchema,
      project: z.object({ id: z.string(), name: z.string() }).nullable(),
      workspace_id: z.string().nullable(),
      assignees: z.array(z.object({ id: z.string(), name: z.string() })),
      due: z.object({ date: z.string(), datetime: z.string().nullable(), timezone: z.string().nullable() }).nullable(),
      updated_at: z.string().nullable(),
      url: z.string().nullable(),
    }),
  ),
  next_page: z.number().int().positive().nullable(),
});
type DemoWireTask = z.infer<typeof taskPageSchema>['tasks'][number];

const PRIORITY_LEVEL: Record<z.infer<typeof prioritySchema>, number> = {
  none: 0,
  low: 1,
  normal: 2,
  high: 3,
  urgent: 4,
};

function parsed<T>(schema: z.ZodType<T>, res: HttpResponse, what: string): T {
  const result = schema.safeParse(res.body);
  if (!result.success) {
    throw new TokentrayError('PROVIDER_UNAVAILABLE', `The demo server sent ${what} Tokentray cannot read; try again.`);
  }
  return result.data;
}

function toTask(t: DemoWireTask, ctx: AccountContext, workspaceNames: Map<string, string>): Task {
  return {
    id: t.id,
    accountId: ctx.accountId,
    provider: demo.id,
    title: t.title,
    status: t.status,
    due: t.due ? { date: t.due.date, dateTime: t.due.datetime, timeZone: t.due.timezone } : null,
    priority: { level: PRIORITY_LEVEL[t.priority], original: t.priority },
    project: t.project?.name ?? null,
    workspace: t.workspace_id === null ? null : (workspaceNames.get(t.workspace_id) ?? t.workspace_id),
    assignees: t.assignees.map((a) => a.name),
    url: t.url,
    updatedAt: t.updated_at,
  };
}

function get(http: HttpClient, ctx: AccountContext, path: string): Promise<HttpResponse> {
  return http.api({
    method: 'GET',
    url: `${demo.apiBase(ctx, ctx.tokens)}${path}`,
    headers: { authorization: demo.authorizationHeader(ctx.tokens) },
    providerName: NAME,
    rateKey: `${demo.id}:${ctx.accountId}`,
    requestsPerSecond: demo.requestsPerSecond,
  });
}

export const demo: ProviderDefinition = {
  id: 'demo',
  name: NAME,
  kind: 'demo',
  defaults: {
    authorizeUrl: `${PLACEHOLDER}/authorize`,
    tokenUrl: `${PLACEHOLDER}/token`,
    apiUrl: `${PLACEHOLDER}/api`,
    revokeUrl: `${PLACEHOLDER}/revoke`,
    issuer: null,
  },
  registerUrl: null,
  // The loopback listener fills in the port it got; the demo server accepts any loopback port.
  defaultRedirectUri: 'http://127.0.0.1/callback/demo',
  ephemeralPortAllowed: true,
  methods: ['loopback', 'paste'],
  pkce: true,
  scopes: ['tasks:read', 'tasks:write'],
  refresh: 'rotating',
  warnBeforeExpirySeconds: 60,
  needsHost: false,
  personalTokenHint: null,
  // It runs in this process; the limit only keeps a runaway loop from spinning.
  requestsPerSecond: 200,

  buildAuthorizeUrl(ctx, p) {
    return standardAuthorizeUrl(ctx, p, demo.scopes).toString();
  },
  // A public client: the client id goes in the form, there is no secret, PKCE protects the code.
  standardTokenEndpoint: TOKEN_ENDPOINT,
  classifyTokenError: classifyStandardTokenError,
  authorizationHeader: (tokens: StoredTokens) => `Bearer ${tokens.accessToken}`,
  apiBase: (ctx) => ctx.endpoints.apiUrl.replace(/\/+$/, ''),

  async identify(http: HttpClient, ctx: AccountContext): Promise<Identity> {
    const me = parsed(meSchema, await get(http, ctx, '/me'), 'a profile');
    const workspaces: Workspace[] = parsed(workspacesSchema, await get(http, ctx, '/workspaces'), 'workspaces').map(
      (w) => ({ id: w.id, name: w.name, url: null }),
    );
    return { subject: me.id, label: me.name || me.email || me.id, workspaces, extra: {} };
  },

  async *fetchTasks(http, ctx, onProgress) {
    const workspaceNames = new Map(ctx.workspaces.map((w) => [w.id, w.name]));
    let page: number | null = 1;
    let count = 0;
    // A server that keeps answering next_page would otherwise loop forever.
    for (let guard = 0; page !== null && guard < 100_000; guard += 1) {
      const res = await get(http, ctx, `/tasks?page=${page}&per_page=${PER_PAGE}`);
      const body = parsed(taskPageSchema, res, 'a task list');
      const tasks = body.tasks.map((t) => toTask(t, ctx, workspaceNames));
      count += tasks.length;
      onProgress?.(count);
      if (tasks.length > 0) yield tasks;
      page = body.next_page !== null && body.next_page > page ? body.next_page : null;
    }
  },

  async revoke(http, ctx) {
    const revokeUrl = ctx.endpoints.revokeUrl;
    if (!revokeUrl) return;
    // The refresh token ends the grant; the access token would otherwise live on until it expires.
    if (ctx.tokens.refreshToken) {
      await standardRevocation(http, ctx, TOKEN_ENDPOINT, ctx.tokens.refreshToken, 'refresh_token');
    }
    await standardRevocation(http, ctx, TOKEN_ENDPOINT, ctx.tokens.accessToken, 'access_token');
  },
};
