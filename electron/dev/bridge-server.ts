// The development bridge: the built renderer over http and the IPC contract
// over a WebSocket, both on 127.0.0.1, backed by the real core through the same
// router Electron main uses. Lets the UI run in any browser (and in the e2e
// tests) without an Electron binary. Run it with `npm run dev:web`.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import type { IpcEvent } from '../shared/ipc-contract';
import { createIpcRouter, filePreferences, type IpcActions, type IpcRouter } from '../core/ipc-router';
import { installedAppBackend, StartAtLogin } from '../core/login-item/start-at-login';
import { resolveStateDir } from '../core/paths';
import type { TokentrayService } from '../core/service-api';
import { serveStatic, SECURITY_HEADERS } from './static-files';
import { copyToSystemClipboard } from './system-clipboard';
import { openBridgeInBrowser, type LaunchPage } from './bridge-launch';

export interface BridgeOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  /** A core to serve; when absent the real one is created (and closed with the bridge). */
  core?: TokentrayService;
  /** State directory for a core created here, and where preferences are kept. */
  home?: string;
  keychainService?: string;
  /** The built renderer; defaults to dist/renderer. */
  rendererDir?: string;
  /** Replace main-process actions (tests record what "Copy token" would put on the clipboard). */
  actions?: Partial<IpcActions>;
  /** Called each time a page has connected with the secret (main deletes the launch page then). */
  onPageConnected?: () => void;
}

export interface BridgeHandle {
  /** The page to open, token included. */
  url: string;
  port: number;
  token: string;
  core: TokentrayService;
  router: IpcRouter;
  close(): Promise<void>;
}

/** The WebSocket path; the page adds `?token=…` from its own URL. */
export const BRIDGE_IPC_PATH = '/ipc';
const MAX_MESSAGE_BYTES = 1024 * 1024;

function defaultRendererDir(): string {
  // Bundled to dist/dev/bridge-server.cjs: the renderer sits next door. From source: the project's dist/.
  const besideBundle = typeof __dirname === 'string' ? resolve(__dirname, '..', 'renderer') : null;
  if (besideBundle && existsSync(join(besideBundle, 'index.html'))) return besideBundle;
  return resolve(process.cwd(), 'dist', 'renderer');
}

function sameSecret(given: string | null, expected: string): boolean {
  if (given === null) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

export async function startBridge(options: BridgeOptions = {}): Promise<BridgeHandle> {
  const rendererDir = options.rendererDir ?? defaultRendererDir();
  if (!existsSync(join(rendererDir, 'index.html'))) {
    throw new Error(`The renderer is not built (${rendererDir}/index.html is missing); run \`npm run build\` first.`);
  }
  const ownsCore = options.core === undefined;
  let core: TokentrayService;
  if (options.core) {
    core = options.core;
  } else {
    const { createTokentrayCore } = await import('../core/create-core');
    core = await createTokentrayCore({
      ...(options.home === undefined ? {} : { home: options.home }),
      ...(options.keychainService === undefined ? {} : { keychainService: options.keychainService }),
    });
  }
  const home = options.home ?? resolveStateDir();
  const router = createIpcRouter(core, {
    copyToken: async (accountId) =>
      copyToSystemClipboard(await core.getAccessToken(accountId, { minValidSeconds: 60 })),
    // The page is already a browser tab: it opens the (allow-listed) URL itself.
    openExternal: async () => false,
    preferences: filePreferences(join(home, 'preferences.json')),
    // The bridge is not the tray app: it manages the installed app's autostart entry (Linux, deb) or says
    // why it cannot. It never turns the setting on by itself; the installed app applies that default.
    startAtLogin: new StartAtLogin(installedAppBackend(), join(home, 'start-at-login.json')),
    ...options.actions,
  });
  // On a shared store the window hears other machines' refreshes and "shared store unreachable", as in the app.
  const stopShared = core.watchSharedStore?.() ?? (() => undefined);

  const token = randomBytes(32).toString('base64url');
  let port = 0;
  const allowedHosts = (): Set<string> => new Set([`127.0.0.1:${port}`, `localhost:${port}`]);
  const allowedOrigins = (): Set<string> => new Set([`http://127.0.0.1:${port}`, `http://localhost:${port}`]);

  const server = createServer((req, res) => {
    // A page on another site must not reach this server by renaming itself to 127.0.0.1 (DNS rebinding).
    if (!allowedHosts().has(req.headers.host ?? '')) {
      res.writeHead(403, SECURITY_HEADERS).end();
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { ...SECURITY_HEADERS, allow: 'GET, HEAD' }).end();
      return;
    }
    const pathname = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
    void serveStatic(rendererDir, pathname, res, req.method === 'HEAD');
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES });
  server.on('upgrade', (req: IncomingMessage, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const reject = (status: string): void => {
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    };
    if (url.pathname !== BRIDGE_IPC_PATH) return reject('404 Not Found');
    if (!allowedHosts().has(req.headers.host ?? '') || !allowedOrigins().has(req.headers.origin ?? '')) {
      return reject('403 Forbidden');
    }
    if (!sameSecret(url.searchParams.get('token'), token)) return reject('401 Unauthorized');
    wss.handleUpgrade(req, socket, head, (ws) => {
      serveSocket(ws, router);
      options.onPageConnected?.();
    });
  });

  await new Promise<void>((resolveListen, rejectListen) => {
    server.once('error', rejectListen);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', rejectListen);
      resolveListen();
    });
  });
  port = (server.address() as AddressInfo).port;

  let closed = false;
  return {
    url: `http://127.0.0.1:${port}/?token=${token}`,
    port,
    token,
    core,
    router,
    close: async () => {
      if (closed) return;
      closed = true;
      for (const client of wss.clients) client.terminate();
      wss.close();
      stopShared();
      router.close();
      await new Promise<void>((done) => server.close(() => done()));
      server.closeAllConnections?.();
      if (ownsCore) await core.close();
    },
  };
}

