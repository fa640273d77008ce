import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { clickup } from '../../electron/core/providers/clickup';
import { freePort } from '../support/free-port';
import { makeTestCore, type TestCore } from '../support/test-core';

/**
 * Issue 20, Low (RFC 8252 §8.3): a `localhost` redirect URI may be resolved by the browser to
 * [::1]. While a sign-in waits, no other local process may listen there and catch the code.
 */
let t: TestCore | null = null;
afterEach(async () => {
  await t?.cleanup();
  t = null;
});

function canListen(host: string, port: number): Promise<boolean | 'no-ipv6'> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', (error: NodeJS.ErrnoException) =>
      resolve(error.code === 'EADDRNOTAVAIL' || error.code === 'EAFNOSUPPORT' ? 'no-ipv6' : false),
    );
    probe.listen(port, host, () => probe.close(() => resolve(true)));
  });
}

describe('a localhost redirect URI', () => {
  it('holds [::1] at the redirect port as well as 127.0.0.1 while the sign-in waits', async () => {
    const port = await freePort();
    t = makeTestCore({ providers: [clickup] });
    await t.core.setProvider('clickup', {
      clientId: 'client',
      clientSecret: 'secret-value',
      redirectUri: `http://localhost:${port}/callback/clickup`,
      authorizeUrl: 'https://app.clickup.com/api',
    });
    const attempt = await t.core.startConnect('clickup', { timeoutMs: 30_000 });
    try {
      expect(attempt.redirectUri).toBe(`http://localhost:${port}/callback/clickup`);
      expect(await canListen('127.0.0.1', port)).toBe(false);
      // false: taken by the sign-in; 'no-ipv6': this machine has no [::1] for anyone to take.
      expect(await canListen('::1', port)).not.toBe(true);
    } finally {
      attempt.cancel();
    }
  });
});
