import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { accountAccess } from '../../electron/core/account-access';
import { createIpcRouter, type IpcRouter } from '../../electron/core/ipc-router';
import type { Result } from '../../electron/shared/models';
import { startRecordingAuthServer, type RecordingAuthServer } from '../fakes/recording-auth-server';
import { makeTestCore, type TestCore } from '../support/test-core';

/**
 * Issue #20 (High): the window could replace the generic provider "corp" with a server of its
 * choosing, and the next refresh, `tokentray api` call or disconnect sent the account's tokens
 * there. Server A is the provider the account was connected to; server B is the attacker's.
 */
let a: RecordingAuthServer;
let b: RecordingAuthServer;
let t: TestCore;
let router: IpcRouter;
let now: number;
const clientSecret = `corp-client-secret-${Math.random().toString(36).slice(2)}-0123456789`;

beforeEach(async () => {
  a = await startRecordingAuthServer({ subject: 'alice' });
  b = await startRecordingAuthServer({ subject: 'alice' });
  now = Date.now();
  t = makeTestCore({ keychain: true, clock: { now: () => now } });
  router = createIpcRouter(t.core, { copyToken: async () => undefined, openExternal: async () => undefined });
});
afterEach(async () => {
  router.close();
  await t.cleanup();
  await a.close();
  await b.close();
});

/** `tokentray provider add corp` (the user, in a terminal), then a browser sign-in against A. */
async function connectCorp(): Promise<string> {
  await t.core.addGenericProvider({ name: 'corp', issuer: a.url, clientId: 'corp-client', clientSecret });
  const attempt = await t.core.startConnect('corp');
  await fetch(attempt.authorizeUrl);
  return (await attempt.result).id;
}

async function refused(result: Promise<Result<unknown>>): Promise<{ code: string; message: string }> {
  const answer = await result;
  if (answer.ok) throw new Error(`expected a refusal, got ${JSON.stringify(answer.data)}`);
  return answer.error;
}

/** What B must never see: the client secret and every token A issued. */
function expectNothingSecretAt(server: RecordingAuthServer): void {
  const seen = server.everything();
  for (const secret of [clientSecret, ...a.issued]) expect(seen).not.toContain(secret);
}

describe('a connected account keeps its tokens away from servers it was not connected to', () => {
  it("refuses the window's replacement of a provider in use, in any spelling, before asking the new issuer anything", async () => {
    const id = await connectCorp();
    for (const name of ['corp', ' corp ', 'corp\t']) {
      const error = await refused(router.handle('addGenericProvider', { name, issuer: b.url, clientId: 'evil' }));
      expect(error.message).toMatch(/used by 1 account.*--replace/);
    }
    expect(
      (await refused(router.handle('addGenericProvider', { name: 'CORP', issuer: b.url, clientId: 'x' }))).code,
    ).toBe('USAGE');
    // The window cannot say --replace: the contract has no such field.
    const replace = await refused(
      router.handle('addGenericProvider', { name: 'corp', issuer: b.url, clientId: 'evil', replace: true }),
    );
    expect(replace.code).toBe('IPC_INVALID');
    const set = await refused(router.handle('setProvider', { provider: 'corp', clientId: 'evil', clientSecret: 'x' }));
    expect(set.message).toMatch(/command line/);
    // The refresh, as the tray's scheduler would do it, still goes to A and only to A.
    const before = a.requests.length;
    const refreshed = await router.handle('refresh', { accountId: id });
    expect(refreshed).toMatchObject({ ok: true, data: { status: 'ok' } });
    expect(a.requests.slice(before).map((r) => r.url)).toContain('/token');
    expect(b.requests).toEqual([]);
    expect(await t.core.vault.readClientSecret('corp')).toBe(clientSecret);
  });

  it('sends nothing when the provider file was rewritten anyway, and says to reconnect', async () => {
    const id = await connectCorp();
    const config = await t.core.metadata.readProvider('corp');
    // What the window's addGenericProvider did before the fix: B's endpoints under the same name.
    await t.core.metadata.writeProvider({
      ...config!,
      generic: {
        ...config!.generic!,
        issuer: b.url,
        authorizationEndpoint: `${b.url}/authorize`,
        tokenEndpoint: `${b.url}/token`,
        userinfoEndpoint: `${b.url}/userinfo`,
        revocationEndpoint: `${b.url}/revoke`,
      },
    });
    const refresh = await refused(router.handle('refresh', { accountId: id }));
    expect(refresh.code).toBe('RECONNECT_REQUIRED');
    expect(refresh.message).toMatch(/token endpoint.*changed.*Reconnect the account/);
    // `tokentray api corp …` and `exec`: the access token would go to B's API base.
    await expect(accountAccess(t.core, id)).rejects.toMatchObject({ code: 'RECONNECT_REQUIRED' });
    expect(await t.core.listAccounts()).toMatchObject([{ id, status: 'reconnect' }]);
    // The window disconnects: the account goes, and B's revocation endpoint gets nothing.
    expect(await router.handle('disconnect', { accountId: id })).toMatchObject({ ok: true });
    expect(await t.core.listAccounts()).toEqual([]);
    expect(b.requests).toEqual([]);
  });

  it('lets the command line replace a provider with --replace, marking its accounts for reconnection', async () => {
    const id = await connectCorp();
    await expect(
      t.core.addGenericProvider({ name: 'corp', issuer: b.url, clientId: 'corp-client', clientSecret }),
    ).rejects.toMatchObject({ code: 'USAGE', message: expect.stringMatching(/--replace/) });
    now += 1000;
    await t.core.addGenericProvider({ name: 'corp', issuer: b.url, clientId: 'corp-b', replace: true });
    expect(await t.core.listAccounts()).toMatchObject([{ id, status: 'reconnect' }]);
    await expect(t.core.refresh(id)).rejects.toMatchObject({ code: 'RECONNECT_REQUIRED' });
    expectNothingSecretAt(b);
    // Connecting again pins the new server; from then on its tokens go there.
    const attempt = await t.core.startConnect('corp');
    await fetch(attempt.authorizeUrl);
    expect(await attempt.result).toMatchObject({ id, status: 'ok' });
    await t.core.refresh(id);
    expect(b.requests.filter((r) => r.url === '/token')).toHaveLength(2);
    expectNothingSecretAt(b);
  });

  it('keeps client id and secret changes of a provider in use to the command line, and its endpoints to --replace', async () => {
    const id = await connectCorp();
    await t.core.setProvider('corp', { clientId: 'corp-client', clientSecret, whenInUse: 'keep-endpoints' });
    await expect(
      t.core.setProvider('corp', { clientId: 'corp-client', tokenUrl: `${b.url}/token`, whenInUse: 'keep-endpoints' }),
    ).rejects.toMatchObject({ code: 'USAGE', message: expect.stringMatching(/--replace/) });
    expect(await t.core.refresh(id)).toMatchObject({ status: 'ok' });
    expect(b.requests).toEqual([]);
  });
});

