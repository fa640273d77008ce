import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountAccess } from '../../electron/core/account-access';
import { TokentrayError } from '../../electron/core/errors';
import { createHttpClient, type HttpClient, type HttpRequest } from '../../electron/core/http/client';
import { createIpcRouter } from '../../electron/core/ipc-router';
import { BUILTIN_PROVIDERS } from '../../electron/core/providers/builtin';
import { IPC_CHANNELS, type IpcChannel } from '../../electron/shared/ipc-contract';
import { startRecordingAuthServer, type RecordingAuthServer } from '../fakes/recording-auth-server';
import { makeTestCore } from '../support/test-core';

/**
 * Issue #20 (High), as a property: whatever the window sends, over every channel of the IPC
 * contract and in any order, none of the user's tokens (the account's, and every one a refresh
 * rotates in) and none of the client secrets reach a server the attacker picked. Server A is the
 * provider the user set up and connected; server B is the attacker's, and records everything.
 * After the attacker's calls come the user's own: a refresh (what the tray's scheduler does),
 * an API call as `tokentray api` makes it, and a disconnect.
 */
let a: RecordingAuthServer;
let b: RecordingAuthServer;
/** Requests bound anywhere but 127.0.0.1: refused (there is no network here), and checked too. */
const outside: string[] = [];
const realFetch = globalThis.fetch;

beforeAll(async () => {
  a = await startRecordingAuthServer({ subject: 'alice' });
  b = await startRecordingAuthServer({ subject: 'alice' });
  // Discovery uses the global fetch: keep it on this machine as well.
  globalThis.fetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = input instanceof Request ? input.url : String(input);
    if (new URL(url).hostname !== '127.0.0.1') {
      outside.push(`${url}\n${JSON.stringify(init?.headers ?? {})}\n${String(init?.body ?? '')}`);
      throw new TypeError('no network outside 127.0.0.1 in this test');
    }
    return realFetch(input, init);
  };
});
afterAll(async () => {
  globalThis.fetch = realFetch;
  await a?.close();
  await b?.close();
});

function loopbackOnly(http: HttpClient): HttpClient {
  const check = (req: HttpRequest): void => {
    if (new URL(req.url).hostname === '127.0.0.1') return;
    outside.push(`${req.url}\n${JSON.stringify(req.headers ?? {})}\n${req.body ?? ''}`);
    throw new TokentrayError('PROVIDER_UNAVAILABLE', 'There is no network outside 127.0.0.1 in this test.');
  };
  return {
    send: async (req) => {
      check(req);
      return http.send(req);
    },
    api: async (req) => {
      check(req);
      return http.api(req);
    },
  };
}

/** The user's browser: follows redirects on this machine (a consent page that agrees at once, then the loopback listener). */
async function browse(start: string): Promise<void> {
  let url = start;
  for (let hop = 0; hop < 5; hop += 1) {
    if (new URL(url).hostname !== '127.0.0.1') return;
    const res = await realFetch(url, { redirect: 'manual' }).catch(() => null);
    const next = res?.headers.get('location');
    await res?.body?.cancel().catch(() => undefined);
    if (!next) return;
    url = new URL(next, url).toString();
  }
}

const secret = (name: string): string =>
  `${name}-${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`;