interface BridgeRequest {
  id: number;
  channel: string;
  payload?: unknown;
}

function parseRequest(data: unknown): BridgeRequest | null {
  try {
    const value: unknown = JSON.parse(String(data));
    if (!value || typeof value !== 'object') return null;
    const { id, channel, payload } = value as Record<string, unknown>;
    if (typeof id !== 'number' || !Number.isSafeInteger(id) || typeof channel !== 'string') return null;
    return { id, channel, payload };
  } catch {
    return null;
  }
}

/** One page: requests in, results and pushed events out. */
function serveSocket(ws: WebSocket, router: IpcRouter): void {
  const send = (message: unknown): void => {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(message));
  };
  const unsubscribe = router.subscribe((event: IpcEvent, payload: unknown) => send({ type: 'event', event, payload }));
  // Task views this page opened hold whole lists in the core: they go when the page does.
  const views = new Set<string>();
  const closeViews = (): void => {
    for (const viewId of views) void router.handle('taskViewClose', { viewId });
    views.clear();
  };
  ws.on('message', (data) => {
    const request = parseRequest(data);
    if (!request) {
      ws.close(1003, 'malformed message');
      return;
    }
    void router.handle(request.channel, request.payload).then((result) => {
      if (request.channel === 'taskViewOpen' && result.ok) views.add((result.data as { viewId: string }).viewId);
      if (request.channel === 'taskViewClose') views.delete((request.payload as { viewId?: string }).viewId ?? '');
      send({ type: 'result', id: request.id, result });
    });
  });
  ws.on('close', () => {
    unsubscribe();
    closeViews();
  });
  ws.on('error', () => {
    unsubscribe();
    closeViews();
  });
}

async function main(): Promise<void> {
  const portText = process.env['TOKENTRAY_BRIDGE_PORT'];
  let launchPage: LaunchPage | null = null;
  const bridge = await startBridge({
    ...(portText ? { port: Number(portText) } : {}),
    // The browser is in: the secret need not stay on disk any longer.
    onPageConnected: () => void launchPage?.remove(),
  });
  console.log(`Tokentray development bridge (core on this machine, UI in your browser):\n\n  ${bridge.url}\n`);
  console.log('Anyone with this URL can use your accounts while it runs; press Ctrl+C to stop.');
  if (process.env['TOKENTRAY_BRIDGE_OPEN_BROWSER'] === '1') {
    // `npm start` without a desktop app: the opener gets a 0600 page's path, never the URL with its secret.
    launchPage = await openBridgeInBrowser(join(resolveStateDir(), 'run'), bridge.url);
    console.log('Opening it in your default browser; if nothing opens, copy the URL above into one.');
  }
  const stop = (): void => {
    void Promise.all([bridge.close(), launchPage?.remove()]).then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

// Run only as its own entry (dist/dev/bridge-server.cjs), not when bundled into something that imports startBridge.
if (/bridge-server\.c?[jt]s$/.test(process.argv[1] ?? '')) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(1);
  });
}
