import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokentrayError } from '../../electron/core/errors';
import { DEFAULT_MAX_BODY_BYTES, createHttpClient } from '../../electron/core/http/client';

let server: Server;
let base: string;
let hits = 0;

beforeAll(async () => {
  server = createServer((req, res) => {
    hits += 1;
    const size = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('bytes'));
    const chunked = req.url?.includes('chunked') ?? false;
    res.writeHead(200, {
      'content-type': 'application/json',
      ...(chunked ? {} : { 'content-length': String(size + 2) }),
    });
    // A JSON string of `size` bytes, written in pieces like a slow, endless endpoint would.
    res.write('"');
    const piece = Buffer.alloc(64 * 1024, 'a');
    let left = size;
    const pump = (): void => {
      while (left > 0) {
        const n = Math.min(left, piece.length);
        left -= n;
        if (!res.write(piece.subarray(0, n))) {
          res.once('drain', pump);
          return;
        }
      }
      res.end('"');
    };
    pump();
    res.on('close', () => {
      left = 0;
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

async function failure(p: Promise<unknown>): Promise<TokentrayError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof TokentrayError) return e;
    throw e;
  }
  throw new Error('expected a failure');
}

describe('response bodies are capped', () => {
  it('defaults to 32 MiB per response', () => {
    expect(DEFAULT_MAX_BODY_BYTES).toBe(32 * 1024 * 1024);
  });

  it('reads a body under the cap', async () => {
    const http = createHttpClient({ maxBodyBytes: 1024 * 1024 });
    const res = await http.send({ method: 'GET', url: `${base}/?bytes=1000` });
    expect((res.body as string).length).toBe(1000);
  });

  it.each([
    ['a declared Content-Length', '/?bytes=3000000'],
    ['a chunked body that keeps coming', '/chunked?bytes=3000000'],
  ])('stops at the cap with a clear error for %s, and does not retry', async (_what, path) => {
    const http = createHttpClient({ maxBodyBytes: 1024 * 1024, sleep: async () => undefined });
    const before = hits;
    const err = await failure(http.api({ method: 'GET', url: `${base}${path}`, providerName: 'Example' }));
    expect(err.code).toBe('PROVIDER_UNAVAILABLE');
    expect(err.message).toMatch(/127\.0\.0\.1:\d+ sent a response larger than 1 MiB/);
    expect(hits - before).toBe(1);
  });

  it('a request may raise its own cap (a deliberate large download)', async () => {
    const http = createHttpClient({ maxBodyBytes: 1024 * 1024 });
    const res = await http.send({ method: 'GET', url: `${base}/chunked?bytes=3000000`, maxBodyBytes: 4 * 1024 * 1024 });
    expect((res.body as string).length).toBe(3_000_000);
  });
});