/** Attacker-chosen arguments for every channel; the type makes a new channel a compile error here until it is covered. */
function channelArbitraries(accountIds: readonly string[]): Record<IpcChannel, fc.Arbitrary<unknown>> {
  // The user's provider in every spelling the contract might let through, weighted up: that is where the attack is.
  const names = fc.oneof(
    { arbitrary: fc.constantFrom('corp', ' corp ', 'CORP', 'Corp', 'corp\u200b'), weight: 3 },
    { arbitrary: fc.constantFrom('spare', 'evil', 'ticktick', 'demo', '../corp'), weight: 2 },
  );
  const urls = fc.oneof(
    { arbitrary: fc.constantFrom(b.url, `${b.url}/`, `${b.url}/deeper`), weight: 3 },
    {
      arbitrary: fc.constantFrom(
        a.url,
        `http://localhost:${new URL(b.url).port}`,
        'https://evil.example',
        'javascript:alert(1)',
      ),
      weight: 2,
    },
  );
  const text = fc.oneof(fc.string({ maxLength: 24 }), fc.constantFrom('x', 'code-1', 'evil-client'));
  const account = fc.oneof(fc.constantFrom(...accountIds, 'evil-alice', 'alice', 'nope'), fc.string({ maxLength: 12 }));
  const optional = <T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> => fc.option(arb, { nil: undefined });
  const query = {
    query: fc.string({ maxLength: 8 }),
    status: fc.constantFrom('open', 'done', 'all'),
    today: fc.constant('2026-12-04'),
    seq: fc.nat(100),
  };
  const shaped: Record<IpcChannel, fc.Arbitrary<unknown>> = {
    listProviders: fc.constant(undefined),
    setProvider: fc.record(
      {
        provider: names,
        clientId: text,
        clientSecret: optional(fc.oneof(text, fc.constant(null))),
        redirectUri: optional(urls),
        tokenUrl: urls,
        apiUrl: urls,
        authorizeUrl: urls,
      },
      { requiredKeys: ['provider', 'clientId'] },
    ),
    addGenericProvider: fc.record(
      {
        name: names,
        issuer: urls,
        clientId: text,
        clientSecret: optional(fc.oneof(text, fc.constant(null))),
        scopes: optional(fc.array(fc.constantFrom('openid', 'offline_access', 'email'), { maxLength: 3 })),
        replace: fc.constant(true),
      },
      { requiredKeys: ['name', 'issuer', 'clientId'] },
    ),
    removeDemo: fc.constant({}),
    startConnect: fc.record(
      { provider: names, label: optional(text), listen: optional(fc.boolean()) },
      { requiredKeys: ['provider'] },
    ),
    completeConnectWithUrl: fc.record({
      provider: names,
      url: fc.oneof(
        urls,
        urls.map((u) => `${u}/callback?code=c&state=s`),
      ),
    }),
    completeConnectWithCode: fc.record(
      { provider: names, code: text, host: optional(fc.constantFrom('127.0.0.1', 'evil.example')) },
      { requiredKeys: ['provider', 'code'] },
    ),
    connectWithToken: fc.record({ provider: names, token: text }),
    cancelConnect: fc.record({ attemptId: text }),
    listAccounts: fc.constant(undefined),
    inspect: fc.record({ accountId: account }),
    refresh: fc.record({ accountId: account }),
    disconnect: fc.record({ accountId: account }),
    tasks: fc.record({ accountId: account, offline: optional(fc.boolean()) }, { requiredKeys: ['accountId'] }),
    copyToken: fc.record({ accountId: account }),
    // LAST_AUTHORIZE_URL stands for the sign-in URL the last startConnect answered (the window opens it).
    openExternal: fc.record({ url: fc.oneof(urls, fc.constant(LAST_AUTHORIZE_URL)) }),
    getStorageStatus: fc.constant(undefined),
    getPreferences: fc.constant(undefined),
    setPreferences: fc.record({ language: fc.constantFrom('en', 'de', 'klingon') }),
    getStartAtLogin: fc.constant(undefined),
    setStartAtLogin: fc.record({ enabled: fc.boolean() }),
    taskViewOpen: fc.record({ accountIds: fc.array(account, { maxLength: 3 }), ...query, count: fc.nat(50) }),
    taskViewWindow: fc.record({ viewId: text, ...query, offset: fc.nat(10), count: fc.nat(50) }),
    taskViewClose: fc.record({ viewId: text }),
  };
  // Now and then a payload of any shape at all, for the contract's validation to meet.
  const out = {} as Record<IpcChannel, fc.Arbitrary<unknown>>;
  for (const channel of IPC_CHANNELS)
    out[channel] = fc.oneof({ arbitrary: shaped[channel], weight: 9 }, { arbitrary: fc.anything(), weight: 1 });
  return out;
}

const LAST_AUTHORIZE_URL = '$last-authorize-url';

interface Step {
  channel: IpcChannel;
  payload: unknown;
}

