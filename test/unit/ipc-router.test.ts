import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TokentrayError } from '../../electron/core/errors';
import { createIpcRouter, filePreferences, isAllowedExternalUrl, type IpcRouter } from '../../electron/core/ipc-router';
import type { IpcEvent } from '../../electron/shared/ipc-contract';
import type { AccountSummary } from '../../electron/shared/models';
import { FakeTokentrayService } from '../fakes/fake-service';

interface Harness {
  fake: FakeTokentrayService;
  router: IpcRouter;
  events: Array<{ event: IpcEvent; payload: unknown }>;
  copied: string[];
  opened: string[];
}

const routers: IpcRouter[] = [];
afterEach(() => {
  while (routers.length) routers.pop()?.close();
});

function harness(options: ConstructorParameters<typeof FakeTokentrayService>[0] = {}): Harness {
  const fake = new FakeTokentrayService(options);
  const copied: string[] = [];
  const opened: string[] = [];
  const router = createIpcRouter(fake, {
    copyToken: async (accountId) => {
      copied.push(await fake.getAccessToken(accountId));
    },
    openExternal: async (url) => {
      opened.push(url);
    },
  });
  routers.push(router);
  const events: Harness['events'] = [];
  router.subscribe((event, payload) => events.push({ event, payload }));
  return { fake, router, events, copied, opened };
}

async function ok<T>(promise: Promise<{ ok: boolean; data?: unknown; error?: unknown }>): Promise<T> {
  const result = await promise;
  if (!result.ok) throw new Error(`expected ok, got ${JSON.stringify(result)}`);
  return result.data as T;
}

function waitFor<T>(check: () => T | undefined): Promise<T> {
  return new Promise((resolve) => {
    const tick = (): void => {
      const value = check();
      if (value !== undefined) resolve(value);
      else setTimeout(tick, 5);
    };
    tick();
  });
}

