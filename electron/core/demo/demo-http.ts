import type { IncomingMessage, ServerResponse } from 'node:http';
import { PAGE_HEADERS } from './consent-page';

/**
 * The plumbing the demo server's routes share: errors that become JSON answers, the ways
 * to answer (JSON, a page, a redirect) and reading a form body.
 */

const MAX_BODY_BYTES = 64 * 1024;

export const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' };

/** One part of the demo server: answers the request and returns true, or returns false when it is not its path. */
export type DemoRoute = (req: IncomingMessage, res: ServerResponse, url: URL) => boolean | Promise<boolean>;

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: Record<string, string>,
    readonly headers: Record<string, string> = {},
  ) {
    super(body['error'] ?? `HTTP ${status}`);
  }
}

export function oauthError(
  status: number,
  error: string,
  description: string,
  headers?: Record<string, string>,
): HttpError {
  return new HttpError(status, { error, error_description: description }, headers);
}

/** 405 unless the request uses `allowed`. */
export function only(req: IncomingMessage, allowed: string): void {
  if ((req.method ?? 'GET') !== allowed) {
    throw new HttpError(405, { error: 'method_not_allowed', error_description: `Use ${allowed}.` }, { allow: allowed });
  }
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(text)),
    'x-content-type-options': 'nosniff',
    ...headers,
  });
  res.end(text);
}

export function sendPage(res: ServerResponse, status: number, html: string): void {
  res.writeHead(status, { ...PAGE_HEADERS, 'content-length': String(Buffer.byteLength(html)) });
  res.end(html);
}

export function redirect(res: ServerResponse, location: string): void {
  res.writeHead(302, {
    location,
    'referrer-policy': 'no-referrer',
    'cache-control': 'no-store',
    'content-length': '0',
  });
  res.end();
}

export async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw oauthError(413, 'invalid_request', 'The request body is too large.');
    chunks.push(chunk);
  }
  if (type !== 'application/x-www-form-urlencoded') {
    throw oauthError(400, 'invalid_request', 'Send the parameters as application/x-www-form-urlencoded.');
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}
