import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemoServer, type DemoServerHandle } from '../../electron/core/demo/demo-server';
import { approveDemoConsent, revokeAtDemo } from '../support/demo-browser';
import { providerContext } from '../support/provider-context';
import { createHttpClient, type HttpClient } from '../../electron/core/http/client';
import { parseCallback, validateCallback } from '../../electron/core/oauth/callback';
import { newAuthorizationSecrets } from '../../electron/core/oauth/pkce';
import { exchangeToken } from '../../electron/core/oauth/token-exchange';
import { demo } from '../../electron/core/providers/demo';
import type {
  AccountContext,
  Grant,
  ProviderContext,
  StoredTokens,
  TokenResponse,
} from '../../electron/core/providers/types';
import { taskSchema, type Task } from '../../electron/shared/models';

const TASKS = 250;
let server: DemoServerHandle;
let http: HttpClient;

beforeAll(async () => {
  server = await startDemoServer({ taskCount: TASKS });
  http = createHttpClient({ sleep: async () => undefined });
});
afterAll(async () => {
  await server.close();
});

/** What the service builds for kind 'demo': the running server's URL as the endpoints in force. */
function demoContext(base: string, redirectUri = 'http://127.0.0.1:53682/callback/demo'): ProviderContext {
  return providerContext({
    provider: 'demo',
    clientId: 'tokentray-demo',
    clientSecret: null,
    endpoints: {
      authorizeUrl: `${base}/authorize`,
      tokenUrl: `${base}/token`,
      apiUrl: `${base}/api`,
      revokeUrl: `${base}/revoke`,
      issuer: null,
    },
    redirectUri,
  });
}

/** The token request as the refresher and the connect flow send it (through oauth4webapi: the demo is standard). */
function exchange(ctx: ProviderContext, grant: Grant): Promise<TokenResponse> {
  return exchangeToken(http, demo, ctx, grant, Date.now());
}

function stored(t: TokenResponse): StoredTokens {
  return {
    accessToken: t.accessToken,
    refreshToken: t.refreshToken,
    tokenType: t.tokenType,
    expiresAt: t.expiresInSeconds === null ? null : Date.now() + t.expiresInSeconds * 1000,
    issuedAt: Date.now(),
    host: null,
    personal: false,
  };
}

async function signIn(
  ctx: ProviderContext,
  user?: string,
): Promise<{ tokens: StoredTokens; response: TokenResponse; account: AccountContext }> {
  const { state, codeVerifier: verifier, codeChallenge } = await newAuthorizationSecrets(true);
  const url = demo.buildAuthorizeUrl(ctx, { state, codeChallenge });
  const landed = await approveDemoConsent(url, user ? { user } : {});
  const callback = validateCallback(parseCallback(landed), { state, issuer: null, issRequired: false });
  const response = await exchange(ctx, {
    kind: 'authorization_code',
    code: callback.code,
    codeVerifier: verifier,
    host: null,
  });
  const tokens = stored(response);
  const account: AccountContext = { ...ctx, accountId: `acct-${user ?? 'demo'}`, tokens, workspaces: [], extra: {} };
  const identity = await demo.identify(http, account);
  return { tokens, response, account: { ...account, workspaces: identity.workspaces, extra: identity.extra } };
}

async function allTasks(account: AccountContext): Promise<{ tasks: Task[]; pages: number; progress: number[] }> {
  const tasks: Task[] = [];
  const progress: number[] = [];
  let pages = 0;
  for await (const page of demo.fetchTasks(http, account, (n) => progress.push(n))) {
    pages += 1;
    tasks.push(...page);
  }
  return { tasks, pages, progress };
}

describe('demo provider definition', () => {
  it('is the built-in demo: loopback and paste, PKCE, rotating refresh, any loopback port, no registration', () => {
    expect(demo).toMatchObject({
      id: 'demo',
      kind: 'demo',
      methods: ['loopback', 'paste'],
      pkce: true,
      refresh: 'rotating',
      ephemeralPortAllowed: true,
      defaultRedirectUri: 'http://127.0.0.1/callback/demo',
      registerUrl: null,
      needsHost: false,
    });
    // The real base URL only exists at run time; the defaults can never reach a network.
    expect(new URL(demo.defaults.tokenUrl).hostname).toBe('demo.invalid');
  });

  it('builds a standard authorize URL with an S256 challenge and a public-client token request', () => {
    const ctx = demoContext(server.url);
    const url = new URL(demo.buildAuthorizeUrl(ctx, { state: 's', codeChallenge: 'c'.repeat(43) }));
    expect(`${url.origin}${url.pathname}`).toBe(`${server.url}/authorize`);
    expect(Object.fromEntries(url.searchParams)).toMatchObject({
      response_type: 'code',
      client_id: 'tokentray-demo',
      redirect_uri: ctx.redirectUri,
      state: 's',
      code_challenge_method: 'S256',
      scope: 'tasks:read tasks:write',
    });
    // A public client: no secret and no Basic header, the client id in the form (checked by the server below).
    expect(demo.standardTokenEndpoint).toEqual({ clientAuth: 'none' });
  });
});