describe('a hostile window over IPC', () => {
  it('never gets a token or client secret sent to a server it picked', async () => {
    const USER = 'corp-alice';
    const arbs = channelArbitraries([USER]);
    // Every channel, those that change providers eight times as often.
    const step: fc.Arbitrary<Step> = fc.oneof(
      ...IPC_CHANNELS.map((channel) => ({
        arbitrary: arbs[channel].map((payload) => ({ channel, payload })),
        weight: channel === 'addGenericProvider' || channel === 'setProvider' ? 8 : 1,
      })),
    );
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 8 }), async (steps) => {
        runs += 1;
        const t = makeTestCore({
          providers: BUILTIN_PROVIDERS,
          http: loopbackOnly(createHttpClient({ sleep: async () => undefined, maxRetries: 0 })),
        });
        const planted = new Set<string>();
        const startOfB = b.requests.length;
        const startOfOutside = outside.length;
        try {
          // The user, in a terminal: corp on A (connected), spare on A (set up, no account yet), TickTick pointed at A.
          const corpSecret = secret('corp-secret');
          const spareSecret = secret('spare-secret');
          const tickSecret = secret('ticktick-secret');
          [corpSecret, spareSecret, tickSecret].forEach((s) => planted.add(s));
          await t.core.addGenericProvider({
            name: 'corp',
            issuer: a.url,
            clientId: 'corp-client',
            clientSecret: corpSecret,
          });
          await t.core.addGenericProvider({
            name: 'spare',
            issuer: a.url,
            clientId: 'spare-client',
            clientSecret: spareSecret,
          });
          await t.core.setProvider('ticktick', {
            clientId: 'tick-client',
            clientSecret: tickSecret,
            authorizeUrl: `${a.url}/authorize`,
            tokenUrl: `${a.url}/token`,
            apiUrl: a.url,
          });
          const attempt = await t.core.startConnect('corp');
          await browse(attempt.authorizeUrl);
          expect((await attempt.result).id).toBe(USER);
          const noteTokens = async (): Promise<void> => {
            const stored = await t.core.vault.readAccount(USER).catch(() => null);
            if (stored?.tokens.accessToken) planted.add(stored.tokens.accessToken);
            if (stored?.tokens.refreshToken) planted.add(stored.tokens.refreshToken);
          };
          await noteTokens();

          const router = createIpcRouter(t.core, {
            copyToken: async (id) => {
              await t.core.getAccessToken(id);
            },
            // What the user's browser would do with a URL the window opens.
            openExternal: async (url) => browse(url),
          });
          let lastAuthorizeUrl = '';
          for (const { channel, payload } of steps) {
            const opensLast =
              channel === 'openExternal' && (payload as { url?: unknown } | null)?.url === LAST_AUTHORIZE_URL;
            const answer = await router.handle(channel, opensLast ? { url: lastAuthorizeUrl } : payload);
            if (channel === 'startConnect' && answer.ok)
              lastAuthorizeUrl = (answer.data as { authorizeUrl: string }).authorizeUrl;
            await noteTokens();
          }
          // The user's own calls after the attacker's: the scheduler's refresh, `tokentray api`, Disconnect.
          for (const { id } of await t.core.listAccounts()) {
            await t.core.refresh(id).catch(() => undefined);
            await noteTokens();
            const access = await accountAccess(t.core, id).catch(() => null);
            if (access) {
              await t.core
                .httpClient()
                .api({
                  method: 'GET',
                  url: `${access.apiBase}/me`,
                  headers: { authorization: access.authorization },
                  providerName: access.provider.name,
                })
                .catch(() => undefined);
            }
            await noteTokens();
            await router.handle('disconnect', { accountId: id });
          }
          router.close();
          const atB = b.requests
            .slice(startOfB)
            .map((r) => `${r.method} ${r.url}\n${r.headers}\n${r.body}`)
            .join('\n');
          const elsewhere = outside.slice(startOfOutside).join('\n');
          // A code A handed out is as good as a token to whoever redeems it (with PKCE's verifier, which travels with it).
          for (const code of a.codes) planted.add(code);
          for (const value of planted) {
            expect(atB).not.toContain(value);
            expect(elsewhere).not.toContain(value);
          }
        } finally {
          await t.cleanup();
        }
      }),
      {
        // Sized for a loaded two-core machine (well under a minute); raise numRuns locally to search harder.
        numRuns: 60,
        endOnFailure: true,
        // The attacks the issue reproduced run first, every time; the random runs look for others.
        examples: [
          [[{ channel: 'addGenericProvider', payload: { name: 'corp', issuer: b.url, clientId: 'evil' } }]],
          [[{ channel: 'addGenericProvider', payload: { name: ' corp ', issuer: `${b.url}/`, clientId: 'evil' } }]],
          [
            [
              { channel: 'setProvider', payload: { provider: 'corp', clientId: 'evil', tokenUrl: `${b.url}/token` } },
              { channel: 'refresh', payload: { accountId: USER } },
            ],
          ],
          // A sign-in started against A, the (unused) provider swapped for B, then the browser comes back.
          [
            [
              { channel: 'startConnect', payload: { provider: 'spare' } },
              { channel: 'addGenericProvider', payload: { name: 'spare', issuer: b.url, clientId: 'evil' } },
              { channel: 'openExternal', payload: { url: LAST_AUTHORIZE_URL } },
            ],
          ],
        ],
      },
    );
    expect(runs).toBeGreaterThanOrEqual(60);
  }, 120_000);
});