describe('the IPC router', () => {
  it('rejects unknown channels and malformed payloads without calling the core', async () => {
    const { fake, router } = harness();
    expect(await router.handle('getAccessToken', { accountId: 'x' })).toMatchObject({
      ok: false,
      error: { code: 'IPC_INVALID' },
    });
    expect(await router.handle('__proto__', {})).toMatchObject({ ok: false, error: { code: 'IPC_INVALID' } });
    expect(await router.handle('refresh', { accountId: 42 })).toMatchObject({
      ok: false,
      error: { code: 'IPC_INVALID' },
    });
    expect(await router.handle('refresh', 'demo-alice')).toMatchObject({ ok: false, error: { code: 'IPC_INVALID' } });
    expect(fake.calls).toEqual([]);
  });

  it('never echoes a rejected payload (it may hold a secret)', async () => {
    const { router } = harness();
    const result = await router.handle('setProvider', { provider: 'clickup', clientSecret: 'sup3r-s3cret-value' });
    expect(result.ok).toBe(false);
    expect(JSON.stringify(result)).not.toContain('sup3r-s3cret-value');
  });

  it('stores a client secret through the core and answers with the provider summary only', async () => {
    const { fake, router } = harness();
    const result = await router.handle('setProvider', {
      provider: 'clickup',
      clientId: 'client-1',
      clientSecret: 'sup3r-s3cret-value',
    });
    expect(result).toMatchObject({ ok: true, data: { id: 'clickup', configured: true } });
    expect(JSON.stringify(result)).not.toContain('sup3r-s3cret-value');
    expect(fake.secrets.get('clickup')).toBe('sup3r-s3cret-value');
  });

  it('refuses endpoint overrides from the renderer with a sentence that says where to set them', async () => {
    const { fake, router } = harness();
    for (const field of ['authorizeUrl', 'tokenUrl', 'apiUrl']) {
      const result = await router.handle('setProvider', {
        provider: 'clickup',
        clientId: 'client-1',
        [field]: 'https://attacker.example/collect',
      });
      expect(result).toEqual({
        ok: false,
        error: { code: 'IPC_INVALID', message: expect.stringContaining('tokentray provider set') },
      });
      expect(JSON.stringify(result)).not.toContain('attacker.example');
    }
    expect(fake.calls).toEqual([]);
  });

  it('refuses a plain-http redirect URI to another machine, and takes loopback and tokentray:// ones', async () => {
    const { fake, router } = harness();
    const refused = await router.handle('setProvider', {
      provider: 'clickup',
      clientId: 'client-1',
      redirectUri: 'http://attacker.example/callback',
    });
    expect(refused).toEqual({
      ok: false,
      error: { code: 'IPC_INVALID', message: expect.stringMatching(/redirect URI.*https.*127\.0\.0\.0\/8/) },
    });
    expect(fake.calls).toEqual([]);
    for (const redirectUri of [
      'http://127.0.0.1:8977/callback/clickup',
      'http://localhost:1/cb',
      'tokentray://callback/clickup',
    ]) {
      expect(
        await router.handle('setProvider', { provider: 'clickup', clientId: 'client-1', redirectUri }),
      ).toMatchObject({
        ok: true,
      });
    }
  });

  it('passes the core’s coded errors through and hides anything else behind INTERNAL', async () => {
    const { fake, router } = harness({ seed: [{ provider: 'demo', label: 'alice' }] });
    expect(await router.handle('inspect', { accountId: 'nobody' })).toEqual({
      ok: false,
      error: { code: 'NOT_FOUND', message: expect.stringContaining('nobody') },
    });
    fake.failNext('listAccounts', new Error('ENOENT /home/me/.config/Tokentray/accounts/x.json'));
    const hidden = await router.handle('listAccounts', undefined);
    expect(hidden).toMatchObject({ ok: false, error: { code: 'INTERNAL' } });
    expect(JSON.stringify(hidden)).not.toContain('/home/me');
    fake.failNext('listAccounts', new TokentrayError('RATE_LIMITED', 'Slow down.', { retryAfterSeconds: 30 }));
    expect(await router.handle('listAccounts', undefined)).toEqual({
      ok: false,
      error: { code: 'RATE_LIMITED', message: 'Slow down.', retryAfterSeconds: 30 },
    });
  });

  it('strips fields the contract does not name from what the core returns', async () => {
    const { fake, router } = harness({ seed: [{ provider: 'demo', label: 'alice' }] });
    const leaky = { ...(await fake.listAccounts())[0], accessToken: 'eyJleaked', refreshToken: 'rt-leaked' };
    fake.listAccounts = async () => [leaky as AccountSummary];
    const result = await router.handle('listAccounts', {});
    expect(result.ok).toBe(true);
    expect(JSON.stringify(result)).not.toMatch(/leaked/);
  });

  it('answers INTERNAL when the core returns something off-contract', async () => {
    const { fake, router } = harness();
    fake.listProviders = async () => [{ id: 'broken' } as never];
    expect(await router.handle('listProviders', undefined)).toMatchObject({ ok: false, error: { code: 'INTERNAL' } });
  });

  it('starts a browser sign-in and pushes progress and the result as events', async () => {
    const { fake, router, events } = harness();
    const started = await ok<{ attemptId: string; authorizeUrl: string; redirectUri: string | null }>(
      router.handle('startConnect', { provider: 'demo', label: 'mine' }),
    );
    expect(started.authorizeUrl).toContain(started.attemptId);
    expect(started.redirectUri).not.toBeNull();
    const account = fake.completeAttempt(started.attemptId);
    const result = await waitFor(() => events.find((e) => e.event === 'connectResult'));
    expect(result.payload).toEqual({ attemptId: started.attemptId, provider: 'demo', ok: true, account });
    const phases = events
      .filter((e) => e.event === 'connectProgress')
      .map((e) => (e.payload as { phase: string }).phase);
    expect(phases).toEqual(['waiting-for-browser', 'exchanging-code', 'verifying-identity', 'stored']);
    expect(events.some((e) => e.event === 'accountsChanged')).toBe(true);
  });

  it('cancels a pending sign-in, which then reports CONNECT_CANCELLED', async () => {
    const { router, events } = harness();
    const started = await ok<{ attemptId: string }>(router.handle('startConnect', { provider: 'demo' }));
    expect(await router.handle('cancelConnect', { attemptId: started.attemptId })).toEqual({
      ok: true,
      data: { cancelled: true },
    });
    const result = await waitFor(() => events.find((e) => e.event === 'connectResult'));
    expect(result.payload).toMatchObject({ ok: false, error: { code: 'CONNECT_CANCELLED' } });
    expect(await router.handle('cancelConnect', { attemptId: started.attemptId })).toEqual({
      ok: true,
      data: { cancelled: false },
    });
  });

  it('copies a token in the main process and answers without it', async () => {
    const { fake, router, copied } = harness({ seed: [{ provider: 'demo', label: 'alice' }] });
    const [account] = await fake.listAccounts();
    const token = await fake.getAccessToken(account!.id);
    const result = await router.handle('copyToken', { accountId: account!.id });
    expect(result).toEqual({ ok: true, data: { copied: true, clearsInSeconds: 60 } });
    expect(copied).toEqual([token]);
    expect(JSON.stringify(result)).not.toContain(token);
  });

  it('reports refreshes as events, including a revoked account turning to reconnect', async () => {
    const { fake, router, events } = harness({ seed: [{ provider: 'demo', label: 'alice' }] });
    const [account] = await fake.listAccounts();
    await ok(router.handle('refresh', { accountId: account!.id }));
    fake.revokeAll();
    expect(await router.handle('refresh', { accountId: account!.id })).toMatchObject({
      ok: false,
      error: { code: 'RECONNECT_REQUIRED' },
    });
    const outcomes = events.filter((e) => e.event === 'refreshResult').map((e) => (e.payload as { ok: boolean }).ok);
    expect(outcomes).toEqual([true, false]);
    const [after] = await ok<AccountSummary[]>(router.handle('listAccounts', undefined));
    expect(after?.status).toBe('reconnect');
  });

  it('opens only https and loopback http URLs, even ones the core handed out (issue 20)', async () => {
    const { router, opened, fake } = harness({ seed: [{ provider: 'demo', label: 'alice' }] });
    for (const url of ['javascript:alert(1)', 'file:///etc/passwd', 'http://evil.example.com/', 'https://u:p@x.com/']) {
      expect(await router.handle('openExternal', { url })).toMatchObject({ ok: false, error: { code: 'USAGE' } });
    }
    expect(await router.handle('openExternal', { url: 'https://app.clickup.com/t/1' })).toEqual({
      ok: true,
      data: { opened: true },
    });
    expect(await router.handle('openExternal', { url: 'http://127.0.0.1:5000/authorize' })).toMatchObject({ ok: true });

    // A hostile provider's task links: once handed out, they used to be opened as given.
    const hostile = [
      'ms-msdt:/id PCWDiagnostic',
      'file:///etc/passwd',
      'javascript:alert(1)',
      'http://tasks.intranet/t/1',
    ];
    const [account] = await fake.listAccounts();
    fake.tasks = async (id) => ({
      accountId: id,
      tasks: hostile.map((url, i) => ({
        id: `t${i}`,
        accountId: id,
        provider: 'demo',
        title: 'Hostile',
        status: 'open' as const,
        due: null,
        priority: { level: 0, original: null },
        project: null,
        workspace: null,
        assignees: [],
        url,
        updatedAt: null,
      })),
      fetchedAt: null,
      offline: false,
      ageSeconds: null,
      error: null,
    });
    await ok(router.handle('tasks', { accountId: account!.id }));
    for (const url of hostile) {
      expect(await router.handle('openExternal', { url })).toMatchObject({ ok: false, error: { code: 'USAGE' } });
    }
    expect(opened).toEqual(['https://app.clickup.com/t/1', 'http://127.0.0.1:5000/authorize']);
  });

  it('tells the bridge page to open the URL itself when the action declines', async () => {
    const fake = new FakeTokentrayService();
    const router = createIpcRouter(fake, { copyToken: async () => undefined, openExternal: async () => false });
    routers.push(router);
    expect(await router.handle('openExternal', { url: 'https://example.com/' })).toEqual({
      ok: true,
      data: { opened: false },
    });
  });

  it('keeps preferences, merging partial updates', async () => {
    const { router } = harness();
    expect(await router.handle('getPreferences', undefined)).toEqual({ ok: true, data: { language: 'system' } });
    expect(await router.handle('setPreferences', { language: 'de' })).toEqual({ ok: true, data: { language: 'de' } });
    expect(await router.handle('getPreferences', {})).toEqual({ ok: true, data: { language: 'de' } });
    expect(await router.handle('setPreferences', { language: 'xx' })).toMatchObject({ ok: false });
  });

  it('tells the window whether the shared store answers, and pushes each change as it happens', async () => {
    const { fake, router, events } = harness();
    expect(await router.handle('getStorageStatus', undefined)).toEqual({
      ok: true,
      data: { backend: 'keychain', reachable: true },
    });
    fake.setStorage({ backend: 'shared', reachable: false });
    expect(events).toContainEqual({ event: 'storageChanged', payload: { backend: 'shared', reachable: false } });
    expect(await router.handle('getStorageStatus', {})).toEqual({
      ok: true,
      data: { backend: 'shared', reachable: false },
    });
  });

  it('stops pushing to a subscriber once it unsubscribes, and survives a throwing one', async () => {
    const { fake, router } = harness({ seed: [{ provider: 'demo', label: 'alice' }] });
    const got: IpcEvent[] = [];
    const off = router.subscribe((event) => got.push(event));
    router.subscribe(() => {
      throw new Error('window gone');
    });
    const [account] = await fake.listAccounts();
    await ok(router.handle('refresh', { accountId: account!.id }));
    expect(got).toContain('refreshResult');
    off();
    got.length = 0;
    await ok(router.handle('refresh', { accountId: account!.id }));
    expect(got).toEqual([]);
  });
});