describe('demo provider against the demo server', () => {
  it('signs in, identifies the login and its workspace', async () => {
    const { response, account } = await signIn(demoContext(server.url));
    expect(response).toMatchObject({ tokenType: 'Bearer', expiresInSeconds: 900 });
    expect(response.scopes).toEqual(['tasks:read', 'tasks:write']);
    expect(response.refreshToken).not.toBeNull();
    const identity = await demo.identify(http, account);
    expect(identity).toEqual({
      subject: 'demo-user',
      label: 'Demo User',
      workspaces: [{ id: 'ws-demo', name: 'Demo workspace', url: null }],
      extra: {},
    });
    const colleague = await signIn(demoContext(server.url), 'demo-colleague');
    expect((await demo.identify(http, colleague.account)).subject).toBe('demo-colleague');
  });

  it('fetches every task across pages as valid normalized Tasks', async () => {
    const { account } = await signIn(demoContext(server.url));
    const { tasks, pages, progress } = await allTasks(account);
    expect(tasks).toHaveLength(TASKS);
    expect(pages).toBe(3);
    expect(progress).toEqual([100, 200, 250]);
    expect(new Set(tasks.map((t) => t.id)).size).toBe(TASKS);
    for (const task of tasks) {
      expect(taskSchema.parse(task)).toEqual(task);
      expect(task).toMatchObject({ accountId: 'acct-demo', provider: 'demo', workspace: 'Demo workspace' });
      expect(task.url?.startsWith(`${server.url}/tasks/`)).toBe(true);
    }
    const levels = new Map(tasks.map((t) => [t.priority.original, t.priority.level]));
    expect(Object.fromEntries(levels)).toEqual({ none: 0, low: 1, normal: 2, high: 3, urgent: 4 });
    const timed = tasks.find((t) => t.due?.dateTime);
    expect(timed?.due?.dateTime?.startsWith(timed.due.date)).toBe(true);
  });

  it('refreshes with rotation, and the new tokens keep working', async () => {
    const ctx = demoContext(server.url);
    const { tokens } = await signIn(ctx);
    const before = server.stats.refreshGrants;
    const renewed = await exchange(ctx, { kind: 'refresh_token', refreshToken: tokens.refreshToken!, host: null });
    expect(server.stats.refreshGrants).toBe(before + 1);
    expect(renewed.refreshToken).not.toBeNull();
    expect(renewed.refreshToken).not.toBe(tokens.refreshToken);
    const account: AccountContext = { ...ctx, accountId: 'acct-r', tokens: stored(renewed), workspaces: [], extra: {} };
    expect((await demo.identify(http, account)).subject).toBe('demo-user');
  });

  it('works against another instance (another process) with tokens from the first', async () => {
    const { tokens } = await signIn(demoContext(server.url));
    const later = await startDemoServer({ taskCount: TASKS });
    try {
      const ctx = demoContext(later.url);
      const renewed = await exchange(ctx, { kind: 'refresh_token', refreshToken: tokens.refreshToken!, host: null });
      const account: AccountContext = {
        ...ctx,
        accountId: 'acct-x',
        tokens: stored(renewed),
        workspaces: [],
        extra: {},
      };
      expect((await allTasks(account)).tasks).toHaveLength(TASKS);
    } finally {
      await later.close();
    }
  });

  it('maps a revoked grant to RECONNECT_REQUIRED on the API and "reconnect" on refresh', async () => {
    const own = await startDemoServer({ taskCount: 10 });
    try {
      const ctx = demoContext(own.url);
      const { state, codeVerifier: verifier, codeChallenge } = await newAuthorizationSecrets(true);
      const landed = await approveDemoConsent(demo.buildAuthorizeUrl(ctx, { state, codeChallenge }));
      const code = validateCallback(parseCallback(landed), { state, issuer: null, issRequired: false }).code;
      const tokens = stored(
        await exchange(ctx, { kind: 'authorization_code', code, codeVerifier: verifier, host: null }),
      );
      const account: AccountContext = { ...ctx, accountId: 'acct-v', tokens, workspaces: [], extra: {} };
      await revokeAtDemo(own.url, [tokens.accessToken, tokens.refreshToken]);
      await expect(demo.identify(http, account)).rejects.toMatchObject({ code: 'RECONNECT_REQUIRED' });
      await expect(allTasks(account)).rejects.toMatchObject({ code: 'RECONNECT_REQUIRED' });
      await expect(
        exchange(ctx, { kind: 'refresh_token', refreshToken: tokens.refreshToken!, host: null }),
      ).rejects.toMatchObject({ code: 'RECONNECT_REQUIRED' });
    } finally {
      await own.close();
    }
  });

  it('revoke() ends the grant: the refresh token and the access token stop working', async () => {
    const ctx = demoContext(server.url);
    const { account } = await signIn(ctx);
    await demo.revoke!(http, account);
    await expect(demo.identify(http, account)).rejects.toMatchObject({ code: 'RECONNECT_REQUIRED' });
    await expect(
      exchange(ctx, { kind: 'refresh_token', refreshToken: account.tokens.refreshToken!, host: null }),
    ).rejects.toMatchObject({ code: 'RECONNECT_REQUIRED' });
  });

  it('finishes a paste-flow sign-in: the redirect to the port-less default URI carries a usable code', async () => {
    const ctx = demoContext(server.url, demo.defaultRedirectUri);
    const { account } = await signIn(ctx);
    expect((await demo.identify(http, account)).label).toBe('Demo User');
  });

  it('reports a denied consent as access_denied in the callback', async () => {
    const ctx = demoContext(server.url);
    const { codeChallenge } = await newAuthorizationSecrets(true);
    const url = demo.buildAuthorizeUrl(ctx, { state: 'st', codeChallenge });
    const landed = await approveDemoConsent(url, { deny: true });
    expect(() => validateCallback(parseCallback(landed), { state: 'st', issuer: null, issRequired: false })).toThrow(
      expect.objectContaining({ code: 'ACCESS_DENIED' }),
    );
  });
});
