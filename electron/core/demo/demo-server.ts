import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { systemClock, type Clock } from '../clock';
import { apiRoutes } from './demo-api';
import { DemoAuthorizationServer, type DemoServerStats } from './demo-authorization';
import { consentRoutes } from './demo-consent';
import { HttpError, NO_STORE, sendJson, type DemoRoute } from './demo-http';
import { DEFAULT_DEMO_TASK_COUNT } from './demo-tasks';

export { isAllowedRedirectUri } from './demo-consent';
export type { DemoServerStats } from './demo-authorization';

/**
 * The built-in demo provider: a small, standard OAuth 2.0 authorization server
 * (demo-authorization.ts), its consent page (demo-consent.ts) and a tasks API
 * (demo-api.ts), on plain node:http bound to 127.0.0.1.
 *
 * Every process that needs it (the CLI, the desktop app, the dev bridge) starts
 * its own instance on an ephemeral port, and tokens are stateless (see
 * demo-tokens.ts) so each instance accepts what any other issued. What cannot
 * be stateless (revocations, spent codes) is kept in this process's memory.
 */

export const DEFAULT_ACCESS_TOKEN_TTL_SECONDS = 900;
const MAX_TASK_COUNT = 1_000_000;

export interface DemoServerOptions {
  /** Tasks per demo user; default 300 (TOKENTRAY_DEMO_TASKS). */
  taskCount?: number;
  /** Access token lifetime; default 900 s: refreshed 5 minutes before expiry, so a refresh is visible within 10 minutes (TOKENTRAY_DEMO_TTL_SECONDS). */
  accessTokenTtlSeconds?: number;
  /** 0 = ephemeral (default). */
  port?: number;
  /** Time source for expiry checks; tests move it instead of sleeping. */
  clock?: Clock;
  /** Do not keep the process alive for this server (the per-process singleton uses this). */
  unref?: boolean;
}

export interface DemoServerHandle {
  /** http://127.0.0.1:PORT, no trailing slash. */
  url: string;
  close(): Promise<void>;
  /** Requests answered so far, by kind. */
  stats: DemoServerStats;
}

/** Reads TOKENTRAY_DEMO_TASKS and TOKENTRAY_DEMO_TTL_SECONDS; values that are not whole numbers in range are ignored. */
export function demoOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): DemoServerOptions {
  const options: DemoServerOptions = {};
  const tasks = wholeNumber(env['TOKENTRAY_DEMO_TASKS'], 0, MAX_TASK_COUNT);
  if (tasks !== null) options.taskCount = tasks;
  const ttl = wholeNumber(env['TOKENTRAY_DEMO_TTL_SECONDS'], 1, 7 * 86_400);
  if (ttl !== null) options.accessTokenTtlSeconds = ttl;
  return options;
}

function wholeNumber(raw: string | undefined, min: number, max: number): number | null {
  if (raw === undefined || !/^\d{1,9}$/.test(raw.trim())) return null;
  const n = Number(raw.trim());
  return n >= min && n <= max ? n : null;
}

export async function startDemoServer(options: DemoServerOptions = {}): Promise<DemoServerHandle> {
  const clock = options.clock ?? systemClock;
  const taskCount = Math.min(MAX_TASK_COUNT, Math.max(0, Math.floor(options.taskCount ?? DEFAULT_DEMO_TASK_COUNT)));
  const ttl = Math.max(1, Math.floor(options.accessTokenTtlSeconds ?? DEFAULT_ACCESS_TOKEN_TTL_SECONDS));
  const stats: DemoServerStats = { tokenRequests: 0, codeGrants: 0, refreshGrants: 0, apiRequests: 0, revocations: 0 };
  const auth = new DemoAuthorizationServer(clock, ttl, stats);
  let baseUrl = '';
  let port = 0;
  const routes: DemoRoute[] = [
    auth.routes,
    consentRoutes(() => auth.nowSeconds()),
    apiRoutes({ auth, clock, taskCount, baseUrl: () => baseUrl }),
  ];

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      // A page on some other site that rebinds its DNS name to 127.0.0.1 must not reach the demo.
      const host = req.headers.host ?? '';
      if (host !== `127.0.0.1:${port}` && host !== `localhost:${port}`) {
        throw new HttpError(421, { error: 'misdirected_request', error_description: 'Unexpected Host header.' });
      }
      const url = new URL(req.url ?? '/', baseUrl);
      for (const route of routes) if (await route(req, res, url)) return;
      throw new HttpError(404, { error: 'not_found', error_description: 'There is nothing here.' });
    } catch (error) {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (error instanceof HttpError) {
        sendJson(res, error.status, error.body, { ...NO_STORE, ...error.headers });
      } else {
        sendJson(res, 500, { error: 'server_error', error_description: 'The demo server hit an unexpected error.' });
      }
    }
  }

  const server: Server = createServer((req, res) => void handle(req, res));
  server.keepAliveTimeout = 2_000;
  if (options.unref) {
    server.unref();
    server.on('connection', (socket) => socket.unref());
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  port = (server.address() as AddressInfo).port;
  baseUrl = `http://127.0.0.1:${port}`;

  return {
    url: baseUrl,
    stats,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

let singleton: Promise<DemoServerHandle> | null = null;

/**
 * The demo server of this process, started on first use with the options from
 * the environment. It does not keep the process alive on its own, so a CLI
 * command that touched it still exits when its work is done.
 */
export function ensureDemoServer(): Promise<DemoServerHandle> {
  if (!singleton) {
    const starting = startDemoServer({ ...demoOptionsFromEnv(), unref: true });
    singleton = starting;
    starting.catch(() => {
      if (singleton === starting) singleton = null;
    });
  }
  return singleton;
}

export async function closeDemoServer(): Promise<void> {
  const current = singleton;
  singleton = null;
  if (current) await (await current).close();
}
