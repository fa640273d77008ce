import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startBridge, type BridgeHandle } from '../../electron/dev/bridge-server';
import { FakeTokentrayService } from '../fakes/fake-service';

let dir: string;
let bridge: BridgeHandle;
let fake: FakeTokentrayService;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tokentray-bridge-'));
  const renderer = join(dir, 'renderer');
  mkdirSync(join(renderer, 'assets'), { recursive: true });
  writeFileSync(join(renderer, 'index.html'), '<!doctype html><title>Tokentray</title>');
  writeFileSync(join(renderer, 'assets', 'app.js'), 'console.log(1)');
  writeFileSync(join(dir, 'outside.txt'), 'must not be served');
  fake = new FakeTokentrayService({ seed: [{ provider: 'demo', label: 'alice' }] });
  bridge = await startBridge({ core: fake, home: join(dir, 'home'), rendererDir: renderer });
});

afterAll(async () => {
  await bridge.close();
  rmSync(dir, { recursive: true, force: true });
});

function get(path: string, headers: Record<string, string> = {}, method = 'GET') {
  return new Promise<{ status: number; headers: Record<string, unknown>; body: string }>((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port: bridge.port, path, method, headers: { host: `127.0.0.1:${bridge.port}`, ...headers } },
      (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** Opens the IPC socket as a page would; resolves with the socket or the HTTP status that refused it. */
function connect(opts: { token?: string | null; origin?: string }): Promise<WebSocket | number> {
  const token = opts.token === undefined ? bridge.token : opts.token;
  const url = `ws://127.0.0.1:${bridge.port}/ipc${token === null ? '' : `?token=${encodeURIComponent(token)}`}`;
  const ws = new WebSocket(url, { origin: opts.origin ?? `http://127.0.0.1:${bridge.port}` });
  return new Promise((resolve) => {
    ws.on('open', () => resolve(ws));
    ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.on('error', () => resolve(0));
  });
}

function call(ws: WebSocket, id: number, channel: string, payload?: unknown): Promise<unknown> {
  return new Promise((resolve) => {
    const onMessage = (data: WebSocket.RawData): void => {
      const message = JSON.parse(String(data)) as { type: string; id?: number; result?: unknown };
      if (message.type === 'result' && message.id === id) {
        ws.off('message', onMessage);
        resolve(message.result);
      }
    };
    ws.on('message', onMessage);
    ws.send(JSON.stringify({ id, channel, payload }));
  });
}

describe('the development bridge', () => {
  it('prints a 127.0.0.1 URL carrying a long random token', () => {
    expect(bridge.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]{40,}$/);
  });

  it('serves the built renderer with a strict CSP and nothing outside it', async () => {
    const index = await get('/');
    expect(index.status).toBe(200);
    expect(index.body).toContain('<title>Tokentray</title>');
    expect(String(index.headers['content-security-policy'])).toContain("default-src 'self'");
    expect(String(index.headers['content-security-policy'])).toContain("frame-ancestors 'none'");
    expect((await get('/assets/app.js')).headers['content-type']).toMatch(/javascript/);
    expect((await get('/../outside.txt')).body).not.toContain('must not be served');
    expect((await get('/%2e%2e/outside.txt')).status).toBe(404);
    expect((await get('/..%2foutside.txt')).status).toBe(404);
    expect((await get('/', {}, 'POST')).status).toBe(405);
  });

  it('refuses requests addressed to another host name (DNS rebinding)', async () => {
    expect((await get('/', { host: `evil.example:${bridge.port}` })).status).toBe(403);
  });

  it('refuses IPC sockets without the token, with a wrong token, or from another origin', async () => {
    expect(await connect({ token: null })).toBe(401);
    expect(await connect({ token: 'x'.repeat(bridge.token.length) })).toBe(401);
    expect(await connect({ token: 'short' })).toBe(401);
    expect(await connect({ origin: 'http://evil.example' })).toBe(403);
    expect(await connect({ origin: `http://127.0.0.1:${bridge.port + 1}` })).toBe(403);
  });

  it('answers contract calls and pushes events over an authorized socket', async () => {
    const ws = await connect({});
    if (typeof ws === 'number') throw new Error(`refused with ${ws}`);
    try {
      const accounts = (await call(ws, 1, 'listAccounts')) as { ok: boolean; data: Array<{ id: string }> };
      expect(accounts.ok).toBe(true);
      expect(accounts.data).toHaveLength(1);
      expect(await call(ws, 2, 'getAccessToken', { accountId: accounts.data[0]!.id })).toMatchObject({
        ok: false,
        error: { code: 'IPC_INVALID' },
      });
      const pushed = new Promise<unknown>((resolve) => {
        ws.on('message', (data) => {
          const message = JSON.parse(String(data)) as { type: string; event?: string; payload?: unknown };
          if (message.type === 'event' && message.event === 'accountsChanged') resolve(message.payload);
        });
      });
      expect(await call(ws, 3, 'disconnect', { accountId: accounts.data[0]!.id })).toEqual({
        ok: true,
        data: { disconnected: true },
      });
      expect(await pushed).toEqual([]);
    } finally {
      ws.close();
    }
  });

  it('closes a socket that sends something other than a request', async () => {
    const ws = await connect({});
    if (typeof ws === 'number') throw new Error(`refused with ${ws}`);
    const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
    ws.send('not json');
    expect(await closed).toBe(1003);
  });

  it('keeps preferences in the state directory', async () => {
    const ws = await connect({});
    if (typeof ws === 'number') throw new Error(`refused with ${ws}`);
    try {
      expect(await call(ws, 1, 'setPreferences', { language: 'ru' })).toEqual({ ok: true, data: { language: 'ru' } });
      const { readFileSync } = await import('node:fs');
      expect(JSON.parse(readFileSync(join(dir, 'home', 'preferences.json'), 'utf8'))).toEqual({ language: 'ru' });
    } finally {
      ws.close();
    }
  });
});

describe('the development bridge: paged tasks view', () => {
  it("speaks the task view verbs and lets a page's views go when the page does", async () => {
    const ws = (await connect({})) as WebSocket;
    // An earlier test disconnected the seeded account.
    const account = await fake.connectWithToken('clickup', 'pk_bridge_view_test');
    const query = { query: '', status: 'all', today: '2025-03-10', seq: 0 };
    const opened = (await call(ws, 1, 'taskViewOpen', { accountIds: [account.id], ...query, count: 5 })) as {
      ok: boolean;
      data: { viewId: string; window: { rows: unknown[]; matched: number } };
    };
    expect(opened.ok).toBe(true);
    expect(opened.data.window.rows).toHaveLength(5);
    const { viewId } = opened.data;
    expect(await call(ws, 2, 'taskViewWindow', { viewId, ...query, offset: 5, count: 5 })).toMatchObject({
      ok: true,
      data: { stale: false, offset: 5, matched: opened.data.window.matched },
    });
    ws.close();
    // The socket is gone: its view was closed in the core, not left holding the list.
    await expect
      .poll(async () => bridge.router.handle('taskViewWindow', { viewId, ...query, offset: 0, count: 1 }), {
        timeout: 10_000,
      })
      .toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
  });
});
