import { request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { startLoopbackListener } from '../../electron/core/connect/loopback';
import { TokentrayError } from '../../electron/core/errors';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function get(port: number, path: string, host = `127.0.0.1:${port}`, method = 'GET'): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, headers: { host } }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const STATE = 'state-0123456789abcdefghijklmnopqrstuv';

async function listen(
  complete: (p: URLSearchParams) => Promise<string> = async (p) => `code:${p.get('code')!.length}`,
  timeoutMs?: number,
) {
  let calls = 0;
  const listener = await startLoopbackListener<string>({
    port: 0,
    path: '/callback/test',
    expectedState: STATE,
    ...(timeoutMs ? { timeoutMs } : {}),
    complete: async (p) => {
      calls += 1;
      return complete(p);
    },
    describe: () => 'Test account.',
  });
  return { listener, calls: () => calls };
}

describe('loopback listener', () => {
  it('ignores garbage, wrong state and DNS-rebinding hosts, then completes once on the valid callback', async () => {
    const { listener, calls } = await listen();
    const port = listener.port;
    expect((await get(port, '/')).status).toBe(404);
    expect((await get(port, '/callback/test/../../etc/passwd')).status).toBe(404);
    expect((await get(port, `/callback/test?code=x&state=${STATE}`, 'evil.example:80')).status).toBe(400);
    expect((await get(port, `/callback/test?code=x&state=${STATE}`, `127.0.0.1:${port}`, 'POST')).status).toBe(404);
    const wrong = await get(port, '/callback/test?code=x&state=wrong');
    expect(wrong.status).toBe(400);
    expect(wrong.body).toContain('does not match');
    expect((await get(port, `/callback/test?error=access_denied&state=nope`)).status).toBe(400);
    expect((await get(port, `/callback/test?code=%ZZ&state=${STATE}&state=${STATE}`)).status).toBe(400);
    expect(calls()).toBe(0);

    const ok = await get(port, `/callback/test?code=the-secret-code&state=${STATE}`);
    expect(ok.status).toBe(200);
    expect(ok.headers['referrer-policy']).toBe('no-referrer');
    expect(ok.body).not.toContain('the-secret-code');
    expect(ok.body).not.toContain(STATE);
    expect(await listener.result).toBe('code:15');
    expect(calls()).toBe(1);
    // One-shot: the port is closed after the first valid callback.
    await expect(get(port, `/callback/test?code=again&state=${STATE}`)).rejects.toThrow();
  });

  it('binds to 127.0.0.1 only', async () => {
    const { listener } = await listen();
    const { networkInterfaces } = await import('node:os');
    const external = Object.values(networkInterfaces())
      .flat()
      .find((i) => i && i.family === 'IPv4' && !i.internal);
    if (external) {
      await expect(
        new Promise((resolve, reject) => {
          const req = request({ host: external.address, port: listener.port, path: '/' }, resolve);
          req.on('error', reject);
          req.end();
        }),
      ).rejects.toThrow();
    }
    listener.close();
    await expect(listener.result).rejects.toMatchObject({ code: 'CONNECT_CANCELLED' });
  });

  it('ends the attempt with the error when the exchange fails, and shows it without secrets', async () => {
    const { listener } = await listen(async () => {
      throw new TokentrayError(
        'AUTH_CODE_INVALID',
        'The provider did not accept the authorization code; connect again.',
      );
    });
    const reply = await get(listener.port, `/callback/test?code=c0de&state=${STATE}`);
    expect(reply.status).toBe(400);
    expect(reply.body).toContain('did not accept the authorization code');
    await expect(listener.result).rejects.toMatchObject({ code: 'AUTH_CODE_INVALID' });
  });

  it('times out with CONNECT_TIMEOUT and frees the port', async () => {
    const { listener } = await listen(undefined, 150);
    await expect(listener.result).rejects.toMatchObject({ code: 'CONNECT_TIMEOUT' });
    await expect(get(listener.port, '/callback/test')).rejects.toThrow();
  });

  it('reports a taken fixed port as PORT_IN_USE', async () => {
    const { listener } = await listen();
    await expect(
      startLoopbackListener({
        port: listener.port,
        path: '/x',
        expectedState: STATE,
        complete: async () => 1,
        describe: () => '',
      }),
    ).rejects.toMatchObject({ code: 'PORT_IN_USE' });
    listener.close();
  });
});
