import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TokentrayError, isTokentrayError } from '../errors';
import { statesEqual } from '../oauth/pkce';
import { RESULT_PAGE_HEADERS, resultPage } from './result-page';

export const LOOPBACK_HOST = '127.0.0.1';
export const DEFAULT_CONNECT_TIMEOUT_MS = 5 * 60_000;

export interface LoopbackOptions<T> {
  /** 0 picks a free port; providers with a registered redirect pass its fixed port. */
  port: number;
  path: string;
  expectedState: string;
  timeoutMs?: number;
  /**
   * The redirect URI names `localhost`, which a browser may resolve to ::1 as well as 127.0.0.1:
   * listen on [::1] at the same port too, so no other local process can take that address and
   * catch the code (RFC 8252 §8.3). Skipped where the machine has no IPv6 loopback.
   */
  bindIpv6Loopback?: boolean;
  /**
   * Finishes the sign-in from the callback's query. Called at most once, only
   * for a request whose state matches; whatever it throws is the attempt's result.
   */
  complete(params: URLSearchParams): Promise<T>;
  /** Text for the success page, from the result. */
  describe(result: T): string;
}

export interface LoopbackListener<T> {
  port: number;
  result: Promise<T>;
  close(): void;
}

/**
 * A one-shot HTTP listener on 127.0.0.1 for the OAuth redirect. Requests that
 * do not carry the attempt's state are answered 400 and ignored, so a stray or
 * hostile request can neither end the sign-in nor crash the listener; the first
 * request with the right state settles the attempt and closes the listener.
 */
export async function startLoopbackListener<T>(options: LoopbackOptions<T>): Promise<LoopbackListener<T>> {
  let settle!: { resolve: (v: T) => void; reject: (e: unknown) => void };
  const result = new Promise<T>((resolve, reject) => {
    settle = { resolve, reject };
  });
  // The attempt's result is read by the caller; never let an unobserved rejection crash the process.
  result.catch(() => undefined);
  let claimed = false;
  let done = false;
  const timers: { timeout?: NodeJS.Timeout } = {};
  let port = options.port;

  const servers: Server[] = [];
  const newServer = (): Server => {
    const created = createServer((req, res) => {
      handle(req, res).catch(() => {
        if (!res.headersSent) send(res, 500, 'failure', 'Something went wrong', 'Return to Tokentray and try again.');
      });
    });
    created.on('clientError', (_err, socket) => {
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
      else socket.destroy();
    });
    return created;
  };

  function finish(): void {
    if (done) return;
    done = true;
    if (timers.timeout) clearTimeout(timers.timeout);
    for (const server of servers) {
      server.close();
      server.closeIdleConnections?.();
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', `http://${LOOPBACK_HOST}:${port}`);
    } catch {
      send(res, 400, 'failure', 'Not a sign-in request', 'This address is only used to finish connecting an account.');
      return;
    }
    const host = (req.headers.host ?? '').toLowerCase();
    // A page that rebinds its DNS name to 127.0.0.1 still sends its own Host header.
    const ipv6Host = options.bindIpv6Loopback === true && host === `[::1]:${port}`;
    if (host !== `${LOOPBACK_HOST}:${port}` && host !== `localhost:${port}` && !ipv6Host) {
      send(res, 400, 'failure', 'Not a sign-in request', 'This address is only used to finish connecting an account.');
      return;
    }
    if (req.method !== 'GET' || url.pathname !== options.path) {
      send(res, 404, 'failure', 'Not found', 'This address is only used to finish connecting an account.');
      return;
    }
    const states = url.searchParams.getAll('state');
    const matches = states.length === 1 && statesEqual(options.expectedState, states[0] ?? '');
    if (!matches) {
      send(
        res,
        400,
        'failure',
        'This sign-in does not match',
        'The link does not belong to the connection in progress. Start connecting again from Tokentray.',
      );
      return;
    }
    if (claimed) {
      send(res, 409, 'failure', 'Already handled', 'This sign-in was already completed. You can close this tab.');
      return;
    }
    claimed = true;
    try {
      const value = await options.complete(url.searchParams);
      send(
        res,
        200,
        'success',
        'Account connected',
        `${options.describe(value)} You can close this tab and return to Tokentray.`,
      );
      settle.resolve(value);
    } catch (error) {
      const message = isTokentrayError(error) ? error.message : 'Connecting failed; return to Tokentray and try again.';
      send(res, 400, 'failure', 'Connecting failed', message);
      settle.reject(error);
    } finally {
      finish();
    }
  }

  const portInUse = (host: string, wanted: number): TokentrayError =>
    new TokentrayError(
      'PORT_IN_USE',
      `Port ${wanted} on ${host} is in use, but the provider only redirects there; close the program using it (or another Tokentray sign-in) and try again.`,
    );
  // An ephemeral port free on 127.0.0.1 may be taken on [::1]: a few tries find one free on both.
  for (let attempt = 0; ; attempt += 1) {
    const v4 = newServer();
    await listenOn(v4, options.port, LOOPBACK_HOST).catch((error: NodeJS.ErrnoException) => {
      throw error.code === 'EADDRINUSE'
        ? portInUse(LOOPBACK_HOST, options.port)
        : new TokentrayError(
            'INTERNAL',
            `Could not listen on 127.0.0.1 for the sign-in redirect (${error.code ?? 'error'}).`,
          );
    });
    port = (v4.address() as AddressInfo).port;
    servers.push(v4);
    if (options.bindIpv6Loopback !== true) break;
    const v6 = newServer();
    const v6Error = await listenOn(v6, port, '::1').then(
      () => null,
      (error: NodeJS.ErrnoException) => error,
    );
    if (v6Error === null) {
      servers.push(v6);
      break;
    }
    // No IPv6 loopback on this machine: nobody else can listen there either.
    if (v6Error.code === 'EADDRNOTAVAIL' || v6Error.code === 'EAFNOSUPPORT') break;
    v4.close();
    servers.length = 0;
    if (v6Error.code !== 'EADDRINUSE' || options.port !== 0 || attempt >= 4) {
      throw v6Error.code === 'EADDRINUSE'
        ? portInUse('[::1]', port)
        : new TokentrayError(
            'INTERNAL',
            `Could not listen on [::1] for the sign-in redirect (${v6Error.code ?? 'error'}).`,
          );
    }
  }
  for (const server of servers) server.on('error', () => undefined);

  const timeoutMs = options.timeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  timers.timeout = setTimeout(() => {
    if (claimed) return;
    claimed = true;
    settle.reject(
      new TokentrayError(
        'CONNECT_TIMEOUT',
        `No sign-in arrived within ${Math.round(timeoutMs / 1000)} seconds; start connecting again when you are ready.`,
      ),
    );
    finish();
  }, timeoutMs);
  timers.timeout.unref?.();

  return {
    port,
    result,
    close: () => {
      if (!claimed) {
        claimed = true;
        settle.reject(new TokentrayError('CONNECT_CANCELLED', 'Connecting was cancelled.'));
      }
      finish();
    },
  };
}

function send(res: ServerResponse, status: number, kind: 'success' | 'failure', heading: string, detail: string): void {
  res.writeHead(status, { ...RESULT_PAGE_HEADERS, connection: 'close' });
  res.end(resultPage(kind, heading, detail));
}

function listenOn(server: Server, port: number, host: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