describe('isAllowedExternalUrl', () => {
  it('allows https and loopback http only', () => {
    expect(isAllowedExternalUrl('https://app.clickup.com/t/abc')).toBe(true);
    expect(isAllowedExternalUrl('http://localhost:3000/x')).toBe(true);
    expect(isAllowedExternalUrl('http://example.com')).toBe(false);
    expect(isAllowedExternalUrl('tokentray://callback')).toBe(false);
    expect(isAllowedExternalUrl('not a url')).toBe(false);
  });
});

describe('filePreferences', () => {
  it('round-trips through a JSON file and falls back to defaults when it is missing or damaged', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tokentray-prefs-'));
    try {
      const store = filePreferences(join(dir, 'sub', 'preferences.json'));
      expect(await store.get()).toEqual({ language: 'system' });
      await store.set({ language: 'ru' });
      expect(await store.get()).toEqual({ language: 'ru' });
      expect(JSON.parse(readFileSync(join(dir, 'sub', 'preferences.json'), 'utf8'))).toEqual({ language: 'ru' });
      const { writeFileSync } = await import('node:fs');
      writeFileSync(join(dir, 'sub', 'preferences.json'), '{broken');
      expect(await store.get()).toEqual({ language: 'system' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the IPC router: paged tasks view', () => {
  const query = { query: '', status: 'all' as const, today: '2025-03-10', seq: 0 };
  type Window = {
    stale: boolean;
    total: number;
    matched: number;
    offset: number;
    rows: Array<{ kind: string; position?: number; task?: { title: string; url: string | null } }>;
  };

  it('opens a view over several accounts, answers windows of it, and closes it', async () => {
    const { fake, router } = harness({
      taskCount: 1200,
      seed: [
        { provider: 'demo', label: 'alice' },
        { provider: 'demo', label: 'bob' },
      ],
    });
    const ids = (await fake.listAccounts()).map((a) => a.id);
    expect(ids.length).toBeGreaterThan(1);
    const opened = await ok<{
      viewId: string;
      sources: Array<{ accountId: string; offline: boolean }>;
      failures: unknown[];
      window: Window;
    }>(router.handle('taskViewOpen', { accountIds: ids, ...query, count: 40 }));
    expect(opened.failures).toEqual([]);
    expect(opened.sources.map((s) => s.accountId)).toEqual(ids);
    expect(JSON.stringify(opened.sources)).not.toContain('"tasks"');
    expect(opened.window.matched).toBe(1200 * ids.length);
    expect(opened.window.rows).toHaveLength(40);

    const last = await ok<Window>(
      router.handle('taskViewWindow', { viewId: opened.viewId, ...query, offset: opened.window.total - 1, count: 40 }),
    );
    expect(last.rows).toHaveLength(1);
    expect(last.rows[0]).toMatchObject({ kind: 'task', position: 1200 * ids.length });

    expect(await ok(router.handle('taskViewClose', { viewId: opened.viewId }))).toEqual({ closed: true });
    expect(
      await router.handle('taskViewWindow', { viewId: opened.viewId, ...query, offset: 0, count: 10 }),
    ).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
  });

  it('searches in the core and drops an answer a newer keystroke has overtaken', async () => {
    const { fake, router } = harness({ taskCount: 50, seed: [{ provider: 'demo', label: 'alice' }] });
    const [account] = await fake.listAccounts();
    const { viewId } = await ok<{ viewId: string }>(
      router.handle('taskViewOpen', { accountIds: [account!.id], ...query, count: 10 }),
    );
    const found = await ok<Window>(
      router.handle('taskViewWindow', { viewId, ...query, query: '#17', seq: 5, offset: 0, count: 10 }),
    );
    expect(found.matched).toBe(1);
    expect(found.rows.find((r) => r.kind === 'task')?.task?.title).toMatch(/#17$/);
    expect(
      await ok(router.handle('taskViewWindow', { viewId, ...query, query: '#1', seq: 4, offset: 0, count: 10 })),
    ).toEqual({ stale: true, viewId, seq: 4 });
  });

  it('reports an account without a saved list as a failure of an offline view, not of the view', async () => {
    const { fake, router } = harness({
      taskCount: 5,
      seed: [
        { provider: 'demo', label: 'alice' },
        { provider: 'demo', label: 'bob' },
      ],
    });
    const ids = (await fake.listAccounts()).map((a) => a.id);
    fake.tasks = async (id, options) => {
      if (options?.offline && id === ids[0]) throw new TokentrayError('NOT_FOUND', 'No saved task list yet.');
      return {
        accountId: id,
        tasks: [],
        fetchedAt: '2025-03-10T08:00:00.000Z',
        offline: options?.offline === true,
        ageSeconds: 60,
        error: null,
      };
    };
    const opened = await ok<{ failures: Array<{ accountId: string; error: { code: string } }>; window: Window }>(
      router.handle('taskViewOpen', { accountIds: ids, offline: true, ...query, count: 10 }),
    );
    expect(opened.failures).toEqual([
      { accountId: ids[0], error: { code: 'NOT_FOUND', message: 'No saved task list yet.' } },
    ]);
    expect(opened.window.matched).toBe(0);
  });

  it('hands the renderer what each live fetch skipped, per source, so the tasks view can name it', async () => {
    const { fake, router } = harness({ taskCount: 3, seed: [{ provider: 'clickup', label: 'work' }] });
    const [id] = (await fake.listAccounts()).map((a) => a.id);
    const skipped = {
      kind: 'workspace' as const,
      workspace: 'Side Projects',
      name: 'Side Projects',
      reason: 'not_authorized' as const,
      message: 'ClickUp did not let this login read “Side Projects”; its tasks are skipped.',
    };
    fake.tasks = async (accountId) => ({
      accountId,
      tasks: [],
      fetchedAt: '2025-03-10T08:00:00.000Z',
      offline: false,
      ageSeconds: 0,
      error: null,
      skipped: [skipped],
    });
    const opened = await ok<{ sources: Array<{ accountId: string; skipped: unknown[] }> }>(
      router.handle('taskViewOpen', { accountIds: [id!], ...query, count: 10 }),
    );
    expect(opened.sources).toEqual([expect.objectContaining({ accountId: id, skipped: [skipped] })]);
  });

  it('refuses a malformed window request without touching the core', async () => {
    const { fake, router } = harness();
    const before = fake.calls.length;
    expect(await router.handle('taskViewWindow', { viewId: 'v', ...query, offset: 0, count: 100_000 })).toMatchObject({
      ok: false,
      error: { code: 'IPC_INVALID' },
    });
    expect(await router.handle('taskViewOpen', { accountIds: 'all', ...query, count: 10 })).toMatchObject({
      ok: false,
      error: { code: 'IPC_INVALID' },
    });
    expect(fake.calls.length).toBe(before);
  });
});
