// The renderer is served from app://tokentray/ rather than file://: a real
// origin lets the CSP's 'self' mean "the app's own files" (with file:// it means
// every file on the disk), gives the IPC sender check one exact origin to
// compare, and lets module scripts load the same way they do from the bridge.
import { promises as fs } from 'node:fs';
import { extname, join, normalize, sep } from 'node:path';
import { protocol, type Session } from 'electron';
import { CONTENT_TYPES as TYPES } from '../core/content-types';

export const APP_SCHEME = 'app';
export const APP_HOST = 'tokentray';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
export const APP_ENTRY_URL = `${APP_ORIGIN}/index.html`;

/**
 * The policy the page's meta tag states, narrowed for Electron: no WebSocket
 * (the bridge's transport) and frame-ancestors, which only a header can set.
 */
export const ELECTRON_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; " +
  "connect-src 'self'; manifest-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const HEADERS = {
  'content-security-policy': ELECTRON_CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
};

/** Must run before `app` is ready: privileges are fixed when Chromium starts. */
export function registerAppScheme(): void {
  protocol.registerSchemesAsPrivileged([
    {
      scheme: APP_SCHEME,
      // standard: a real origin and relative URLs; secure: treated like https; fetch/CORS: module scripts load.
      privileges: { standard: true, secure: true, supportFetchAPI: true, corsEnabled: true },
    },
  ]);
}

/** A file inside `root` for an app:// URL, or null for anything that escapes it or is not ours. */
export function resolveAppFile(root: string, requestUrl: string): string | null {
  let url: URL;
  try {
    url = new URL(requestUrl);
  } catch {
    return null;
  }
  if (url.protocol !== `${APP_SCHEME}:` || url.host !== APP_HOST) return null;
  let decoded: string;
  try {
    decoded = decodeURIComponent(url.pathname);
  } catch {
    return null;
  }
  if (decoded.includes('\0')) return null;
  const relative = decoded === '/' || decoded === '' ? 'index.html' : decoded.replace(/^\/+/, '');
  const base = normalize(root.endsWith(sep) ? root : root + sep);
  const file = normalize(join(base, relative));
  return file.startsWith(base) ? file : null;
}

export function serveAppScheme(session: Session, rendererDir: string): void {
  session.protocol.handle(APP_SCHEME, async (request) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') return new Response(null, { status: 405 });
    const file = resolveAppFile(rendererDir, request.url);
    if (file === null) return new Response(null, { status: 404 });
    try {
      const body = await fs.readFile(file);
      const type = TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream';
      return new Response(request.method === 'HEAD' ? null : body, {
        status: 200,
        headers: { ...HEADERS, 'content-type': type },
      });
    } catch {
      return new Response(null, { status: 404 });
    }
  });
}

export function isAppUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === `${APP_SCHEME}:` && url.host === APP_HOST;
  } catch {
    return false;
  }
}