describe('a sign-in in progress', () => {
  it('is not finished at a provider the window swapped in meanwhile: the code never reaches it', async () => {
    await t.core.addGenericProvider({ name: 'fresh', issuer: a.url, clientId: 'fresh-client', clientSecret });
    const attempt = await t.core.startConnect('fresh');
    // No account uses "fresh" yet, so the window may replace it; the sign-in started against A must not end at B.
    expect(await router.handle('addGenericProvider', { name: 'fresh', issuer: b.url, clientId: 'evil' })).toMatchObject(
      {
        ok: true,
      },
    );
    await fetch(attempt.authorizeUrl);
    await expect(attempt.result).rejects.toMatchObject({
      code: 'CONNECT_CANCELLED',
      message: expect.stringMatching(/changed while you were signing in/),
    });
    expect(b.requests.map((r) => r.url).filter((u) => !u.startsWith('/.well-known/'))).toEqual([]);
    expect(await t.core.listAccounts()).toEqual([]);
  });
});

describe('accounts connected before pins existed', () => {
  async function seedUnpinned(): Promise<string> {
    const meta = await t.core.repo.upsertFromIdentity({
      provider: 'corp',
      identity: { subject: 'alice', label: 'Alice', workspaces: [], extra: {} },
      tokens: {
        accessToken: `at-old-${Math.random().toString(36).slice(2)}`,
        refreshToken: `rt-old-${Math.random().toString(36).slice(2)}`,
        tokenType: 'Bearer',
        expiresAt: now - 1000,
        issuedAt: now - 3_601_000,
        host: null,
        personal: false,
      },
      scopes: ['openid'],
      label: null,
      pin: null,
    });
    return meta.id;
  }

  it('adopt the provider settings they were connected under as their pin', async () => {
    await t.core.addGenericProvider({ name: 'corp', issuer: a.url, clientId: 'corp-client', clientSecret });
    now += 1000;
    const id = await seedUnpinned();
    now += 1000;
    expect(await t.core.getAccessToken(id)).toMatch(/^at-/);
    expect((await t.core.repo.readMeta(id))?.pin).toMatchObject({ issuer: a.url, tokenUrl: `${a.url}/token` });
  });

  it('must be reconnected when the provider file changed after they were connected (it may be the attacker’s)', async () => {
    const id = await seedUnpinned();
    now += 1000;
    // Written by the window's addGenericProvider before the fix: B under the account's provider name.
    await t.core.metadata.writeProvider({
      provider: 'corp',
      clientId: 'evil',
      redirectUri: null,
      authorizeUrl: null,
      tokenUrl: null,
      apiUrl: null,
      generic: {
        name: 'corp',
        issuer: b.url,
        authorizationEndpoint: `${b.url}/authorize`,
        tokenEndpoint: `${b.url}/token`,
        revocationEndpoint: `${b.url}/revoke`,
        userinfoEndpoint: `${b.url}/userinfo`,
        tokenEndpointAuthMethod: 'none',
        scopes: ['openid'],
        issParameterSupported: false,
      },
      hasClientSecret: false,
      updatedAt: new Date(now).toISOString(),
    });
    await expect(t.core.getAccessToken(id)).rejects.toMatchObject({
      code: 'RECONNECT_REQUIRED',
      message: expect.stringMatching(/were changed after "Alice" was connected/),
    });
    expect(b.requests).toEqual([]);
  });
});
