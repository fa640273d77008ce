import { promises as fs } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';
import { CONTENT_TYPES as TYPES } from '../core/content-types';

/** The policy the renderer's own meta tag states, plus what only a header can say (frame-ancestors). */
export const BRIDGE_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; " +
  "connect-src 'self' ws://127.0.0.1:*; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

export const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': BRIDGE_CSP,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
  'cross-origin-opener-policy': 'same-origin',
};

/**
 * Serves one folder (the built renderer). Paths are resolved inside it and
 * anything that escapes (`..`, encoded or not) is a 404, never a read.
 */
export async function serveStatic(root: string, pathname: string, res: ServerResponse, head: boolean): Promise<void> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return notFound(res);
  }
  if (decoded.includes('\0')) return notFound(res);
  const relative = decoded === '/' || decoded === '' ? 'index.html' : decoded.replace(/^\/+/, '');
  const base = normalize(root.endsWith(sep) ? root : root + sep);
  const file = normalize(join(base, relative));
  if (!file.startsWith(base)) return notFound(res);
  let body: Buffer;
  try {
    body = await fs.readFile(file);
  } catch {
    return notFound(res);
  }
  res.writeHead(200, {
    ...SECURITY_HEADERS,
    'content-type': TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream',
    'content-length': String(body.length),
  });
  res.end(head ? undefined : body);
}

function notFound(res: ServerResponse): void {
  res.writeHead(404, { ...SECURITY_HEADERS, 'content-type': 'text/plain; charset=utf-8' });
  res.end('Not found');
}
